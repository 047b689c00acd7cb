package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

func runVersion(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	fs := newFlagSet(env, "version", "version [flags]\n\nPrints the version, the commit it was built from, the schema version this binary migrates to,\nand the schema version of the database when one is reachable without starting one\n(--database-url, or an embedded database a server is running on).")
	cfg.register(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("%w: version takes no arguments", errUsage)
	}
	info, _ := debug.ReadBuildInfo()
	writeBuildVersion(env.stdout, info)
	fmt.Fprintf(env.stdout, "schema version %d (the highest migration in this binary)\n", postgis.LatestMigration())
	where, version, err := databaseSchemaVersion(ctx, cfg)
	switch {
	case err != nil:
		fmt.Fprintf(env.stdout, "database: %s: unreachable\n", where)
		return fmt.Errorf("read the schema version of %s: %w", where, err)
	case version < 0:
		fmt.Fprintf(env.stdout, "database: %s\n", where)
	default:
		fmt.Fprintf(env.stdout, "database schema version %d (%s)\n", version, where)
		if latest := postgis.LatestMigration(); version > latest {
			fmt.Fprintf(env.stdout, "the database is newer than this binary (%d > %d): use a newer incidentmap\n", version, latest)
		}
	}
	return nil
}

// writeBuildVersion prints the module version and the version control
// facts the go command stamps into a binary built from a checkout.
func writeBuildVersion(w io.Writer, info *debug.BuildInfo) {
	if info == nil {
		fmt.Fprintln(w, "incidentmap (no build information)")
		return
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	fmt.Fprintf(w, "incidentmap %s\n", version)
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		line := "commit " + rev
		if t := settings["vcs.time"]; t != "" {
			line += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			line += ", with uncommitted changes"
		}
		fmt.Fprintln(w, line)
	} else {
		fmt.Fprintln(w, "commit unknown (built outside a git checkout, or by go test/go run)")
	}
	fmt.Fprintf(w, "built with %s\n", info.GoVersion)
}

// databaseSchemaVersion reads goose's version table of the database of
// cfg without starting or creating anything: an external one by URL, or
// an embedded cluster only while a server runs on it. version < 0 means
// nothing was read and where says why.
func databaseSchemaVersion(ctx context.Context, cfg dbConfig) (where string, version int64, err error) {
	dsn := cfg.URL
	where = "--database-url"
	if dsn == "" {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "postgres"))
		if err != nil {
			return "data dir", -1, err
		}
		if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil {
			return fmt.Sprintf("no embedded database in %s and no --database-url", dir), -1, nil
		}
		dsn, err = localpg.RunningDSN(dir, embeddedDatabase)
		if errors.Is(err, localpg.ErrNotRunning) {
			return fmt.Sprintf("the embedded database in %s is not running ('incidentmap migrate status' starts it and lists the migrations)", dir), -1, nil
		}
		if err != nil {
			return dir, -1, err
		}
		where = "embedded, " + dir
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return where, -1, err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('public.goose_db_version') IS NOT NULL`).Scan(&exists); err != nil {
		return where, -1, err
	}
	if !exists {
		return where, 0, nil
	}
	err = db.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM public.goose_db_version WHERE is_applied`).Scan(&version)
	return where, version, err
}
