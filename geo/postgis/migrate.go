package postgis

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/migrations"
)

// migrationLockID is the PostgreSQL advisory lock that serialises
// migrations, so instances starting together never race. ("incident" in hex-ish.)
const migrationLockID int64 = 0x1c1de47

// migrationTimeout bounds one migration statement.
const migrationTimeout = 24 * time.Hour

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
}

func (db *DB) migrator() (*goose.Provider, error) { return migratorOn(db.db, db.logger) }

func migratorOn(sqldb *sql.DB, logger *slog.Logger) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(migrationLockID),
		lock.WithLockTimeout(1, 600), // poll each second for up to 10 minutes
	)
	if err != nil {
		return nil, fmt.Errorf("create migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqldb, migrations.FS,
		goose.WithSessionLocker(locker),
		goose.WithLogger(gooseLogger{logger}),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration under the advisory lock; a second
// caller waits for the first and then finds nothing to do.
//
// Migrations run on a pool of their own without the serving pool's
// statement timeout (the server sets that to its request deadline): a
// migration that rewrites or summarises a big table (00013, 00017: minutes
// at a million incidents) failed every start under a 15-second timeout.
func (db *DB) Migrate(ctx context.Context) error {
	return db.onMigrationPool(ctx, func(p *goose.Provider) error {
		results, err := p.Up(ctx)
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		for _, r := range results {
			db.logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
		return nil
	})
}

// onMigrationPool runs f with a migrator on a pool of its own, without the
// serving pool's statement timeout and read limit (see Migrate): rolling
// back a migration can rewrite a big table as well.
func (db *DB) onMigrationPool(ctx context.Context, f func(*goose.Provider) error) error {
	mdb, err := Open(ctx, db.dsn, Options{MaxOpenConns: 2, StatementTimeout: migrationTimeout, Role: db.role, Logger: db.logger})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer mdb.Close()
	p, err := migratorOn(mdb.db, db.logger)
	if err != nil {
		return err
	}
	return f(p)
}

// MigrateURL opens dsn, applies every pending migration, makes the login
// roles (EnsureLoginRoles) and closes the connection again: test harnesses
// prepare template databases with it.
func MigrateURL(ctx context.Context, dsn string) error {
	db, err := Open(ctx, dsn, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	return db.EnsureLoginRoles(ctx)
}

// MigrateDown rolls back the most recent migration.
func (db *DB) MigrateDown(ctx context.Context) error {
	return db.onMigrationPool(ctx, func(p *goose.Provider) error {
		r, err := p.Down(ctx)
		if err != nil {
			if errors.Is(err, goose.ErrNoNextVersion) {
				return fmt.Errorf("migrate down: %w: no migration to roll back", geo.ErrInvalid)
			}
			return fmt.Errorf("migrate down: %w", err)
		}
		db.logger.Info("migration rolled back", "version", r.Source.Version, "file", r.Source.Path)
		return nil
	})
}

// MigrationStatuses lists every known migration and whether it is applied.
func (db *DB) MigrationStatuses(ctx context.Context) ([]MigrationStatus, error) {
	p, err := db.migrator()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, len(st))
	for i, s := range st {
		out[i] = MigrationStatus{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied}
	}
	return out, nil
}

// CheckReady reports nil when the database answers and every migration is
// applied; otherwise an error that says which.
func (db *DB) CheckReady(ctx context.Context) error {
	if err := db.Ping(ctx); err != nil {
		return err
	}
	current, err := db.schemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", mapError(err))
	}
	if want := LatestMigration(); current < want {
		return fmt.Errorf("schema version %d, want %d: %w", current, want, geo.ErrMigrationsPending)
	}
	return nil
}

// schemaVersion reads goose's version table directly: it must not wait for
// the migration lock (readiness answers fast, even during a migration).
func (db *DB) schemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.db.QueryRowContext(ctx,
		`SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	if err != nil {
		var exists bool
		if qerr := db.db.QueryRowContext(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&exists); qerr == nil && !exists {
			return 0, nil
		}
		return 0, err
	}
	return v, nil
}

// LatestMigration is the highest migration version embedded in the binary.
func LatestMigration() int64 {
	var latest int64
	entries, _ := migrations.FS.ReadDir(".")
	for _, e := range entries {
		v, err := goose.NumericComponent(e.Name())
		if err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

// gooseLogger routes goose's printf-style output to slog at debug level.
type gooseLogger struct{ l *slog.Logger }

func (g gooseLogger) Printf(format string, v ...any) { g.l.Debug(fmt.Sprintf(format, v...)) }
func (g gooseLogger) Fatalf(format string, v ...any) { g.l.Error(fmt.Sprintf(format, v...)) }

var _ io.Closer = (*DB)(nil)
