package localpg

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"time"

	"github.com/lib/pq"
)

// boundDialer ties every connection it makes to ctx: once ctx ends, all
// I/O on the connection fails. lib/pq alone would wait forever on a
// frozen server, because it cancels a query by asking that same server.
type boundDialer struct{ ctx context.Context }

func (d boundDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(d.ctx, network, address)
}

func (d boundDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(d.ctx, timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d boundDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if err := d.ctx.Err(); err != nil {
		return nil, err
	}
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(d.ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return &boundConn{Conn: conn, stop: stop}, nil
}

type boundConn struct {
	net.Conn
	stop func() bool
}

func (c *boundConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// withDB runs fn on a single connection to dbname that lives only as long
// as ctx. Admin statements are rare, so a fresh connection per call is
// cheaper than keeping a pool that dies with every Kill or Restart.
func (c *Cluster) withDB(ctx context.Context, dbname string, fn func(*sql.DB) error) error {
	connector, err := pq.NewConnector(c.DSN(dbname))
	if err != nil {
		return err
	}
	connector.Dialer(boundDialer{ctx: ctx})
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := fn(db); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return err
	}
	return nil
}

// Ping checks that the server accepts connections and answers a query,
// giving up when ctx ends even if the server is frozen.
func (c *Cluster) Ping(ctx context.Context) error {
	err := c.withDB(ctx, "postgres", func(db *sql.DB) error {
		var one int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	})
	if err != nil {
		return fmt.Errorf("localpg: ping %s: %w", c.sockDir, err)
	}
	return nil
}

// Exec runs one statement in database dbname on a connection bound to
// ctx (see Ping). It is meant for administration: use a real pool for
// application queries.
func (c *Cluster) Exec(ctx context.Context, dbname, query string, args ...any) error {
	return c.withDB(ctx, dbname, func(db *sql.DB) error {
		_, err := db.ExecContext(ctx, query, args...)
		return err
	})
}

// CreateDatabase creates database name, copied from template ("" for the
// default, template1).
func (c *Cluster) CreateDatabase(ctx context.Context, name, template string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("localpg: create database: %w", err)
	}
	query := "CREATE DATABASE " + pq.QuoteIdentifier(name)
	if template != "" {
		if err := checkName(template); err != nil {
			return fmt.Errorf("localpg: create database %s: template: %w", name, err)
		}
		query += " TEMPLATE " + pq.QuoteIdentifier(template)
	}
	if err := c.Exec(ctx, "postgres", query); err != nil {
		return fmt.Errorf("localpg: create database %s: %w", name, err)
	}
	return nil
}

// DropDatabase drops database name if it exists, terminating its sessions.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("localpg: drop database: %w", err)
	}
	if err := c.Exec(ctx, "postgres", "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("localpg: drop database %s: %w", name, err)
	}
	return nil
}

// checkName accepts ^[a-z_][a-z0-9_]{0,62}$: names that never need
// quoting and fit PostgreSQL's 63 byte identifier limit.
func checkName(name string) error {
	if name == "" || len(name) > 63 {
		return fmt.Errorf("invalid database name %q: want 1 to 63 of a-z, 0-9, _", name)
	}
	for i, r := range name {
		if r >= 'a' && r <= 'z' || r == '_' || i > 0 && r >= '0' && r <= '9' {
			continue
		}
		return fmt.Errorf("invalid database name %q: want a-z or _ first, then a-z, 0-9, _", name)
	}
	return nil
}
