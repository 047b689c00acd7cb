package postgis

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// sessionConnector sets per-session limits on every new connection so a
// runaway query is stopped by PostgreSQL itself, whatever the caller does.
type sessionConnector struct {
	driver.Connector
	statementTimeout time.Duration
	role             string // SET ROLE to this, when not empty
}

func withSessionSettings(c driver.Connector, statementTimeout time.Duration, role string) driver.Connector {
	return &sessionConnector{Connector: c, statementTimeout: statementTimeout, role: role}
}

func (c *sessionConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	execer, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("driver connection cannot execute statements")
	}
	// JIT compilation costs tens of milliseconds per statement and the
	// app's statements are short: measured, it dominated tile latency.
	settings := fmt.Sprintf("SET statement_timeout = %d; SET idle_in_transaction_session_timeout = %d; SET jit = off",
		c.statementTimeout.Milliseconds(), (2 * c.statementTimeout).Milliseconds())
	if c.role != "" {
		// role is one of this package's constants, never user input.
		settings += "; SET ROLE " + pq.QuoteIdentifier(c.role)
	}
	if _, err := execer.ExecContext(ctx, settings, nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("set session limits: %w", err)
	}
	return conn, nil
}

// isConnError reports whether err means the database could not be reached
// or the connection broke, rather than that the query was wrong.
func isConnError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOENT)
}

// stallGuardDialer gives every read on a database connection a deadline.
// lib/pq cancels a query by asking the server, which a frozen (SIGSTOPped)
// or unreachable server never answers; without a deadline the goroutine
// would wait forever. With it, a stalled connection fails and is discarded.
type stallGuardDialer struct {
	dialer    net.Dialer
	readLimit time.Duration
}

func newStallGuardDialer(readLimit time.Duration) *stallGuardDialer {
	return &stallGuardDialer{dialer: net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}, readLimit: readLimit}
}

func (d *stallGuardDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d *stallGuardDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d *stallGuardDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.dialer.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c, readLimit: d.readLimit}, nil
}

var _ pq.Dialer = (*stallGuardDialer)(nil)

// deadlineConn sets a fresh read deadline before every read.
type deadlineConn struct {
	net.Conn
	readLimit time.Duration
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.readLimit)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}
