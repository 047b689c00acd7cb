package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With --if-changed (what make run uses), a second load of the same files
// is skipped, while a changed file, or a load without the flag, loads.
func TestLoadIfChanged(t *testing.T) {
	dataDir := filepath.Join(layerTestDir(t), "data")
	run := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runLayerCmd(t, append(args, "--data-dir", dataDir, "--reenrich=false")...)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr:\n%s", args, code, stderr)
		}
		return stdout
	}
	cities := caucasusGeoNames(t)
	countries := filepath.Join(npmData, "world-atlas", "countries-110m.json")
	codes := filepath.Join(npmData, "i18n-iso-countries", "codes.json")
	skipped := func(out string) bool { return strings.Contains(out, "unchanged since the load") }

	if out := run("places", "load", "--if-changed", "--cities", cities); skipped(out) {
		t.Fatalf("first places load skipped:\n%s", out)
	}
	if out := run("places", "load", "--if-changed", "--cities", cities); !skipped(out) {
		t.Errorf("second places load of the same file was not skipped:\n%s", out)
	}
	if out := run("places", "load", "--cities", cities); skipped(out) {
		t.Errorf("places load without --if-changed skipped:\n%s", out)
	}
	// One place fewer: a changed file loads.
	data, err := os.ReadFile(cities)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	changed := filepath.Join(t.TempDir(), "cities.txt")
	if err := os.WriteFile(changed, []byte(strings.Join(lines[1:], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run("places", "load", "--if-changed", "--cities", changed); skipped(out) {
		t.Errorf("a changed file was skipped:\n%s", out)
	}

	if out := run("borders", "load", "--if-changed", "--countries", countries, "--codes", codes); skipped(out) {
		t.Fatalf("first borders load skipped:\n%s", out)
	}
	if out := run("borders", "load", "--if-changed", "--countries", countries, "--codes", codes); !skipped(out) {
		t.Errorf("second borders load of the same files was not skipped:\n%s", out)
	}
}
