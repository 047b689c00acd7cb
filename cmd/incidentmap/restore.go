package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

func runRestore(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	fs := newFlagSet(env, "restore", "restore [flags] FILE\n\nRestores a backup made by 'incidentmap backup' into an empty database (or a fresh --data-dir),\nall or nothing. Stop every server using the database first.")
	cfg.register(fs, env)
	force := fs.Bool("force", false, "replace everything in a database that is not empty (its tables, their rows and functions)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want exactly one FILE", errUsage)
	}
	path := rest[0]
	begin := time.Now()

	// Everything about the file is checked before the target is touched.
	checked, err := verifyChecksum(path)
	if err != nil {
		return err
	}
	if !checked {
		fmt.Fprintf(env.stderr, "note: no %s.sha256 beside the backup: checking the archive's structure and compressed blocks only\n", filepath.Base(path))
	}
	info, err := inspectArchive(ctx, path)
	if err != nil {
		return err
	}
	if info.schemaVersion == 0 {
		return fmt.Errorf("%s is no incidentmap backup: it has no applied migrations (goose_db_version rows)", path)
	}
	if latest := postgis.LatestMigration(); info.schemaVersion > latest {
		return fmt.Errorf("%s is from schema version %d, newer than this incidentmap knows (%d): restore it with the incidentmap release that wrote it, or a newer one",
			path, info.schemaVersion, latest)
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
	if db.managed && db.cluster == nil {
		return fmt.Errorf("a server is running on the embedded database in %s: stop it before restoring", cfg.DataDir)
	}
	target, err := describeTarget(ctx, db.SQL())
	if err != nil {
		return err
	}
	if !target.empty() && !*force {
		return fmt.Errorf("database %s is not empty (%s); restoring would replace all of it: stop every server using it and run again with --force",
			target.name, target.describe())
	}
	if err := restoreArchive(ctx, db.dsn, path, info, !target.empty()); err != nil {
		return fmt.Errorf("restore into database %s failed and was rolled back, nothing changed: %w", target.name, err)
	}
	if db.managed {
		// The embedded cluster's logins are made by serve; make them now
		// so the restored database is ready for it.
		if err := db.EnsureLoginRoles(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.stdout, "restored %s into database %s (schema version %d, %s) in %s\n",
		path, target.name, info.schemaVersion, info.summary(), time.Since(begin).Round(time.Millisecond))
	if latest := postgis.LatestMigration(); info.schemaVersion < latest {
		fmt.Fprintf(env.stdout, "the backup's schema version %d is older than this incidentmap's %d: 'incidentmap migrate up' (or serve) brings it up to date\n",
			info.schemaVersion, latest)
	}
	return nil
}

// verifyChecksum compares path with the SHA-256 in path.sha256, if that
// file exists, and reports whether it did.
func verifyChecksum(path string) (bool, error) {
	want, err := os.ReadFile(path + ".sha256")
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(path); err != nil {
			return false, fmt.Errorf("backup file: %w", err)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read checksum: %w", err)
	}
	fields := strings.Fields(string(want))
	if len(fields) == 0 || len(fields[0]) != sha256.Size*2 {
		return false, fmt.Errorf("%s.sha256 holds no SHA-256 checksum", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("backup file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(fields[0]) {
		return false, fmt.Errorf("%s is damaged: its SHA-256 is %s but %s.sha256 says %s (truncated or altered since the backup)",
			path, got, filepath.Base(path), fields[0])
	}
	return true, nil
}

// targetState is what a database holds before a restore.
type targetState struct {
	name          string
	objects       int              // tables, views, sequences and functions of the application
	schemaVersion int64            // 0: none
	rows          map[string]int64 // rows of the summary tables that exist
}

func (t targetState) empty() bool { return t.objects == 0 }

// describe says what a restore would overwrite.
func (t targetState) describe() string {
	parts := []string{fmt.Sprintf("%d tables, views, sequences and functions", t.objects)}
	if t.schemaVersion > 0 {
		parts = append(parts, fmt.Sprintf("schema version %d", t.schemaVersion))
	}
	for _, name := range summaryTables {
		if n, ok := t.rows[name]; ok {
			parts = append(parts, formatCount(n)+" "+tableLabel(name))
		}
	}
	return strings.Join(parts, ", ")
}

// appObjects selects the tables, views, sequences and functions in the
// public schema that no extension (PostGIS, pg_trgm, unaccent) owns: the
// application's, which a restore creates and --force drops.
const appObjects = `
	SELECT 'rel' AS kind, c.relkind::text AS sub, quote_ident(c.relname) AS name
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
	UNION ALL
	SELECT 'proc', p.prokind::text, format('%I(%s)', p.proname, pg_get_function_identity_arguments(p.oid))
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
	WHERE n.nspname = 'public'
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`

// describeTarget reads what the database holds.
func describeTarget(ctx context.Context, db *sql.DB) (targetState, error) {
	t := targetState{rows: map[string]int64{}}
	if err := db.QueryRowContext(ctx, `SELECT current_database(), (SELECT count(*) FROM (`+appObjects+`) o)`).Scan(&t.name, &t.objects); err != nil {
		return t, fmt.Errorf("look at the target database: %w", err)
	}
	for _, name := range append([]string{"goose_db_version"}, summaryTables...) {
		var exists bool
		if err := db.QueryRowContext(ctx, `SELECT to_regclass('public.' || $1) IS NOT NULL`, name).Scan(&exists); err != nil {
			return t, fmt.Errorf("look at the target database: %w", err)
		}
		if !exists {
			continue
		}
		if name == "goose_db_version" {
			if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM public.goose_db_version WHERE is_applied`).Scan(&t.schemaVersion); err != nil {
				return t, fmt.Errorf("read the target's schema version: %w", err)
			}
			continue
		}
		var n int64
		// name is from summaryTables, a constant allow-list.
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM public.`+pq.QuoteIdentifier(name)).Scan(&n); err != nil {
			return t, fmt.Errorf("count the target's %s: %w", name, err)
		}
		t.rows[name] = n
	}
	return t, nil
}

// restoreArchive runs pg_restore's script through psql in one
// transaction, between a prelude (roles, and with replace the removal of
// what is there) and checks that the rows arrived and the least-privilege
// roles can read the map. COMMIT is sent only after pg_restore has read
// the whole archive without error: anything less and psql's session ends
// inside the transaction, so PostgreSQL rolls all of it back.
func restoreArchive(ctx context.Context, dsn, path string, info archiveInfo, replace bool) error {
	pgRestore, err := localpg.ClientTool(ctx, "pg_restore")
	if err != nil {
		return err
	}
	psql, err := localpg.ClientTool(ctx, "psql")
	if err != nil {
		return err
	}
	conninfo, connEnv, err := toolConnection(dsn)
	if err != nil {
		return err
	}
	list, err := restoreList(ctx, pgRestore, path)
	if err != nil {
		return err
	}
	defer os.Remove(list)

	source := exec.Command(pgRestore, "--no-owner", "--use-list="+list, "--file=-", path)
	sink := exec.Command(psql, "--no-psqlrc", "--quiet", "--no-password", "--set=ON_ERROR_STOP=1", "--file=-", "--dbname="+conninfo)
	script, err := source.StdoutPipe()
	if err != nil {
		return err
	}
	stdin, err := sink.StdinPipe()
	if err != nil {
		return err
	}
	sourceDone := make(chan error, 1)
	go func() {
		defer stdin.Close()
		if _, err := io.WriteString(stdin, restorePrelude(replace)); err != nil {
			sourceDone <- err
			return
		}
		// source runs inside this goroutine so that its stdout is read
		// to the end before Wait closes it.
		source.Env = localpg.ClientEnv()
		var stderr strings.Builder
		source.Stderr = &stderr
		if err := source.Start(); err != nil {
			sourceDone <- err
			return
		}
		_, copyErr := io.Copy(stdin, script)
		err := source.Wait()
		if err == nil && copyErr == nil {
			_, err = io.WriteString(stdin, restoreEpilogue(info))
		} else if err != nil {
			err = fmt.Errorf("pg_restore: %s (%w)", toolMessage(stderr.String()), err)
		} else {
			err = copyErr
		}
		sourceDone <- err
	}()
	sinkErr := runTool(ctx, sink, connEnv, io.Discard)
	srcErr := <-sourceDone
	if srcErr != nil && (sinkErr == nil || !isPipeError(srcErr)) {
		return srcErr
	}
	if sinkErr != nil {
		if strings.Contains(sinkErr.Error(), "permission denied to create role") {
			return fmt.Errorf("the roles %s and %s do not exist in this cluster and this login may not create them: create them first (docs/deploy.md): %w",
				postgis.RolePublic, postgis.RoleModerator, sinkErr)
		}
		if strings.Contains(sinkErr.Error(), "permission denied to create extension") {
			return fmt.Errorf("%w: a superuser has to run CREATE EXTENSION postgis, pg_trgm and unaccent in the target database first (docs/deploy.md)", sinkErr)
		}
		return sinkErr
	}
	return nil
}

func isPipeError(err error) bool {
	return err != nil && (errors.Is(err, os.ErrClosed) || strings.Contains(err.Error(), "broken pipe") || strings.Contains(err.Error(), "file already closed"))
}

// restoreList writes the archive's table of contents without the entries
// only an extension's owner may restore (its comment, the rows of its
// tables): the extensions
// themselves are created IF NOT EXISTS, so a database where a DBA made
// them needs no more rights.
func restoreList(ctx context.Context, pgRestore, path string) (string, error) {
	var toc strings.Builder
	if err := runTool(ctx, exec.Command(pgRestore, "--list", path), nil, &toc); err != nil {
		return "", fmt.Errorf("%s is not a readable pg_dump archive: %w", path, err)
	}
	f, err := os.CreateTemp("", "incidentmap-restore-*.list")
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(f)
	for line := range strings.Lines(toc.String()) {
		// PostGIS's spatial_ref_sys belongs to the extension (and so to
		// whoever installed it); the application adds no reference
		// systems, so its dumped rows are none and need no INSERT right.
		if strings.Contains(line, " COMMENT - EXTENSION ") || strings.Contains(line, " TABLE DATA public spatial_ref_sys ") {
			continue
		}
		w.WriteString(line)
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write restore list: %w", err)
	}
	return f.Name(), nil
}

// restorePrelude opens the transaction, makes the least-privilege roles
// the archive grants to (cluster-wide, so a fresh cluster lacks them) and,
// with replace, drops the application's objects.
func restorePrelude(replace bool) string {
	var b strings.Builder
	b.WriteString("BEGIN;\nSET client_min_messages = warning;\n")
	fmt.Fprintf(&b, `DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %[1]s) THEN
        CREATE ROLE %[2]s NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %[3]s) THEN
        CREATE ROLE %[4]s NOLOGIN;
    END IF;
END $$;
`, pq.QuoteLiteral(postgis.RolePublic), pq.QuoteIdentifier(postgis.RolePublic),
		pq.QuoteLiteral(postgis.RoleModerator), pq.QuoteIdentifier(postgis.RoleModerator))
	if replace {
		b.WriteString(`DO $$
DECLARE
    o record;
BEGIN
    -- Tables first: they take their identity sequences, triggers and
    -- dependent views with them (hence IF EXISTS for those).
    FOR o IN SELECT * FROM (` + appObjects + `) a
        ORDER BY CASE WHEN a.kind = 'rel' AND a.sub IN ('r', 'p') THEN 0 WHEN a.kind = 'rel' THEN 1 ELSE 2 END
    LOOP
        EXECUTE format('DROP %s IF EXISTS public.%s CASCADE',
            CASE o.kind || o.sub
                WHEN 'relv' THEN 'VIEW' WHEN 'relm' THEN 'MATERIALIZED VIEW' WHEN 'relf' THEN 'FOREIGN TABLE'
                WHEN 'relS' THEN 'SEQUENCE' WHEN 'procp' THEN 'PROCEDURE' WHEN 'proca' THEN 'AGGREGATE'
                WHEN 'procf' THEN 'FUNCTION' WHEN 'procw' THEN 'FUNCTION' ELSE 'TABLE' END,
            o.name);
    END LOOP;
END $$;
`)
	}
	return b.String()
}

// plainName is a table name that needs no quoting.
var plainName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// restoreEpilogue checks, still inside the transaction, that every table
// has the rows the archive holds and that the least-privilege roles can
// read the map and write reports, then commits.
func restoreEpilogue(info archiveInfo) string {
	var b strings.Builder
	b.WriteString("SELECT pg_catalog.set_config('search_path', 'public', false);\nDO $$\nBEGIN\n")
	tables := make([]string, 0, len(info.rows))
	for t := range info.rows {
		if plainName.MatchString(t) {
			tables = append(tables, t)
		}
	}
	slices.Sort(tables)
	for _, t := range tables {
		// An extension's configuration table (PostGIS's spatial_ref_sys)
		// is dumped with only the rows users added.
		fmt.Fprintf(&b, "    IF NOT EXISTS (SELECT 1 FROM pg_depend WHERE classid = 'pg_class'::regclass AND objid = 'public.%[1]s'::regclass AND deptype = 'e')\n"+
			"       AND (SELECT count(*) FROM public.%[1]s) <> %[2]d THEN\n"+
			"        RAISE EXCEPTION 'table %[1]s has %% rows after the restore, the backup holds %[2]d', (SELECT count(*) FROM public.%[1]s);\n    END IF;\n",
			pq.QuoteIdentifier(t), info.rows[t])
	}
	for _, check := range []struct{ role, table, priv string }{
		{postgis.RolePublic, "incidents", "SELECT"},
		{postgis.RolePublic, "reports", "INSERT"},
		{postgis.RoleModerator, "reports", "UPDATE"},
		{postgis.RoleModerator, "audit_log", "INSERT"},
	} {
		if _, ok := info.rows[check.table]; !ok {
			continue
		}
		fmt.Fprintf(&b, "    IF NOT has_any_column_privilege(%s, 'public.%s', %s) THEN RAISE EXCEPTION 'the grants were not restored: %s may not %s %s'; END IF;\n",
			pq.QuoteLiteral(check.role), check.table, pq.QuoteLiteral(check.priv), check.role, check.priv, check.table)
	}
	b.WriteString("END $$;\nCOMMIT;\n")
	return b.String()
}
