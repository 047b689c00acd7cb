package localpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrPostgresMissing means no PostgreSQL server binaries were found.
var ErrPostgresMissing = errors.New("PostgreSQL server binaries not found")

// ErrPostGISMissing means the PostgreSQL installation has no PostGIS.
var ErrPostGISMissing = errors.New("PostGIS not found")

// Default search locations; parameters of findInstallation so tests can
// point them at empty directories.
const (
	debianLibRoot   = "/usr/lib/postgresql"
	debianShareRoot = "/usr/share/postgresql"
)

// installation is one PostgreSQL server installation.
type installation struct {
	binDir   string
	shareDir string
	major    string // "15"; "9.6" for pre-10 versions
}

func (in installation) bin(name string) string { return filepath.Join(in.binDir, name) }

// findInstallation locates server binaries: the bindir reported by
// pg_config (looked up in pathList, a PATH-style list) first, then the
// newest libRoot/<version>/bin. A bindir counts only if it has the server
// programs: Debian's pg_config may come from libpq-dev without a server.
func findInstallation(ctx context.Context, pathList, libRoot, shareRoot string) (installation, error) {
	var candidates []string
	if pgConfig := lookPath("pg_config", pathList); pgConfig != "" {
		out, err := exec.CommandContext(ctx, pgConfig, "--bindir").Output()
		if err == nil {
			candidates = append(candidates, strings.TrimSpace(string(out)))
		}
	}
	candidates = append(candidates, versionBinDirs(libRoot)...)
	for _, dir := range candidates {
		if !hasServer(dir) {
			continue
		}
		return describeInstallation(ctx, dir, shareRoot)
	}
	return installation{}, fmt.Errorf("%w (install the Debian package postgresql)", ErrPostgresMissing)
}

// checkPostGIS reports whether PostGIS is installed for the installation.
func checkPostGIS(in installation) error {
	if _, err := os.Stat(filepath.Join(in.shareDir, "extension", "postgis.control")); err != nil {
		return fmt.Errorf("%w for PostgreSQL %s (install the Debian package postgresql-%s-postgis-3)",
			ErrPostGISMissing, in.major, in.major)
	}
	return nil
}

func describeInstallation(ctx context.Context, binDir, shareRoot string) (installation, error) {
	in := installation{binDir: binDir}
	out, err := exec.CommandContext(ctx, in.bin("postgres"), "--version").Output()
	if err != nil {
		return in, fmt.Errorf("localpg: run %s --version: %w", in.bin("postgres"), err)
	}
	if in.major, err = parseMajor(string(out)); err != nil {
		return in, fmt.Errorf("localpg: %s --version: %w", in.bin("postgres"), err)
	}
	// The versioned pg_config knows the real sharedir; without it, fall
	// back to the Debian layout.
	in.shareDir = filepath.Join(shareRoot, in.major)
	if isExecutable(in.bin("pg_config")) {
		if out, err := exec.CommandContext(ctx, in.bin("pg_config"), "--sharedir").Output(); err == nil {
			in.shareDir = strings.TrimSpace(string(out))
		}
	}
	return in, nil
}

// parseMajor extracts the major version from "postgres (PostgreSQL) 15.4 (Debian ...)".
func parseMajor(versionOutput string) (string, error) {
	fields := strings.Fields(versionOutput)
	i := slices.Index(fields, "(PostgreSQL)")
	if i < 0 || i+1 >= len(fields) {
		return "", fmt.Errorf("unexpected version output %q", strings.TrimSpace(versionOutput))
	}
	parts := versionParts(fields[i+1])
	switch {
	case len(parts) == 0:
		return "", fmt.Errorf("unexpected version output %q", strings.TrimSpace(versionOutput))
	case parts[0] < 10 && len(parts) > 1:
		return fmt.Sprintf("%d.%d", parts[0], parts[1]), nil
	default:
		return strconv.Itoa(parts[0]), nil
	}
}

// versionParts parses the leading numeric components of "15.4", "9.6.24"
// or "17beta1".
func versionParts(s string) []int {
	var parts []int
	for p := range strings.SplitSeq(s, ".") {
		end := 0
		for end < len(p) && p[end] >= '0' && p[end] <= '9' {
			end++
		}
		if end == 0 {
			break
		}
		n, err := strconv.Atoi(p[:end])
		if err != nil {
			break
		}
		parts = append(parts, n)
		if end < len(p) {
			break
		}
	}
	return parts
}

// versionBinDirs lists libRoot/<version>/bin, newest version first.
func versionBinDirs(libRoot string) []string {
	entries, err := os.ReadDir(libRoot)
	if err != nil {
		return nil
	}
	var versions []string
	for _, e := range entries {
		if len(versionParts(e.Name())) > 0 {
			versions = append(versions, e.Name())
		}
	}
	slices.SortFunc(versions, func(a, b string) int {
		return slices.Compare(versionParts(b), versionParts(a))
	})
	dirs := make([]string, len(versions))
	for i, v := range versions {
		dirs[i] = filepath.Join(libRoot, v, "bin")
	}
	return dirs
}

func hasServer(binDir string) bool {
	for _, name := range []string{"postgres", "initdb"} {
		if !isExecutable(filepath.Join(binDir, name)) {
			return false
		}
	}
	return true
}

// lookPath is exec.LookPath over an explicit list instead of $PATH.
func lookPath(name, pathList string) string {
	for _, dir := range filepath.SplitList(pathList) {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
