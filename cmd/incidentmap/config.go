package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/incidentmap/incidentmap/geo/postgis"
)

// dbConfig selects the database: an external one by URL, or the embedded
// cluster kept under DataDir.
type dbConfig struct {
	URL      string
	DataDir  string
	LogLevel string
	// RequestTimeout, when set (serve), also bounds every statement and
	// every stalled read, so a frozen database costs a request no more
	// than its deadline.
	RequestTimeout time.Duration
}

// storeOptions are the pool options for cfg.
func (c dbConfig) storeOptions(logger *slog.Logger) postgis.Options {
	opts := postgis.Options{Logger: logger}
	if c.RequestTimeout > 0 {
		opts.StatementTimeout = c.RequestTimeout
		opts.ReadStall = c.RequestTimeout + time.Second
	}
	return opts
}

// newFlagSet makes a flag set whose defaults come from the environment, so
// flags override environment variables which override built-in defaults.
func newFlagSet(env *environment, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("incidentmap "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: incidentmap %s\n\nFlags (each also settable by the environment variable shown):\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// register adds the database and logging flags shared by every command
// that talks to the database.
func (c *dbConfig) register(fs *flag.FlagSet, env *environment) {
	fs.StringVar(&c.URL, "database-url", env.getenv("DATABASE_URL"),
		"PostgreSQL URL (env DATABASE_URL); empty starts the embedded PostgreSQL under --data-dir")
	fs.StringVar(&c.DataDir, "data-dir", envOr(env, "INCIDENTMAP_DATA_DIR", "data"),
		"directory for the embedded database and other local state (env INCIDENTMAP_DATA_DIR)")
	// One-shot commands log warnings only, so their output is the answer;
	// serve raises this to info (one line per request).
	fs.StringVar(&c.LogLevel, "log-level", envOr(env, "INCIDENTMAP_LOG_LEVEL", "warn"),
		"log level: debug, info, warn or error (env INCIDENTMAP_LOG_LEVEL)")
}

// envOrUnset is envOr where a variable set to "" counts: it chooses the
// empty value (e.g. no tile server) rather than the default.
func envOrUnset(env *environment, key, def string) string {
	if v, ok := env.lookupEnv(key); ok {
		return v
	}
	return def
}

func envOr(env *environment, key, def string) string {
	if v := env.getenv(key); v != "" {
		return v
	}
	return def
}

// newLogger builds the process logger: structured text on stderr.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// parseFlags parses args and turns flag errors into errUsage (the flag
// package has already printed the reason and usage).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return nil
}

// parseInterspersed parses flags given before, between or after the
// positional arguments (the flag package stops at the first positional)
// and returns the positionals. After "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// action is one verb of a command that has several (layer import, places
// load, ...).
type action struct {
	name string
	run  func(ctx context.Context, env *environment, args []string) error
}

// runActions runs the action args[0] names among a command's actions.
// Without one it prints the command's usage: to stdout and flag.ErrHelp
// for help, to stderr and a usage error when nothing was given.
func runActions(ctx context.Context, env *environment, args []string, command, usage string, actions []action) error {
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = a.name
	}
	want := "want " + names[len(names)-1]
	if len(names) > 1 {
		want = "want " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		out := env.stderr
		if len(args) > 0 {
			out = env.stdout
		}
		fmt.Fprintf(out, "Usage: incidentmap %s\n\nRun 'incidentmap %s %s --help' for the flags.\n",
			usage, command, strings.Join(names, "|"))
		if len(args) == 0 {
			return fmt.Errorf("%w: %s", errUsage, want)
		}
		return flag.ErrHelp
	}
	for _, a := range actions {
		if a.name == args[0] {
			return a.run(ctx, env, args[1:])
		}
	}
	return fmt.Errorf("unknown action %q: %s", args[0], want)
}

// newActionFlagSet makes the flag set of a command's action, with the
// database flags.
func newActionFlagSet(env *environment, name, usage string, cfg *dbConfig) *flag.FlagSet {
	fs := newFlagSet(env, name, usage)
	cfg.register(fs, env)
	return fs
}
