package geo

import (
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/incidentmap/incidentmap/geo/cql2"
)

// Limits and defaults of items queries.
const (
	ItemsDefaultLimit = 100   // limit when none is given
	ItemsMaxLimit     = 10000 // larger limits are clamped to this
)

// BBoxCRS84 is the only bbox-crs accepted (longitude, latitude on WGS 84).
const BBoxCRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

const (
	maxQueryValueLen   = 1000 // characters in any raw parameter value
	maxQueryTextLen    = 200  // characters in q and actor
	maxQueryDistanceKm = 1000
	defaultWithinKm    = 10
	minQueryYear       = 1900
	maxQueryYear       = 2200
)

// BBox is a CRS84 box. MinLon > MaxLon means it crosses the antimeridian.
type BBox struct{ MinLon, MinLat, MaxLon, MaxLat float64 }

// ParseBBox parses an OGC bbox "minLon,minLat,maxLon,maxLat". The 3D form
// "minLon,minLat,minZ,maxLon,maxLat,maxZ" is accepted and its heights ignored.
// Longitudes lie in [-180, 180], latitudes in [-90, 90] with minLat <= maxLat;
// minLon > maxLon is a box crossing the antimeridian. Errors are *ParamError
// for "bbox".
func ParseBBox(s string) (BBox, error) {
	const param = "bbox"
	n := 0
	if s != "" {
		n = strings.Count(s, ",") + 1
	}
	if n != 4 && n != 6 {
		return BBox{}, Invalidf(param, "expected 4 numbers, got %d", n)
	}
	parts := strings.Split(s, ",")
	nums := make([]float64, len(parts))
	for i, p := range parts {
		f, err := parseFiniteFloat(param, p)
		if err != nil {
			return BBox{}, err
		}
		nums[i] = f
	}
	if n == 6 {
		nums = []float64{nums[0], nums[1], nums[3], nums[4]}
	}
	b := BBox{MinLon: nums[0], MinLat: nums[1], MaxLon: nums[2], MaxLat: nums[3]}
	for _, lon := range []float64{b.MinLon, b.MaxLon} {
		if lon < -180 || lon > 180 {
			return BBox{}, Invalidf(param, "longitude %s out of range [-180, 180]", formatQueryFloat(lon))
		}
	}
	for _, lat := range []float64{b.MinLat, b.MaxLat} {
		if lat < -90 || lat > 90 {
			return BBox{}, Invalidf(param, "latitude %s out of range [-90, 90]", formatQueryFloat(lat))
		}
	}
	if b.MinLat > b.MaxLat {
		return BBox{}, Invalidf(param, "minimum latitude %s is greater than maximum latitude %s",
			formatQueryFloat(b.MinLat), formatQueryFloat(b.MaxLat))
	}
	return b, nil
}

// CrossesAntimeridian reports whether b spans the ±180° meridian.
func (b BBox) CrossesAntimeridian() bool { return b.MinLon > b.MaxLon }

// Split returns b itself, or when b crosses the antimeridian the two boxes
// [MinLon, 180] and [-180, MaxLon] whose union it is.
func (b BBox) Split() []BBox {
	if !b.CrossesAntimeridian() {
		return []BBox{b}
	}
	return []BBox{
		{MinLon: b.MinLon, MinLat: b.MinLat, MaxLon: 180, MaxLat: b.MaxLat},
		{MinLon: -180, MinLat: b.MinLat, MaxLon: b.MaxLon, MaxLat: b.MaxLat},
	}
}

// TimeInterval is closed; nil ends are open.
type TimeInterval struct{ Start, End *time.Time }

var (
	queryDateRe     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	queryDateTimeRe = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$`)
)

// ParseDatetime parses an OGC datetime: an RFC 3339 instant
// ("2020-10-18T00:00:00Z", Start = End), or an interval "start/end" where
// either end (not both) may be ".." or "" for open. A full date
// ("2020-10-18") stands for that whole UTC day, 00:00 to 23:59:59.999999999,
// both as an instant and as an interval end. A space before a numeric offset
// is read as "+" (an unescaped "+" in a URL query decodes to a space). Times
// are returned in UTC; years must lie in 1900..2200. Errors are *ParamError
// for "datetime".
func ParseDatetime(s string) (TimeInterval, error) {
	const param = "datetime"
	if s == "" {
		return TimeInterval{}, Invalidf(param, "empty value")
	}
	start, end, ok := strings.Cut(s, "/")
	if !ok {
		a, b, err := parseDatetimeEnd(s)
		if err != nil {
			return TimeInterval{}, err
		}
		return TimeInterval{Start: &a, End: &b}, nil
	}
	if strings.Contains(end, "/") {
		return TimeInterval{}, Invalidf(param, `expected an instant or an interval "start/end"`)
	}
	var ti TimeInterval
	if start != "" && start != ".." {
		a, _, err := parseDatetimeEnd(start)
		if err != nil {
			return TimeInterval{}, err
		}
		ti.Start = &a
	}
	if end != "" && end != ".." {
		_, b, err := parseDatetimeEnd(end)
		if err != nil {
			return TimeInterval{}, err
		}
		ti.End = &b
	}
	switch {
	case ti.Start == nil && ti.End == nil:
		return TimeInterval{}, Invalidf(param, "an interval needs at least one bounded end")
	case ti.Start != nil && ti.End != nil && ti.Start.After(*ti.End):
		return TimeInterval{}, Invalidf(param, "start %s is after end %s",
			ti.Start.Format(time.RFC3339Nano), ti.End.Format(time.RFC3339Nano))
	}
	return ti, nil
}

// parseDatetimeEnd parses one date or date-time and returns the first and
// last instant it denotes, in UTC.
func parseDatetimeEnd(s string) (first, last time.Time, err error) {
	const param = "datetime"
	if n := len(s); n > 6 && s[n-6] == ' ' {
		s = s[:n-6] + "+" + s[n-5:]
	}
	switch {
	case queryDateRe.MatchString(s):
		t, perr := time.Parse(time.DateOnly, s)
		if perr != nil {
			return first, last, Invalidf(param, "invalid date %s", quoteShort(s))
		}
		first, last = t, t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	case queryDateTimeRe.MatchString(s):
		s = strings.Map(func(r rune) rune {
			switch r {
			case 't':
				return 'T'
			case 'z':
				return 'Z'
			}
			return r
		}, s)
		t, perr := time.Parse(time.RFC3339, s)
		if perr != nil || !validNumOffset(s) {
			return first, last, Invalidf(param, "invalid date-time %s", quoteShort(s))
		}
		first, last = t.UTC(), t.UTC()
	default:
		return first, last, Invalidf(param, "not an RFC 3339 date-time or date: %s", quoteShort(s))
	}
	for _, t := range []time.Time{first, last} {
		if y := t.Year(); y < minQueryYear || y > maxQueryYear {
			return time.Time{}, time.Time{}, Invalidf(param, "year %d out of range [%d, %d]", y, minQueryYear, maxQueryYear)
		}
	}
	return first, last, nil
}

// validNumOffset reports whether a date-time that matched queryDateTimeRe
// ends in "Z" or an offset of at most 23:59, as RFC 3339 requires
// (time.Parse accepts hours up to 99).
func validNumOffset(s string) bool {
	if s[len(s)-1] == 'Z' {
		return true
	}
	off := s[len(s)-5:]
	return off[:2] <= "23" && off[3:] <= "59"
}

// ParseLimit parses an OGC limit: empty gives def; otherwise a positive
// decimal integer, clamped to limitMax (clamped reports it). def should lie in
// [1, limitMax]. Errors are *ParamError for "limit".
func ParseLimit(s string, def, limitMax int) (limit int, clamped bool, err error) {
	const param = "limit"
	if s == "" {
		return def, false, nil
	}
	if !isASCIIDigits(s) {
		if len(s) > 1 && s[0] == '-' && isASCIIDigits(s[1:]) {
			return 0, false, Invalidf(param, "must be a positive integer, got %s", quoteShort(s))
		}
		return 0, false, Invalidf(param, "not an integer: %s", quoteShort(s))
	}
	n, perr := strconv.Atoi(s)
	if perr != nil {
		return 0, false, Invalidf(param, "number too large: %s", quoteShort(s))
	}
	if n < 1 {
		return 0, false, Invalidf(param, "must be a positive integer, got %s", quoteShort(s))
	}
	if n > limitMax {
		return limitMax, true, nil
	}
	return n, false, nil
}

// SortKey is one sort field and its direction.
type SortKey struct {
	Field string
	Desc  bool
}

// ParseSortBy parses an OGC sortby with exactly one key: "field", "+field"
// (ascending; a leading space, which is how an unescaped "+" arrives, counts
// as "+") or "-field" (descending). The field must be in allowed. Errors are
// *ParamError for "sortby".
func ParseSortBy(s string, allowed []string) (SortKey, error) {
	const param = "sortby"
	if s == "" {
		return SortKey{}, Invalidf(param, "empty value")
	}
	if strings.Contains(s, ",") {
		return SortKey{}, Invalidf(param, "only one sort key is supported")
	}
	var k SortKey
	switch s[0] {
	case '+', ' ':
		s = s[1:]
	case '-':
		s = s[1:]
		k.Desc = true
	}
	if s == "" {
		return SortKey{}, Invalidf(param, "missing sort field")
	}
	if !slices.Contains(allowed, s) {
		return SortKey{}, Invalidf(param, "unknown sort field %s (allowed: %s)", quoteShort(s), strings.Join(allowed, ", "))
	}
	k.Field = s
	return k, nil
}

// ParseProperties parses a comma-separated list of property names, each in
// allowed, deduplicated in order of first appearance. Errors are *ParamError
// for "properties".
func ParseProperties(s string, allowed []string) ([]string, error) {
	const param = "properties"
	if s == "" {
		return nil, Invalidf(param, "empty value")
	}
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		p = strings.Trim(p, " ")
		switch {
		case p == "":
			return nil, Invalidf(param, "empty property name in list")
		case !slices.Contains(allowed, p):
			return nil, Invalidf(param, "unknown property %s", quoteShort(p))
		case !slices.Contains(out, p):
			out = append(out, p)
		}
	}
	return out, nil
}

// incidentProperties lists the public property names of an incident feature
// (the allow-list for properties=).
var incidentProperties = []string{
	"external_id", "occurred_at", "time_precision", "event_type", "sub_event_type",
	"actor1", "actor2", "fatalities", "title", "notes", "location_name",
	"geo_precision", "status", "sources", "report_id", "country_code", "admin1",
	"nearest_place_id", "nearest_place_name", "nearest_place_distance_m",
	"border_distance_m", "demo", "created_at", "updated_at",
	// Stated by the source, as given (ACLED's names), and provenance.
	"country", "iso", "stated_country_code", "admin2", "admin3",
	"original_event_type", "original_sub_event_type", "source_dataset",
	// Derived: where the derived and stated geography disagree.
	"geo_check",
	// Derived: distinct publishers among sources, the report counting as one.
	"independent_sources",
	// Derived: the incident's claims conflict (geo.ContestedOf).
	"contested",
}

// incidentOnRequestProperties are properties only returned when asked for
// by name with properties=: the source's row as imported is bulky and not
// part of the map's record; claims cost a look-up per feature, so lists
// carry them on request and a single feature always (see the store);
// duplicate_of is set only on retracted incidents, so a single feature and
// lists that ask for status=retracted carry it.
var incidentOnRequestProperties = []string{"source_record", "claims", "duplicate_of"}

// geoChecks lists the geo_check values incidents can be filtered on.
var geoChecks = []string{GeoCheckCountryMismatch, GeoCheckNoCountry}

// incidentSortFields lists the fields incidents can be sorted by.
var incidentSortFields = []string{"occurred_at", "fatalities"}

// IncidentQuery is a validated items query on the incidents collection.
type IncidentQuery struct {
	BBox          *BBox
	Time          *TimeInterval
	EventTypes    []string // canonical ACLED event types
	SubEventTypes []string // canonical ACLED sub-event types
	Statuses      []string // nil means DefaultStatuses()
	Countries     []string // ISO 3166-1 alpha-2, upper case: the stated country where given, else the derived one
	GeoChecks     []string // incidents carrying any of these geo checks
	Derived       bool     // CSV: add the derived columns
	Actor         string   // substring of actor1 or actor2
	Text          string   // full-text query
	NearBorderKm  *float64 // within this distance of a land border
	NearPlace     *int64   // gazetteer place id; WithinKm is then set
	WithinKm      *float64 // radius around NearPlace
	MinSources    int      // at least this many independent sources; 0: no condition
	Sort          SortKey  // default occurred_at descending
	Limit         int
	LimitClamped  bool
	Properties    []string // nil means all
	Cursor        *Cursor  // matches Sort
	Format        string   // "geojson", "csv" or "html"
	CRS           CRS      // of the geometries written
	// Filter is the CQL2 filter and property parameters, checked against
	// IncidentQueryables(); nil when none was given.
	Filter cql2.Expr
	// UpdatedSince keeps incidents updated at or after it (updated_since:
	// mirrors that poll; retractions only show in the changes feed).
	UpdatedSince *time.Time
}

var incidentQueryParams = []string{
	"bbox", "bbox-crs", "crs", "datetime", "limit", "cursor", "sortby", "properties", "f",
	"event_type", "sub_event_type", "status", "country", "actor", "q",
	"near_border_km", "near_place", "within_km", "geo_check", "derived", "updated_since",
	"filter", "filter-lang", "filter-crs", "min_sources",
}

// incidentAllowedParams are every parameter an items query may have.
var incidentAllowedParams = sync.OnceValue(func() []string {
	return slices.Concat(incidentQueryParams, incidentPropertyParams())
})

// ParseIncidentQuery validates the query parameters of GET
// /collections/incidents/items. Unknown or repeated parameters, invalid
// UTF-8, control characters and values over 1000 characters are rejected; an
// empty value counts as not given. List parameters (event_type,
// sub_event_type, status, country) are comma-separated, matched
// case-insensitively, normalised and deduplicated. All errors are *ParamError.
func ParseIncidentQuery(v url.Values) (IncidentQuery, error) {
	q := IncidentQuery{Sort: SortKey{Field: "occurred_at", Desc: true}}
	if err := checkQueryParams(v, incidentAllowedParams()); err != nil {
		return IncidentQuery{}, err
	}
	var err error
	if q.Filter, err = parseIncidentFilter(v); err != nil {
		return IncidentQuery{}, err
	}
	c, err := parseCommonQuery(v, true)
	if err != nil {
		return IncidentQuery{}, err
	}
	q.BBox, q.Time, q.Limit, q.LimitClamped, q.Format, q.CRS = c.bbox, c.time, c.limit, c.clamped, c.format, c.crs

	for _, parse := range []func(url.Values) error{q.parseKinds, q.parseTextAndFlags, q.parsePlace, q.parsePaging} {
		if err := parse(v); err != nil {
			return IncidentQuery{}, err
		}
	}
	return q, nil
}

// parseKinds reads the list filters: event and sub-event types (each
// sub-event type must belong to a requested event type), statuses,
// countries and geo checks.
func (q *IncidentQuery) parseKinds(v url.Values) error {
	var err error
	if s := queryValue(v, "event_type"); s != "" {
		if q.EventTypes, err = parseQueryList("event_type", s, "event type", canonicalIn(eventTypes)); err != nil {
			return err
		}
	}
	if s := queryValue(v, "sub_event_type"); s != "" {
		if q.SubEventTypes, err = parseQueryList("sub_event_type", s, "sub-event type", canonicalIn(SubEventTypes())); err != nil {
			return err
		}
		if len(q.EventTypes) > 0 {
			for _, sub := range q.SubEventTypes {
				if !slices.ContainsFunc(q.EventTypes, func(t string) bool { return ValidSubEventType(t, sub) }) {
					return Invalidf("sub_event_type", "%q is not a sub-event type of the requested event types", sub)
				}
			}
		}
	}
	if s := queryValue(v, "status"); s != "" {
		if q.Statuses, err = parseQueryList("status", s, "status", canonicalIn(incidentStatuses)); err != nil {
			return err
		}
	}
	if s := queryValue(v, "country"); s != "" {
		if q.Countries, err = parseQueryList("country", s, "country code", canonicalCountry); err != nil {
			return err
		}
	}
	if s := queryValue(v, "geo_check"); s != "" {
		if q.GeoChecks, err = parseQueryList("geo_check", s, "geo check", canonicalIn(geoChecks)); err != nil {
			return err
		}
	}
	return nil
}

// parseTextAndFlags reads derived, actor, q, min_sources and updated_since.
func (q *IncidentQuery) parseTextAndFlags(v url.Values) error {
	var err error
	switch s := queryValue(v, "derived"); s {
	case "", "false":
	case "true":
		q.Derived = true
	default:
		return Invalidf("derived", "want true or false, got %s", quoteShort(s))
	}
	if q.Actor, err = parseQueryText(v, "actor"); err != nil {
		return err
	}
	if q.Text, err = parseQueryText(v, "q"); err != nil {
		return err
	}
	if s := queryValue(v, "min_sources"); s != "" {
		if q.MinSources, err = ParseMinSources(s); err != nil {
			return err
		}
	}
	if s := queryValue(v, "updated_since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return Invalidf("updated_since", "want an RFC 3339 time such as 2020-10-18T00:00:00Z, got %s", quoteShort(s))
		}
		q.UpdatedSince = &t
	}
	return nil
}

// parsePlace reads the distance filters: near_border_km, and near_place
// with its within_km (defaultWithinKm when not given).
func (q *IncidentQuery) parsePlace(v url.Values) error {
	if s := queryValue(v, "near_border_km"); s != "" {
		km, err := parseQueryKm("near_border_km", s)
		if err != nil {
			return err
		}
		q.NearBorderKm = &km
	}
	if s := queryValue(v, "near_place"); s != "" {
		if !isASCIIDigits(s) {
			return Invalidf("near_place", "must be a positive integer place id, got %s", quoteShort(s))
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			return Invalidf("near_place", "must be a positive integer place id, got %s", quoteShort(s))
		}
		q.NearPlace = &id
	}
	if s := queryValue(v, "within_km"); s != "" {
		if q.NearPlace == nil {
			return Invalidf("within_km", "requires near_place")
		}
		km, err := parseQueryKm("within_km", s)
		if err != nil {
			return err
		}
		q.WithinKm = &km
	} else if q.NearPlace != nil {
		km := float64(defaultWithinKm)
		q.WithinKm = &km
	}
	return nil
}

// parsePaging reads sortby, properties and the cursor, which must match
// the sort and carry the value of its sort field and nothing else.
func (q *IncidentQuery) parsePaging(v url.Values) error {
	var err error
	if s := queryValue(v, "sortby"); s != "" {
		if q.Sort, err = ParseSortBy(s, incidentSortFields); err != nil {
			return err
		}
	}
	if s := queryValue(v, "properties"); s != "" {
		if q.Properties, err = ParseProperties(s, slices.Concat(incidentProperties, incidentOnRequestProperties)); err != nil {
			return err
		}
	}
	if s := queryValue(v, "cursor"); s != "" {
		cur, err := DecodeCursor(s)
		if err != nil {
			return err
		}
		if cur.Sort != q.Sort {
			return Invalidf("cursor", "cursor does not match sortby")
		}
		// The key must carry the value of its sort field and nothing else.
		if cur.Sort.Field == "occurred_at" && (cur.Time.IsZero() || cur.Number != 0) ||
			cur.Sort.Field != "occurred_at" && !cur.Time.IsZero() {
			return Invalidf("cursor", "malformed cursor")
		}
		q.Cursor = &cur
	}
	return nil
}

// LayerQuery is a validated items query on a generic layer collection.
type LayerQuery struct {
	BBox         *BBox
	Time         *TimeInterval
	Limit        int
	LimitClamped bool
	Cursor       *Cursor // pages by feature id: Sort is empty
	Format       string  // "geojson", "csv" or "html"
	CRS          CRS     // of the geometries written
}

var layerQueryParams = []string{"bbox", "bbox-crs", "crs", "datetime", "limit", "cursor", "f"}

// ParseLayerQuery validates the query parameters of a generic layer's items.
// datetime is only accepted when the layer has a time property (hasTime).
// Layers page by feature id, so a cursor must have an empty Sort. Other rules
// are those of ParseIncidentQuery. All errors are *ParamError.
func ParseLayerQuery(v url.Values, hasTime bool) (LayerQuery, error) {
	if err := checkQueryParams(v, layerQueryParams); err != nil {
		return LayerQuery{}, err
	}
	c, err := parseCommonQuery(v, hasTime)
	if err != nil {
		return LayerQuery{}, err
	}
	q := LayerQuery{BBox: c.bbox, Time: c.time, Limit: c.limit, LimitClamped: c.clamped, Format: c.format, CRS: c.crs}
	if s := queryValue(v, "cursor"); s != "" {
		cur, err := DecodeCursor(s)
		if err != nil {
			return LayerQuery{}, err
		}
		if cur.Sort != (SortKey{}) || !cur.Time.IsZero() || cur.Number != 0 {
			return LayerQuery{}, Invalidf("cursor", "cursor does not belong to this collection")
		}
		q.Cursor = &cur
	}
	return q, nil
}

// commonQuery holds the parameters shared by every items query.
type commonQuery struct {
	crs     CRS
	bbox    *BBox
	time    *TimeInterval
	limit   int
	clamped bool
	format  string
}

func parseCommonQuery(v url.Values, hasTime bool) (commonQuery, error) {
	c := commonQuery{format: "geojson"}
	bboxCRS, err := ParseCRS("bbox-crs", queryValue(v, "bbox-crs"))
	if err != nil {
		return c, err
	}
	if c.crs, err = ParseCRS("crs", queryValue(v, "crs")); err != nil {
		return c, err
	}
	if s := queryValue(v, "bbox"); s != "" {
		if s, err = bboxToCRS84(s, bboxCRS); err != nil {
			return c, err
		}
		b, err := ParseBBox(s)
		if err != nil {
			return c, err
		}
		c.bbox = &b
	}
	if s := queryValue(v, "datetime"); s != "" {
		if !hasTime {
			return c, Invalidf("datetime", "this collection has no time property")
		}
		ti, err := ParseDatetime(s)
		if err != nil {
			return c, err
		}
		c.time = &ti
	}
	if c.limit, c.clamped, err = ParseLimit(queryValue(v, "limit"), ItemsDefaultLimit, ItemsMaxLimit); err != nil {
		return c, err
	}
	switch s := queryValue(v, "f"); strings.ToLower(s) {
	case "", "json", "geojson":
	case "csv":
		c.format = "csv"
	case "html":
		c.format = "html"
	default:
		return c, Invalidf("f", "unsupported format %s (supported: json, geojson, csv, html)", quoteShort(s))
	}
	return c, nil
}

// checkQueryParams rejects unknown and repeated parameters and raw values
// that are not clean text. Keys are visited in order so the error is stable.
func checkQueryParams(v url.Values, allowed []string) error {
	for _, k := range slices.Sorted(maps.Keys(v)) {
		vals := v[k]
		if !slices.Contains(allowed, k) {
			return &ParamError{Param: safeParamName(k), Message: "unknown parameter"}
		}
		if len(vals) > 1 {
			return Invalidf(k, "given more than once")
		}
		if len(vals) == 1 {
			check := checkQueryValue
			if k == "filter" {
				check = func(_, s string) error { return checkFilterValue(s) }
			}
			if err := check(k, vals[0]); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkQueryValue(param, s string) error {
	if !utf8.ValidString(s) {
		return Invalidf(param, "not valid UTF-8")
	}
	if strings.ContainsFunc(s, isQueryControl) {
		return Invalidf(param, "control characters not allowed")
	}
	if utf8.RuneCountInString(s) > maxQueryValueLen {
		return Invalidf(param, "too long (max %d characters)", maxQueryValueLen)
	}
	return nil
}

// isQueryControl reports C0 controls (tab and newline included), DEL and C1
// controls.
func isQueryControl(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }

// safeParamName makes an unknown parameter name fit to echo in an error.
func safeParamName(k string) string {
	k = strings.ToValidUTF8(k, "\uFFFD")
	k = strings.Map(func(r rune) rune {
		if isQueryControl(r) {
			return '\uFFFD'
		}
		return r
	}, k)
	if utf8.RuneCountInString(k) > 64 {
		k = string([]rune(k)[:64]) + "…"
	}
	return k
}

func queryValue(v url.Values, name string) string {
	if vs := v[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// parseQueryList splits a comma list, maps each trimmed item through canon
// and deduplicates the result in order.
func parseQueryList(param, s, what string, canon func(string) (string, bool)) ([]string, error) {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		item = strings.Trim(item, " ")
		if item == "" {
			return nil, Invalidf(param, "empty item in list")
		}
		c, ok := canon(item)
		if !ok {
			return nil, Invalidf(param, "unknown %s %s", what, quoteShort(item))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// canonicalIn matches case-insensitively against names and returns the
// canonical spelling.
func canonicalIn(names []string) func(string) (string, bool) {
	return func(s string) (string, bool) {
		for _, n := range names {
			if strings.EqualFold(n, s) {
				return n, true
			}
		}
		return "", false
	}
}

func canonicalCountry(s string) (string, bool) {
	if len(s) != 2 {
		return "", false
	}
	u := strings.ToUpper(s)
	if u[0] < 'A' || u[0] > 'Z' || u[1] < 'A' || u[1] > 'Z' {
		return "", false
	}
	return u, true
}

func parseQueryText(v url.Values, param string) (string, error) {
	s := strings.TrimSpace(queryValue(v, param))
	if utf8.RuneCountInString(s) > maxQueryTextLen {
		return "", Invalidf(param, "too long (max %d characters)", maxQueryTextLen)
	}
	return s, nil
}

func parseQueryKm(param, s string) (float64, error) {
	km, err := parseFiniteFloat(param, s)
	if err != nil {
		return 0, err
	}
	if km <= 0 || km > maxQueryDistanceKm {
		return 0, Invalidf(param, "must be greater than 0 and at most %d, got %s", maxQueryDistanceKm, formatQueryFloat(km))
	}
	return km, nil
}

// parseFiniteFloat parses a decimal number (surrounding spaces allowed; no
// hex, underscores, NaN or infinities) that fits a finite float64.
func parseFiniteFloat(param, s string) (float64, error) {
	s = strings.Trim(s, " ")
	if !isDecimalNumber(s) {
		switch strings.ToLower(strings.TrimLeft(s, "+-")) {
		case "nan", "inf", "infinity":
			return 0, Invalidf(param, "NaN/Inf not allowed")
		}
		return 0, Invalidf(param, "not a number: %s", quoteShort(s))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, Invalidf(param, "not a finite number: %s", quoteShort(s))
	}
	if f == 0 {
		f = 0 // no negative zero
	}
	return f, nil
}

// isDecimalNumber reports whether s is [+-]digits[.digits][e[+-]digits] with
// at least one mantissa digit.
func isDecimalNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		return isASCIIDigits(s[i:])
	}
	return i == len(s)
}

func isASCIIDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func formatQueryFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// quoteShort quotes s for an error message, cut to 40 characters.
func quoteShort(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return strconv.Quote(string([]rune(s)[:40])) + "…"
	}
	return strconv.Quote(s)
}

// IncidentProperties returns a copy of incidentProperties (see there).
func IncidentProperties() []string { return slices.Clone(incidentProperties) }

// IncidentOnRequestProperties returns a copy of incidentOnRequestProperties (see there).
func IncidentOnRequestProperties() []string { return slices.Clone(incidentOnRequestProperties) }

// GeoChecks returns a copy of geoChecks (see there).
func GeoChecks() []string { return slices.Clone(geoChecks) }

// IncidentSortFields returns a copy of incidentSortFields (see there).
func IncidentSortFields() []string { return slices.Clone(incidentSortFields) }
