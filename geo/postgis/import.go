package postgis

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

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
	// events (clients see the collection version change instead).
	importBulkRows = 1000
	// maxImportReasons caps the distinct reasons an import counts; the
	// rest are counted together as importOtherReason.
	maxImportReasons = 1000
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
	// SourceFile is recorded as source_file on every row written whose
	// Incident.SourceFile is empty: the base name of the imported file.
	SourceFile string
}

// Import phases, as reported to ImportOptions.Progress.
const (
	ImportReading   = "reading"   // rows are read and staged
	ImportChecking  = "checking"  // duplicates are looked for
	ImportMerging   = "merging"   // staged rows are written to incidents
	ImportEnriching = "enriching" // derived geography of the new and moved points, before they are written
	ImportDone      = "done"
)

// ImportProgress says how far an import has come.
type ImportProgress struct {
	Phase  string
	Rows   int64  // records read so far
	Merged int64  // staged rows merged so far (ImportMerging; of Staged)
	Staged int64  // rows staged (known from ImportChecking on)
	Step   string // ImportEnriching: what is being computed
	Points int64  // ImportEnriching: distinct locations to enrich
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
	// Reasons counts every error (not only those in Errors) by column and
	// kind, most frequent first.
	Reasons []ImportReason
	// Of the valid rows, as stored after the import: how many carry each
	// geo check (stated country differs from the polygon's; stated, but
	// no country polygon there).
	CountryMismatch int64
	NoCountry       int64
	Bulk            bool // per-row live events were skipped
	// Events counts the changes-feed events a bulk import wrote (one per
	// incident inserted or changed; not sent to live clients).
	Events int64
}

// ImportReason is how many errors of one kind one column had.
type ImportReason struct {
	Column string // empty for whole-row errors
	Kind   string // RowError.Kind, or its Reason when it has no kind
	Count  int64
}

// importOtherReason collects the reasons beyond maxImportReasons.
const importOtherReason = "other reasons"

// importColumn is one incidents column an import writes: its value from
// the staging row s, given the stored incident i (NULL when new) and the
// enriched location p (NULL when the point was not enriched: unmoved).
// Derived columns (and source_file) are written with a row but do not
// make it count as changed.
type importColumn struct {
	name    string
	expr    string
	derived bool
}

// importColumns are the columns an import sets. Status keeps the stored
// value when the file has none (ACLED has no status: a moderator's
// retraction survives a re-import). Stated values are stored as given;
// derived ones come from the set-based enrichment (enrichStagedPoints), a
// value only replaced by one that was found, as the trigger does.
var importColumns = []importColumn{
	{name: "occurred_at", expr: "s.occurred_at"},
	{name: "time_precision", expr: "s.time_precision"},
	{name: "event_type", expr: "s.event_type"},
	{name: "sub_event_type", expr: "s.sub_event_type"},
	{name: "actor1", expr: "s.actor1"},
	{name: "actor2", expr: "s.actor2"},
	{name: "fatalities", expr: "s.fatalities"},
	{name: "title", expr: "s.title"},
	{name: "notes", expr: "s.notes"},
	{name: "location_name", expr: "s.location_name"},
	{name: "geom", expr: "ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)"},
	{name: "geo_precision", expr: "s.geo_precision"},
	{name: "admin1", expr: "s.admin1"},
	{name: "admin2", expr: "s.admin2"},
	{name: "admin3", expr: "s.admin3"},
	{name: "stated_country", expr: "s.stated_country"},
	{name: "stated_iso", expr: "s.stated_iso"},
	{name: "stated_country_code", expr: "s.stated_country_code"},
	{name: "original_event_type", expr: "s.original_event_type"},
	{name: "original_sub_event_type", expr: "s.original_sub_event_type"},
	// A file that carries no source record (a GeoJSON export, which
	// leaves it out unless asked) keeps the stored one.
	{name: "source_record", expr: "CASE WHEN s.source_record = '{}' THEN coalesce(i.source_record, '{}') ELSE s.source_record END"},
	{name: "status", expr: "coalesce(s.status, i.status, 'verified')"},
	{name: "sources", expr: "s.sources"},
	{name: "demo", expr: "s.demo"},
	{name: "source_file", expr: "s.source_file", derived: true},
	// Provenance names the data set a record first came from: a file
	// incidentmap exported ("incidentmap") re-imported keeps it.
	{name: "source_dataset", expr: "CASE WHEN coalesce(i.source_dataset, '') IN ('', 'incidentmap') THEN s.source_dataset ELSE i.source_dataset END", derived: true},
	{name: "country_code", expr: "coalesce(p.country_code, i.country_code)", derived: true},
	{name: "nearest_place_id", expr: "CASE WHEN p.place_id IS NULL THEN i.nearest_place_id ELSE p.place_id END", derived: true},
	{name: "nearest_place_name", expr: "CASE WHEN p.place_id IS NULL THEN i.nearest_place_name ELSE p.place_name END", derived: true},
	{name: "nearest_place_distance_m", expr: "CASE WHEN p.place_id IS NULL THEN i.nearest_place_distance_m ELSE p.place_distance_m END", derived: true},
	{name: "border_distance_m", expr: "coalesce(p.border_distance_m, i.border_distance_m)", derived: true},
	// $3: whether countries are loaded at all.
	{name: "geo_check", expr: "incident_geo_check(s.stated_country_code, CASE WHEN p.x IS NULL THEN i.country_code ELSE p.country_code END, $3)", derived: true},
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
	demo           boolean NOT NULL,
	admin2         text NOT NULL,
	admin3         text NOT NULL,
	stated_country text NOT NULL,
	stated_iso     text NOT NULL,
	stated_country_code text,
	original_event_type text NOT NULL,
	original_sub_event_type text NOT NULL,
	source_dataset text NOT NULL,
	source_file    text NOT NULL,
	source_record  jsonb NOT NULL
) ON COMMIT DROP`

const copyStagingSQL = `COPY import_staging (seq, line, external_id, occurred_at, time_precision,
	event_type, sub_event_type, actor1, actor2, fatalities, title, notes, location_name,
	lon, lat, geo_precision, admin1, status, sources, demo, admin2, admin3, stated_country, stated_iso,
	stated_country_code, original_event_type, original_sub_event_type, source_dataset, source_file,
	source_record) FROM STDIN`

// importCandidatesSQL selects the staged rows of seq range [$1, $2) that
// would insert or change an incident, with the values they would store
// ($3: whether countries are loaded, for geo_check).
var importCandidatesSQL = func() string {
	var vals, olds, newCols, oldCols []string
	for _, c := range importColumns {
		vals = append(vals, c.expr+" AS "+c.name)
		if c.derived {
			continue
		}
		olds = append(olds, "i."+c.name+" AS old_"+c.name)
		newCols = append(newCols, "v."+c.name)
		oldCols = append(oldCols, "v.old_"+c.name)
	}
	return fmt.Sprintf(`SELECT v.* FROM (
		SELECT s.external_id, %s, i.id AS old_id, %s
		FROM import_staging s LEFT JOIN incidents i ON i.external_id = s.external_id
		LEFT JOIN import_points p ON p.x = s.lon AND p.y = s.lat
		WHERE s.seq >= $1 AND s.seq < $2) v
	WHERE v.old_id IS NULL OR (%s) IS DISTINCT FROM (%s)`,
		strings.Join(vals, ", "), strings.Join(olds, ", "),
		strings.Join(oldCols, ", "), strings.Join(newCols, ", "))
}()

// importMergeSQL writes the candidates of one seq range in one set-based
// statement, derived columns included, so no row is ever stored without
// them. The DO UPDATE's WHERE repeats the change test against the row as
// locked, so a concurrent writer cannot make it bump an unchanged row.
var importMergeSQL = mergeSQL(false)

// importMergeNotedSQL is importMergeSQL that also notes each written
// incident and its event type in import_changed (bulk imports, whose
// row trigger writes no events: writeImportEvents writes them).
var importMergeNotedSQL = mergeSQL(true)

func mergeSQL(note bool) string {
	var names, sets, target, excluded []string
	for _, c := range importColumns {
		names = append(names, c.name)
		sets = append(sets, c.name+" = excluded."+c.name)
		if !c.derived {
			target = append(target, "t."+c.name)
			excluded = append(excluded, "excluded."+c.name)
		}
	}
	cols := strings.Join(names, ", ")
	noted := ""
	if note {
		// Each statement of a WITH sees the table as it was before the
		// statement: i.status is the status before the merge. The types
		// are the row trigger's (migration 00008), a retracted row staying
		// retracted included as a (harmless) repeated tombstone.
		noted = `, noted AS (
		INSERT INTO import_changed (id, type)
		SELECT m.id, CASE WHEN m.status = 'retracted' THEN 'incident.retracted'
		                  WHEN m.inserted OR i.status = 'retracted' THEN 'incident.created'
		                  ELSE 'incident.updated' END
		FROM merged m LEFT JOIN incidents i ON i.id = m.id)`
	}
	return fmt.Sprintf(`WITH merged AS (
		INSERT INTO incidents AS t (external_id, %s)
		SELECT external_id, %s FROM (%s) c ORDER BY external_id
		ON CONFLICT (external_id) DO UPDATE SET %s, version = t.version + 1, updated_at = now()
		WHERE (%s) IS DISTINCT FROM (%s)
		RETURNING t.id, t.status, t.xmax = 0 AS inserted)%s
	SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged`,
		cols, cols, importCandidatesSQL, strings.Join(sets, ", "),
		strings.Join(target, ", "), strings.Join(excluded, ", "), noted)
}

// ImportIncidents reads every record of rows and stores the valid ones in
// one transaction, keyed by external id: new ones are inserted, changed
// ones updated (version and updated_at bumped), equal ones left alone, so
// importing the same file twice changes nothing the second time — no
// version bump, no live event, and no statement at all on incidents.
//
// Records are COPYed into a temporary staging table as they are read.
// The locations of new and moved records are then enriched set-based, one
// statement per step over the distinct staged points (country by polygon,
// nearest place, border distance; see enrichStagedPoints), and the staged
// rows merged with their derived values by set-based INSERT ... ON
// CONFLICT statements: every row is written once, complete, and the row
// trigger stays off. Everything happens in the one transaction, so an
// import stopped at any point leaves nothing behind. Its statements are
// not bound by the session's statement timeout; ctx bounds the import.
//
// A record whose external id repeats an earlier one's is invalid. Unless
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
	ctx = withLongStatements(ctx)
	var res ImportResult
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("import incidents: %w", mapError(err))
	}
	defer tx.Rollback()
	if err := prepareImport(ctx, tx); err != nil {
		return res, err
	}
	errs := &rowErrors{max: opts.MaxErrors, reasons: map[reasonKey]int64{}}
	claims := importedClaims{}
	staged, err := stageIncidents(ctx, tx, rows, opts, &res, errs, claims, progress)
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
	res.Reasons = errs.counted()
	if res.Invalid > 0 && !opts.SkipInvalid {
		return res, &geo.InvalidRowsError{Errors: res.Errors, Rows: int(res.Invalid), Omitted: res.ErrorsOmitted}
	}
	res.Bulk = staged >= importBulkRows
	if err := prepareMerge(ctx, tx, dups > 0, res.Bulk, staged > 0); err != nil {
		return res, err
	}
	countries, err := enrichStagedPoints(ctx, tx, staged, func(step string, points int64) {
		progress(ImportProgress{Phase: ImportEnriching, Rows: res.Rows, Staged: staged, Step: step, Points: points})
	})
	if err != nil {
		return res, err
	}
	if err := mergeStaged(ctx, tx, &res, staged, countries, progress); err != nil {
		return res, err
	}
	res.Unchanged = staged - res.Inserted - res.Updated
	if err := claims.store(ctx, tx); err != nil {
		return res, err
	}
	if staged > 0 {
		if err := countGeoChecks(ctx, tx, &res); err != nil {
			return res, err
		}
	}
	if res.Bulk {
		if res.Events, err = writeImportEvents(ctx, tx); err != nil {
			return res, err
		}
	}
	if err := commit(ctx, tx); err != nil {
		return res, fmt.Errorf("import incidents: commit: %w", mapError(err))
	}
	progress(ImportProgress{Phase: ImportDone, Rows: res.Rows, Staged: staged, Merged: staged})
	return res, nil
}

// prepareImport sets up an import's transaction: its settings, the lock
// that serialises imports, and the staging table.
func prepareImport(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{
		// An import takes as long as its file needs: the caller's context
		// is its deadline, not the session's request-sized timeout.
		`SET LOCAL statement_timeout = 0`,
		fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, importLockKey),
		// The reader may pause between COPY statements (a slow pipe).
		`SET LOCAL idle_in_transaction_session_timeout = '10min'`,
		// Duplicate checks and merges sort up to importMergeRows rows.
		`SET LOCAL work_mem = '64MB'`,
		// Enrichment is set-based (enrichStagedPoints), not per row.
		`SET LOCAL incidentmap.enrich = 'off'`,
		// New rows' full-text entries gather in the GIN index's pending
		// list and are merged into the index in larger, cheaper batches.
		`SET LOCAL gin_pending_list_limit = '64MB'`,
		// The import's statements are few and long: compiling them (JIT)
		// costs more than it saves on this work.
		`SET LOCAL jit = off`,
		createStagingSQL,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("import incidents: prepare: %w", mapError(err))
		}
	}
	return nil
}

// prepareMerge readies the staged rows for the merge: drops repeated
// external ids (dups: some were found; the first of each stays), marks a
// bulk import, and indexes and analyses the staging table when it holds
// rows.
func prepareMerge(ctx context.Context, tx *sql.Tx, dups, bulk, staged bool) error {
	if dups {
		if _, err := tx.ExecContext(ctx, `DELETE FROM import_staging WHERE seq IN (
			SELECT seq FROM (SELECT seq, row_number() OVER (PARTITION BY external_id ORDER BY seq) AS n
			                 FROM import_staging) d WHERE n > 1)`); err != nil {
			return fmt.Errorf("import incidents: drop duplicates: %w", mapError(err))
		}
	}
	if bulk {
		// Per-row live events would flood live clients (they see the
		// collection version change instead); the rows written are noted
		// and get events only the changes feed shows (writeImportEvents).
		for _, stmt := range []string{`SET LOCAL incidentmap.bulk = 'on'`, importChangedSQL} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("import incidents: %w", mapError(err))
			}
		}
	}
	if staged {
		for _, stmt := range []string{
			`CREATE INDEX ON import_staging (seq)`,
			`ANALYZE import_staging`, // autovacuum never analyses temporary tables
		} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("import incidents: index staging: %w", mapError(err))
			}
		}
	}
	return nil
}

// countGeoChecks counts the imported incidents whose derived country
// disagrees with the stated one, or that lie in no country.
func countGeoChecks(ctx context.Context, tx *sql.Tx, res *ImportResult) error {
	if err := tx.QueryRowContext(ctx, `
		SELECT count(*) FILTER (WHERE i.geo_check @> '{country_mismatch}'),
		       count(*) FILTER (WHERE i.geo_check @> '{no_country}')
		FROM import_staging s JOIN incidents i ON i.external_id = s.external_id
		WHERE i.geo_check <> '{}'`).Scan(&res.CountryMismatch, &res.NoCountry); err != nil {
		return fmt.Errorf("import incidents: count geo checks: %w", mapError(err))
	}
	return nil
}

// rowErrors keeps the first max row errors of an import and counts all
// of them by reason.
type rowErrors struct {
	max     int
	list    []geo.RowError
	omitted int
	reasons map[reasonKey]int64
}

// reasonKey is what errors are counted by.
type reasonKey struct{ column, kind string }

func (e *rowErrors) add(errs ...geo.RowError) {
	for _, re := range errs {
		k := reasonKey{re.Column, re.Kind}
		if k.kind == "" {
			k.kind = re.Reason
		}
		if _, ok := e.reasons[k]; !ok && len(e.reasons) >= maxImportReasons {
			k = reasonKey{kind: importOtherReason}
		}
		e.reasons[k]++
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

// counted returns the reasons, most frequent first.
func (e *rowErrors) counted() []ImportReason {
	out := make([]ImportReason, 0, len(e.reasons))
	for k, n := range e.reasons {
		out = append(out, ImportReason{Column: k.column, Kind: k.kind, Count: n})
	}
	slices.SortFunc(out, func(a, b ImportReason) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return cmp.Or(cmp.Compare(a.Column, b.Column), cmp.Compare(a.Kind, b.Kind))
	})
	return out
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
	res *ImportResult, errs *rowErrors, claims importedClaims, progress func(ImportProgress)) (int64, error) {
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
	js := newStagingJSON()
	for {
		batch, ok, err := cp.nextBatch(ctx, ch, idle)
		if err != nil {
			return staged, err
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
			claims.add(&row.Incident)
			if err := cp.stage(ctx, staged, row, opts, js); err != nil {
				return staged, err
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

// nextBatch waits for the reader's next batch (ok false: no more). While
// a COPY is open it waits importCopyIdle at most, then closes the COPY
// (not to hold it open while the reader pauses) and waits on.
func (c *stagedCopy) nextBatch(ctx context.Context, ch <-chan readResult, idle *time.Timer) (readResult, bool, error) {
	for {
		if c.stmt == nil {
			select {
			case batch, ok := <-ch:
				return batch, ok, nil
			case <-ctx.Done():
				return readResult{}, false, ctx.Err()
			}
		}
		idle.Reset(importCopyIdle)
		select {
		case batch, ok := <-ch:
			return batch, ok, nil
		case <-idle.C:
			if err := c.close(ctx); err != nil {
				return readResult{}, false, err
			}
		case <-ctx.Done():
			return readResult{}, false, ctx.Err()
		}
	}
}

// stagingJSON encodes an incident's sources and source record for the
// staging table, reusing its buffers from row to row.
type stagingJSON struct {
	sources, record       strings.Builder
	sourcesEnc, recordEnc *json.Encoder
}

func newStagingJSON() *stagingJSON {
	js := &stagingJSON{}
	js.sourcesEnc = json.NewEncoder(&js.sources)
	js.sourcesEnc.SetEscapeHTML(false)
	js.recordEnc = json.NewEncoder(&js.record)
	js.recordEnc.SetEscapeHTML(false)
	return js
}

// stage writes one valid row into the open COPY as staged row seq.
func (c *stagedCopy) stage(ctx context.Context, seq int64, row *geo.IncidentRow, opts ImportOptions, js *stagingJSON) error {
	inc := &row.Incident
	js.sources.Reset()
	if inc.Sources == nil {
		js.sources.WriteString("[]")
	} else if err := js.sourcesEnc.Encode(inc.Sources); err != nil {
		return fmt.Errorf("import incidents: line %d: encode sources: %w", row.Line, err)
	}
	js.record.Reset()
	if len(inc.SourceRecord) == 0 {
		js.record.WriteString("{}")
	} else if err := js.recordEnc.Encode(inc.SourceRecord); err != nil {
		return fmt.Errorf("import incidents: line %d: encode source record: %w", row.Line, err)
	}
	file := inc.SourceFile
	if file == "" {
		file = opts.SourceFile
	}
	_, err := c.stmt.ExecContext(ctx, seq, row.Line, inc.ExternalID, inc.OccurredAt,
		int64(inc.TimePrecision), inc.EventType, nullIfEmpty(inc.SubEventType), inc.Actor1, inc.Actor2,
		int64(inc.Fatalities), inc.Title, inc.Notes, inc.LocationName, inc.Point.Lon(), inc.Point.Lat(),
		int64(inc.GeoPrecision), inc.Admin1, nullIfEmpty(inc.Status), strings.TrimRight(js.sources.String(), "\n"),
		opts.Demo || inc.Demo, inc.Admin2, inc.Admin3, inc.StatedCountry, inc.StatedISO,
		nullIfEmpty(inc.StatedCountryCode), inc.OriginalEventType, inc.OriginalSubEventType,
		inc.SourceDataset, file, strings.TrimRight(js.record.String(), "\n"))
	if err != nil {
		return fmt.Errorf("import incidents: line %d: stage: %w", row.Line, mapError(err))
	}
	return nil
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
		errs.add(geo.RowError{Line: line, Column: column, Kind: "duplicate external id",
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
// time, with the derived geography of import_points. A range with nothing
// to change issues no statement on incidents, so an unchanged import does
// not even bump the collection version.
func mergeStaged(ctx context.Context, tx *sql.Tx, res *ImportResult, staged int64, countries bool, progress func(ImportProgress)) error {
	// Sequence numbers have gaps where duplicates were dropped: progress
	// counts them too.
	if staged == 0 {
		return nil
	}
	var maxSeq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), -1) FROM import_staging`).Scan(&maxSeq); err != nil {
		return fmt.Errorf("import incidents: %w", mapError(err))
	}
	progress(ImportProgress{Phase: ImportMerging, Rows: res.Rows, Staged: maxSeq + 1})
	for lo := int64(0); lo <= maxSeq; lo += importMergeRows {
		hi := lo + importMergeRows
		var found bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (`+importCandidatesSQL+`)`, lo, hi, countries).Scan(&found); err != nil {
			return fmt.Errorf("import incidents: compare: %w", mapError(err))
		}
		if found {
			var ins, upd int64
			merge := importMergeSQL
			if res.Bulk {
				merge = importMergeNotedSQL
			}
			if err := tx.QueryRowContext(ctx, merge, lo, hi, countries).Scan(&ins, &upd); err != nil {
				return fmt.Errorf("import incidents: merge: %w", mapError(err))
			}
			res.Inserted += ins
			res.Updated += upd
		}
		progress(ImportProgress{Phase: ImportMerging, Rows: res.Rows, Staged: maxSeq + 1, Merged: min(hi, maxSeq+1)})
	}
	return nil
}
