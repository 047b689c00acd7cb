package localpg

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// account is the OS user the server runs as.
type account struct {
	switchUser bool // true when we are root and must drop to the postgres user
	name       string
	home       string
	uid, gid   uint32
	groups     []uint32 // supplementary groups, for the traversal check
}

// serverAccount picks the user for initdb and postgres: both refuse to
// run as root, so root hands them to the postgres system user.
func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		acc := account{uid: uint32(os.Getuid()), gid: uint32(os.Getgid())}
		if gids, err := os.Getgroups(); err == nil {
			for _, g := range gids {
				acc.groups = append(acc.groups, uint32(g))
			}
		}
		return acc, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return account{}, fmt.Errorf("localpg: running as root needs the postgres system user (install the Debian package postgresql, or run as a normal user): %w", err)
	}
	acc := account{switchUser: true, name: u.Username, home: u.HomeDir}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return account{}, fmt.Errorf("localpg: postgres user has odd ids: %w", err)
	}
	acc.uid, acc.gid = uint32(uid), uint32(gid)
	gids, err := u.GroupIds()
	if err != nil {
		return account{}, fmt.Errorf("localpg: groups of the postgres user: %w", err)
	}
	for _, g := range gids {
		if n, err := strconv.ParseUint(g, 10, 32); err == nil {
			acc.groups = append(acc.groups, uint32(n))
		}
	}
	return acc, nil
}

func (a account) credential() *syscall.Credential {
	if !a.switchUser {
		return nil
	}
	return &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}
}

// env is the environment for PostgreSQL programs: PG* variables (PGDATA,
// PGOPTIONS, ...) and locale variables of the caller must not leak into
// the server.
func (a account) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PG"), strings.HasPrefix(k, "LC_"), k == "LANG", k == "LANGUAGE":
			continue
		case a.switchUser && (k == "HOME" || k == "USER" || k == "LOGNAME"):
			continue
		}
		env = append(env, kv)
	}
	if a.switchUser {
		env = append(env, "HOME="+a.home, "USER="+a.name, "LOGNAME="+a.name)
	}
	return env
}

// own hands path to the server user when we run as root.
func (a account) own(path string) error {
	if !a.switchUser {
		return nil
	}
	if err := os.Chown(path, int(a.uid), int(a.gid)); err != nil {
		return fmt.Errorf("localpg: hand %s to the %s user: %w", path, a.name, err)
	}
	return nil
}

// canTraverse applies the permission rules of the kernel: the owner bits
// apply to the owner, group bits to group members, other bits to the rest.
func (a account) canTraverse(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true // unknown platform: let the server find out
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == a.uid:
		return perm&0o100 != 0
	case st.Gid == a.gid || slices.Contains(a.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// checkAncestors makes sure the server user can reach dir: a root-only
// parent (0700, like os.MkdirTemp makes) would otherwise surface as an
// obscure initdb failure.
func (a account) checkAncestors(dir string) error {
	if !a.switchUser {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("localpg: %w", err)
		}
		if !a.canTraverse(fi) {
			return fmt.Errorf("localpg: the %s user cannot enter %s (mode %04o), which holds %s; use a data dir under a world-traversable path such as /var/lib/incidentmap or /tmp, or chmod o+x %s",
				a.name, p, fi.Mode().Perm(), dir, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// prepareDir creates dir (its missing parents world-traversable, dir
// itself private) and makes it usable by the server user. The caller
// still has to checkAncestors.
func (a account) prepareDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("localpg: cannot create cluster dir %s: %w", dir, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("localpg: cannot create cluster dir %s: %w", dir, unwrapPath(err))
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("localpg: cluster dir %s: %w", dir, unwrapPath(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("localpg: cluster dir %s is not a directory", dir)
	}
	if a.switchUser {
		if err := a.own(dir); err != nil {
			return err
		}
		if fi.Mode().Perm()&0o700 != 0o700 {
			if err := os.Chmod(dir, fi.Mode().Perm()|0o700); err != nil {
				return fmt.Errorf("localpg: cluster dir %s: %w", dir, unwrapPath(err))
			}
		}
		return nil
	}
	if err := syscall.Access(dir, 0o7); err != nil { // R_OK|W_OK|X_OK
		return fmt.Errorf("localpg: cluster dir %s is not usable: %w", dir, err)
	}
	return nil
}

// maxSocketPath is the longest unix socket path: sun_path holds 108 bytes
// including the terminating NUL.
const maxSocketPath = 107

// socketFile is the name PostgreSQL gives its socket for port 5432.
const socketFile = ".s.PGSQL.5432"

// chooseSocketDir returns dir/run, or a private dir under tmpDir when that
// path is too long for a unix socket or has characters that would need
// quoting in unix_socket_directories and DSNs. The fallback name is
// derived from dir so a restarted cluster keeps its socket path.
func chooseSocketDir(dir, tmpDir string) string {
	want := filepath.Join(dir, "run")
	if len(want)+1+len(socketFile) <= maxSocketPath && plainPath(want) {
		return want
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(tmpDir, fmt.Sprintf("localpg-%x", sum[:6]))
}

func plainPath(p string) bool {
	for _, r := range p {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+", r)
		if !ok {
			return false
		}
	}
	return true
}

// prepareSocketDir creates the socket dir with mode 0700 so that only the
// server user (and root) can connect. An existing dir must be a real
// directory owned by us or the server user: the fallback lives in a shared
// temp dir where anyone could have planted it.
func (a account) prepareSocketDir(dir string) error {
	if len(dir)+1+len(socketFile) > maxSocketPath || !plainPath(dir) {
		return fmt.Errorf("localpg: socket dir %s is unusable (too long or odd characters); set TMPDIR to a short plain path", dir)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("localpg: create socket dir: %w", unwrapPath(err))
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("localpg: socket dir: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || (st.Uid != a.uid && int(st.Uid) != os.Geteuid()) {
		return fmt.Errorf("localpg: socket dir %s is not a directory owned by us; remove it", dir)
	}
	if err := a.own(dir); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("localpg: socket dir: %w", err)
	}
	return a.checkAncestors(dir)
}

// unwrapPath drops the *PathError wrapper whose path the caller's message
// already names, keeping errors on one readable line.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
