package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

// excludedTableData are tables whose rows a backup leaves out: rate-limit
// buckets are keyed by hashed client addresses and are worthless a minute
// later, so a backup should not carry them.
var excludedTableData = []string{"rate_limits"}

// summaryTables are the tables whose row counts backup and restore print,
// in this order (an allow-list: these names go into SQL).
var summaryTables = []string{"incidents", "reports", "report_photos", "audit_log", "users", "layers", "layer_features", "places", "countries", "borders"}

func runBackup(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	fs := newFlagSet(env, "backup", "backup [flags] FILE\n\nWrites a consistent snapshot of the database (pg_dump custom format) to FILE and its\nSHA-256 to FILE.sha256; restore it with 'incidentmap restore FILE'.")
	cfg.register(fs, env)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want exactly one FILE", errUsage)
	}
	path, err := filepath.Abs(rest[0])
	if err != nil {
		return fmt.Errorf("backup file %q: %w", rest[0], err)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("backup file %s is a directory", path)
	}
	logger, err := newLogger(env.stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	var version int64
	if err := db.SQL().QueryRowContext(ctx,
		`SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&version); err != nil || version == 0 {
		return fmt.Errorf("the database holds no incidentmap schema to back up (run 'incidentmap migrate up' first): %v", err)
	}
	begin := time.Now()
	info, size, err := writeBackup(ctx, db.dsn, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "backup written: %s (%s, schema version %d, %s) in %s\n",
		path, formatBytes(size), info.schemaVersion, info.summary(), time.Since(begin).Round(time.Millisecond))
	return nil
}

// writeBackup dumps dsn into a temporary file beside path, reads it back
// whole (every compressed block) and renames it into place with its
// checksum file. A failure leaves any earlier backup at path untouched.
func writeBackup(ctx context.Context, dsn, path string) (archiveInfo, int64, error) {
	pgDump, err := localpg.ClientTool(ctx, "pg_dump")
	if err != nil {
		return archiveInfo{}, 0, err
	}
	conninfo, connEnv, err := toolConnection(dsn)
	if err != nil {
		return archiveInfo{}, 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return archiveInfo{}, 0, fmt.Errorf("create backup file beside %s: %w", path, err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmpPath)
		}
	}()
	// pg_dump reads every table in one REPEATABLE READ snapshot: rows
	// committed while it runs are not in the file, rows committed before
	// it started all are, and no transaction is seen half done.
	args := []string{"--format=custom", "--file=" + tmpPath, "--lock-wait-timeout=60s", "--no-password"}
	for _, t := range excludedTableData {
		args = append(args, "--exclude-table-data=public."+t)
	}
	args = append(args, "--dbname="+conninfo)
	if err := runTool(ctx, exec.Command(pgDump, args...), connEnv, nil); err != nil {
		if strings.Contains(err.Error(), "permission denied") {
			return archiveInfo{}, 0, fmt.Errorf("pg_dump: %w: back up with the login that owns the tables (the one migrations run as)", err)
		}
		return archiveInfo{}, 0, fmt.Errorf("pg_dump: %w", err)
	}
	f, err := os.Open(tmpPath)
	if err != nil {
		return archiveInfo{}, 0, err
	}
	sum := sha256.New()
	size, err := io.Copy(sum, f)
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		return archiveInfo{}, 0, fmt.Errorf("read back %s: %w", tmpPath, err)
	}
	info, err := inspectArchive(ctx, tmpPath)
	if err != nil {
		return archiveInfo{}, 0, fmt.Errorf("the file pg_dump wrote does not read back: %w", err)
	}
	// The checksum first: a checksum file without its backup is harmless,
	// a new backup beside an old checksum would look corrupted.
	line := hex.EncodeToString(sum.Sum(nil)) + "  " + filepath.Base(path) + "\n"
	if err := writeFileAtomic(path+".sha256", []byte(line)); err != nil {
		return archiveInfo{}, 0, err
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return archiveInfo{}, 0, fmt.Errorf("move backup into place: %w", err)
	}
	done = true
	if err := syncDir(filepath.Dir(path)); err != nil {
		return archiveInfo{}, 0, err
	}
	return info, size, nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it
// and renames it over path.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// archiveInfo is what a backup holds, read from the archive itself.
type archiveInfo struct {
	schemaVersion int64            // highest applied goose migration; 0: none
	rows          map[string]int64 // rows per table ("incidents", not "public.incidents")
}

// tableLabel names a table's rows in a sentence.
func tableLabel(table string) string {
	if table == "audit_log" {
		return "audit entries"
	}
	return strings.ReplaceAll(table, "_", " ")
}

// summary lists the row counts of the summary tables, e.g. "1,000
// incidents, 3 reports".
func (a archiveInfo) summary() string {
	var parts []string
	for _, t := range summaryTables {
		if n, ok := a.rows[t]; ok {
			parts = append(parts, formatCount(n)+" "+tableLabel(t))
		}
	}
	if len(parts) == 0 {
		return "no rows"
	}
	return strings.Join(parts, ", ")
}

// copyHeader matches the line pg_restore starts a table's rows with.
var copyHeader = regexp.MustCompile(`^COPY public\.("?)([a-z_][a-z0-9_]*)("?) \(([^)]*)\) FROM stdin;$`)

// inspectArchive checks that path is a pg_dump custom archive that reads
// to the end (every data block decompresses: zlib checks each one) and
// returns its schema version and row counts. Nothing connects anywhere.
func inspectArchive(ctx context.Context, path string) (archiveInfo, error) {
	pgRestore, err := localpg.ClientTool(ctx, "pg_restore")
	if err != nil {
		return archiveInfo{}, err
	}
	if err := runTool(ctx, exec.Command(pgRestore, "--list", path), nil, io.Discard); err != nil {
		return archiveInfo{}, fmt.Errorf("%s is not a readable pg_dump archive: %w", path, err)
	}
	info := archiveInfo{rows: map[string]int64{}}
	pr, pw := io.Pipe()
	scanErr := make(chan error, 1)
	go func() {
		err := scanScript(pr, &info)
		pr.CloseWithError(err) // unblocks pg_restore if we stopped reading early
		scanErr <- err
	}()
	err = runTool(ctx, exec.Command(pgRestore, "--file=-", path), nil, pw)
	pw.Close()
	if serr := <-scanErr; err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		return archiveInfo{}, fmt.Errorf("%s is damaged or incomplete: %w", path, err)
	}
	return info, nil
}

// scanScript reads the SQL script pg_restore makes of an archive, counts
// the rows of every table and reads goose's version table.
func scanScript(r io.Reader, info *archiveInfo) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30) // a row with photos is one long line
	table := ""
	versionCol, appliedCol := -1, -1
	for sc.Scan() {
		line := sc.Bytes()
		if table == "" {
			m := copyHeader.FindSubmatch(line)
			if m == nil {
				continue
			}
			table = string(m[2])
			info.rows[table] += 0
			versionCol, appliedCol = -1, -1
			if table == "goose_db_version" {
				cols := strings.Split(string(m[4]), ", ")
				versionCol, appliedCol = slices.Index(cols, "version_id"), slices.Index(cols, "is_applied")
			}
			continue
		}
		if string(line) == `\.` {
			table = ""
			continue
		}
		info.rows[table]++
		if versionCol >= 0 && appliedCol >= 0 {
			fields := strings.Split(string(line), "\t")
			if max(versionCol, appliedCol) >= len(fields) {
				return fmt.Errorf("goose_db_version row %q has too few columns", line)
			}
			v, err := strconv.ParseInt(fields[versionCol], 10, 64)
			if err != nil {
				return fmt.Errorf("goose_db_version row %q: version_id: %w", line, err)
			}
			if fields[appliedCol] == "t" && v > info.schemaVersion {
				info.schemaVersion = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if table != "" {
		return fmt.Errorf("the rows of table %s end early", table)
	}
	return nil
}

// runTool runs a PostgreSQL client program, its output to stdout (nil:
// discarded), and turns a failure into an error carrying the last lines
// the program printed on stderr.
func runTool(ctx context.Context, cmd *exec.Cmd, env []string, stdout io.Writer) error {
	cmd.Env = localpg.ClientEnv(env...)
	cmd.Stdout = stdout
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 64 << 10}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches us, we end it
	if err := cmd.Start(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	if !stop() {
		return ctx.Err()
	}
	if err != nil {
		if msg := toolMessage(stderr.String()); msg != "" {
			return fmt.Errorf("%s (%w)", msg, err)
		}
		return err
	}
	return nil
}

// toolMessage turns a client program's stderr into one line: its error
// lines, without the program-name prefix, joined.
func toolMessage(stderr string) string {
	var msgs []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		l = strings.TrimSpace(l)
		for _, p := range []string{"pg_dump: ", "pg_restore: ", "psql: ", "error: ", "ERROR:  ", "FATAL:  "} {
			l = strings.TrimPrefix(l, p)
		}
		if l != "" && !strings.HasPrefix(l, "detail: ") && !slices.Contains(msgs, l) {
			msgs = append(msgs, l)
		}
	}
	if len(msgs) > 3 {
		msgs = msgs[len(msgs)-3:]
	}
	return strings.Join(msgs, "; ")
}

// limitedBuffer keeps at most max bytes of what is written (the rest is
// dropped), so a chatty program cannot fill memory.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// toolConnection turns a lib/pq DSN into a libpq connection string for
// the client programs. A URL's password moves into PGPASSWORD so that it
// does not show in the process list.
func toolConnection(dsn string) (conninfo string, env []string, err error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn, nil, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("parse database url: %w", err)
	}
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
		}
	}
	return u.String(), env, nil
}

// formatBytes prints a size in MiB/KiB with one decimal.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// formatCount prints n with thousands separators: 1,000,000.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
