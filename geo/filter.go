package geo

import (
	"errors"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/incidentmap/incidentmap/geo/cql2"
)

// filterLangs are the filter languages a filter may be written in:
// CQL2 text and JSON (OGC API – Features Part 3), and cql-text, the name
// GDAL 3.6 sends for CQL2 text.
var filterLangs = []string{"cql2-text", "cql2-json", "cql-text"}

// maxFilterLen bounds a filter parameter (the parser's own limit).
const maxFilterLen = cql2.MaxInputBytes

// incidentQueryables are the incident properties a filter may name, with
// their types: the public properties that are plain values, the
// timestamps, and the point as "geometry". The store maps each to SQL.
var incidentQueryables = map[string]cql2.Kind{
	"geometry":    cql2.Geometry,
	"external_id": cql2.String, "occurred_at": cql2.Timestamp, "time_precision": cql2.Integer,
	"event_type": cql2.String, "sub_event_type": cql2.String, "actor1": cql2.String, "actor2": cql2.String,
	"fatalities": cql2.Integer, "title": cql2.String, "notes": cql2.String, "location_name": cql2.String,
	"geo_precision": cql2.Integer, "status": cql2.String, "report_id": cql2.Integer, "country_code": cql2.String,
	"admin1": cql2.String, "admin2": cql2.String, "admin3": cql2.String, "country": cql2.String, "iso": cql2.String,
	"stated_country_code": cql2.String, "nearest_place_id": cql2.Integer, "nearest_place_name": cql2.String,
	"nearest_place_distance_m": cql2.Number, "border_distance_m": cql2.Number, "demo": cql2.Boolean,
	"original_event_type": cql2.String, "original_sub_event_type": cql2.String, "source_dataset": cql2.String,
	"created_at": cql2.Timestamp, "updated_at": cql2.Timestamp,
	"independent_sources": cql2.Integer,
	"contested":           cql2.Boolean,
}

// incidentTemporalQueryables name the instants of an incident; occurred_at
// is the one datetime= filters on.
var incidentTemporalQueryables = []string{"occurred_at", "created_at", "updated_at"}

// IncidentPropertyParams are the queryables that may also be given as a
// plain query parameter meaning equality (OGC API – Features Part 1,
// filtering on feature properties): those without a parameter of their
// own meaning.
func IncidentPropertyParams() []string { return slices.Clone(incidentPropertyParams()) }

// incidentPropertyParams is IncidentPropertyParams, computed once: every
// items request checks its parameters against it (computed per request it
// cost 4% of a 100-feature page's server CPU).
var incidentPropertyParams = sync.OnceValue(func() []string {
	var out []string
	for name := range incidentQueryables {
		if name != "geometry" && !slices.Contains(incidentQueryParams, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
})

// parseIncidentFilter reads filter, filter-lang and filter-crs, and the
// property parameters, into one expression checked against
// IncidentQueryables(); nil when there is none.
func parseIncidentFilter(v url.Values) (cql2.Expr, error) {
	var parts []cql2.Expr
	if text := queryValue(v, "filter"); text != "" {
		lang := strings.ToLower(queryValue(v, "filter-lang"))
		if lang != "" && !slices.Contains(filterLangs, lang) {
			return nil, Invalidf("filter-lang", "unsupported %s (supported: %s)", quoteShort(lang), strings.Join(filterLangs, ", "))
		}
		if crs := queryValue(v, "filter-crs"); crs != "" && crs != BBoxCRS84 {
			return nil, Invalidf("filter-crs", "only %s is supported", BBoxCRS84)
		}
		e, err := cql2.Parse(text, lang)
		if err != nil {
			return nil, filterError(err)
		}
		parts = append(parts, e)
	} else if queryValue(v, "filter-lang") != "" || queryValue(v, "filter-crs") != "" {
		return nil, Invalidf("filter", "filter-lang and filter-crs need a filter")
	}
	for _, name := range incidentPropertyParams() {
		s := queryValue(v, name)
		if s == "" {
			continue
		}
		lit, err := propertyLiteral(name, incidentQueryables[name], s)
		if err != nil {
			return nil, err
		}
		parts = append(parts, &cql2.Comparison{Op: "=", Left: &cql2.Property{Name: name}, Right: lit})
	}
	var e cql2.Expr
	switch len(parts) {
	case 0:
		return nil, nil
	case 1:
		e = parts[0]
	default:
		e = &cql2.Logical{Op: "and", Args: parts}
	}
	// Compiled against placeholders only to check names and types: a
	// filter the store could not compile is the client's 400, here.
	check := make(map[string]cql2.Queryable, len(incidentQueryables))
	for name, kind := range incidentQueryables {
		check[name] = cql2.Queryable{SQL: "x", Type: kind}
	}
	if _, _, err := cql2.Compile(e, check, 1); err != nil {
		return nil, filterError(err)
	}
	return e, nil
}

// propertyLiteral reads a property parameter's value as a literal of kind.
func propertyLiteral(name string, kind cql2.Kind, s string) (cql2.Expr, error) {
	switch kind {
	case cql2.Integer, cql2.Number:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !isDecimalNumber(s) {
			return nil, Invalidf(name, "want a number, got %s", quoteShort(s))
		}
		return &cql2.NumberLit{Value: f}, nil
	case cql2.Boolean:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, Invalidf(name, "want true or false, got %s", quoteShort(s))
		}
		return &cql2.BoolLit{Value: b}, nil
	}
	return &cql2.StringLit{Value: s}, nil
}

// filterError names the filter parameter in a parse or type error.
func filterError(err error) error {
	var ce *cql2.Error
	if errors.As(err, &ce) {
		return Invalidf("filter", "%s", ce.Error())
	}
	return Invalidf("filter", "%v", err)
}

// checkFilterValue checks a filter parameter: the parser reads any text up
// to its limit, line breaks included (CQL2 JSON is often pretty-printed).
func checkFilterValue(s string) error {
	if !utf8.ValidString(s) {
		return Invalidf("filter", "not valid UTF-8")
	}
	if len(s) > maxFilterLen {
		return Invalidf("filter", "too long (max %d bytes)", maxFilterLen)
	}
	return nil
}

// FilterLangs returns a copy of filterLangs (see there).
func FilterLangs() []string { return slices.Clone(filterLangs) }

// IncidentQueryables returns a copy of incidentQueryables (see there).
func IncidentQueryables() map[string]cql2.Kind { return maps.Clone(incidentQueryables) }

// IncidentTemporalQueryables returns a copy of incidentTemporalQueryables (see there).
func IncidentTemporalQueryables() []string { return slices.Clone(incidentTemporalQueryables) }
