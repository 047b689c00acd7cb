// Package pgtest gives every test its own PostgreSQL database, cloned from
// a migrated template, in one throwaway cluster per test binary:
//
//	func TestMain(m *testing.M) {
//		pgtest.Main(m, func(ctx context.Context, dsn string) error {
//			return migrate(ctx, dsn) // close every connection before returning
//		})
//	}
//
//	func TestX(t *testing.T) {
//		dsn := pgtest.NewDB(t) // dropped when the test ends
//	}
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

// TemplateDB is the database setup prepares and NewDB copies. After setup
// it accepts no connections: one would block every copy.
const TemplateDB = "tmpl"

const (
	dirPrefix = "pgtest-"
	ownerFile = "pgtest.owner" // pid of the test binary that owns the cluster
)

// harness is the cluster of one test binary.
type harness struct {
	cluster *localpg.Cluster
	seq     atomic.Uint64
	// CREATE DATABASE ... TEMPLATE fails with "source database is being
	// accessed by other users" while another copy of the template runs.
	createMu sync.Mutex
}

// current is set once by Main before m.Run and only read afterwards. A
// package variable is unavoidable: testing.M gives TestMain no way to hand
// state to the tests it runs.
var current *harness

// Main runs the tests of a package against one private cluster (fsync off:
// nothing needs to survive a crash): it creates database TemplateDB, calls
// setup with its DSN (run migrations there; setup must close its
// connections), runs the tests, stops the cluster, removes its dir and
// exits. Call it from TestMain. setup may be nil.
func Main(m *testing.M, setup func(ctx context.Context, dsn string) error) {
	os.Exit(run(m, setup))
}

func run(m *testing.M, setup func(ctx context.Context, dsn string) error) int {
	flag.Parse() // for testing.Verbose; m.Run does not parse again
	reapStale(os.TempDir())
	// Straight under os.TempDir(), not nested in a 0700 dir, so that as
	// root the postgres user can reach it (localpg hands it over).
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	begin := time.Now()
	cluster, err := localpg.Start(ctx, localpg.Options{
		Dir: dir,
		Settings: map[string]string{
			"fsync":              "off",
			"synchronous_commit": "off",
			"full_page_writes":   "off",
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: start test cluster: %v\n", err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(context.Background()); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}()
	started := time.Since(begin)
	if err := prepareTemplate(ctx, cluster, setup); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "pgtest: cluster started in %v, template ready in %v\n",
			started.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
	}
	current = &harness{cluster: cluster}
	return m.Run()
}

func prepareTemplate(ctx context.Context, c *localpg.Cluster, setup func(ctx context.Context, dsn string) error) error {
	if err := c.CreateDatabase(ctx, TemplateDB, ""); err != nil {
		return err
	}
	if setup != nil {
		if err := setup(ctx, c.DSN(TemplateDB)); err != nil {
			return fmt.Errorf("setup of template database: %w", err)
		}
	}
	// Lock the template first, then end sessions setup left behind (a pool
	// that was never closed, or a closed one whose backends are still
	// exiting): any of them would make every copy fail.
	if err := c.Exec(ctx, "postgres", "ALTER DATABASE "+TemplateDB+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("lock template database: %w", err)
	}
	err := c.Exec(ctx, "postgres",
		`SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, TemplateDB)
	if err != nil {
		return fmt.Errorf("end sessions on template database: %w", err)
	}
	return nil
}

// NewDB creates a fresh database copied from the template, drops it when
// the test ends, and returns its DSN. It needs Main.
func NewDB(t testing.TB) string {
	t.Helper()
	return newDB(t, current)
}

func newDB(t testing.TB, h *harness) string {
	t.Helper()
	if h == nil {
		t.Fatal("pgtest: NewDB needs the test cluster: add func TestMain(m *testing.M) { pgtest.Main(m, setup) } to the package's tests")
		return ""
	}
	name := dbName(h.seq.Add(1), t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h.createMu.Lock()
	err := h.cluster.CreateDatabase(ctx, name, TemplateDB)
	h.createMu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := h.cluster.DropDatabase(ctx, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return h.cluster.DSN(name)
}

// dbName makes a unique database name that also says which test owns it,
// for reading server logs: t<seq>_<test name>, at most 63 bytes.
func dbName(seq uint64, testName string) string {
	var b strings.Builder
	b.WriteString("t" + strconv.FormatUint(seq, 10) + "_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 63 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Cluster returns the running test cluster, or nil without Main.
func Cluster() *localpg.Cluster {
	if current == nil {
		return nil
	}
	return current.cluster
}

// reapStale stops the clusters of test binaries that died without
// cleaning up (a go test -timeout panic, SIGKILL, Ctrl-C) and removes
// their dirs. Their servers run in their own process groups and would
// otherwise live on.
func reapStale(tmpDir string) {
	dirs, _ := filepath.Glob(filepath.Join(tmpDir, dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // being set up right now, or not ours
		}
		owner, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || processExists(owner) {
			continue
		}
		if stopOrphan(filepath.Join(dir, "data")) {
			_ = os.RemoveAll(dir)
		}
	}
}

// stopOrphan shuts down (immediate mode) the postmaster serving dataDir,
// if any, and reports whether it is gone.
func stopOrphan(dataDir string) bool {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return true // no server
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || !processExists(pid) {
		return true
	}
	// Only signal a process that really serves this dir (postgres chdirs
	// into it): the pid may have been reused.
	real, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return false
	}
	if cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd"); err != nil || cwd != real {
		return err == nil // another process owns the pid now
	}
	_ = syscall.Kill(pid, syscall.SIGCONT) // in case a fault test froze it
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		return false
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !processExists(pid) {
			return true
		}
	}
	return false
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Queryer runs a query: a *sql.DB, *sql.Conn or *sql.Tx.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Explain returns the plan PostgreSQL makes for query (EXPLAIN, not run),
// one line per node, for tests that check which index a statement uses.
func Explain(ctx context.Context, q Queryer, query string, args ...any) (string, error) {
	rows, err := q.QueryContext(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", fmt.Errorf("explain: %w", err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	return plan.String(), nil
}
