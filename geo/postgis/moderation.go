package postgis

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

const reportColumns = `id, ST_X(geom), ST_Y(geom), occurred_at, event_type, coalesce(sub_event_type, ''), description,
	location_name, geo_precision, fatalities, source_urls, contact, status, moderation_note, incident_id,
	photo_hint, created_at, updated_at`

func scanReport(row interface{ Scan(...any) error }) (geo.Report, error) {
	var (
		r          geo.Report
		lon, lat   float64
		fatalities sql.NullInt64
		hint       []byte
	)
	err := row.Scan(&r.ID, &lon, &lat, &r.OccurredAt, &r.EventType, &r.SubEventType, &r.Description,
		&r.LocationName, &r.GeoPrecision, &fatalities, pq.Array(&r.SourceURLs), &r.Contact, &r.Status,
		&r.ModerationNote, &r.IncidentID, &hint, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return r, err
	}
	r.Point = orb.Point{lon, lat}
	if fatalities.Valid {
		n := int(fatalities.Int64)
		r.Fatalities = &n
	}
	if hint != nil {
		r.PhotoHint = &geo.PhotoHint{}
		if err := json.Unmarshal(hint, r.PhotoHint); err != nil {
			return r, fmt.Errorf("decode photo hint: %w", err)
		}
	}
	return r, nil
}

// Reports lists reports for moderators, oldest first, with private fields.
func (db *DB) Reports(ctx context.Context, f geo.ReportFilter) ([]geo.Report, error) {
	w := &where{}
	if f.Status != "" {
		w.add("status = %s", f.Status)
	}
	if f.After > 0 {
		w.add("id > %s", f.After)
	}
	limit := w.arg(max(1, min(f.Limit, 500)))
	rows, err := db.db.QueryContext(ctx, `SELECT `+reportColumns+` FROM reports `+w.sql()+` ORDER BY id LIMIT `+limit, w.args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	reports := []geo.Report{}
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, mapError(err)
		}
		reports = append(reports, r)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err)
	}
	rows.Close()
	if err := db.attachPhotoMeta(ctx, reports); err != nil {
		return nil, err
	}
	return reports, nil
}

// Report returns one report with its photos' metadata (not their bytes).
func (db *DB) Report(ctx context.Context, id int64) (geo.Report, error) {
	r, err := scanReport(db.db.QueryRowContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE id = $1`, id))
	if err != nil {
		return r, fmt.Errorf("report %d: %w", id, mapError(err))
	}
	reports := []geo.Report{r}
	if err := db.attachPhotoMeta(ctx, reports); err != nil {
		return r, err
	}
	return reports[0], nil
}

// attachPhotoMeta loads the photos' metadata (not their bytes) of reports
// in one query.
func (db *DB) attachPhotoMeta(ctx context.Context, reports []geo.Report) error {
	if len(reports) == 0 {
		return nil
	}
	index := make(map[int64]int, len(reports))
	ids := make([]int64, len(reports))
	for i, r := range reports {
		index[r.ID], ids[i] = i, r.ID
	}
	rows, err := db.db.QueryContext(ctx, `SELECT report_id, position, media_type, original_type, width, height, exif
		FROM report_photos WHERE report_id = ANY($1) ORDER BY report_id, position`, pq.Array(ids))
	if err != nil {
		return mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			reportID int64
			p        geo.ReportPhoto
			exif     []byte
		)
		if err := rows.Scan(&reportID, &p.Position, &p.MediaType, &p.OriginalType, &p.Width, &p.Height, &exif); err != nil {
			return mapError(err)
		}
		var meta struct {
			GPS     *orb.Point `json:"gps"`
			TakenAt *time.Time `json:"taken_at"`
		}
		if exif != nil && json.Unmarshal(exif, &meta) == nil {
			p.GPS, p.TakenAt = meta.GPS, meta.TakenAt
		}
		r := &reports[index[reportID]]
		r.Photos = append(r.Photos, p)
	}
	return mapError(rows.Err())
}

// ReportPhoto returns a photo's bytes and media type: the stripped copy,
// or with original the upload as received (moderators only).
func (db *DB) ReportPhoto(ctx context.Context, reportID int64, position int, original bool) ([]byte, string, error) {
	var (
		data      []byte
		mediaType string
	)
	query := `SELECT stripped, media_type FROM report_photos WHERE report_id = $1 AND position = $2`
	if original {
		query = `SELECT original, 'image/' || original_type FROM report_photos WHERE report_id = $1 AND position = $2`
	}
	if err := db.db.QueryRowContext(ctx, query, reportID, position).Scan(&data, &mediaType); err != nil {
		return nil, "", fmt.Errorf("photo %d of report %d: %w", position, reportID, mapError(err))
	}
	return data, mediaType, nil
}

// lockPendingReport loads a report for moderation, locking it so two
// moderators cannot decide on it at once. ErrConflict when already decided.
func lockPendingReport(ctx context.Context, tx *sql.Tx, id int64) (geo.Report, error) {
	r, err := scanReport(tx.QueryRowContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE id = $1 FOR UPDATE`, id))
	if err != nil {
		return r, fmt.Errorf("report %d: %w", id, mapError(err))
	}
	if r.Status != geo.ReportPending {
		return r, fmt.Errorf("report %d is already %s: %w", id, r.Status, geo.ErrConflict)
	}
	return r, nil
}

func reportState(r geo.Report) map[string]any {
	return map[string]any{"status": r.Status, "moderation_note": r.ModerationNote, "incident_id": r.IncidentID}
}

// VerifyReport publishes a pending report: as a new incident built from
// the report and v.Patch, or by adding its sources to incident v.MergeInto.
// Returns the incident id. The incident, the report's new status and the
// audit entries commit together.
func (db *DB) VerifyReport(ctx context.Context, id int64, v geo.Verification, by *geo.User) (int64, error) {
	var incidentID int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := lockPendingReport(ctx, tx, id)
		if err != nil {
			return err
		}
		incidentID, err = publishReport(ctx, tx, r, v, by)
		return err
	})
	return incidentID, err
}

// publishReport does VerifyReport's work on a report locked by
// lockPendingReport, in its transaction.
func publishReport(ctx context.Context, tx *sql.Tx, r geo.Report, v geo.Verification, by *geo.User) (int64, error) {
	var incidentID int64
	id := r.ID
	before := reportState(r)
	sources := reportSources(r)
	if v.Patch.Sources != nil && v.MergeInto == nil {
		sources = *v.Patch.Sources // the moderator's list, publishers and kinds filled in
	}
	if v.MergeInto != nil {
		incidentID = *v.MergeInto
		if err := mergeSources(ctx, tx, incidentID, sources, by, id); err != nil {
			return 0, err
		}
	} else {
		inc := incidentFromReport(r, v.Patch)
		if err := inc.validate(time.Now()); err != nil {
			return 0, err
		}
		encoded, err := encodeSources(sources)
		if err != nil {
			return 0, err
		}
		if err := insertIncident(ctx, tx, inc.Incident, encoded); err != nil {
			return 0, fmt.Errorf("create incident from report %d: %w", id, mapError(err))
		}
		incidentID = inc.ID
		after, err := snapshot(ctx, tx, incidentID)
		if err != nil {
			return 0, err
		}
		if err := audit(ctx, tx, by, "incident.create", "incident", incidentID, nil, after, fmt.Sprintf("from report %d", id)); err != nil {
			return 0, err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE reports SET status = 'verified', incident_id = $2, moderation_note = $3, updated_at = now() WHERE id = $1`,
		id, incidentID, v.Note)
	if err != nil {
		return 0, fmt.Errorf("mark report %d verified: %w", id, mapError(err))
	}
	r.Status, r.IncidentID, r.ModerationNote = geo.ReportVerified, &incidentID, v.Note
	action := "report.verify"
	if v.MergeInto != nil {
		action = "report.merge"
	}
	return incidentID, audit(ctx, tx, by, action, "report", id, before, reportState(r), v.Note)
}

// RejectReport marks a pending report rejected with the moderator's reason.
func (db *DB) RejectReport(ctx context.Context, id int64, reason string, by *geo.User) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := lockPendingReport(ctx, tx, id)
		if err != nil {
			return err
		}
		before := reportState(r)
		if _, err := tx.ExecContext(ctx, `UPDATE reports SET status = 'rejected', moderation_note = $2, updated_at = now() WHERE id = $1`, id, reason); err != nil {
			return fmt.Errorf("reject report %d: %w", id, mapError(err))
		}
		r.Status, r.ModerationNote = geo.ReportRejected, reason
		return audit(ctx, tx, by, "report.reject", "report", id, before, reportState(r), reason)
	})
}

// reportSources turns a report into incident sources: the report itself
// (an eyewitness report, published here when it was submitted) and the
// links it gave, whose publishers and dates it does not say.
func reportSources(r geo.Report) []geo.Source {
	sources := []geo.Source{{Publisher: geo.ReportSourcePublisher(r.ID), Kind: geo.SourceEyewitnessReport,
		PublishedAt: r.CreatedAt.UTC().Format(time.RFC3339)}}
	for _, u := range r.SourceURLs {
		sources = append(sources, geo.Source{URL: u})
	}
	return sources
}

// incidentFromReport builds the incident a verified report becomes,
// applying the moderator's corrections.
func incidentFromReport(r geo.Report, p geo.IncidentPatch) *incidentDraft {
	inc := &geo.Incident{
		OccurredAt: r.OccurredAt, TimePrecision: geo.TimeDay, EventType: r.EventType, SubEventType: r.SubEventType,
		Notes: r.Description, LocationName: r.LocationName, Point: r.Point, GeoPrecision: r.GeoPrecision,
		Status: geo.StatusVerified, ReportID: &r.ID,
	}
	if r.Fatalities != nil {
		inc.Fatalities = *r.Fatalities
	}
	inc.Title = defaultTitle(r)
	applyPatch(inc, p)
	// Published no finer than the reporter stated (coarsened once, here:
	// every public read, filter and derived field then sees only this).
	inc.Point, inc.GeoPrecision = r.PublicLocation(p.Point, inc.GeoPrecision)
	return &incidentDraft{inc}
}

// incidentDraft is an incident about to be inserted.
type incidentDraft struct{ *geo.Incident }

func (d *incidentDraft) validate(now time.Time) error {
	title, notes := d.Title, d.Notes
	return (&geo.IncidentPatch{Title: &title, Notes: &notes}).Validate(now, "properties.")
}

func defaultTitle(r geo.Report) string {
	kind := r.SubEventType
	if kind == "" {
		kind = r.EventType
	}
	title := kind
	if r.LocationName != "" {
		title += " near " + r.LocationName
	}
	if len([]rune(title)) > 300 {
		title = string([]rune(title)[:300])
	}
	return title
}

// applyPatch sets every field p sets.
func applyPatch(inc *geo.Incident, p geo.IncidentPatch) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&inc.Title, p.Title)
	set(&inc.Notes, p.Notes)
	set(&inc.EventType, p.EventType)
	set(&inc.SubEventType, p.SubEventType)
	set(&inc.Actor1, p.Actor1)
	set(&inc.Actor2, p.Actor2)
	set(&inc.LocationName, p.LocationName)
	set(&inc.Status, p.Status)
	if p.OccurredAt != nil {
		inc.OccurredAt = *p.OccurredAt
	}
	if p.TimePrecision != nil {
		inc.TimePrecision = *p.TimePrecision
	}
	if p.Fatalities != nil {
		inc.Fatalities = *p.Fatalities
	}
	if p.Point != nil {
		inc.Point = *p.Point
	}
	if p.GeoPrecision != nil {
		inc.GeoPrecision = *p.GeoPrecision
	}
}

// mergeSources adds sources to an existing incident, auditing the change.
func mergeSources(ctx context.Context, tx *sql.Tx, incidentID int64, sources []geo.Source, by *geo.User, reportID int64) error {
	before, err := snapshot(ctx, tx, incidentID)
	if err != nil {
		return err
	}
	encoded, _ := json.Marshal(sources)
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET sources = sources || $2::jsonb, version = version + 1, updated_at = now() WHERE id = $1`,
		incidentID, string(encoded)); err != nil {
		return fmt.Errorf("merge into incident %d: %w", incidentID, mapError(err))
	}
	after, err := snapshot(ctx, tx, incidentID)
	if err != nil {
		return err
	}
	return audit(ctx, tx, by, "incident.update", "incident", incidentID, before, after, fmt.Sprintf("merged report %d", reportID))
}

// snapshot reads an incident's state for the audit log (ErrNotFound when
// it does not exist).
func snapshot(ctx context.Context, q querier, id int64) (json.RawMessage, error) {
	var s []byte
	if err := q.QueryRowContext(ctx, incidentSnapshot, id).Scan(&s); err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, mapError(err))
	}
	return s, nil
}

// incidentPatchColumns maps patch fields to columns; the only way a column
// name reaches the UPDATE statement.
var incidentPatchColumns = []struct {
	column string
	value  func(p geo.IncidentPatch) (any, bool)
}{
	{"title", func(p geo.IncidentPatch) (any, bool) { return deref(p.Title) }},
	{"notes", func(p geo.IncidentPatch) (any, bool) { return deref(p.Notes) }},
	{"occurred_at", func(p geo.IncidentPatch) (any, bool) { return deref(p.OccurredAt) }},
	{"time_precision", func(p geo.IncidentPatch) (any, bool) { return deref(p.TimePrecision) }},
	{"event_type", func(p geo.IncidentPatch) (any, bool) { return deref(p.EventType) }},
	{"sub_event_type", func(p geo.IncidentPatch) (any, bool) {
		if p.SubEventType != nil && *p.SubEventType == "" {
			return nil, true // clears it
		}
		return deref(p.SubEventType)
	}},
	{"actor1", func(p geo.IncidentPatch) (any, bool) { return deref(p.Actor1) }},
	{"actor2", func(p geo.IncidentPatch) (any, bool) { return deref(p.Actor2) }},
	{"fatalities", func(p geo.IncidentPatch) (any, bool) { return deref(p.Fatalities) }},
	{"location_name", func(p geo.IncidentPatch) (any, bool) { return deref(p.LocationName) }},
	{"geo_precision", func(p geo.IncidentPatch) (any, bool) { return deref(p.GeoPrecision) }},
	{"status", func(p geo.IncidentPatch) (any, bool) { return deref(p.Status) }},
	{"sources", func(p geo.IncidentPatch) (any, bool) {
		if p.Sources == nil {
			return nil, false
		}
		b, err := encodeSources(*p.Sources)
		if err != nil {
			return nil, false // a list of strings always encodes
		}
		return string(b), true
	}},
}

func deref[T any](p *T) (any, bool) {
	if p == nil {
		return nil, false
	}
	return *p, true
}

// PatchIncident applies p to incident id if its version is still
// ifVersion (0: no check), auditing before and after. Returns the new
// version; ErrPreconditionFailed when the version moved on, ErrNotFound
// for no such incident.
func (db *DB) PatchIncident(ctx context.Context, id int64, ifVersion int, p geo.IncidentPatch, by *geo.User) (int, error) {
	var version int
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT version FROM incidents WHERE id = $1 FOR UPDATE`, id).Scan(&current); err != nil {
			return fmt.Errorf("incident %d: %w", id, mapError(err))
		}
		if ifVersion != 0 && current != ifVersion {
			return fmt.Errorf("incident %d is at version %d, not %d: %w", id, current, ifVersion, geo.ErrPreconditionFailed)
		}
		before, err := snapshot(ctx, tx, id)
		if err != nil {
			return err
		}
		w := &where{}
		var sets []string
		for _, c := range incidentPatchColumns {
			if v, ok := c.value(p); ok {
				sets = append(sets, c.column+" = "+w.arg(v))
			}
		}
		if p.Point != nil {
			sets = append(sets, fmt.Sprintf("geom = ST_SetSRID(ST_MakePoint(%s, %s), 4326)", w.arg(p.Point.Lon()), w.arg(p.Point.Lat())))
		}
		sets = append(sets, "version = version + 1", "updated_at = now()")
		err = tx.QueryRowContext(ctx, `UPDATE incidents SET `+strings.Join(sets, ", ")+` WHERE id = `+w.arg(id)+` RETURNING version`, w.args...).Scan(&version)
		if err != nil {
			return fmt.Errorf("update incident %d: %w", id, mapError(err))
		}
		after, err := snapshot(ctx, tx, id)
		if err != nil {
			return err
		}
		return audit(ctx, tx, by, "incident.update", "incident", id, before, after, "")
	})
	return version, err
}

// IncidentVersion returns an incident's current version, for ETags.
func (db *DB) IncidentVersion(ctx context.Context, id int64) (int, error) {
	var v int
	if err := db.db.QueryRowContext(ctx, `SELECT version FROM incidents WHERE id = $1`, id).Scan(&v); err != nil {
		return 0, fmt.Errorf("incident %d: %w", id, mapError(err))
	}
	return v, nil
}
