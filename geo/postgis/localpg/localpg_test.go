package localpg

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// testDir returns a fresh cluster home. Not t.TempDir(): as root, its
// parent is a 0700 root dir the postgres user cannot enter (see
// TestStartRefusesUnreachableDir). os.MkdirTemp makes a 0700 dir
// directly under /tmp, which Start hands to the postgres user.
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "localpg-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startCluster starts a cluster in dir and stops it when the test ends.
func startCluster(t *testing.T, dir string, settings map[string]string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	begin := time.Now()
	c, err := Start(ctx, Options{Dir: dir, Logger: testLogger(t), Settings: settings})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("cluster start (initdb + start) took %v", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		c.Thaw()
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func rowCount(t *testing.T, c *Cluster) int {
	t.Helper()
	db, err := sql.Open("postgres", c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctxTimeout(t, 10*time.Second), "SELECT count(*) FROM notes").Scan(&n); err != nil {
		t.Fatalf("count rows: %v", err)
	}
	return n
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	// Default settings (fsync on), as `incidentmap serve` runs it.
	c := startCluster(t, dir, nil)
	ctx := ctxTimeout(t, 2*time.Minute)

	if err := c.Exec(ctx, "postgres", "CREATE TABLE notes (body text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "postgres", "INSERT INTO notes VALUES ($1)", "before stop"); err != nil {
		t.Fatal(err)
	}

	t.Run("unix socket only", func(t *testing.T) {
		var listen string
		if err := openDB(t, c.DSN("postgres")).QueryRowContext(ctx, "SHOW listen_addresses").Scan(&listen); err != nil {
			t.Fatal(err)
		}
		if listen != "" {
			t.Errorf("listen_addresses = %q, want empty", listen)
		}
		fi, err := os.Stat(c.SocketDir())
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("socket dir mode = %04o, want 0700", perm)
		}
		if want := filepath.Join(c.Dir(), "run"); c.SocketDir() != want {
			t.Errorf("socket dir = %s, want %s", c.SocketDir(), want)
		}
	})

	t.Run("own process group", func(t *testing.T) {
		pgid, err := syscall.Getpgid(c.PID())
		if err != nil {
			t.Fatal(err)
		}
		if pgid == syscall.Getpgrp() {
			t.Errorf("postmaster shares our process group %d; a terminal Ctrl-C would kill it", pgid)
		}
	})

	t.Run("second start on live dir fails", func(t *testing.T) {
		_, err := Start(ctx, Options{Dir: dir})
		if !errors.Is(err, ErrAlreadyRunning) {
			t.Fatalf("Start on live cluster = %v, want ErrAlreadyRunning", err)
		}
		if err := c.Ping(ctx); err != nil {
			t.Fatalf("first cluster hurt by second Start: %v", err)
		}
	})

	t.Run("stop and restart keep data", func(t *testing.T) {
		if err := c.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(ctxTimeout(t, 2*time.Second)); err == nil {
			t.Fatal("Ping succeeded on a stopped cluster")
		}
		if err := c.Stop(ctx); err != nil {
			t.Fatalf("second Stop: %v", err)
		}
		if err := c.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		if n := rowCount(t, c); n != 1 {
			t.Fatalf("rows after restart = %d, want 1", n)
		}
	})

	t.Run("immediate stop keeps committed rows", func(t *testing.T) {
		if err := c.Exec(ctx, "postgres", "INSERT INTO notes VALUES ($1)", "before kill"); err != nil {
			t.Fatal(err)
		}
		if err := c.Kill(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		if n := rowCount(t, c); n != 2 {
			t.Fatalf("rows after kill + restart = %d, want 2", n)
		}
	})

	t.Run("freeze and thaw", func(t *testing.T) {
		db := openDB(t, c.DSN("postgres"))
		db.SetMaxOpenConns(1)
		if err := db.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Freeze(); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		err := c.Ping(ctxTimeout(t, time.Second))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Ping on frozen cluster = %v, want context.DeadlineExceeded", err)
		}
		if took := time.Since(begin); took > 3*time.Second {
			t.Errorf("Ping on frozen cluster took %v, want about 1s", took)
		}
		// A plain lib/pq query cannot time out on a frozen server (its
		// cancel request goes to the frozen postmaster); check only that
		// it does not answer.
		answered := make(chan error, 1)
		go func() {
			var one int
			answered <- db.QueryRowContext(context.Background(), "SELECT 1").Scan(&one)
		}()
		select {
		case err := <-answered:
			t.Fatalf("query answered by a frozen server: %v", err)
		case <-time.After(500 * time.Millisecond):
		}
		if err := c.Thaw(); err != nil {
			t.Fatal(err)
		}
		if err := <-answered; err != nil {
			t.Errorf("pending query after thaw: %v", err)
		}
		if err := c.Ping(ctxTimeout(t, 5*time.Second)); err != nil {
			t.Fatalf("Ping after thaw: %v", err)
		}
	})

	t.Run("stop while frozen", func(t *testing.T) {
		if err := c.Freeze(); err != nil {
			t.Fatal(err)
		}
		if err := c.Stop(ctxTimeout(t, 30*time.Second)); err != nil {
			t.Fatalf("Stop on frozen cluster: %v", err)
		}
		if err := c.Freeze(); !errors.Is(err, ErrNotRunning) {
			t.Errorf("Freeze on stopped cluster = %v, want ErrNotRunning", err)
		}
		if err := c.Restart(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("hard crash leaves stale pid file", func(t *testing.T) {
		pid := c.PID()
		children := descendants(pid)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Orphaned backends notice the postmaster's death and exit; until
		// then they pin the shared memory a new postmaster needs.
		deadline := time.Now().Add(10 * time.Second)
		for _, p := range append(children, pid) {
			for alive(p) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if _, ok := readPIDFile(c.dataDir); !ok {
			t.Fatal("no postmaster.pid after SIGKILL")
		}
		if err := c.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		if n := rowCount(t, c); n != 2 {
			t.Fatalf("rows after crash + restart = %d, want 2", n)
		}
	})
}

func TestDatabases(t *testing.T) {
	t.Parallel()
	c := startCluster(t, testDir(t), map[string]string{"fsync": "off", "synchronous_commit": "off"})
	ctx := ctxTimeout(t, 2*time.Minute)

	if err := c.CreateDatabase(ctx, "tmpl_1", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "tmpl_1", "CREATE EXTENSION postgis"); err != nil {
		t.Fatalf("PostGIS unusable: %v", err)
	}
	if err := c.CreateDatabase(ctx, "copy_1", "tmpl_1"); err != nil {
		t.Fatal(err)
	}
	var wkt string
	err := openDB(t, c.DSN("copy_1")).QueryRowContext(ctx, "SELECT ST_AsText(ST_MakePoint(1, 2))").Scan(&wkt)
	if err != nil || wkt != "POINT(1 2)" {
		t.Fatalf("PostGIS in copied database: %q, %v", wkt, err)
	}
	// The open pool above must not stop the drop.
	if err := c.DropDatabase(ctx, "copy_1"); err != nil {
		t.Fatal(err)
	}
	if err := c.DropDatabase(ctx, "copy_1"); err != nil {
		t.Fatalf("dropping a missing database: %v", err)
	}
	if err := c.CreateDatabase(ctx, "tmpl_1", ""); err == nil {
		t.Error("creating an existing database succeeded")
	}
	for _, bad := range []string{"", "1abc", "Abc", "a-b", `a"b`, "a b", strings.Repeat("a", 64)} {
		if err := c.CreateDatabase(ctx, bad, ""); err == nil || !strings.Contains(err.Error(), "invalid database name") {
			t.Errorf("CreateDatabase(%q) = %v, want invalid name", bad, err)
		}
		if bad == "" {
			continue // "" is the default template
		}
		if err := c.CreateDatabase(ctx, "ok", bad); err == nil || !strings.Contains(err.Error(), "invalid database name") {
			t.Errorf("CreateDatabase template %q = %v, want invalid name", bad, err)
		}
	}
	if err := c.DropDatabase(ctx, "a-b"); err == nil {
		t.Error("DropDatabase(a-b) succeeded")
	}
	if err := c.CreateDatabase(ctx, "_"+strings.Repeat("z9", 31), ""); err != nil {
		t.Errorf("63 byte name: %v", err)
	}
}

// A cluster home too long for a unix socket path gets its socket in a
// private dir under os.TempDir(), stable across restarts.
func TestLongDirSocketFallback(t *testing.T) {
	t.Parallel()
	base := testDir(t)
	if err := os.Chmod(base, 0o755); err != nil { // the postgres user must pass it
		t.Fatal(err)
	}
	dir := filepath.Join(base, strings.Repeat("long-directory-name-", 5))
	c := startCluster(t, dir, map[string]string{"fsync": "off"})
	t.Cleanup(func() { os.RemoveAll(c.SocketDir()) })
	if strings.HasPrefix(c.SocketDir(), c.Dir()) {
		t.Fatalf("socket dir %s is inside the long cluster dir", c.SocketDir())
	}
	ctx := ctxTimeout(t, time.Minute)
	sock := c.SocketDir()
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if c.SocketDir() != sock || !strings.Contains(c.DSN("x"), "host="+sock+" ") {
		t.Fatalf("socket dir changed across restart: %s, DSN %s", sock, c.DSN("x"))
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	ctx := ctxTimeout(t, time.Minute)
	base := testDir(t)
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"dir is a file", Options{Dir: file}, "is not a directory"},
		{"dir below a file", Options{Dir: filepath.Join(file, "pg")}, "not a directory"},
		{"no dir", Options{}, "Options.Dir is empty"},
		{"reserved setting", Options{Dir: base, Settings: map[string]string{"port": "1"}}, "managed by localpg"},
		{"odd setting name", Options{Dir: base, Settings: map[string]string{"a=b": "1"}}, "invalid setting name"},
	}
	for _, tc := range cases {
		_, err := Start(ctx, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Start = %v, want error containing %q", tc.name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", tc.name, err)
		}
	}
	if os.Geteuid() != 0 {
		// Root ignores permission bits; as a normal user check them.
		ro := filepath.Join(base, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		_, err := Start(ctx, Options{Dir: ro})
		if err == nil || !strings.Contains(err.Error(), "not usable") {
			t.Errorf("read-only dir: Start = %v, want not usable", err)
		}
	}
}

// As root, a dir below a 0700 root dir (t.TempDir() is such a dir) is out
// of the postgres user's reach: Start must say which dir blocks it.
func TestStartRefusesUnreachableDir(t *testing.T) {
	t.Parallel()
	blocked := filepath.Join(testDir(t), "blocked")
	if err := os.Mkdir(blocked, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(blocked, "pg")
	c, err := Start(ctxTimeout(t, time.Minute), Options{Dir: dir, Settings: map[string]string{"fsync": "off"}})
	if os.Geteuid() != 0 {
		// A normal user owns the whole path: nothing blocks.
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		if err := c.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+blocked+" ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Start = %v, want one-line error naming %s", err, blocked)
	}
}

func TestCanTraverse(t *testing.T) {
	dir := testDir(t)
	stranger := account{switchUser: true, name: "stranger", uid: 4242, gid: 4242}
	for _, tc := range []struct {
		mode os.FileMode
		want bool
	}{{0o700, false}, {0o750, false}, {0o701, true}, {0o755, true}} {
		if err := os.Chmod(dir, tc.mode); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := stranger.canTraverse(fi); got != tc.want {
			t.Errorf("mode %04o: canTraverse = %v, want %v", tc.mode, got, tc.want)
		}
		owner := account{uid: uint32(os.Getuid()), gid: 4242}
		if !owner.canTraverse(fi) {
			t.Errorf("mode %04o: owner cannot traverse", tc.mode)
		}
	}
}

func TestMissingBinaries(t *testing.T) {
	empty := t.TempDir()
	_, err := findInstallation(context.Background(), empty, empty, empty)
	if !errors.Is(err, ErrPostgresMissing) {
		t.Fatalf("findInstallation in empty dirs = %v, want ErrPostgresMissing", err)
	}
	if want := "PostgreSQL server binaries not found (install the Debian package postgresql)"; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}

	// A pg_config whose bindir has no server (libpq-dev only) is skipped.
	fake := filepath.Join(empty, "pg_config")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho "+empty+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := findInstallation(context.Background(), empty, empty, empty); !errors.Is(err, ErrPostgresMissing) {
		t.Fatalf("with server-less pg_config: %v, want ErrPostgresMissing", err)
	}
}

func TestMissingPostGIS(t *testing.T) {
	err := checkPostGIS(installation{shareDir: t.TempDir(), major: "15"})
	if !errors.Is(err, ErrPostGISMissing) {
		t.Fatalf("checkPostGIS = %v, want ErrPostGISMissing", err)
	}
	if want := "PostGIS not found for PostgreSQL 15 (install the Debian package postgresql-15-postgis-3)"; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
}

func TestFindInstallation(t *testing.T) {
	in, err := findInstallation(context.Background(), "", debianLibRoot, debianShareRoot)
	if err != nil {
		t.Fatal(err)
	}
	if in.major == "" || !hasServer(in.binDir) {
		t.Fatalf("installation = %+v", in)
	}
	if err := checkPostGIS(in); err != nil {
		t.Fatal(err)
	}
}

func TestVersionBinDirs(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "10", "16", "notaversion"} {
		if err := os.Mkdir(filepath.Join(root, v), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := versionBinDirs(root)
	var names []string
	for _, d := range got {
		names = append(names, filepath.Base(filepath.Dir(d)))
	}
	if strings.Join(names, " ") != "16 15 10 9.6" {
		t.Errorf("order = %v, want 16 15 10 9.6", names)
	}
}

func TestParseMajor(t *testing.T) {
	for in, want := range map[string]string{
		"postgres (PostgreSQL) 15.4 (Debian 15.4-1)\n": "15",
		"postgres (PostgreSQL) 9.6.24\n":               "9.6",
		"postgres (PostgreSQL) 17beta1\n":              "17",
	} {
		if got, err := parseMajor(in); err != nil || got != want {
			t.Errorf("parseMajor(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	if _, err := parseMajor("garbage"); err == nil {
		t.Error("parseMajor(garbage) succeeded")
	}
}

func TestChooseSocketDir(t *testing.T) {
	if got := chooseSocketDir("/var/lib/incidentmap/postgres", "/tmp"); got != "/var/lib/incidentmap/postgres/run" {
		t.Errorf("short dir: %s", got)
	}
	long := "/srv/" + strings.Repeat("x", 100)
	got := chooseSocketDir(long, "/tmp")
	if !strings.HasPrefix(got, "/tmp/localpg-") || got != chooseSocketDir(long, "/tmp") {
		t.Errorf("long dir: %s (must be stable, under /tmp)", got)
	}
	if chooseSocketDir("/srv/with space", "/tmp") == "/srv/with space/run" {
		t.Error("a path needing quotes was used as socket dir")
	}
}

func TestDSN(t *testing.T) {
	c := &Cluster{sockDir: "/x/run"}
	if got, want := c.DSN("app"), "host=/x/run port=5432 user=postgres dbname=app sslmode=disable"; got != want {
		t.Errorf("DSN = %q, want %q", got, want)
	}
	if got := dsnValue(`it's`); got != `'it\'s'` {
		t.Errorf("dsnValue = %s", got)
	}
}

func TestLastLines(t *testing.T) {
	if got := lastLines([]byte("a\nb\nc\n"), 2); got != "b\nc" {
		t.Errorf("lastLines = %q", got)
	}
}

// When the server refuses to start, the error carries the end of its log.
func TestStartFailureShowsLog(t *testing.T) {
	t.Parallel()
	_, err := Start(ctxTimeout(t, time.Minute), Options{
		Dir:      testDir(t),
		Settings: map[string]string{"fsync": "off", "shared_buffers": "plenty"},
	})
	if err == nil {
		t.Fatal("Start with a bad setting succeeded")
	}
	for _, want := range []string{"postgres exited during startup", "postgres.log", `invalid value for parameter "shared_buffers"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
