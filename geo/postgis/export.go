package postgis

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo"
)

// incidentRecordSQL selects every column of an incident record. The
// sources text comes first: it is the column stream passes to emit. The
// names matter: a backward page orders the rows again by occurred_at or
// fatalities and id.
//
// The public role may not read source_file (a local file name): for it
// the column is empty.
const incidentRecordSQL = `sources::text AS sources_text, id, coalesce(external_id, '') AS external_id,
	occurred_at, time_precision, event_type, coalesce(sub_event_type, '') AS sub_event_type,
	actor1, actor2, fatalities, title, notes, location_name, ST_X(geom) AS lon, ST_Y(geom) AS lat,
	geo_precision, status, report_id, demo, coalesce(country_code, '') AS country_code, admin1,
	nearest_place_id, coalesce(nearest_place_name, '') AS nearest_place_name,
	round(nearest_place_distance_m) AS place_distance, round(border_distance_m) AS border_distance,
	version, created_at, updated_at, source_dataset, %s AS source_file, source_record::text AS source_record_text,
	stated_country, stated_iso, coalesce(stated_country_code, '') AS stated_country_code, admin2, admin3,
	original_event_type, original_sub_event_type, geo_check, contested, duplicate_of`

// incidentRecord holds the scan destinations of incidentRecordSQL after
// the sources text.
type incidentRecord struct {
	inc                   geo.Incident
	tp, gp, fatalities    int64
	lon, lat              float64
	reportID, nearestID   sql.NullInt64
	placeDist, borderDist sql.NullFloat64
	duplicateOf           sql.NullInt64
	record                []byte
}

func (r *incidentRecord) dest() []any {
	i := &r.inc
	return []any{&i.ID, &i.ExternalID, &i.OccurredAt, &r.tp, &i.EventType, &i.SubEventType,
		&i.Actor1, &i.Actor2, &r.fatalities, &i.Title, &i.Notes, &i.LocationName, &r.lon, &r.lat,
		&r.gp, &i.Status, &r.reportID, &i.Demo, &i.CountryCode, &i.Admin1,
		&r.nearestID, &i.NearestPlaceName, &r.placeDist, &r.borderDist,
		&i.Version, &i.CreatedAt, &i.UpdatedAt, &i.SourceDataset, &i.SourceFile, &r.record,
		&i.StatedCountry, &i.StatedISO, &i.StatedCountryCode, &i.Admin2, &i.Admin3,
		&i.OriginalEventType, &i.OriginalSubEventType, (*pq.StringArray)(&i.GeoCheck), &i.Contested, &r.duplicateOf}
}

// incident completes the scanned incident with its sources.
func (r *incidentRecord) incident(sources []byte) (*geo.Incident, error) {
	i := &r.inc
	i.TimePrecision, i.GeoPrecision, i.Fatalities = geo.TimePrecision(r.tp), geo.GeoPrecision(r.gp), int(r.fatalities)
	i.Point[0], i.Point[1] = r.lon, r.lat
	i.OccurredAt, i.CreatedAt, i.UpdatedAt = i.OccurredAt.UTC(), i.CreatedAt.UTC(), i.UpdatedAt.UTC()
	i.ReportID, i.NearestPlaceID, i.NearestPlaceDistance, i.BorderDistance = nil, nil, nil, nil
	if r.reportID.Valid {
		i.ReportID = &r.reportID.Int64
	}
	if r.nearestID.Valid {
		i.NearestPlaceID = &r.nearestID.Int64
	}
	if r.placeDist.Valid {
		i.NearestPlaceDistance = &r.placeDist.Float64
	}
	if r.borderDist.Valid {
		i.BorderDistance = &r.borderDist.Float64
	}
	i.DuplicateOf = nil
	if r.duplicateOf.Valid {
		i.DuplicateOf = &r.duplicateOf.Int64
	}
	i.Sources = nil
	if err := json.Unmarshal(sources, &i.Sources); err != nil {
		return nil, fmt.Errorf("incident %d: decode sources: %w", i.ID, err)
	}
	i.SourceRecord = nil
	if len(r.record) > 2 { // not {}
		if err := json.Unmarshal(r.record, &i.SourceRecord); err != nil {
			return nil, fmt.Errorf("incident %d: decode source record: %w", i.ID, err)
		}
	}
	if len(i.GeoCheck) == 0 {
		i.GeoCheck = nil
	}
	return i, nil
}

// StreamIncidentRecords runs q with the filters, order and keyset paging
// of StreamIncidents and calls emit with each incident as its row arrives
// from PostgreSQL. q.Limit <= 0 means every matching incident in one page.
// The incident passed to emit is reused: it is only valid during the call.
func (db *DB) StreamIncidentRecords(ctx context.Context, q geo.IncidentQuery, emit func(*geo.Incident) error) (geo.FeaturePage, error) {
	return db.streamIncidentRecords(ctx, nil, q, emit)
}

// streamIncidentRecords is StreamIncidentRecords on on (nil: the pool).
func (db *DB) streamIncidentRecords(ctx context.Context, on querier, q geo.IncidentQuery, emit func(*geo.Incident) error) (geo.FeaturePage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = math.MaxInt32 - 1
	}
	var rec incidentRecord
	sourceFile := "source_file"
	if db.role == RolePublic {
		sourceFile = "''"
	}
	return db.streamIncidentPage(ctx, on, q, limit, fmt.Sprintf(incidentRecordSQL, sourceFile), rec.dest(), func() geo.Cursor {
		return incidentPosition(q.Sort, rec.inc.ID, rec.inc.OccurredAt, rec.fatalities)
	}, nil, func(sources []byte) error {
		inc, err := rec.incident(sources)
		if err != nil {
			return err
		}
		return emit(inc)
	}, nil)
}

// CSVLayout is a two-pass CSV layout: it sees every incident of an export
// first (Observe), so that the header lists only the columns that carry
// data or that the layout requires, then writes them.
type CSVLayout interface {
	// Observe notes the columns inc needs.
	Observe(inc *geo.Incident)
	// NewWriter returns a writer of the observed columns to w.
	NewWriter(w io.Writer) CSVWriter
}

// CSVWriter writes incidents as CSV rows of a layout's columns.
type CSVWriter interface {
	WriteHeader() error
	Write(inc *geo.Incident) error
	Flush() error
}

// NewCSVLayout returns the ACLED CSV layout of exports (geo.ACLEDLayout);
// derived adds the columns incidentmap derives (country by polygon,
// nearest place, border distance, geo_check).
func NewCSVLayout(derived bool) CSVLayout {
	var opts []geo.ACLEDOption
	if derived {
		opts = append(opts, geo.WithDerived())
	}
	return acledLayout{geo.NewACLEDLayout(opts...)}
}

// acledLayout adapts geo.ACLEDLayout to CSVLayout.
type acledLayout struct{ l *geo.ACLEDLayout }

func (a acledLayout) Observe(inc *geo.Incident) { a.l.Observe(inc) }
func (a acledLayout) NewWriter(w io.Writer) CSVWriter {
	return geo.NewACLEDColumnsWriter(w, a.l.Columns())
}

// csvSnapshot runs both passes of a CSV export in one REPEATABLE READ,
// read-only transaction, so the rows the layout observed are the rows
// written. each runs one pass over the snapshot.
func (db *DB) csvSnapshot(ctx context.Context, layout CSVLayout, w io.Writer,
	each func(tx *sql.Tx, emit func(*geo.Incident) error) error) error {
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("export csv: %w", mapError(err))
	}
	defer tx.Rollback()
	if err := each(tx, func(inc *geo.Incident) error { layout.Observe(inc); return nil }); err != nil {
		return err
	}
	cw := layout.NewWriter(w)
	started := false
	start := func() error {
		started = true
		return cw.WriteHeader()
	}
	if err := each(tx, func(inc *geo.Incident) error {
		if !started {
			if err := start(); err != nil {
				return err
			}
		}
		return cw.Write(inc)
	}); err != nil {
		return err
	}
	if !started {
		if err := start(); err != nil {
			return err
		}
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	return commit(ctx, tx)
}

// StreamIncidentCSV writes the page of incidents q selects (as
// StreamIncidentRecords: q.Limit <= 0 for all) to w as CSV in the layout
// of NewCSVLayout(q.Derived): the page is read twice from one snapshot,
// once to choose the columns, once to write them. Nothing is written to w
// before the second read has returned its first row or ended, so an early
// database error leaves w untouched.
func (db *DB) StreamIncidentCSV(ctx context.Context, q geo.IncidentQuery, w io.Writer) (geo.FeaturePage, error) {
	var page geo.FeaturePage
	err := db.csvSnapshot(ctx, NewCSVLayout(q.Derived), w, func(tx *sql.Tx, emit func(*geo.Incident) error) error {
		var err error
		page, err = db.streamIncidentRecords(ctx, tx, q, emit)
		return err
	})
	return page, err
}

// ExportIncidentCSV writes every incident q matches (q.Limit and q.Cursor
// are ignored) to w as CSV in the layout of NewCSVLayout(derived), both
// passes over one snapshot, a page at a time. It returns how many
// incidents it wrote.
func (db *DB) ExportIncidentCSV(ctx context.Context, q geo.IncidentQuery, derived bool, w io.Writer) (int64, error) {
	var n int64
	err := db.csvSnapshot(ctx, NewCSVLayout(derived), w, func(tx *sql.Tx, emit func(*geo.Incident) error) error {
		n = 0
		_, err := db.exportIncidents(ctx, tx, q, func(inc *geo.Incident) error {
			n++
			return emit(inc)
		})
		return err
	})
	return n, err
}

// exportPageRows is the page size of ExportIncidents: each page is one
// bounded statement, however many incidents match.
const exportPageRows = 10_000

// ExportIncidents calls emit with every incident q matches (q.Limit and
// q.Cursor are ignored), in q's order, a page at a time. It returns how
// many it emitted.
func (db *DB) ExportIncidents(ctx context.Context, q geo.IncidentQuery, emit func(*geo.Incident) error) (int64, error) {
	return db.exportIncidents(ctx, nil, q, emit)
}

// exportIncidents is ExportIncidents on on (nil: the pool).
func (db *DB) exportIncidents(ctx context.Context, on querier, q geo.IncidentQuery, emit func(*geo.Incident) error) (int64, error) {
	q.Limit, q.Cursor = exportPageRows, nil
	var n int64
	for {
		page, err := db.streamIncidentRecords(ctx, on, q, func(inc *geo.Incident) error {
			n++
			return emit(inc)
		})
		if err != nil {
			return n, err
		}
		if !page.HasNext || page.Returned == 0 {
			return n, nil
		}
		next := page.Last
		next.Back = false
		q.Cursor = &next
	}
}

// ExportIncidentFeatures writes every incident q matches (q.Limit and
// q.Cursor are ignored) as one GeoJSON FeatureCollection, the features as
// StreamIncidents makes them, a page at a time. It returns how many
// features it wrote.
func (db *DB) ExportIncidentFeatures(ctx context.Context, q geo.IncidentQuery, w io.Writer) (int64, error) {
	q.Limit, q.Cursor = exportPageRows, nil
	return db.writeFeatureCollection(ctx, q, w, true)
}

// ExportIncidentPage writes only the page q selects (its limit and
// cursor) as a GeoJSON FeatureCollection.
func (db *DB) ExportIncidentPage(ctx context.Context, q geo.IncidentQuery, w io.Writer) (int64, error) {
	return db.writeFeatureCollection(ctx, q, w, false)
}

// writeFeatureCollection writes the page of q, and with allPages every
// following page, as one FeatureCollection.
func (db *DB) writeFeatureCollection(ctx context.Context, q geo.IncidentQuery, w io.Writer, allPages bool) (int64, error) {
	if _, err := io.WriteString(w, `{"type":"FeatureCollection","features":[`); err != nil {
		return 0, err
	}
	var n int64
	for {
		page, err := db.StreamIncidents(ctx, q, func(feature []byte) error {
			sep := ",\n"
			if n == 0 {
				sep = "\n"
			}
			n++
			if _, err := io.WriteString(w, sep); err != nil {
				return err
			}
			_, err := w.Write(feature)
			return err
		})
		if err != nil {
			return n, err
		}
		if !allPages || !page.HasNext || page.Returned == 0 {
			break
		}
		next := page.Last
		next.Back = false
		q.Cursor = &next
	}
	_, err := fmt.Fprintf(w, "\n],\"numberReturned\":%d,\"timeStamp\":%q}\n", n, time.Now().UTC().Format(time.RFC3339))
	return n, err
}
