package postgis

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/cql2"
)

// incidentPropertySQL maps each public property name to the SQL that
// produces it. It is the allow-list for properties= and the only way a
// property name reaches SQL.
var incidentPropertySQL = map[string]string{
	"external_id":              "external_id",
	"occurred_at":              "occurred_at",
	"time_precision":           "time_precision",
	"event_type":               "event_type",
	"sub_event_type":           "sub_event_type",
	"actor1":                   "actor1",
	"actor2":                   "actor2",
	"fatalities":               "fatalities",
	"title":                    "title",
	"notes":                    "notes",
	"location_name":            "location_name",
	"geo_precision":            "geo_precision",
	"status":                   "status",
	"sources":                  "sources",
	"report_id":                "report_id",
	"country_code":             "country_code",
	"admin1":                   "admin1",
	"nearest_place_id":         "nearest_place_id",
	"nearest_place_name":       "nearest_place_name",
	"nearest_place_distance_m": "round(nearest_place_distance_m)",
	"border_distance_m":        "round(border_distance_m)",
	"demo":                     "demo",
	"created_at":               "created_at",
	"updated_at":               "updated_at",
	// Stated by the source, as given (ACLED's names).
	"country":                 "stated_country",
	"iso":                     "stated_iso",
	"stated_country_code":     "stated_country_code",
	"admin2":                  "admin2",
	"admin3":                  "admin3",
	"original_event_type":     "NULLIF(original_event_type, '')",
	"original_sub_event_type": "NULLIF(original_sub_event_type, '')",
	"source_dataset":          "NULLIF(source_dataset, '')",
	"geo_check":               "geo_check",
	"independent_sources":     "independent_sources",
	"contested":               "contested",
	// Only when asked for by name (not in geo.IncidentProperties()).
	"source_record": "source_record",
	"claims":        claimsJSON,
	"duplicate_of":  "duplicate_of",
}

// incidentSortSQL is the allow-list of sort keys.
var incidentSortSQL = map[string]string{
	"occurred_at": "occurred_at",
	"fatalities":  "fatalities",
}

// incidentSortColumn returns the column of sort key s: 400 for a key
// there is no column for.
func incidentSortColumn(s geo.SortKey) (string, error) {
	col, ok := incidentSortSQL[s.Field]
	if !ok {
		return "", geo.Invalidf("sortby", "cannot sort by %q", s.Field)
	}
	return col, nil
}

// incidentOrderSQL is the ORDER BY list of sort column col, id breaking
// ties, in one direction.
func incidentOrderSQL(col string, desc bool) string {
	if desc {
		return col + " DESC, id DESC"
	}
	return col + " ASC, id ASC"
}

// incidentFeatureJSON returns the SQL expression building one GeoJSON
// Feature (as json) with the given properties (nil: all public ones).
func incidentFeatureJSON(props []string, crs geo.CRS) (string, error) {
	if props == nil {
		props = geo.IncidentProperties()
	}
	pairs := make([]string, 0, len(props))
	for _, p := range props {
		expr, ok := incidentPropertySQL[p]
		if !ok {
			return "", geo.Invalidf("properties", "unknown property %q", p)
		}
		pairs = append(pairs, fmt.Sprintf("'%s', %s", p, expr))
	}
	return fmt.Sprintf(`json_build_object('type', 'Feature', 'id', id,
		'geometry', %s,
		'properties', json_build_object(%s))`, geometryJSON("geom", crs, 6), strings.Join(pairs, ", ")), nil
}

// incidentFeatureSQL is incidentFeatureJSON, ready to stream. Left as
// json, not cast to text: lib/pq hands json over as the bytes it read,
// where text would be copied into a string per row (measured: a tenth of
// the server's CPU for a 100-feature page).
func incidentFeatureSQL(props []string, crs geo.CRS) (string, error) {
	if props == nil && int(crs) >= 0 && int(crs) < len(incidentDefaultFeatureSQL) {
		return incidentDefaultFeatureSQL[crs], nil
	}
	return incidentFeatureJSON(props, crs)
}

// incidentDefaultFeatureSQL is incidentFeatureJSON of every public
// property, by CRS: the expression of nearly every list request, built once
// instead of with two formatted strings per property on each request.
var incidentDefaultFeatureSQL = func() (out [geo.EPSG3857 + 1]string) { // one per geo.CRS
	for crs := range out {
		var err error
		if out[crs], err = incidentFeatureJSON(nil, geo.CRS(crs)); err != nil {
			panic(fmt.Sprintf("feature SQL of CRS %d: %v", crs, err)) // a public property without SQL
		}
	}
	return out
}()

// incidentQueryableSQL is the SQL of each filter queryable
// (geo.IncidentQueryables()): the column, as text where CQL2 compares text,
// and as the public property shows it (empty as NULL) where it differs.
var incidentQueryableSQL = map[string]string{
	"geometry": "geom", "external_id": "external_id", "occurred_at": "occurred_at",
	"time_precision": "time_precision", "event_type": "event_type", "sub_event_type": "sub_event_type",
	"actor1": "actor1", "actor2": "actor2", "fatalities": "fatalities", "title": "title", "notes": "notes",
	"location_name": "location_name", "geo_precision": "geo_precision", "status": "status", "report_id": "report_id",
	"country_code": "country_code::text", "admin1": "admin1", "admin2": "admin2", "admin3": "admin3",
	"country": "stated_country", "iso": "stated_iso", "stated_country_code": "stated_country_code::text",
	"nearest_place_id": "nearest_place_id", "nearest_place_name": "nearest_place_name",
	"nearest_place_distance_m": "nearest_place_distance_m", "border_distance_m": "border_distance_m", "demo": "demo",
	"original_event_type": "NULLIF(original_event_type, '')", "original_sub_event_type": "NULLIF(original_sub_event_type, '')",
	"source_dataset": "NULLIF(source_dataset, '')", "created_at": "created_at", "updated_at": "updated_at",
	"independent_sources": "independent_sources",
	"contested":           "contested",
}

// incidentQueryables pairs geo.IncidentQueryables() with their SQL.
var incidentQueryables = func() map[string]cql2.Queryable {
	queryables := geo.IncidentQueryables()
	m := make(map[string]cql2.Queryable, len(queryables))
	for name, kind := range queryables {
		if sql, ok := incidentQueryableSQL[name]; ok {
			m[name] = cql2.Queryable{SQL: sql, Type: kind}
		}
	}
	return m
}()

// addFilter appends a checked CQL2 filter. The query parser checked its
// names and types against the same queryables, so an error here is ours.
func (w *where) addFilter(e cql2.Expr) error {
	if e == nil {
		return nil
	}
	sql, args, err := cql2.Compile(e, incidentQueryables, len(w.args)+1)
	if err != nil {
		return fmt.Errorf("compile filter: %w", err)
	}
	w.args = append(w.args, args...)
	w.conds = append(w.conds, sql)
	return nil
}

// incidentFilter renders the filters of q (everything but paging).
func incidentFilter(q geo.IncidentQuery) (*where, error) {
	w := &where{}
	if err := w.addFilter(q.Filter); err != nil {
		return nil, err
	}
	w.addBBox("geom", q.BBox)
	w.addTime("occurred_at", q.Time)
	statuses := q.Statuses
	if len(statuses) == 0 {
		statuses = geo.DefaultStatuses()
	}
	w.add("status = ANY(%s)", pq.Array(statuses))
	w.addMinSources(q.MinSources)
	if len(q.EventTypes) > 0 {
		w.add("event_type = ANY(%s)", pq.Array(q.EventTypes))
	}
	if len(q.SubEventTypes) > 0 {
		w.add("sub_event_type = ANY(%s)", pq.Array(q.SubEventTypes))
	}
	if len(q.Countries) > 0 {
		// The source's country where it states one, else the polygon's
		// (index incidents_country_idx, migration 00009).
		w.add("coalesce(stated_country_code, country_code) = ANY(%s)", pq.Array(q.Countries))
	}
	if len(q.GeoChecks) > 0 {
		// The predicate repeats the partial index's (incidents_geo_check_idx).
		w.add("geo_check && %s AND geo_check <> '{}'", pq.Array(q.GeoChecks))
	}
	if q.Actor != "" {
		p := likePattern(q.Actor)
		w.add("(actor1 ILIKE %s OR actor2 ILIKE %s)", p, p)
	}
	if q.Text != "" {
		w.addIncidentText(q.Text)
	}
	if q.UpdatedSince != nil {
		// Index incidents_updated_at_idx (migration 00015).
		w.add("updated_at >= %s", *q.UpdatedSince)
	}
	if q.NearBorderKm != nil {
		w.add("border_distance_m <= %s", *q.NearBorderKm*1000)
	}
	if q.NearPlace != nil && q.WithinKm != nil {
		w.add(`ST_DWithin(geom::geography, (SELECT geom::geography FROM places WHERE id = %s), %s)`,
			*q.NearPlace, *q.WithinKm*1000)
	}
	return w, nil
}

// StreamIncidents runs q and calls emit with each feature's GeoJSON text,
// in order, as rows arrive from PostgreSQL: memory does not grow with the
// page size. The bytes passed to emit are only valid during the call.
func (db *DB) StreamIncidents(ctx context.Context, q geo.IncidentQuery, emit func([]byte) error) (geo.FeaturePage, error) {
	layout, err := incidentFeatureLayout(retractedListProperties(q), q.CRS)
	if err != nil {
		return geo.FeaturePage{}, err
	}
	row := layout.newRow()
	// occurred_at comes as text, parsed only for the page's first and last
	// rows (see pageQuery.mark).
	var (
		fatalities             int64
		occurredAt             string
		lastID, lastFatalities int64
		lastOccurredAt         string
	)
	mark := func() { lastID, lastOccurredAt, lastFatalities = row.id, occurredAt, fatalities }
	position := func() geo.Cursor {
		at, err := pq.ParseTimestamp(nil, lastOccurredAt)
		if err != nil { // PostgreSQL's own output: not expected
			db.logger.Error("parse occurred_at of a page row", "value", lastOccurredAt, "err", err)
		}
		return incidentPosition(q.Sort, lastID, at, lastFatalities)
	}
	return db.streamIncidentPage(ctx, nil, q, q.Limit, layout.columns+incidentPageKeys,
		append(row.dest(), &occurredAt, &fatalities), position, mark, emit, row.feature)
}

// incidentPageKeys follow a feature's columns in a list page: the paging
// position's columns besides id.
const incidentPageKeys = ", occurred_at::text AS occurred_at_text, fatalities"

// IncidentPageSQL returns the statement the server runs for the first
// page of q (its columns; the features are written in Go, featurerow.go),
// with its arguments: bench/ measures it beside the true limit
// (IncidentLimitSQL) to separate the cost of the statement from that of
// the server's own work.
func IncidentPageSQL(q geo.IncidentQuery) (string, []any, error) {
	layout, err := incidentFeatureLayout(retractedListProperties(q), q.CRS)
	if err != nil {
		return "", nil, err
	}
	return incidentPageSQL(q, q.Limit, layout.columns+incidentPageKeys)
}

// streamIncidentPage streams one keyset page of q (limit rows) selecting
// columns: the emitted text first, then the scan destinations keys, from
// which position reads a row's paging position; or, with build, only the
// scan destinations keys, from which build makes the emitted text. on
// runs the query (nil: the pool).
func (db *DB) streamIncidentPage(ctx context.Context, on querier, q geo.IncidentQuery, limit int, columns string, keys []any,
	position func() geo.Cursor, mark func(), emit func([]byte) error, build func() []byte) (geo.FeaturePage, error) {
	query, args, err := incidentPageSQL(q, limit, columns)
	if err != nil {
		return geo.FeaturePage{}, err
	}
	return db.stream(ctx, pageQuery{
		inner:    query,
		args:     args,
		limit:    limit,
		cursor:   q.Cursor,
		keys:     keys,
		position: position,
		mark:     mark,
		on:       on,
		build:    build,
	}, emit)
}

// incidentPageSQL is the statement of one keyset page of q: limit+1 rows
// of columns, in the direction of travel.
func incidentPageSQL(q geo.IncidentQuery, limit int, columns string) (string, []any, error) {
	sortCol, err := incidentSortColumn(q.Sort)
	if err != nil {
		return "", nil, err
	}
	w, err := incidentFilter(q)
	if err != nil {
		return "", nil, err
	}
	desc := q.Sort.Desc
	back := q.Cursor != nil && q.Cursor.Back
	if q.Cursor != nil {
		// Rows strictly after the cursor in the direction of travel.
		op := ">"
		if desc != back {
			op = "<"
		}
		w.add(fmt.Sprintf("(%s, id) %s (%%s, %%s)", sortCol, op), cursorValue(*q.Cursor), q.Cursor.ID)
	}
	limitArg := w.arg(limit + 1)
	return fmt.Sprintf(`SELECT %s FROM incidents %s ORDER BY %s LIMIT %s`,
		columns, w.sql(), incidentOrderSQL(sortCol, desc != back), limitArg), w.args, nil
}

// incidentPosition is a row's keyset position under sort.
func incidentPosition(sort geo.SortKey, id int64, occurredAt time.Time, fatalities int64) geo.Cursor {
	pos := geo.Cursor{Sort: sort, ID: id}
	if sort.Field == "fatalities" {
		pos.Number = fatalities
	} else {
		pos.Time = occurredAt.UTC()
	}
	return pos
}

func cursorValue(c geo.Cursor) any {
	if c.Sort.Field == "fatalities" {
		return c.Number
	}
	return c.Time
}

// CountIncidents counts the features q matches, up to limit. exact is false
// when there are more than limit (counting them all would cost too much).
func (db *DB) CountIncidents(ctx context.Context, q geo.IncidentQuery, limit int) (n int64, exact bool, err error) {
	w, err := incidentFilter(q)
	if err != nil {
		return 0, false, err
	}
	query := fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM incidents %s LIMIT %s) matched`, w.sql(), w.arg(limit+1))
	if err := db.db.QueryRowContext(ctx, query, w.args...).Scan(&n); err != nil {
		return 0, false, mapError(err)
	}
	if n > int64(limit) {
		return 0, false, nil
	}
	return n, true, nil
}

// IncidentFeature returns one incident as a GeoJSON Feature in crs (as the
// items pages: transformed in SQL), whatever its status: a link to a
// retracted incident shows that it was retracted. Returns ErrNotFound when
// there is no such incident.
func (db *DB) IncidentFeature(ctx context.Context, id int64, crs geo.CRS) ([]byte, error) {
	feature, err := incidentFeatureSQL(singleIncidentProperties, crs)
	if err != nil {
		return nil, err
	}
	query := `SELECT ` + feature + ` FROM incidents WHERE id = $1`
	st, err := db.prepared(ctx, &db.featureStmts, query)
	if err != nil {
		return nil, err
	}
	var txt []byte
	if st != nil {
		err = st.QueryRowContext(ctx, id).Scan(&txt)
	} else {
		err = db.db.QueryRowContext(ctx, query, id).Scan(&txt)
	}
	if err != nil {
		return nil, mapError(err)
	}
	return txt, nil
}

// CollectionVersion returns a marker that changes whenever collection id
// changes, for ETags. Returns ErrNotFound for an unknown collection.
func (db *DB) CollectionVersion(ctx context.Context, id string) (string, error) {
	var (
		version int64
		updated time.Time
	)
	err := db.db.QueryRowContext(ctx,
		`SELECT version, updated_at FROM collection_versions WHERE id = $1`, id).Scan(&version, &updated)
	if err != nil {
		return "", mapError(err)
	}
	return fmt.Sprintf("%d.%d", updated.UnixMicro(), version), nil
}

// IncidentExtent returns the time span of the public incidents and an
// estimate of their spatial extent (from planner statistics: exact extents
// cost a full scan). The bbox is nil until statistics exist.
func (db *DB) IncidentExtent(ctx context.Context) (geo.Extent, error) {
	var (
		ext                    geo.Extent
		start, end             sql.NullTime
		minx, miny, maxx, maxy sql.NullFloat64
	)
	err := db.db.QueryRowContext(ctx, `
		SELECT (SELECT min(occurred_at) FROM incidents), (SELECT max(occurred_at) FROM incidents),
		       ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_EstimatedExtent('public', 'incidents', 'geom') AS e) est`).
		Scan(&start, &end, &minx, &miny, &maxx, &maxy)
	if err != nil {
		return ext, mapError(err)
	}
	if start.Valid {
		ext.Start, ext.End = &start.Time, &end.Time
	}
	if minx.Valid {
		ext.BBox = &geo.BBox{MinLon: max(minx.Float64, -180), MinLat: max(miny.Float64, -90),
			MaxLon: min(maxx.Float64, 180), MaxLat: min(maxy.Float64, 90)}
	}
	return ext, nil
}

// CreateIncident stores inc (already validated by the caller) and fills
// its ID, Version and timestamps. Returns ErrConflict when ExternalID is
// taken and ErrInvalid when the schema's constraints reject it.
func (db *DB) CreateIncident(ctx context.Context, inc *geo.Incident) error {
	sources, err := encodeSources(inc.Sources)
	if err != nil {
		return err
	}
	if inc.Status == "" {
		inc.Status = geo.StatusVerified
	}
	if len(inc.Claims) > 0 {
		err = db.inTx(ctx, func(tx *sql.Tx) error { return insertIncidentWithClaims(ctx, tx, inc, sources) })
	} else {
		err = insertIncident(ctx, db.db, inc, sources)
	}
	if err != nil {
		return fmt.Errorf("create incident: %w", mapError(err))
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// insertIncident inserts inc with its encoded sources and fills its id,
// version, timestamps and derived fields.
func insertIncident(ctx context.Context, q querier, inc *geo.Incident, sources []byte) error {
	record, err := encodeSourceRecord(inc.SourceRecord)
	if err != nil {
		return err
	}
	return q.QueryRowContext(ctx, `
		INSERT INTO incidents (external_id, occurred_at, time_precision, event_type, sub_event_type,
			actor1, actor2, fatalities, title, notes, location_name, geom, geo_precision,
			status, sources, report_id, demo, country_code, admin1,
			admin2, admin3, stated_country, stated_iso, stated_country_code, original_event_type,
			original_sub_event_type, source_dataset, source_file, source_record)
		VALUES (NULLIF($1, ''), $2, $3, $4, NULLIF($5, ''), $6, $7, $8, $9, $10, $11,
			ST_SetSRID(ST_MakePoint($12, $13), 4326), $14, $15, $16, $17, $18, NULLIF($19, ''), $20,
			$21, $22, $23, $24, NULLIF($25, ''), $26, $27, $28, $29, $30)
		RETURNING id, version, created_at, updated_at, coalesce(country_code, ''),
			nearest_place_id, coalesce(nearest_place_name, ''), nearest_place_distance_m, border_distance_m, geo_check`,
		inc.ExternalID, inc.OccurredAt, max(inc.TimePrecision, 1), inc.EventType, inc.SubEventType,
		inc.Actor1, inc.Actor2, inc.Fatalities, inc.Title, inc.Notes, inc.LocationName,
		inc.Point.Lon(), inc.Point.Lat(), max(inc.GeoPrecision, 1),
		inc.Status, string(sources), inc.ReportID, inc.Demo, inc.CountryCode, inc.Admin1,
		inc.Admin2, inc.Admin3, inc.StatedCountry, inc.StatedISO, inc.StatedCountryCode, inc.OriginalEventType,
		inc.OriginalSubEventType, inc.SourceDataset, inc.SourceFile, string(record),
	).Scan(&inc.ID, &inc.Version, &inc.CreatedAt, &inc.UpdatedAt, &inc.CountryCode,
		&inc.NearestPlaceID, &inc.NearestPlaceName, &inc.NearestPlaceDistance, &inc.BorderDistance,
		(*pq.StringArray)(&inc.GeoCheck))
}

// encodeSourceRecord is the jsonb text of a source record ({} when empty).
func encodeSourceRecord(rec map[string]string) ([]byte, error) {
	if len(rec) == 0 {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode source record: %w", err)
	}
	return b, nil
}
