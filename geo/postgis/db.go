// Package postgis stores incidentmap's domain in PostgreSQL + PostGIS with
// plain SQL through lib/pq. Values always travel as bound parameters;
// identifiers only ever come from allow-lists in this package.
package postgis

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo"
)

// Options tune the connection pool.
type Options struct {
	MaxOpenConns     int           // default 16
	StatementTimeout time.Duration // server-side cap on any statement; default 30s
	// ReadStall is how long a read from the database may wait for a byte
	// before the connection counts as dead (a frozen or unreachable
	// server never answers lib/pq's cancel request); default
	// StatementTimeout + 5s. The server sets it to its request deadline.
	ReadStall time.Duration
	Logger    *slog.Logger
	// Role is the database role every connection switches to (SET ROLE)
	// before its first statement: RolePublic for the pool that serves the
	// public, RoleModerator for moderation. Empty keeps the login role
	// (commands that load data and migrate need the owner's rights).
	Role string
}

// The roles the server runs as; migration 00007 creates them and grants
// each exactly what it needs.
const (
	// RolePublic reads what the map shows and submits reports; it cannot
	// read reporters' contact, client hashes, photos, users or the audit log.
	RolePublic = "incidentmap_public"
	// RoleModerator reads and moderates reports, edits incidents and users.
	RoleModerator = "incidentmap_moderator"
)

// DB is the store: a connection pool plus the migrations it runs.
type DB struct {
	db     *sql.DB
	dsn    string // for the LISTEN connection, which lives outside the pool
	role   string // Options.Role
	logger *slog.Logger
	// tileStmts are the prepared point-tile statements, by their text.
	tileStmts stmtSet
	// featureStmts hold the one-feature statement: its text is long (every
	// property), and planning it on each request cost more than running it.
	featureStmts stmtSet
}

// Open connects to dsn (URL or lib/pq keyword form) and checks the
// connection. It does not migrate; call Migrate for that.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 16
	}
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	// binary_parameters: lib/pq then sends parse, bind and execute in one
	// round trip instead of two (measured: the fixed cost of small map
	// requests). []byte arguments travel as binary, so only bytea columns
	// may get them; JSON goes as a string.
	fastDSN, err := withKeywords(dsn, "binary_parameters=yes")
	if err != nil {
		return nil, err
	}
	connector, err := pq.NewConnector(fastDSN)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if opts.ReadStall <= 0 {
		// A read may legitimately wait as long as the longest statement runs.
		opts.ReadStall = opts.StatementTimeout + 5*time.Second
	}
	connector.Dialer(newStallGuardDialer(opts.ReadStall))
	if opts.Role != RolePublic && opts.Role != RoleModerator && opts.Role != "" {
		return nil, fmt.Errorf("unknown database role %q", opts.Role)
	}
	sqldb := sql.OpenDB(withSessionSettings(connector, opts.StatementTimeout, opts.Role))
	sqldb.SetMaxOpenConns(opts.MaxOpenConns)
	sqldb.SetMaxIdleConns(opts.MaxOpenConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqldb.PingContext(pingCtx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &DB{db: sqldb, dsn: dsn, role: opts.Role, logger: opts.Logger}, nil
}

// SQL exposes the pool for packages of this module that need raw access
// (tests, import tools). The HTTP layer never uses it.
func (db *DB) SQL() *sql.DB { return db.db }

// Close closes the pool.
func (db *DB) Close() error {
	db.tileStmts.close()
	db.featureStmts.close()
	return db.db.Close()
}

// Ping checks that the database answers within ctx.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w: %w", geo.ErrUnavailable, err)
	}
	return nil
}

// mapError turns driver errors into domain errors, keeping the original
// wrapped for logs.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", geo.ErrNotFound, err)
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		case "23": // integrity constraint violation
			if pqErr.Code == "23505" {
				return fmt.Errorf("%w: %w", geo.ErrConflict, err)
			}
			return fmt.Errorf("%w: %w", geo.ErrInvalid, err)
		case "08", "53", "57", // connection, resources, operator intervention (incl. shutdown, statement timeout)
			"40": // serialization failure, deadlock, a replica cancelling a query in conflict with recovery: retry
			return fmt.Errorf("%w: %w", geo.ErrUnavailable, err)
		}
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone) || isConnError(err) {
		return fmt.Errorf("%w: %w", geo.ErrUnavailable, err)
	}
	return err
}

// Stats reports the connection pool's state, for metrics.
func (db *DB) Stats() sql.DBStats { return db.db.Stats() }

// DurabilityWarnings lists settings under which an acknowledged write
// could be lost in a crash (fsync or synchronous_commit off).
func (db *DB) DurabilityWarnings(ctx context.Context) ([]string, error) {
	var fsync, syncCommit string
	if err := db.db.QueryRowContext(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit')`).Scan(&fsync, &syncCommit); err != nil {
		return nil, fmt.Errorf("read durability settings: %w", mapError(err))
	}
	var warnings []string
	if fsync == "off" {
		warnings = append(warnings, "fsync is off: a crash of the database host can lose or corrupt committed data")
	}
	if syncCommit == "off" {
		warnings = append(warnings, "synchronous_commit is off: a crash can lose reports that were already acknowledged with 201")
	}
	return warnings, nil
}

// commit commits tx. When ctx ended first, database/sql has already rolled
// tx back and Commit only says "transaction done"; report the deadline or
// cancellation instead, which is what happened (and maps to 503/499).
func commit(ctx context.Context, tx *sql.Tx) error {
	err := tx.Commit()
	if errors.Is(err, sql.ErrTxDone) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
