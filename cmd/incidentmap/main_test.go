package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// binary is the incidentmap binary built once for the process tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "incidentmap-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "incidentmap")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build incidentmap:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `incidentmap serve` process.
type server struct {
	cmd  *exec.Cmd
	URL  string
	logs *syncBuffer
	done chan error
}

var servingLine = regexp.MustCompile(`msg=serving url=(http://\S+)/`)

// startServer runs `incidentmap serve` with args and waits until it says
// where it listens.
func startServer(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			if m := servingLine.FindStringSubmatch(line); m != nil {
				urlc <- m[1]
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case s.URL = <-urlc:
	case err := <-s.done:
		t.Fatalf("serve exited before listening: %v\n%s", err, s.logs)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not start within 60s\n%s", s.logs)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM, want exit 0\n%s", err, s.logs)
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("serve did not exit within 30s of SIGTERM\n%s", s.logs)
	}
}

// traversableTempDir is a temporary directory the postgres user can
// enter (t.TempDir's parent is private to root), removed after the test.
func traversableTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "incidentmap-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// The embedded default: serve starts its own PostGIS, is ready, stops
// cleanly, and on the next start the data is still there.
func TestServeEmbeddedKeepsData(t *testing.T) {
	dataDir := traversableTempDir(t)
	srv := startServer(t, nil, "--data-dir", dataDir)
	if code, body := get(t, srv.URL+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d %s, want 200", code, body)
	}
	socketDir := filepath.Join(dataDir, "postgres", "run")
	db, err := sql.Open("postgres", fmt.Sprintf("host=%s user=postgres dbname=incidentmap sslmode=disable", socketDir))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`INSERT INTO incidents (occurred_at, event_type, title, geom)
		VALUES ('2020-10-18T04:00:00Z', 'Explosions/Remote violence', 'kept across restarts', ST_SetSRID(ST_MakePoint(47.03, 39.40), 4326))`)
	if err != nil {
		t.Fatalf("insert through the embedded socket: %v", err)
	}
	// Requests run on least-privilege logins, not as the superuser.
	var logins string
	if err := db.QueryRow(`SELECT coalesce(string_agg(DISTINCT usename, ','), '') FROM pg_stat_activity
		WHERE datname = 'incidentmap' AND pid <> pg_backend_pid() AND usename <> 'postgres'`).Scan(&logins); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logins, "incidentmap_web") {
		t.Errorf("server's connections use logins %q, want incidentmap_web for public requests", logins)
	}
	if strings.Contains(srv.logs.String(), "database privileges") {
		t.Errorf("embedded serve warns about its own database privileges:\n%s", srv.logs)
	}
	db.Close()
	// A second command on the same data dir uses the running database.
	status, err := exec.Command(binary, "migrate", "status", "--data-dir", dataDir).CombinedOutput()
	if err != nil || !strings.Contains(string(status), "applied") || strings.Contains(string(status), "pending") {
		t.Errorf("migrate status beside a running serve: %v\n%s", err, status)
	}
	if code, _ := get(t, srv.URL+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after a second command used the database = %d, want 200", code)
	}
	srv.stop(t)
	if !strings.Contains(srv.logs.String(), "embedded database stopped") {
		t.Errorf("logs do not show a clean database stop:\n%s", srv.logs)
	}

	srv = startServer(t, nil, "--data-dir", dataDir)
	defer srv.stop(t)
	if code, body := get(t, srv.URL+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz after restart = %d %s, want 200", code, body)
	}
	db, err = sql.Open("postgres", fmt.Sprintf("host=%s user=postgres dbname=incidentmap sslmode=disable", socketDir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var title string
	if err := db.QueryRow(`SELECT title FROM incidents`).Scan(&title); err != nil || title != "kept across restarts" {
		t.Errorf("after restart: title = %q, err = %v; want the row inserted before", title, err)
	}
	if !regexp.MustCompile(`msg=request method=GET path=/readyz status=200 duration=\S+ bytes=\d+ request_id=\S+`).MatchString(srv.logs.String()) {
		t.Errorf("no structured request log line for /readyz in:\n%s", srv.logs)
	}
}

// Bad configuration exits non-zero with one line that says what is wrong.
func TestBadConfiguration(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // substring of the one-line error
	}{
		{"data dir under a file", []string{"serve", "--data-dir", filepath.Join(notADir, "sub")}, nil, "data dir"},
		{"data dir is a file", []string{"serve", "--data-dir", notADir}, nil, "data dir"},
		{"unreachable database", []string{"serve"}, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing?sslmode=disable&connect_timeout=2"}, "connect to database"},
		{"malformed database url", []string{"serve", "--database-url", "postgres://%zz"}, nil, "database url"},
		{"bad log level", []string{"serve", "--log-level", "loud"}, nil, "--log-level"},
		{"bad address", []string{"serve", "--addr", "127.0.0.1:99999"}, nil, "listen on"},
		{"unknown migrate action", []string{"migrate", "sideways"}, nil, "unknown action"},
		{"negative tile cache", []string{"serve", "--tile-cache-mb", "-5"}, nil, "--tile-cache-mb must be 0"},
		{"corroboration too wide", []string{"serve", "--corroboration-km", "500"}, nil, "--corroboration-km"},
		{"malformed read url", []string{"serve", "--database-read-url", "postgres://%zz"}, nil, "--database-read-url"},
		{"malformed moderation url", []string{"serve"}, map[string]string{"DATABASE_MODERATION_URL": "host=/tmp port=notaport"}, "--database-moderation-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			args := tt.args
			if args[0] == "serve" {
				args = append(args, "--addr", "127.0.0.1:0")
				if tt.name == "bad address" {
					args = tt.args
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			code := Run(ctx, args, getenv, &stdout, &stderr)
			if code == 0 {
				t.Fatalf("exit code 0, want non-zero; stderr:\n%s", stderr.String())
			}
			msg := strings.TrimRight(stderr.String(), "\n")
			if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, tt.want) {
				t.Errorf("stderr = %q, want one line containing %q", msg, tt.want)
			}
		})
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	out, _ := exec.Command(binary, "serve", "--help").CombinedOutput()
	for _, flag := range []string{"-addr", "-database-url", "-data-dir", "-log-level", "-shutdown-grace", "DATABASE_URL", "INCIDENTMAP_ADDR"} {
		if !strings.Contains(string(out), flag) {
			t.Errorf("serve --help does not mention %s:\n%s", flag, out)
		}
	}
}

// syncBuffer is a bytes.Buffer that the goroutine copying a server's
// output and the test reading it may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
