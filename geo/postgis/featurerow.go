package postgis

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/incidentmap/incidentmap/geo"
)

// A list page's features are written here, from the columns PostgreSQL
// sends, instead of by json_build_object in the statement. PostgreSQL
// escapes JSON a character at a time and looks up each value's type on
// every row: for a 104-feature page of wide rows its backend spent about
// twice the CPU of selecting the same columns (pgbench, 16 clients:
// 1,028 statements/s building the features, 2,397 selecting the columns),
// which is more than the server pays to write them.

// jsonKind is how a property's column becomes JSON.
type jsonKind uint8

const (
	// jsonText: text or character(n), written as a JSON string.
	jsonText jsonKind = iota
	// jsonInt: an integer column.
	jsonInt
	// jsonBool: a boolean column.
	jsonBool
	// jsonAsIs: json or jsonb, written as PostgreSQL sends it.
	jsonAsIs
	// jsonToJSON: any other type (timestamps, floats, arrays), converted
	// by to_json in the statement, so it reads exactly as
	// json_build_object would write it (ISO 8601 with "T" and an offset
	// with minutes; NaN as a string; arrays as JSON arrays).
	jsonToJSON
)

// incidentPropertyKind is the jsonKind of every property of
// incidentPropertySQL (publiccolumns_internal_test.go checks both list the
// same properties, and featurerow_test.go that the features are those of
// json_build_object).
var incidentPropertyKind = map[string]jsonKind{
	"external_id": jsonText, "occurred_at": jsonToJSON, "time_precision": jsonInt, "event_type": jsonText,
	"sub_event_type": jsonText, "actor1": jsonText, "actor2": jsonText, "fatalities": jsonInt,
	"title": jsonText, "notes": jsonText, "location_name": jsonText, "geo_precision": jsonInt,
	"status": jsonText, "sources": jsonAsIs, "report_id": jsonInt, "country_code": jsonText,
	"admin1": jsonText, "nearest_place_id": jsonInt, "nearest_place_name": jsonText,
	"nearest_place_distance_m": jsonToJSON, "border_distance_m": jsonToJSON, "demo": jsonBool,
	"created_at": jsonToJSON, "updated_at": jsonToJSON, "country": jsonText, "iso": jsonText,
	"stated_country_code": jsonText, "admin2": jsonText, "admin3": jsonText,
	"original_event_type": jsonText, "original_sub_event_type": jsonText, "source_dataset": jsonText,
	"geo_check": jsonToJSON, "independent_sources": jsonInt, "contested": jsonBool,
	"source_record": jsonAsIs, "claims": jsonAsIs, "duplicate_of": jsonInt,
}

// featureValue holds one scanned property; kind says which field.
type featureValue struct {
	text sql.NullString
	num  sql.NullInt64
	flag sql.NullBool
	raw  sql.RawBytes // nil for NULL
}

// featureLayout is the select list of a feature's columns and how each
// becomes JSON.
type featureLayout struct {
	columns string
	keys    []string // `"name":` per property
	kinds   []jsonKind
}

// incidentFeatureLayout returns the layout of the features with properties
// props (nil: every public one) in crs. The columns are named f_*, so that
// they cannot shadow the table's columns in the page's ORDER BY; id comes
// first under its own name.
func incidentFeatureLayout(props []string, crs geo.CRS) (*featureLayout, error) {
	if props == nil && int(crs) >= 0 && int(crs) < len(incidentDefaultLayout) {
		return incidentDefaultLayout[crs], nil
	}
	if props == nil {
		props = geo.IncidentProperties()
	}
	return buildFeatureLayout(props, crs)
}

// buildFeatureLayout is incidentFeatureLayout without the cache.
func buildFeatureLayout(props []string, crs geo.CRS) (*featureLayout, error) {
	l := &featureLayout{keys: make([]string, len(props)), kinds: make([]jsonKind, len(props))}
	var cols strings.Builder
	fmt.Fprintf(&cols, "id, %s AS f_geometry", geometryText("geom", crs, 6))
	for i, p := range props {
		expr, ok := incidentPropertySQL[p]
		kind, kindOK := incidentPropertyKind[p]
		if !ok || !kindOK {
			return nil, geo.Invalidf("properties", "unknown property %q", p)
		}
		if kind == jsonToJSON {
			expr = "to_json(" + expr + ")"
		}
		fmt.Fprintf(&cols, ", %s AS f_%d", expr, i)
		l.keys[i] = strconv.Quote(p) + ":"
		l.kinds[i] = kind
	}
	l.columns = cols.String()
	return l, nil
}

// incidentDefaultLayout is the layout of every public property, by CRS:
// nearly every list request's, built once.
var incidentDefaultLayout = func() (out [geo.EPSG3857 + 1]*featureLayout) { // one per geo.CRS
	for crs := range out {
		var err error
		if out[crs], err = buildFeatureLayout(geo.IncidentProperties(), geo.CRS(crs)); err != nil {
			panic(fmt.Sprintf("feature layout of CRS %d: %v", crs, err)) // a public property without SQL or kind
		}
	}
	return out
}()

// featureRow builds GeoJSON features from the columns of a featureLayout.
// It holds the scan destinations of one row; a row's feature is only valid
// until the next row is scanned.
type featureRow struct {
	*featureLayout
	id   int64
	geom string
	vals []featureValue
	buf  []byte
}

func (l *featureLayout) newRow() *featureRow {
	return &featureRow{featureLayout: l, vals: make([]featureValue, len(l.kinds))}
}

// dest returns the scan destinations of the row's columns.
func (r *featureRow) dest() []any {
	d := make([]any, 0, len(r.vals)+2)
	d = append(d, &r.id, &r.geom)
	for i, k := range r.kinds {
		v := &r.vals[i]
		switch k {
		case jsonText:
			d = append(d, &v.text)
		case jsonInt:
			d = append(d, &v.num)
		case jsonBool:
			d = append(d, &v.flag)
		default:
			d = append(d, &v.raw)
		}
	}
	return d
}

// feature returns the GeoJSON Feature of the scanned row, in a buffer the
// next call reuses.
func (r *featureRow) feature() []byte {
	b := append(r.buf[:0], `{"type":"Feature","id":`...)
	b = strconv.AppendInt(b, r.id, 10)
	b = append(b, `,"geometry":`...)
	b = append(b, r.geom...)
	b = append(b, `,"properties":{`...)
	for i, k := range r.kinds {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r.keys[i]...)
		v := &r.vals[i]
		switch k {
		case jsonText:
			if v.text.Valid {
				b = appendJSONString(b, v.text.String)
				continue
			}
		case jsonInt:
			if v.num.Valid {
				b = strconv.AppendInt(b, v.num.Int64, 10)
				continue
			}
		case jsonBool:
			if v.flag.Valid {
				b = strconv.AppendBool(b, v.flag.Bool)
				continue
			}
		default:
			if v.raw != nil {
				b = append(b, v.raw...)
				continue
			}
		}
		b = append(b, "null"...)
	}
	b = append(b, "}}"...)
	r.buf = b
	return b
}

// appendJSONString appends s as a JSON string, escaped as PostgreSQL's
// escape_json does: quote, backslash and control characters only (no
// HTML escaping, which json_build_object does not do either; the HTML
// pages escape when they render).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
