package localpg

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ClientTool returns the path of a PostgreSQL client program (pg_dump,
// pg_restore, psql): the one beside the server binaries localpg would
// start, so that its version matches the embedded cluster, or else the
// one on PATH (Debian's wrapper picks the newest installed version).
func ClientTool(ctx context.Context, name string) (string, error) {
	if inst, err := findInstallation(ctx, os.Getenv("PATH"), debianLibRoot, debianShareRoot); err == nil {
		if p := inst.bin(name); isExecutable(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found (install the Debian package postgresql-client): %w", name, err)
	}
	return filepath.Clean(p), nil
}

// ClientEnv is the environment for client programs run against a
// cluster: the caller's, without PG* variables that could point them
// elsewhere (PGHOST, PGDATABASE, PGSERVICE...) or change their output.
func ClientEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if len(kv) >= 2 && kv[:2] == "PG" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}
