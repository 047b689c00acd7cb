package postgis

import (
	"fmt"
	"strings"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

// where accumulates SQL conditions and their bound arguments. Conditions
// are written by this package; user values only ever enter through add's
// args, as $n placeholders.
type where struct {
	conds []string
	args  []any
}

// add appends a condition written with %s for each argument's placeholder,
// e.g. w.add("status = ANY(%s)", pq.Array(s)).
func (w *where) add(cond string, args ...any) {
	ph := make([]any, len(args))
	for i, a := range args {
		w.args = append(w.args, a)
		ph[i] = fmt.Sprintf("$%d", len(w.args))
	}
	w.conds = append(w.conds, fmt.Sprintf(cond, ph...))
}

// arg binds one more argument and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return fmt.Sprintf("$%d", len(w.args))
}

// sql renders the conditions as a WHERE clause, or "" when there are none.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return "WHERE " + strings.Join(w.conds, " AND ")
}

// addBBox restricts column to b, splitting boxes that cross the
// antimeridian. The envelope is built in the column's SRID (4326) so the
// GiST index is used.
func (w *where) addBBox(column string, b *geo.BBox) {
	if b == nil {
		return
	}
	var parts []string
	for _, box := range b.Split() {
		parts = append(parts, fmt.Sprintf("%s && ST_MakeEnvelope(%s, %s, %s, %s, 4326)", column,
			w.arg(box.MinLon), w.arg(box.MinLat), w.arg(box.MaxLon), w.arg(box.MaxLat)))
	}
	w.conds = append(w.conds, "("+strings.Join(parts, " OR ")+")")
}

// addTime restricts column to the closed interval t.
func (w *where) addTime(column string, t *geo.TimeInterval) {
	if t == nil {
		return
	}
	// PostgreSQL keeps microseconds and rounds nanoseconds: round the
	// bounds inward so "the whole day" (…23:59:59.999999999) stays that day.
	if t.Start != nil {
		start := t.Start.Truncate(time.Microsecond)
		if start.Before(*t.Start) {
			start = start.Add(time.Microsecond)
		}
		w.add(column+" >= %s", start)
	}
	if t.End != nil {
		w.add(column+" <= %s", t.End.Truncate(time.Microsecond))
	}
}

// likePattern escapes LIKE wildcards so value matches literally as a substring.
func likePattern(value string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(value) + "%"
}

// maxTextPlaces bounds the places whose names a free-text search also
// looks for (a common name such as "San Jose" names many).
const maxTextPlaces = 20

// addIncidentText restricts incidents to those matching text: its words
// in title, notes or location_name (full text), or text as a place name
// under any spelling — the incident's nearest place has text as one of
// its names (compared in normal form, im_normalize), or its words hold
// any name of such a place (q=Khankendi finds incidents located at
// "Stepanakert", q=Stepanakert those nearest Xankandi). Both arms use
// indexes (search GIN, nearest_place_id btree).
func (w *where) addIncidentText(text string) {
	ph := w.arg(text)
	places := fmt.Sprintf(`SELECT DISTINCT place_id FROM place_names WHERE norm = im_normalize(%s) LIMIT %d`, ph, maxTextPlaces)
	w.conds = append(w.conds, fmt.Sprintf(`(search @@ websearch_to_tsquery('simple', %[1]s)
		OR nearest_place_id = ANY (ARRAY(%[2]s))
		OR search @@ (SELECT string_agg(DISTINCT '(' || t.q::text || ')', ' | ')::tsquery
		              FROM place_names n CROSS JOIN LATERAL phraseto_tsquery('simple', n.name) t(q)
		              WHERE n.place_id IN (%[2]s) AND t.q::text <> ''))`, ph, places))
}

// geometryJSON is the GeoJSON (json) of the geometry expression col in
// crs: WGS 84 as stored (lon, lat), with its axes swapped (EPSG:4326 is
// lat, lon), or projected to Web Mercator metres (centimetres kept).
func geometryJSON(col string, crs geo.CRS, decimals int) string {
	return geometryText(col, crs, decimals) + "::json"
}

// geometryText is geometryJSON as the text ST_AsGeoJSON returns, for
// features written in Go (featurerow.go): no cast, which would parse it.
func geometryText(col string, crs geo.CRS, decimals int) string {
	switch crs {
	case geo.EPSG4326:
		return fmt.Sprintf("ST_AsGeoJSON(ST_FlipCoordinates(%s), %d)", col, decimals)
	case geo.EPSG3857:
		return fmt.Sprintf("ST_AsGeoJSON(ST_Transform(%s, 3857), 2)", col)
	}
	return fmt.Sprintf("ST_AsGeoJSON(%s, %d)", col, decimals)
}
