package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo/postgis"
)

func TestWriteBuildVersion(t *testing.T) {
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "-compiler", Value: "gc"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "incidentmap (no build information)\n"},
		{"clean checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201100000-0123456789ab"}, Settings: vcs("false")},
			"incidentmap v0.0.0-20261201100000-0123456789ab\ncommit 0123456789abcdef0123456789abcdef01234567 (2026-12-01T10:00:00Z)\nbuilt with go1.26.8\n"},
		{"uncommitted changes", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201100000-0123456789ab+dirty"}, Settings: vcs("true")},
			"incidentmap v0.0.0-20261201100000-0123456789ab+dirty\ncommit 0123456789abcdef0123456789abcdef01234567 (2026-12-01T10:00:00Z), with uncommitted changes\nbuilt with go1.26.8\n"},
		{"tagged release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}, Settings: vcs("false")},
			"incidentmap v1.2.0\ncommit 0123456789abcdef0123456789abcdef01234567 (2026-12-01T10:00:00Z)\nbuilt with go1.26.8\n"},
		{"no version control", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"incidentmap (devel)\ncommit unknown (built outside a git checkout, or by go test/go run)\nbuilt with go1.26.8\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			writeBuildVersion(&buf, tt.info)
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// version names the binary's schema version and, without starting
// anything, the database's: an embedded one only while it runs.
func TestVersionCommand(t *testing.T) {
	schema := fmt.Sprintf("schema version %d (the highest migration in this binary)\n", postgis.LatestMigration())
	src := startSourceDatabase(t)
	stopped := traversableTempDir(t)
	if code, out, errOut := runOpsCmd(t, "migrate", "up", "--data-dir", stopped); code != 0 {
		t.Fatalf("migrate up: exit %d\n%s%s", code, out, errOut)
	}
	empty := traversableTempDir(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // a line of stdout
	}{
		{"running embedded", []string{"--data-dir", src.dataDir}, 0,
			fmt.Sprintf("database schema version %d (embedded, %s)\n", postgis.LatestMigration(), filepath.Join(src.dataDir, "postgres"))},
		{"database url", []string{"--database-url", src.cluster.DSN(embeddedDatabase)}, 0,
			fmt.Sprintf("database schema version %d (--database-url)\n", postgis.LatestMigration())},
		{"stopped embedded", []string{"--data-dir", stopped}, 0, "is not running"},
		{"no database", []string{"--data-dir", empty}, 0, "database: no embedded database in " + filepath.Join(empty, "postgres")},
		{"unreachable url", []string{"--database-url", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}, 1, "database: --database-url: unreachable\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runOpsCmd(t, append([]string{"version"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(out, schema) || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d (want %d), stdout:\n%s\nwant %q and %q; stderr: %s", code, tt.wantCode, out, schema, tt.want, errOut)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(empty, "postgres")); !os.IsNotExist(err) {
		t.Errorf("version created an embedded database in %s", empty)
	}
}

// A binary built from a git checkout names its commit: the go command
// stamps it, and version reads it back.
func TestVersionFromGitCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary again")
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	clone := t.TempDir()
	if out, err := exec.Command("git", "clone", "--quiet", "--no-hardlinks", strings.TrimSpace(string(top)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	head, err := exec.Command("git", "-C", clone, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "incidentmap")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/incidentmap")
	build.Dir = clone
	build.Env = append(os.Environ(), "GOFLAGS=") // some machines turn VCS stamping off there
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in a clone: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "--data-dir", t.TempDir()).Output()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	for _, want := range []string{"incidentmap v0.0.0-", "\ncommit " + strings.TrimSpace(string(head)) + " (", "\nbuilt with go"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("version printed\n%s\nwant %q", out, want)
		}
	}
	if strings.Contains(string(out), "uncommitted") || strings.Contains(string(out), "+dirty") {
		t.Errorf("a clean clone reported as modified:\n%s", out)
	}
}
