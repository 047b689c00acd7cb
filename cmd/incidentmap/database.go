package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

// embeddedDatabase is the name of incidentmap's database inside the
// embedded cluster.
const embeddedDatabase = "incidentmap"

// database is an open store plus, when embedded, the cluster behind it.
type database struct {
	*postgis.DB
	cluster *localpg.Cluster // nil for an external database
	dsn     string           // how DB connects
	managed bool             // the embedded cluster (started here or attached to)
	logger  *slog.Logger
}

// openDatabase connects to cfg.URL, or starts the embedded cluster under
// cfg.DataDir when no URL is given. It does not migrate.
func openDatabase(ctx context.Context, cfg dbConfig, logger *slog.Logger) (*database, error) {
	if cfg.URL != "" {
		db, err := postgis.Open(ctx, cfg.URL, cfg.storeOptions(logger))
		if err != nil {
			return nil, err
		}
		return &database{DB: db, dsn: cfg.URL, logger: logger}, nil
	}
	dir, err := embeddedDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	cluster, err := localpg.Start(ctx, localpg.Options{Dir: dir, Logger: logger})
	if errors.Is(err, localpg.ErrAlreadyRunning) {
		// Another incidentmap process (a running serve, or one that
		// crashed and left postgres behind) owns it: use it, don't stop it.
		dsn, derr := localpg.RunningDSN(dir, embeddedDatabase)
		if derr != nil {
			return nil, fmt.Errorf("start embedded database: %w", err)
		}
		logger.Info("embedded database already running; using it", "dir", dir)
		db, err := postgis.Open(ctx, dsn, cfg.storeOptions(logger))
		if err != nil {
			return nil, err
		}
		return &database{DB: db, dsn: dsn, managed: true, logger: logger}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("start embedded database: %w", err)
	}
	if err := ensureDatabase(ctx, cluster, embeddedDatabase); err != nil {
		stopCluster(cluster, logger)
		return nil, err
	}
	db, err := postgis.Open(ctx, cluster.DSN(embeddedDatabase), cfg.storeOptions(logger))
	if err != nil {
		stopCluster(cluster, logger)
		return nil, err
	}
	logger.Info("embedded database started", "dir", dir)
	return &database{DB: db, cluster: cluster, dsn: cluster.DSN(embeddedDatabase), managed: true, logger: logger}, nil
}

// servingPools are the connection pools serve answers requests on, each
// switched to a least-privilege role: the public one cannot read
// reporters' private data, moderation gets its own.
type servingPools struct {
	public, moderation *postgis.DB
	read               *postgis.DB // a streaming replica for map reads; nil: public
}

// openServing opens the serving pools. The embedded cluster gets a login
// per pool (made here); an external database uses DATABASE_URL for the
// public pool and moderationURL (default: the same) for moderation, and
// gets a warning when those logins could reach beyond their roles.
// Call it after migrating: the roles come from the migrations.
func (d *database) openServing(ctx context.Context, cfg dbConfig, moderationURL, readURL string) (*servingPools, error) {
	publicDSN, moderationDSN := d.dsn, d.dsn
	if moderationURL != "" {
		moderationDSN = moderationURL
	}
	if d.managed {
		if err := d.EnsureLoginRoles(ctx); err != nil {
			return nil, err
		}
		var err error
		if publicDSN, err = postgis.WithUser(d.dsn, postgis.LoginPublic); err != nil {
			return nil, err
		}
		if moderationDSN, err = postgis.WithUser(d.dsn, postgis.LoginModerator); err != nil {
			return nil, err
		}
	}
	publicOpts := cfg.storeOptions(d.logger)
	publicOpts.Role = postgis.RolePublic
	public, err := postgis.Open(ctx, publicDSN, publicOpts)
	if err != nil {
		return nil, fmt.Errorf("open public pool: %w", err)
	}
	moderationOpts := cfg.storeOptions(d.logger)
	moderationOpts.Role = postgis.RoleModerator
	moderationOpts.MaxOpenConns = 4 // a handful of moderators, never the public
	moderation, err := postgis.Open(ctx, moderationDSN, moderationOpts)
	if err != nil {
		public.Close()
		return nil, fmt.Errorf("open moderation pool: %w", err)
	}
	p := &servingPools{public: public, moderation: moderation}
	pools := []*postgis.DB{public, moderation}
	if readURL != "" {
		// The replica is a copy of the primary: same roles, same logins.
		if p.read, err = postgis.Open(ctx, readURL, publicOpts); err != nil {
			p.Close()
			return nil, fmt.Errorf("open read replica pool: %w", err)
		}
		pools = append(pools, p.read)
	}
	for _, pool := range pools {
		warnings, err := pool.PrivilegeWarnings(ctx)
		if err != nil {
			p.Close()
			return nil, err
		}
		for _, w := range warnings {
			d.logger.Warn("database privileges", "problem", w)
		}
	}
	return p, nil
}

// Close closes the pools.
func (p *servingPools) Close() error {
	err := errors.Join(p.public.Close(), p.moderation.Close())
	if p.read != nil {
		err = errors.Join(err, p.read.Close())
	}
	return err
}

// features is the pool map reads (collections, items, tiles, places) go to.
func (p *servingPools) features() *postgis.DB {
	if p.read != nil {
		return p.read
	}
	return p.public
}

// CheckReady is ready when every pool is: reports need the primary, the
// map needs the replica.
func (p *servingPools) CheckReady(ctx context.Context) error {
	if err := p.public.CheckReady(ctx); err != nil {
		return err
	}
	if p.read != nil {
		if err := p.read.CheckReady(ctx); err != nil {
			return fmt.Errorf("read replica: %w", err)
		}
	}
	return nil
}

// embeddedDir checks the data directory and returns the absolute path of
// the cluster inside it.
func embeddedDir(dataDir string) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("data dir %q: %w", dataDir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("data dir %q is not usable: %w", abs, errors.Unwrap(err))
	}
	probe, err := os.CreateTemp(abs, ".write-test-*")
	if err != nil {
		return "", fmt.Errorf("data dir %q is not writable: %w", abs, errors.Unwrap(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return filepath.Join(abs, "postgres"), nil
}

// ensureDatabase creates database name in the cluster unless it exists.
func ensureDatabase(ctx context.Context, cluster *localpg.Cluster, name string) error {
	admin, err := postgis.Open(ctx, cluster.DSN("postgres"), postgis.Options{MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer admin.Close()
	var exists bool
	if err := admin.SQL().QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if err := cluster.CreateDatabase(ctx, name, ""); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Close closes the pool and stops the embedded cluster, if any.
func (d *database) Close() error {
	err := d.DB.Close()
	if d.cluster != nil {
		stopCluster(d.cluster, d.logger)
	}
	return err
}

func stopCluster(c *localpg.Cluster, logger *slog.Logger) {
	// A fresh context: the caller's is usually already cancelled by SIGTERM.
	if err := c.Stop(context.Background()); err != nil {
		logger.Error("stop embedded database", "err", err)
		return
	}
	logger.Info("embedded database stopped")
}

// openMigrated opens the database of cfg and brings its schema up to date,
// so a fresh embedded database works.
// openForNoArgs parses the flags of an action that takes no arguments
// (name for its usage error), then opens the migrated database.
func openForNoArgs(ctx context.Context, env *environment, fs *flag.FlagSet, cfg *dbConfig, name string, args []string) (*database, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 0 {
		fs.Usage()
		return nil, fmt.Errorf("%w: %s takes no arguments", errUsage, name)
	}
	return openMigrated(ctx, env, *cfg)
}

func openMigrated(ctx context.Context, env *environment, cfg dbConfig) (*database, error) {
	logger, err := newLogger(env.stderr, cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Stats reports the public pool, the one that carries the public's load,
// for /metrics.
func (p *servingPools) Stats() sql.DBStats { return p.public.Stats() }
