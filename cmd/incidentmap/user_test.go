package main

import (
	"regexp"
	"strings"
	"testing"
)

// user add prints a token once; list shows users without tokens; revoke
// takes effect; bad input is refused with one line.
func TestUserCommand(t *testing.T) {
	dataDir := traversableTempDir(t)
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runLayerCmd(t, append(args, "--data-dir", dataDir)...)
	}
	code, out, errOut := run("user", "add", "alice", "--role", "admin")
	token := regexp.MustCompile(`token \(shown only now; keep it secret\): (imt_\d+_\S{43})\n`).FindStringSubmatch(out)
	if code != 0 || token == nil {
		t.Fatalf("user add: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run("user", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^1\s+alice\s+admin\s+\S+\s+-$`).MatchString(out) || strings.Contains(out, token[1]) {
		t.Errorf("user list (exit %d):\n%s", code, out)
	}
	if code, _, errOut := run("user", "add", "alice"); code == 0 || !strings.Contains(errOut, "alice") {
		t.Errorf("adding alice twice: exit %d %q", code, errOut)
	}
	if code, _, errOut := run("user", "add", "bad name!", "--role", "moderator"); code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("bad name: exit %d %q", code, errOut)
	}
	if code, _, _ := run("user", "add", "bob", "--role", "root"); code == 0 {
		t.Errorf("unknown role accepted")
	}
	if code, out, _ := run("user", "revoke", "alice"); code != 0 || out != "revoked alice\n" {
		t.Errorf("revoke: exit %d %q", code, out)
	}
	if _, out, _ := run("user", "list"); regexp.MustCompile(`(?m)^1\s+alice\s+admin\s+\S+\s+-$`).MatchString(out) {
		t.Errorf("alice not shown revoked:\n%s", out)
	}
	if code, _, _ := run("user", "revoke", "alice"); code == 0 {
		t.Errorf("revoking twice succeeded")
	}
}
