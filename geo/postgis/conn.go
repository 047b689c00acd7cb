package postgis

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
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
	dialed := &dialedConn{}
	conn, err := c.Connector.Connect(context.WithValue(ctx, dialedConnKey{}, dialed))
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
	if dialed.conn == nil {
		return conn, nil // not dialed by stallGuardDialer: no request deadlines on reads
	}
	return &deadlineBoundConn{pqConn: conn, net: dialed.conn}, nil
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
	dc := &deadlineConn{Conn: c, readLimit: d.readLimit}
	if dialed, ok := ctx.Value(dialedConnKey{}).(*dialedConn); ok {
		dialed.conn = dc
	}
	return dc, nil
}

// dialedConn carries the connection stallGuardDialer made out of
// Connector.Connect, through the context lib/pq passes to the dialer.
type dialedConn struct{ conn *deadlineConn }

type dialedConnKey struct{}

var _ pq.Dialer = (*stallGuardDialer)(nil)

// deadlineConn sets a fresh read deadline before every read: readLimit
// from now, or the current operation's deadline (plus a grace) if that
// comes first.
type deadlineConn struct {
	net.Conn
	readLimit time.Duration
	bound     atomic.Int64 // unix nanoseconds; 0: none
	long      atomic.Bool  // the operation may run long: longReadStall
	// ahead holds bytes read from the socket but not yet asked for:
	// lib/pq reads through a 4 KiB buffer, so a page of wide rows cost a
	// read syscall and a deadline reset per 4 KiB (a tenth of the server's
	// CPU on a 100-feature page). One socket read now takes all that has
	// arrived, up to readAhead. Only the connection's reader uses it.
	ahead      []byte
	aheadStart int
	aheadEnd   int
}

// readAhead is the most one socket read of a database connection takes.
const readAhead = 64 << 10

// longReadStall replaces the read limit for operations marked with
// withLongStatements: an import's set-based statement over a million rows
// legitimately sends nothing for minutes. The caller's deadline, if any,
// still applies.
const longReadStall = time.Hour

type longStatementsKey struct{}

// withLongStatements marks ctx's statements as allowed to run long (imports
// lift their statement_timeout too): the pool's ReadStall does not cut them.
func withLongStatements(ctx context.Context) context.Context {
	return context.WithValue(ctx, longStatementsKey{}, true)
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if c.aheadStart < c.aheadEnd {
		n := copy(p, c.ahead[c.aheadStart:c.aheadEnd])
		c.aheadStart += n
		return n, nil
	}
	if len(p) >= readAhead {
		return c.read(p) // large reads go straight to the caller
	}
	if c.ahead == nil {
		c.ahead = make([]byte, readAhead)
	}
	m, err := c.read(c.ahead)
	n := copy(p, c.ahead[:m])
	c.aheadStart, c.aheadEnd = n, m
	return n, err
}

// read reads from the socket under the current deadline.
func (c *deadlineConn) read(p []byte) (int, error) {
	limit := c.readLimit
	if c.long.Load() {
		limit = longReadStall
	}
	deadline := time.Now().Add(limit)
	if b := c.bound.Load(); b != 0 && b < deadline.UnixNano() {
		deadline = time.Unix(0, b)
	}
	if err := c.Conn.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

// cancelGrace is how long past its deadline an operation may still read:
// enough for a live server to answer lib/pq's cancel request (and keep the
// connection), short enough that a frozen server costs the request little.
const cancelGrace = 250 * time.Millisecond

// deadlineBoundConn is lib/pq's connection with the deadline of each
// operation's context applied to the socket. lib/pq stops a query by
// asking the server to cancel it; a frozen server never answers, and the
// read would wait out the whole stall limit. Bounded here, a request whose
// read was already waiting when the database froze still gets its 503 at
// its deadline. database/sql uses only the context methods.
type deadlineBoundConn struct {
	pqConn driver.Conn
	net    *deadlineConn
}

func (c *deadlineBoundConn) bind(ctx context.Context) {
	c.net.long.Store(ctx.Value(longStatementsKey{}) != nil)
	if d, ok := ctx.Deadline(); ok {
		c.net.bound.Store(d.Add(cancelGrace).UnixNano())
	} else {
		c.net.bound.Store(0)
	}
}

func (c *deadlineBoundConn) Prepare(query string) (driver.Stmt, error) {
	return c.pqConn.Prepare(query)
}
func (c *deadlineBoundConn) Close() error { return c.pqConn.Close() }
func (c *deadlineBoundConn) Begin() (driver.Tx, error) {
	return c.pqConn.Begin() //nolint:staticcheck // required by driver.Conn; database/sql calls BeginTx
}

func (c *deadlineBoundConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.bind(ctx)
	return c.pqConn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *deadlineBoundConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.bind(ctx)
	st, err := c.pqConn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := st.(stmtContext); ok {
		// Prepared statements outlive the request that prepared them.
		return &deadlineBoundStmt{Stmt: st, conn: c}, nil
	}
	return st, nil // COPY: lib/pq's own type, used within one operation
}

type stmtContext interface {
	driver.StmtQueryContext
	driver.StmtExecContext
}

// deadlineBoundStmt binds each run of a prepared statement to its
// request's deadline, as deadlineBoundConn does for one-off statements.
type deadlineBoundStmt struct {
	driver.Stmt
	conn *deadlineBoundConn
}

func (s *deadlineBoundStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.conn.bind(ctx)
	return s.Stmt.(stmtContext).QueryContext(ctx, args)
}

func (s *deadlineBoundStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.conn.bind(ctx)
	return s.Stmt.(stmtContext).ExecContext(ctx, args)
}

func (c *deadlineBoundConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.bind(ctx)
	return c.pqConn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *deadlineBoundConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.bind(ctx)
	return c.pqConn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *deadlineBoundConn) Ping(ctx context.Context) error {
	c.bind(ctx)
	return c.pqConn.(driver.Pinger).Ping(ctx)
}

func (c *deadlineBoundConn) ResetSession(ctx context.Context) error {
	c.net.bound.Store(0) // back in the pool: no request owns it
	c.net.long.Store(false)
	return c.pqConn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *deadlineBoundConn) IsValid() bool { return c.pqConn.(driver.Validator).IsValid() }

func (c *deadlineBoundConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.pqConn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

var (
	_ driver.ConnBeginTx        = (*deadlineBoundConn)(nil)
	_ driver.ConnPrepareContext = (*deadlineBoundConn)(nil)
	_ driver.QueryerContext     = (*deadlineBoundConn)(nil)
	_ driver.ExecerContext      = (*deadlineBoundConn)(nil)
	_ driver.Pinger             = (*deadlineBoundConn)(nil)
	_ driver.SessionResetter    = (*deadlineBoundConn)(nil)
	_ driver.Validator          = (*deadlineBoundConn)(nil)
	_ driver.NamedValueChecker  = (*deadlineBoundConn)(nil)
)
