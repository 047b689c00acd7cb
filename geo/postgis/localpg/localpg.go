// Package localpg runs a private PostgreSQL + PostGIS cluster from the
// system's PostgreSQL binaries: the embedded database of `incidentmap
// serve`, the throwaway cluster of tests, and the victim of fault tests.
//
// The server listens only on a unix socket in a 0700 directory and trusts
// every local connection, so only its owner (and root) can reach it.
package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrAlreadyRunning means a server already runs on the cluster's data dir.
var ErrAlreadyRunning = errors.New("a PostgreSQL server is already running on this data dir")

// ErrNotRunning is returned by Freeze when the cluster is stopped.
var ErrNotRunning = errors.New("cluster is not running")

// Port is the port in socket names and DSNs. Nothing listens on TCP.
const Port = 5432

// Options configure a cluster.
type Options struct {
	// Dir is the cluster home: PGDATA is Dir/data, the socket dir Dir/run
	// (or a short private dir under os.TempDir() if that path would exceed
	// the unix socket limit), the server log Dir/postgres.log.
	Dir string
	// Logger may be nil.
	Logger *slog.Logger
	// Settings are extra postgresql.conf settings passed as -c flags, e.g.
	// fsync=off for tests. listen_addresses, port and
	// unix_socket_directories are fixed and rejected here.
	Settings map[string]string
	// ReplicaOf, when set and Dir holds no cluster yet, makes the cluster
	// a streaming hot standby of that running cluster (pg_basebackup)
	// instead of running initdb. It then answers read-only queries.
	ReplicaOf *Cluster
}

// Cluster is a running (or stopped) private PostgreSQL cluster. Its
// methods are safe for concurrent use.
type Cluster struct {
	dir     string
	dataDir string
	sockDir string
	logPath string
	inst    installation
	acc     account
	env     []string
	args    []string // postgres command line after the program name
	log     *slog.Logger

	mu     sync.Mutex // serialises start, stop, freeze and thaw
	srv    *server    // nil when stopped
	frozen bool
}

// server is one run of the postmaster, a child of this process.
type server struct {
	pid  int
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // exit status; read only after done is closed
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Start initialises Dir/data if it has no PG_VERSION yet, starts postgres
// and waits until it accepts connections. It fails with ErrAlreadyRunning
// if a server already runs on the data dir; a stale postmaster.pid from a
// crash is handled by postgres itself.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	begin := time.Now()
	if opts.Dir == "" {
		return nil, errors.New("localpg: Options.Dir is empty")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("localpg: cluster dir %q: %w", opts.Dir, err)
	}
	args, err := serverArgs(opts.Settings)
	if err != nil {
		return nil, err
	}
	inst, err := findInstallation(ctx, os.Getenv("PATH"), debianLibRoot, debianShareRoot)
	if err != nil {
		return nil, err
	}
	if err := checkPostGIS(inst); err != nil {
		return nil, err
	}
	acc, err := serverAccount()
	if err != nil {
		return nil, err
	}
	if err := acc.prepareDir(dir); err != nil {
		return nil, err
	}
	// The server sees symlink-free paths (its cwd, error messages); use
	// the same so the liveness check can compare them.
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	if err := acc.checkAncestors(dir); err != nil {
		return nil, err
	}
	c := &Cluster{
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		sockDir: chooseSocketDir(dir, os.TempDir()),
		logPath: filepath.Join(dir, "postgres.log"),
		inst:    inst,
		acc:     acc,
		env:     acc.env(),
		log:     opts.Logger,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.args = append([]string{
		"-D", c.dataDir,
		"-c", "listen_addresses=",
		"-c", fmt.Sprintf("port=%d", Port),
		"-c", "unix_socket_directories=" + c.sockDir,
	}, args...)

	if opts.ReplicaOf != nil {
		if err := c.basebackup(ctx, opts.ReplicaOf, opts.Settings["fsync"] == "off"); err != nil {
			return nil, err
		}
	} else if err := c.initdb(ctx, opts.Settings["fsync"] == "off"); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	c.log.Info("postgres started", "dir", c.dir, "socket", c.sockDir, "pid", c.srv.pid,
		"version", inst.major, "took", time.Since(begin).Round(time.Millisecond))
	return c, nil
}

// serverArgs turns Settings into -c flags, in a stable order.
func serverArgs(settings map[string]string) ([]string, error) {
	var args []string
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if !settingName(k) {
			return nil, fmt.Errorf("localpg: invalid setting name %q", k)
		}
		// These keep the server off TCP and in line with DSN.
		switch strings.ToLower(k) {
		case "listen_addresses", "port", "unix_socket_directories":
			return nil, fmt.Errorf("localpg: setting %s is managed by localpg and cannot be overridden", k)
		}
		args = append(args, "-c", k+"="+settings[k])
	}
	return args, nil
}

func settingName(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '.')) {
			return false
		}
	}
	return true
}

// DSN returns a lib/pq keyword DSN for database dbname.
func (c *Cluster) DSN(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable",
		dsnValue(c.sockDir), Port, dsnValue(dbname))
}

// dsnValue quotes a keyword DSN value when it needs it.
func dsnValue(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\r'\\") {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Dir returns the cluster home directory (symlinks resolved).
func (c *Cluster) Dir() string { return c.dir }

// SocketDir returns the directory of the server's unix socket.
func (c *Cluster) SocketDir() string { return c.sockDir }

// LogPath returns the server log file.
func (c *Cluster) LogPath() string { return c.logPath }

// PID returns the postmaster's pid, or 0 when stopped.
func (c *Cluster) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv == nil || c.srv.exited() {
		return 0
	}
	return c.srv.pid
}

// command prepares a PostgreSQL program run as the server user. Its own
// process group keeps a terminal's Ctrl-C (SIGINT to the foreground group)
// away from it: the server must only stop through Stop.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(c.inst.bin(name), args...)
	cmd.Dir = c.dir // PostgreSQL programs fail if they cannot read their cwd
	cmd.Env = c.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.acc.credential()}
	return cmd
}

// initdb creates the data dir unless it already holds a cluster.
func (c *Cluster) initdb(ctx context.Context, noSync bool) error {
	version, err := os.ReadFile(filepath.Join(c.dataDir, "PG_VERSION"))
	if err == nil {
		if v := strings.TrimSpace(string(version)); v != c.inst.major {
			return fmt.Errorf("localpg: %s holds a PostgreSQL %s cluster but the server is PostgreSQL %s; upgrade it with pg_upgrade or use a new dir",
				c.dataDir, v, c.inst.major)
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("localpg: data dir: %w", err)
	}
	if fi, err := os.Lstat(c.dataDir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("localpg: %s exists but is not a directory", c.dataDir)
		}
		if err := c.acc.own(c.dataDir); err != nil {
			return err
		}
	}
	begin := time.Now()
	// Collation C keeps indexes independent of glibc versions; ctype
	// C.UTF-8 still gives upper()/lower() and regex classes for non-ASCII.
	args := []string{"-D", c.dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"}
	if _, err := os.Stat("/usr/lib/locale/C.utf8"); err == nil {
		args = append(args, "--lc-ctype=C.UTF-8")
	}
	if noSync {
		args = append(args, "--no-sync")
	}
	cmd := c.command("initdb", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := runCtx(ctx, cmd); err != nil {
		return fmt.Errorf("localpg: initdb %s: %w\n%s", c.dataDir, err, lastLines(out.Bytes(), 10))
	}
	c.log.Info("initdb done", "dir", c.dataDir, "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// runCtx runs cmd, killing its whole process group if ctx ends.
func runCtx(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	if !stop() {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// start launches the postmaster and waits until it is ready. c.mu is held.
func (c *Cluster) start(ctx context.Context) error {
	if err := c.acc.prepareSocketDir(c.sockDir); err != nil {
		return err
	}
	if pid, ok := liveServer(c.dataDir); ok {
		return fmt.Errorf("localpg: %w: pid %d serves %s", ErrAlreadyRunning, pid, c.dataDir)
	}
	logFile, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("localpg: open server log: %w", err)
	}
	defer logFile.Close() // the child has its own copy
	if err := c.acc.own(c.logPath); err != nil {
		return err
	}
	offset, _ := logFile.Seek(0, io.SeekEnd)

	// Started directly rather than through pg_ctl: no shell quoting of
	// paths and settings, and we learn at once if the server dies.
	cmd := c.command("postgres", c.args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("localpg: start postgres: %w", err)
	}
	s := &server{pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	c.srv, c.frozen = s, false

	if err := c.waitReady(ctx, s); err != nil {
		if !s.exited() {
			// Don't leave a half-started server behind.
			_ = syscall.Kill(s.pid, syscall.SIGQUIT)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
			}
		}
		c.srv = nil
		return fmt.Errorf("localpg: start postgres in %s: %w\n%s", c.dataDir, err, c.logTail(offset, 15))
	}
	return nil
}

// waitReady polls the lock file until our postmaster reports "ready",
// then checks that a client can really get in.
func (c *Cluster) waitReady(ctx context.Context, s *server) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		// The pid check skips a stale lock file that a crashed run left
		// saying "ready".
		if pf, ok := readPIDFile(c.dataDir); ok && pf.pid == s.pid && pf.status == "ready" {
			return c.Ping(ctx)
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited during startup (%v); server log follows", s.err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for postgres to accept connections: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// logTail returns the last n lines the server logged after offset.
func (c *Cluster) logTail(offset int64, n int) string {
	f, err := os.Open(c.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	const maxTail = 16 << 10
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > maxTail {
		offset = fi.Size() - maxTail
	}
	b, _ := io.ReadAll(io.NewSectionReader(f, offset, maxTail))
	return c.logPath + ":\n" + lastLines(b, n)
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Stop shuts the server down cleanly: SIGINT is PostgreSQL's fast
// shutdown (what pg_ctl stop -m fast sends) — sessions are disconnected,
// a checkpoint is written. Stopping a stopped cluster is a no-op.
func (c *Cluster) Stop(ctx context.Context) error {
	return c.shutdown(ctx, syscall.SIGINT, "fast")
}

// Kill stops the server like a crash: SIGQUIT is PostgreSQL's immediate
// shutdown (pg_ctl stop -m immediate) — no checkpoint, the next start runs
// crash recovery.
func (c *Cluster) Kill(ctx context.Context) error {
	return c.shutdown(ctx, syscall.SIGQUIT, "immediate")
}

func (c *Cluster) shutdown(ctx context.Context, sig syscall.Signal, mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.shutdownLocked(ctx, sig, mode)
}

func (c *Cluster) shutdownLocked(ctx context.Context, sig syscall.Signal, mode string) error {
	s := c.srv
	if s == nil || s.exited() {
		c.srv = nil
		return nil
	}
	begin := time.Now()
	// ESRCH: it died on its own just now; the wait below reaps it.
	if err := syscall.Kill(s.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("localpg: %s shutdown of pid %d: %w", mode, s.pid, err)
	}
	// A frozen server would never act on the signal.
	if c.frozen {
		c.thawLocked()
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		return fmt.Errorf("localpg: %s shutdown of pid %d not finished: %w", mode, s.pid, ctx.Err())
	}
	c.srv = nil
	c.log.Info("postgres stopped", "mode", mode, "dir", c.dir, "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// Restart starts the server again after Stop or Kill, with the same data
// dir and socket. A running server is stopped (fast) first.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.shutdownLocked(ctx, syscall.SIGINT, "fast"); err != nil {
		return err
	}
	begin := time.Now()
	if err := c.start(ctx); err != nil {
		return err
	}
	c.log.Info("postgres restarted", "dir", c.dir, "pid", c.srv.pid, "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// Freeze stops (SIGSTOP) the postmaster and all its children, as if the
// machine hung: connections stay open but nothing answers.
func (c *Cluster) Freeze() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.srv
	if s == nil || s.exited() {
		return fmt.Errorf("localpg: freeze: %w", ErrNotRunning)
	}
	// The postmaster first, so it forks no new children while we walk
	// the tree.
	if err := syscall.Kill(s.pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("localpg: freeze pid %d: %w", s.pid, err)
	}
	c.frozen = true
	for _, pid := range descendants(s.pid) {
		_ = syscall.Kill(pid, syscall.SIGSTOP) // may have exited meanwhile
	}
	c.log.Info("postgres frozen", "pid", s.pid)
	return nil
}

// Thaw resumes (SIGCONT) a frozen server. Thawing a running or stopped
// cluster is a no-op.
func (c *Cluster) Thaw() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv == nil || c.srv.exited() {
		c.frozen = false
		return nil
	}
	c.thawLocked()
	c.log.Info("postgres thawed", "pid", c.srv.pid)
	return nil
}

func (c *Cluster) thawLocked() {
	// Continue everything below the postmaster even if we did not freeze
	// it, so a Thaw also repairs a hand-made SIGSTOP.
	for _, pid := range descendants(c.srv.pid) {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
	_ = syscall.Kill(c.srv.pid, syscall.SIGCONT)
	c.frozen = false
}

// RunningDSN returns the DSN of database dbname on a server that another
// process started on the cluster at dir (Start then fails with
// ErrAlreadyRunning), so a second command can use it without owning it.
// ErrNotRunning when no server runs there.
func RunningDSN(dir, dbname string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("localpg: cluster dir %q: %w", dir, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if _, ok := liveServer(filepath.Join(abs, "data")); !ok {
		return "", ErrNotRunning
	}
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable",
		dsnValue(chooseSocketDir(abs, os.TempDir())), Port, dsnValue(dbname)), nil
}
