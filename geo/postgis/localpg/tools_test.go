package localpg

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Client programs come from the server's installation, so their version
// matches the clusters localpg starts; unknown ones say what to install.
func TestClientTool(t *testing.T) {
	ctx := context.Background()
	inst, err := findInstallation(ctx, os.Getenv("PATH"), debianLibRoot, debianShareRoot)
	if err != nil {
		t.Skipf("no PostgreSQL installation: %v", err)
	}
	for _, name := range []string{"pg_dump", "pg_restore", "psql"} {
		got, err := ClientTool(ctx, name)
		if err != nil {
			t.Fatalf("ClientTool(%q): %v", name, err)
		}
		if want := filepath.Join(inst.binDir, name); got != want {
			t.Errorf("ClientTool(%q) = %s, want %s (beside the server binaries)", name, got, want)
		}
		out, err := exec.Command(got, "--version").Output()
		if err != nil || !strings.Contains(string(out), "(PostgreSQL) "+inst.major) {
			t.Errorf("%s --version = %q (%v), want PostgreSQL %s", got, out, err, inst.major)
		}
	}
	if _, err := ClientTool(ctx, "pg_no_such_tool"); err == nil || !strings.Contains(err.Error(), "postgresql-client") {
		t.Errorf("ClientTool(pg_no_such_tool) error = %v, want one naming the package to install", err)
	}
}

// The environment of client programs has no PG* variables that could
// send them to another server.
func TestClientEnv(t *testing.T) {
	t.Setenv("PGHOST", "elsewhere.example.org")
	t.Setenv("PGDATABASE", "other")
	env := ClientEnv("PGPASSWORD=secret")
	for _, kv := range env {
		if strings.HasPrefix(kv, "PGHOST=") || strings.HasPrefix(kv, "PGDATABASE=") {
			t.Errorf("ClientEnv kept %s", kv)
		}
	}
	if !slices.Contains(env, "PGPASSWORD=secret") || !slices.Contains(env, "PATH="+os.Getenv("PATH")) {
		t.Errorf("ClientEnv = %v, want the extra PGPASSWORD and the caller's PATH", env)
	}
}
