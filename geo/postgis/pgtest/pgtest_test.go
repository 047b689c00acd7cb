package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

func TestMain(m *testing.M) {
	Main(m, func(ctx context.Context, dsn string) error {
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			return err
		}
		// Deliberately left open: Main must end this session, or every
		// copy of the template would fail.
		db.SetMaxIdleConns(1)
		_, err = db.ExecContext(ctx, `
			CREATE EXTENSION postgis;
			CREATE TABLE places (name text PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)`)
		return err
	})
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM places`).Scan(&n); err != nil {
		t.Fatalf("count places: %v", err)
	}
	return n
}

func TestDatabasesAreIndependent(t *testing.T) {
	begin := time.Now()
	dsnA := NewDB(t)
	t.Logf("NewDB took %v", time.Since(begin).Round(time.Millisecond))
	dsnB := NewDB(t)
	if dsnA == dsnB {
		t.Fatalf("two NewDB calls returned the same DSN %q", dsnA)
	}
	a, b := open(t, dsnA), open(t, dsnB)
	if _, err := a.Exec(`INSERT INTO places VALUES ('harbour', ST_SetSRID(ST_MakePoint(10.7, 59.9), 4326))`); err != nil {
		t.Fatal(err)
	}
	if n := count(t, a); n != 1 {
		t.Errorf("database A has %d places, want 1", n)
	}
	if n := count(t, b); n != 0 {
		t.Errorf("database B has %d places, want 0 (it sees A's row)", n)
	}
}

func TestParallelNewDB(t *testing.T) {
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			db := open(t, NewDB(t))
			if _, err := db.Exec(`INSERT INTO places VALUES ($1, ST_SetSRID(ST_MakePoint(0, 0), 4326))`, t.Name()); err != nil {
				t.Fatal(err)
			}
			if n := count(t, db); n != 1 {
				t.Errorf("%d places, want 1", n)
			}
		})
	}
}

func TestDatabaseDroppedAfterTest(t *testing.T) {
	var name string
	t.Run("user", func(t *testing.T) {
		db := open(t, NewDB(t))
		if err := db.QueryRow(`SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		// The pool stays open into cleanup: the drop must not mind.
	})
	admin := open(t, Cluster().DSN("postgres"))
	var exists bool
	if err := admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if name == "" || exists {
		t.Errorf("database %q still exists after its test ended", name)
	}
}

func TestCluster(t *testing.T) {
	c := Cluster()
	if c == nil {
		t.Fatal("Cluster() = nil under Main")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// fatalRecorder is a testing.TB whose Fatal records the message and ends
// the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper()      {}
func (f *fatalRecorder) Name() string { return "fake" }
func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestNewDBWithoutMain(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		newDB(rec, nil)
		t.Error("newDB without a harness returned")
	}()
	<-done
	if !strings.Contains(rec.msg, "pgtest.Main") {
		t.Errorf("Fatal message = %q, want a hint to call pgtest.Main", rec.msg)
	}
}

func TestDBName(t *testing.T) {
	got := dbName(12, "TestFoo/sub-test #1")
	if got != "t12_testfoo_sub_test__1" {
		t.Errorf("dbName = %q", got)
	}
	if long := dbName(1, strings.Repeat("X", 200)); len(long) != 63 {
		t.Errorf("long name has %d bytes, want 63", len(long))
	}
}

// A cluster dir whose owning test binary is gone is removed; one whose
// owner lives is kept.
func TestReapStale(t *testing.T) {
	tmp := t.TempDir()
	dead := filepath.Join(tmp, dirPrefix+"dead")
	live := filepath.Join(tmp, dirPrefix+"live")
	for dir, owner := range map[string]int{dead: deadPID(t), live: os.Getpid()} {
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(fmt.Sprint(owner)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	reapStale(tmp)
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("dir of a dead owner survived: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("dir of a live owner was removed: %v", err)
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	return p.Pid
}
