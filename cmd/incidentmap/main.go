// Command incidentmap serves a geospatial incident map: OGC API – Features,
// vector tiles, report submission and moderation, and a Leaflet map, all on
// PostgreSQL + PostGIS. Run `incidentmap help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], &environment{getenv: os.Getenv, lookup: os.LookupEnv, stdout: os.Stdout, stderr: os.Stderr}))
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *environment, args []string) error
}

// environment is what a subcommand gets from the process: output streams
// and the environment variables (injected so tests can run commands in
// process without touching the real environment).
type environment struct {
	getenv func(string) string
	lookup func(string) (string, bool) // tells unset from empty; nil: via getenv
	stdout io.Writer
	stderr io.Writer
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP server (and the embedded database unless DATABASE_URL is set)", runServe},
		{"migrate", "apply or roll back database migrations: migrate up|down|status", runMigrate},
		{"user", "manage moderators and admins: user add NAME --role moderator|admin | list | revoke NAME", runUser},
		{"import", "import incidents from an ACLED CSV or GeoJSON file: import FILE [--skip-invalid]", runImport},
		{"export", "export incidents as GeoJSON or ACLED-style CSV: export --format geojson|csv [--out FILE]", runExport},
		{"demo", "load the demonstration data set (needs the gazetteer): demo load", runDemo},
		{"layer", "import, list or delete GeoJSON map layers: layer import|list|delete", runLayer},
		{"places", "gazetteer: places load|alias|search|reenrich (GeoNames places, aliases, incident enrichment)", runPlaces},
		{"borders", "countries and land borders: borders load (Natural Earth via world-atlas)", runBorders},
		{"tiles", "stored tile sums: tiles cluster (in key order, after a large import of history)", runTiles},
		{"backup", "write a consistent backup of the database: backup FILE (and FILE.sha256)", runBackup}, {"restore", "restore a backup into an empty database: restore FILE [--force]", runRestore}, {"version", "print the version, commit and schema versions", runVersion},
	}
}

// errUsage marks errors already explained by a usage message.
var errUsage = errors.New("usage error")

// Run executes the subcommand in args and returns the process exit code.
// Errors are printed as one line on stderr.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return run(ctx, args, &environment{getenv: getenv, stdout: stdout, stderr: stderr})
}

func run(ctx context.Context, args []string, env *environment) int {
	stdout, stderr := env.stdout, env.stderr
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			err := cmd.run(ctx, env, args[1:])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			}
			fmt.Fprintf(stderr, "incidentmap %s: %v\n", cmd.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "incidentmap: unknown command %q (run 'incidentmap help')\n", args[0])
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "incidentmap: a geospatial incident map server on PostgreSQL + PostGIS.")
	fmt.Fprintln(w, "\nUsage: incidentmap <command> [flags]\n\nCommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w, "\nRun 'incidentmap <command> --help' for the flags of a command.")
}

// lookupEnv reports a variable's value and whether it is set at all.
func (e *environment) lookupEnv(key string) (string, bool) {
	if e.lookup != nil {
		return e.lookup(key)
	}
	v := e.getenv(key)
	return v, v != ""
}
