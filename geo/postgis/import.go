package postgis

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo"
)

// Incident import tuning. Every statement of an import is bounded so that
// none runs into the session's statement timeout or the connection's read
// deadline, however large the file: COPY statements end after
// importCopyRows rows or importCopyOpen of wall time (or after a pause of
// the reader), and the merge goes importMergeRows staged rows at a time.
const (
	importCopyRows     = 100_000
	importCopyOpen     = 10 * time.Second
	importCopyIdle     = time.Second
	importMergeRows    = 50_000
	importReadBatch    = 500
	importProgressRows = 10_000
	// Imports of at least this many rows run in bulk mode: no per-row live
	// events and no per-row enrichment; the changed incidents are
	// re-enriched set-based after the commit instead.
	importBulkRows = 1000
	// defaultImportMaxErrors caps the row errors an import keeps.
	defaultImportMaxErrors = 10_000
	// importLockKey serialises incident imports (pg_advisory_xact_lock):
	// two imports of overlapping files would otherwise deadlock on rows
	// locked in different orders.
	importLockKey = 0x696d706f7274 // "import"
)

// ImportOptions tune ImportIncidents.
type ImportOptions struct {
	// SkipInvalid stores the valid rows and reports the invalid ones. By
	// default an import is all or nothing: any invalid row and nothing is
	// written.
	SkipInvalid bool
	// Demo marks every imported incident as demonstration data.
	Demo bool
	// MaxErrors caps the row errors kept in the result (default 10,000);
	// the rest are only counted.
	MaxErrors int
	// Progress, when set, is called as rows are read and at each phase.
	Progress func(ImportProgress)
}

// Import phases, as reported to ImportOptions.Progress.
const (
	ImportReading   = "reading"   // rows are read and staged
	ImportChecking  = "checking"  // duplicates are looked for
	ImportMerging   = "merging"   // staged rows are written to incidents
	ImportEnriching = "enriching" // derived geography of the changed incidents
	ImportDone      = "done"
)

// ImportProgress says how far an import has come.
type ImportProgress struct {
	Phase  string
	Rows   int64 // records read so far
	Merged int64 // staged rows merged so far (ImportMerging; of Staged)
	Staged int64 // rows staged (known from ImportChecking on)
}

// ImportResult counts what an import did.
type ImportResult struct {
	Rows          int64          // records read
	Invalid       int64          // invalid records, not stored
	Inserted      int64          // new incidents
	Updated       int64          // incidents that changed
	Unchanged     int64          // valid records equal to the stored incident
	Errors        []geo.RowError // errors of the invalid records, in line order, at most MaxErrors
	ErrorsOmitted int            // errors beyond MaxErrors
	Bulk          bool           // per-row live events and enrichment were skipped
}

// importColumn is one incidents column an import writes: its value from
// the staging row s, given the stored incident i (NULL when new).
type importColumn struct {
	name string
	expr string
}

// importColumns are the columns an import sets. Status and admin1 keep
// the stored value when the file has none (ACLED has no status: a
// moderator's retraction survives a re-import). The derived columns are
// never written: enrichment computes them.
var importColumns = []importColumn{
	{"occurred_at", "s.occurred_at"},
	{"time_precision", "s.time_precision"},
	{"event_type", "s.event_type"},
	{"sub_event_type", "s.sub_event_type"},
	{"actor1", "s.actor1"},
	{"actor2", "s.actor2"},
	{"fatalities", "s.fatalities"},
	{"title", "s.title"},
	{"notes", "s.notes"},
	{"location_name", "s.location_name"},
	{"geom", "ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)"},
	{"geo_precision", "s.geo_precision"},
	{"admin1", "CASE WHEN s.admin1 <> '' THEN s.admin1 ELSE coalesce(i.admin1, '') END"},
	{"status", "coalesce(s.status, i.status, 'verified')"},
	{"sources", "s.sources"},
	{"demo", "s.demo"},
}

const createStagingSQL = `CREATE TEMP TABLE import_staging (
	seq            bigint NOT NULL,
	line           integer NOT NULL,
	external_id    text NOT NULL,
	occurred_at    timestamptz NOT NULL,
	time_precision smallint NOT NULL,
	event_type     text NOT NULL,
	sub_event_type text,
	actor1         text NOT NULL,
	actor2         text NOT NULL,
	fatalities     integer NOT NULL,
	title          text NOT NULL,
	notes          text NOT NULL,
	location_name  text NOT NULL,
	lon            double precision NOT NULL,
	lat            double precision NOT NULL,
	geo_precision  smallint NOT NULL,
	admin1         text NOT NULL,
	status         text,
	sources        jsonb NOT NULL,
	demo           boolean NOT NULL
) ON COMMIT DROP`

const copyStagingSQL = `COPY import_staging (seq, line, external_id, occurred_at, time_precision,
	event_type, sub_event_type, actor1, actor2, fatalities, title, notes, location_name,
	lon, lat, geo_precision, admin1, status, sources, demo) FROM STDIN`

// importCandidatesSQL selects the staged rows of seq range [$1, $2) that
// would insert or change an incident, with the values they would store.
var importCandidatesSQL = func() string {
	var vals, newCols, oldCols []string
	for _, c := range importColumns {
		vals = append(vals, c.expr+" AS "+c.name)
		newCols = append(newCols, "v."+c.name)
		oldCols = append(oldCols, "v.old_"+c.name)
	}
	var olds []string
	for _, c := range importColumns {
		olds = append(olds, "i."+c.name+" AS old_"+c.name)
	}
	return fmt.Sprintf(`SELECT v.* FROM (
		SELECT s.external_id, %s, i.id AS old_id, %s
		FROM import_staging s LEFT JOIN incidents i ON i.external_id = s.external_id
		WHERE s.seq >= $1 AND s.seq < $2) v
	WHERE v.old_id IS NULL OR (%s) IS DISTINCT FROM (%s)`,
		strings.Join(vals, ", "), strings.Join(olds, ", "),
		strings.Join(oldCols, ", "), strings.Join(newCols, ", "))
}()

// importMergeSQL writes the candidates of one seq range in one set-based
// statement. The DO UPDATE's WHERE repeats the change test against the row
// as locked, so a concurrent writer cannot make it bump an unchanged row.
var importMergeSQL = func() string {
	var names, sets, target, excluded []string
	for _, c := range importColumns {
		names = append(names, c.name)
		sets = append(sets, c.name+" = excluded."+c.name)
		target = append(target, "t."+c.name)
		excluded = append(excluded, "excluded."+c.name)
	}
	cols := strings.Join(names, ", ")
	return fmt.Sprintf(`WITH merged AS (
		INSERT INTO incidents AS t (external_id, %s)
		SELECT external_id, %s FROM (%s) c ORDER BY external_id
		ON CONFLICT (external_id) DO UPDATE SET %s, version = t.version + 1, updated_at = now()
		WHERE (%s) IS DISTINCT FROM (%s)
		RETURNING t.id, t.xmax = 0 AS inserted)
	SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
	       coalesce(array_agg(id), '{}') FROM merged`,
		cols, cols, importCandidatesSQL, strings.Join(sets, ", "),
		strings.Join(target, ", "), strings.Join(excluded, ", "))
}()

// ImportIncidents reads every record of rows and stores the valid ones in
// one transaction, keyed by external id: new ones are inserted, changed
// ones updated (version and updated_at bumped), equal ones left alone, so
// importing the same file twice changes nothing the second time — no
// version bump, no live event, and no statement at all on incidents.
//
// Records are COPYed into a temporary staging table as they are read and
// merged with set-based INSERT ... ON CONFLICT statements. A record whose
// external id repeats an earlier one's is invalid. Unless
// opts.SkipInvalid, any invalid record means nothing is written and the
// error is a *geo.InvalidRowsError listing them (it matches
// geo.ErrInvalid); the result counts them too. With SkipInvalid the valid
// records are stored and the invalid ones only reported in the result.
// Other errors (the reader's, the database's) write nothing either.
func (db *DB) ImportIncidents(ctx context.Context, rows geo.IncidentReader, opts ImportOptions) (ImportResult, error) {
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = defaultImportMaxErrors
	}
	progress := func(p ImportProgress) {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	var res ImportResult
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("import incidents: %w", mapError(err))
	}
	defer tx.Rollback()
	for _, stmt := range []string{
		fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, importLockKey),
		// The reader may pause between COPY statements (a slow pipe).
		`SET LOCAL idle_in_transaction_session_timeout = '10min'`,
		// Duplicate checks and merges sort up to importMergeRows rows.
		`SET LOCAL work_mem = '64MB'`,
		createStagingSQL,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return res, fmt.Errorf("import incidents: prepare: %w", mapError(err))
		}
	}
	errs := &rowErrors{max: opts.MaxErrors}
	staged, err := stageIncidents(ctx, tx, rows, opts, &res, errs, progress)
	if err != nil {
		return res, err
	}
	progress(ImportProgress{Phase: ImportChecking, Rows: res.Rows, Staged: staged})
	dups, err := stagedDuplicates(ctx, tx, rows.ExternalIDColumn(), errs)
	if err != nil {
		return res, err
	}
	res.Invalid += dups
	staged -= dups
	res.Errors, res.ErrorsOmitted = errs.sorted()
	if res.Invalid > 0 && !opts.SkipInvalid {
		return res, &geo.InvalidRowsError{Errors: res.Errors, Rows: int(res.Invalid), Omitted: res.ErrorsOmitted}
	}
	if dups > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM import_staging WHERE seq IN (
			SELECT seq FROM (SELECT seq, row_number() OVER (PARTITION BY external_id ORDER BY seq) AS n
			                 FROM import_staging) d WHERE n > 1)`); err != nil {
			return res, fmt.Errorf("import incidents: drop duplicates: %w", mapError(err))
		}
	}
	res.Bulk = staged >= importBulkRows
	if res.Bulk {
		// Per-row live events would flood the event backlog (clients see
		// the collection version change instead), and per-row enrichment
		// would hold this transaction for as long as enriching takes: it
		// runs set-based after the commit instead (reEnrichImported).
		for _, stmt := range []string{`SET LOCAL incidentmap.bulk = 'on'`, `SET LOCAL incidentmap.enrich = 'off'`} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return res, fmt.Errorf("import incidents: %w", mapError(err))
			}
		}
	}
	changed, err := mergeStaged(ctx, tx, &res, staged, progress)
	if err != nil {
		return res, err
	}
	res.Unchanged = staged - res.Inserted - res.Updated
	if err := commit(ctx, tx); err != nil {
		return res, fmt.Errorf("import incidents: commit: %w", mapError(err))
	}
	if res.Bulk && len(changed) > 0 {
		progress(ImportProgress{Phase: ImportEnriching, Rows: res.Rows, Staged: staged, Merged: staged})
		if err := db.reEnrichImported(ctx, changed); err != nil {
			return res, fmt.Errorf("import incidents: stored, but computing their country, nearest place and "+
				"border distance failed (run 'incidentmap places reenrich'): %w", err)
		}
	}
	progress(ImportProgress{Phase: ImportDone, Rows: res.Rows, Staged: staged, Merged: staged})
	return res, nil
}

// reEnrichImported computes the derived geography (country, nearest
// place, border distance) of the incidents a bulk import wrote with
// enrichment off, with the set-based re-enrichment of enrich.go
// (reEnrichRange, each range its own transaction) over the id ranges that
// hold them: imported incidents get consecutive ids, so this covers them
// without re-enriching the whole table as ReEnrich would.
func (db *DB) reEnrichImported(ctx context.Context, ids []int64) error {
	// Without places, countries or borders there is nothing to derive,
	// and computing nothing costs as much per row as computing something.
	var geography bool
	if err := db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM places) OR EXISTS (SELECT 1 FROM country_parts)
		OR EXISTS (SELECT 1 FROM border_parts)`).Scan(&geography); err != nil {
		return mapError(err)
	}
	if !geography {
		return nil
	}
	slices.Sort(ids)
	for i := 0; i < len(ids); {
		from := ids[i]
		to := from + reEnrichBatch - 1
		if _, err := db.reEnrichRange(ctx, from, to); err != nil {
			return err
		}
		for i < len(ids) && ids[i] <= to {
			i++
		}
	}
	return nil
}

// rowErrors keeps the first max row errors of an import.
type rowErrors struct {
	max     int
	list    []geo.RowError
	omitted int
}

func (e *rowErrors) add(errs ...geo.RowError) {
	for _, re := range errs {
		if len(e.list) < e.max {
			e.list = append(e.list, re)
		} else {
			e.omitted++
		}
	}
}

// sorted returns the errors in line order (the reader's and the
// duplicates' are each in order, but interleave).
func (e *rowErrors) sorted() ([]geo.RowError, int) {
	slices.SortStableFunc(e.list, func(a, b geo.RowError) int { return a.Line - b.Line })
	return e.list, e.omitted
}

// readResult is a batch of rows from the reader goroutine, or its error.
type readResult struct {
	rows []geo.IncidentRow
	err  error
}

// readRows reads rows in batches on its own goroutine, so parsing runs
// while the database takes the previous batch, until the reader ends or
// ctx is done. The channel closes after an io.EOF-free end or an error.
func readRows(ctx context.Context, rows geo.IncidentReader) <-chan readResult {
	ch := make(chan readResult, 4)
	go func() {
		defer close(ch)
		send := func(r readResult) bool {
			select {
			case ch <- r:
				return true
			case <-ctx.Done():
				return false
			}
		}
		batch := make([]geo.IncidentRow, 0, importReadBatch)
		for {
			row, err := rows.Next()
			if errors.Is(err, io.EOF) {
				if len(batch) > 0 {
					send(readResult{rows: batch})
				}
				return
			}
			if err != nil {
				if len(batch) > 0 && !send(readResult{rows: batch}) {
					return
				}
				send(readResult{err: err})
				return
			}
			batch = append(batch, row)
			if len(batch) == importReadBatch {
				if !send(readResult{rows: batch}) {
					return
				}
				batch = make([]geo.IncidentRow, 0, importReadBatch)
			}
		}
	}()
	return ch
}

// stagedCopy is the COPY statement currently open on the staging table.
type stagedCopy struct {
	tx     *sql.Tx
	stmt   *sql.Stmt
	rows   int
	opened time.Time
}

func (c *stagedCopy) open(ctx context.Context) error {
	if c.stmt != nil {
		return nil
	}
	stmt, err := c.tx.PrepareContext(ctx, copyStagingSQL)
	if err != nil {
		return fmt.Errorf("import incidents: start copy: %w", mapError(err))
	}
	c.stmt, c.rows, c.opened = stmt, 0, time.Now()
	return nil
}

func (c *stagedCopy) close(ctx context.Context) error {
	if c.stmt == nil {
		return nil
	}
	stmt := c.stmt
	c.stmt = nil
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return fmt.Errorf("import incidents: copy: %w", mapError(err))
	}
	if err := stmt.Close(); err != nil {
		return fmt.Errorf("import incidents: copy: %w", mapError(err))
	}
	return nil
}

// stageIncidents copies every valid record into import_staging, counting
// the records and collecting the invalid ones' errors. It returns the
// number of rows staged.
func stageIncidents(ctx context.Context, tx *sql.Tx, rows geo.IncidentReader, opts ImportOptions,
	res *ImportResult, errs *rowErrors, progress func(ImportProgress)) (int64, error) {
	readCtx, stop := context.WithCancel(ctx)
	defer stop()
	ch := readRows(readCtx, rows)
	cp := &stagedCopy{tx: tx}
	defer func() {
		if cp.stmt != nil {
			cp.stmt.Close()
		}
	}()
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	var staged int64
	var sources strings.Builder
	enc := json.NewEncoder(&sources)
	enc.SetEscapeHTML(false)
	for {
		var (
			batch readResult
			ok    bool
		)
		if cp.stmt != nil {
			// Don't hold a COPY open while the reader pauses.
			idle.Reset(importCopyIdle)
			select {
			case batch, ok = <-ch:
			case <-idle.C:
				if err := cp.close(ctx); err != nil {
					return staged, err
				}
				continue
			case <-ctx.Done():
				return staged, ctx.Err()
			}
		} else {
			select {
			case batch, ok = <-ch:
			case <-ctx.Done():
				return staged, ctx.Err()
			}
		}
		if !ok {
			return staged, cp.close(ctx)
		}
		if batch.err != nil {
			return staged, fmt.Errorf("import incidents: %w", batch.err)
		}
		for i := range batch.rows {
			row := &batch.rows[i]
			res.Rows++
			if res.Rows%importProgressRows == 0 {
				progress(ImportProgress{Phase: ImportReading, Rows: res.Rows})
			}
			if len(row.Errors) > 0 {
				res.Invalid++
				errs.add(row.Errors...)
				continue
			}
			if err := cp.open(ctx); err != nil {
				return staged, err
			}
			inc := &row.Incident
			sources.Reset()
			if inc.Sources == nil {
				sources.WriteString("[]")
			} else if err := enc.Encode(inc.Sources); err != nil {
				return staged, fmt.Errorf("import incidents: line %d: encode sources: %w", row.Line, err)
			}
			_, err := cp.stmt.ExecContext(ctx, staged, row.Line, inc.ExternalID, inc.OccurredAt,
				int64(inc.TimePrecision), inc.EventType, nullIfEmpty(inc.SubEventType), inc.Actor1, inc.Actor2,
				int64(inc.Fatalities), inc.Title, inc.Notes, inc.LocationName, inc.Point.Lon(), inc.Point.Lat(),
				int64(inc.GeoPrecision), inc.Admin1, nullIfEmpty(inc.Status), strings.TrimRight(sources.String(), "\n"),
				opts.Demo || inc.Demo)
			if err != nil {
				return staged, fmt.Errorf("import incidents: line %d: stage: %w", row.Line, mapError(err))
			}
			staged++
			cp.rows++
			if cp.rows >= importCopyRows || time.Since(cp.opened) >= importCopyOpen {
				if err := cp.close(ctx); err != nil {
					return staged, err
				}
			}
		}
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// stagedDuplicates reports every staged row whose external id an earlier
// row already has, and returns how many there are.
func stagedDuplicates(ctx context.Context, tx *sql.Tx, column string, errs *rowErrors) (int64, error) {
	q, err := tx.QueryContext(ctx, `
		SELECT line, external_id, first_line FROM (
			SELECT line, seq, external_id, first_value(line) OVER w AS first_line, first_value(seq) OVER w AS first_seq
			FROM import_staging WINDOW w AS (PARTITION BY external_id ORDER BY seq)) d
		WHERE seq <> first_seq ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("import incidents: find duplicates: %w", mapError(err))
	}
	defer q.Close()
	var n int64
	for q.Next() {
		var (
			line, first int
			id          string
		)
		if err := q.Scan(&line, &id, &first); err != nil {
			return n, fmt.Errorf("import incidents: find duplicates: %w", mapError(err))
		}
		n++
		errs.add(geo.RowError{Line: line, Column: column,
			Reason: fmt.Sprintf("duplicate external id %s (first on line %d)", quoteID(id), first)})
	}
	if err := q.Err(); err != nil {
		return n, fmt.Errorf("import incidents: find duplicates: %w", mapError(err))
	}
	return n, nil
}

func quoteID(id string) string {
	if len(id) > 40 {
		id = id[:40] + "…"
	}
	return fmt.Sprintf("%q", id)
}

// mergeStaged writes the staged rows to incidents, importMergeRows at a
// time, and returns the ids of the incidents inserted or changed. A range
// with nothing to change issues no statement on incidents, so an
// unchanged import does not even bump the collection version.
func mergeStaged(ctx context.Context, tx *sql.Tx, res *ImportResult, staged int64, progress func(ImportProgress)) ([]int64, error) {
	// Sequence numbers have gaps where duplicates were dropped: progress
	// counts them too.
	if staged == 0 {
		return nil, nil
	}
	for _, stmt := range []string{
		`CREATE INDEX ON import_staging (seq)`,
		`ANALYZE import_staging`, // autovacuum never analyses temporary tables
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("import incidents: index staging: %w", mapError(err))
		}
	}
	var maxSeq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), -1) FROM import_staging`).Scan(&maxSeq); err != nil {
		return nil, fmt.Errorf("import incidents: %w", mapError(err))
	}
	var changed []int64
	progress(ImportProgress{Phase: ImportMerging, Rows: res.Rows, Staged: maxSeq + 1})
	for lo := int64(0); lo <= maxSeq; lo += importMergeRows {
		hi := lo + importMergeRows
		var found bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (`+importCandidatesSQL+`)`, lo, hi).Scan(&found); err != nil {
			return nil, fmt.Errorf("import incidents: compare: %w", mapError(err))
		}
		if found {
			var (
				ins, upd int64
				ids      []int64
			)
			if err := tx.QueryRowContext(ctx, importMergeSQL, lo, hi).Scan(&ins, &upd, pq.Array(&ids)); err != nil {
				return nil, fmt.Errorf("import incidents: merge: %w", mapError(err))
			}
			res.Inserted += ins
			res.Updated += upd
			changed = append(changed, ids...)
		}
		progress(ImportProgress{Phase: ImportMerging, Rows: res.Rows, Staged: maxSeq + 1, Merged: min(hi, maxSeq+1)})
	}
	return changed, nil
}
