package geo

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// ACLEDColumns are the columns of an ACLED export, in ACLED's order.
var ACLEDColumns = []string{
	"event_id_cnty", "event_date", "year", "time_precision", "disorder_type",
	"event_type", "sub_event_type", "actor1", "assoc_actor_1", "inter1",
	"actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
	"iso", "region", "country", "admin1", "admin2", "admin3", "location",
	"latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
	"fatalities", "tags", "timestamp",
}

// ACLEDExtraColumns are incidentmap's own columns, written after ACLED's by
// an export. On import, status, title, occurred_at, sources_json and demo
// are read back when present (so an export round-trips); the rest are
// derived or local and are ignored.
var ACLEDExtraColumns = []string{
	"id", "status", "title", "occurred_at", "sources_json", "country_code",
	"nearest_place_name", "nearest_place_distance_m", "border_distance_m",
	"report_id", "demo",
}

// ACLEDRequiredColumns must be in the header of an imported ACLED file;
// every other column is optional and read when present.
var ACLEDRequiredColumns = []string{"event_id_cnty", "event_date", "event_type", "latitude", "longitude"}

// Limits of imported values, as the incidents table's constraints.
const (
	maxExternalIDLen = 100
	maxActorLen      = 300
	maxTitleLen      = 300
	maxNotesLen      = 20000
	maxLocationLen   = 300
	maxFatalities    = 1_000_000
	// Years, kept a day inside the table's 1900..2200 so that its check,
	// read in the session's time zone, cannot reject an accepted date.
	minImportYear = 1901
	maxImportYear = 2198
)

// RowError is one invalid value of an imported file. Line is the line the
// record starts on in a CSV file (the header is line 1), or the 1-based
// feature number in a GeoJSON file; Column is the CSV column or the GeoJSON
// member ("properties.event_type"), empty when the whole row is wrong.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
	// Kind is a stable key of the rule broken, without the offending value
	// ("unknown event type", "not a date"), for summaries by reason; empty
	// means Reason itself is the key.
	Kind string `json:"kind,omitempty"`
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Column, e.Reason)
}

// InvalidRowsError reports the invalid rows of an import. It matches
// ErrInvalid with errors.Is.
type InvalidRowsError struct {
	Errors  []RowError // in line order; at most the importer's cap
	Rows    int        // invalid rows (a row may have several errors)
	Omitted int        // errors beyond the cap, not in Errors
}

func (e *InvalidRowsError) Error() string {
	const show = 10
	var b strings.Builder
	fmt.Fprintf(&b, "%d invalid row", e.Rows)
	if e.Rows != 1 {
		b.WriteByte('s')
	}
	for i, re := range e.Errors {
		if i == show {
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(re.Error())
	}
	if more := len(e.Errors) - show + e.Omitted; more > 0 {
		fmt.Fprintf(&b, "; and %d more", more)
	}
	return b.String()
}

// Is makes errors.Is(e, ErrInvalid) true.
func (e *InvalidRowsError) Is(target error) bool { return target == ErrInvalid }

// HeaderError is a CSV header without a required column, or with a column
// given twice. It matches ErrInvalid with errors.Is.
type HeaderError struct {
	Missing   []string
	Duplicate []string
}

func (e *HeaderError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing required columns: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Duplicate) > 0 {
		parts = append(parts, "duplicate columns: "+strings.Join(e.Duplicate, ", "))
	}
	return "invalid header: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(e, ErrInvalid) true.
func (e *HeaderError) Is(target error) bool { return target == ErrInvalid }

// IncidentRow is one record of an imported file.
type IncidentRow struct {
	Line     int // as RowError.Line
	Incident Incident
	Errors   []RowError // non-empty: the row is invalid and Incident must not be stored
}

// IncidentReader yields the records of an incident file one at a time, so
// an import never holds the whole file.
type IncidentReader interface {
	// Next returns the next record, or io.EOF after the last. Any other
	// error means the file cannot be read on (bad syntax, I/O).
	Next() (IncidentRow, error)
	// ExternalIDColumn names where the external id is read from, for
	// errors about duplicates found later.
	ExternalIDColumn() string
}

// incidentFields are the raw values of one record, whatever the format.
type incidentFields struct {
	externalID, date, occurredAt, timePrecision, eventType, subEventType,
	actor1, actor2, fatalities, title, notes, location, admin1,
	lat, lon, geoPrecision, source, sourcesJSON, status, demo string
}

// fieldNames name each field in the source format, for errors. An empty
// date name means the format has no date-only field: occurred_at is then
// required and may carry a time.
type fieldNames struct {
	externalID, date, occurredAt, timePrecision, eventType, subEventType,
	actor1, actor2, fatalities, title, notes, location, admin1,
	lat, lon, geoPrecision, source, sourcesJSON, status, demo string
}

var acledNames = fieldNames{
	externalID: "event_id_cnty", date: "event_date", occurredAt: "occurred_at",
	timePrecision: "time_precision", eventType: "event_type", subEventType: "sub_event_type",
	actor1: "actor1", actor2: "actor2", fatalities: "fatalities", title: "title", notes: "notes",
	location: "location", admin1: "admin1", lat: "latitude", lon: "longitude",
	geoPrecision: "geo_precision", source: "source", sourcesJSON: "sources_json", status: "status",
	demo: "demo",
}

var geojsonNames = fieldNames{
	externalID: "properties.external_id", occurredAt: "properties.occurred_at",
	timePrecision: "properties.time_precision", eventType: "properties.event_type",
	subEventType: "properties.sub_event_type", actor1: "properties.actor1", actor2: "properties.actor2",
	fatalities: "properties.fatalities", title: "properties.title", notes: "properties.notes",
	location: "properties.location_name", admin1: "properties.admin1", lat: "geometry", lon: "geometry",
	geoPrecision: "properties.geo_precision", sourcesJSON: "properties.sources", status: "properties.status",
	demo: "properties.demo",
}

// rowBuilder turns raw fields into an Incident, collecting every error.
type rowBuilder struct {
	line int
	errs []RowError
}

func (b *rowBuilder) fail(column, format string, args ...any) {
	b.errs = append(b.errs, RowError{Line: b.line, Column: column, Reason: fmt.Sprintf(format, args...)})
}

// text checks a free-text value: valid UTF-8, no NUL (PostgreSQL text
// cannot hold one) and at most limit characters (0: no limit).
func (b *rowBuilder) text(column, s string, limit int) string {
	switch {
	case !utf8.ValidString(s):
		b.fail(column, "not valid UTF-8")
		return ""
	case strings.IndexByte(s, 0) >= 0:
		b.fail(column, "contains a NUL character")
		return ""
	case limit > 0 && utf8.RuneCountInString(s) > limit:
		b.fail(column, "too long (%d characters, at most %d)", utf8.RuneCountInString(s), limit)
		return ""
	}
	return s
}

// small parses an optional code in [1, 3]; empty is 1.
func (b *rowBuilder) small(column, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 3 {
		b.fail(column, "must be 1, 2 or 3, got %s", quoteShort(s))
		return 1
	}
	return n
}

// coord parses a decimal number in [-limit, limit].
func (b *rowBuilder) coord(column, s string, limit float64, what string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		b.fail(column, "missing %s", what)
		return 0
	}
	if !isDecimalNumber(s) {
		b.fail(column, "%s is not a number: %s", what, quoteShort(s))
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		b.fail(column, "%s is not a finite number: %s", what, quoteShort(s))
		return 0
	}
	if f < -limit || f > limit {
		b.fail(column, "%s %s is out of range [%g, %g]", what, s, -limit, limit)
		return 0
	}
	if f == 0 {
		f = 0 // no negative zero
	}
	return f
}

// build checks f and returns the incident it describes.
func (b *rowBuilder) build(f incidentFields, n fieldNames) Incident {
	var inc Incident
	inc.ExternalID = b.text(n.externalID, strings.TrimSpace(f.externalID), maxExternalIDLen)
	if inc.ExternalID == "" && len(b.errs) == 0 {
		b.fail(n.externalID, "missing external id")
	}
	inc.OccurredAt = b.when(f, n)
	inc.TimePrecision = TimePrecision(b.small(n.timePrecision, f.timePrecision))
	inc.EventType, inc.SubEventType = b.eventTypes(f, n)
	inc.Actor1 = b.text(n.actor1, f.actor1, maxActorLen)
	inc.Actor2 = b.text(n.actor2, f.actor2, maxActorLen)
	inc.Fatalities = b.fatalities(n.fatalities, f.fatalities)
	inc.Notes = b.text(n.notes, f.notes, maxNotesLen)
	inc.LocationName = b.text(n.location, f.location, maxLocationLen)
	inc.Admin1 = b.text(n.admin1, f.admin1, 0)
	lat := b.coord(n.lat, f.lat, 90, "latitude")
	lon := b.coord(n.lon, f.lon, 180, "longitude")
	inc.Point = [2]float64{lon, lat}
	inc.GeoPrecision = GeoPrecision(b.small(n.geoPrecision, f.geoPrecision))
	inc.Sources = b.sources(f, n, inc.OccurredAt)
	if s := strings.TrimSpace(f.status); s != "" {
		if st, ok := canonicalIn(IncidentStatuses)(s); ok {
			inc.Status = st
		} else {
			b.fail(n.status, "unknown status %s (want verified, disputed or retracted)", quoteShort(s))
		}
	}
	switch strings.ToLower(strings.TrimSpace(f.demo)) {
	case "", "false", "0":
	case "true", "1":
		inc.Demo = true
	default:
		b.fail(n.demo, "want true or false, got %s", quoteShort(f.demo))
	}
	inc.Title = b.text(n.title, f.title, maxTitleLen)
	if strings.TrimSpace(inc.Title) == "" {
		inc.Title = defaultTitle(inc)
	}
	return inc
}

// when reads the time of the event: the date (at 00:00 UTC), refined by
// occurred_at when that falls on the same UTC day; or, for formats without
// a date field, occurred_at alone.
func (b *rowBuilder) when(f incidentFields, n fieldNames) time.Time {
	var exact time.Time
	if s := strings.TrimSpace(f.occurredAt); s != "" {
		t, ok := parseTimestamp(s)
		if !ok {
			b.fail(n.occurredAt, "not an RFC 3339 date-time or a date: %s", quoteShort(s))
		} else if y := t.Year(); y < minImportYear || y > maxImportYear {
			b.fail(n.occurredAt, "year %d out of range [%d, %d]", y, minImportYear, maxImportYear)
		} else {
			exact = t
		}
	} else if n.date == "" {
		b.fail(n.occurredAt, "missing date")
	}
	if n.date == "" {
		return exact
	}
	s := strings.TrimSpace(f.date)
	if s == "" {
		b.fail(n.date, "missing date")
		return time.Time{}
	}
	day, ok := ParseACLEDDate(s)
	if !ok {
		b.fail(n.date, `not a date (want 2020-10-18 or "18 October 2020"): %s`, quoteShort(s))
		return time.Time{}
	}
	if y := day.Year(); y < minImportYear || y > maxImportYear {
		b.fail(n.date, "year %d out of range [%d, %d]", y, minImportYear, maxImportYear)
		return time.Time{}
	}
	if !exact.IsZero() && exact.Truncate(24*time.Hour).Equal(day) {
		return exact
	}
	return day
}

func (b *rowBuilder) eventTypes(f incidentFields, n fieldNames) (string, string) {
	t := strings.TrimSpace(f.eventType)
	if t == "" {
		b.fail(n.eventType, "missing event type")
		return "", ""
	}
	canon, ok := canonicalIn(EventTypes)(t)
	if !ok {
		b.fail(n.eventType, "unknown event type %s", quoteShort(t))
		return "", ""
	}
	sub := strings.TrimSpace(f.subEventType)
	if sub == "" {
		return canon, ""
	}
	if cs, ok := canonicalIn(EventTaxonomy[canon])(sub); ok {
		return canon, cs
	}
	if _, ok := canonicalIn(SubEventTypes())(sub); ok {
		b.fail(n.subEventType, "%s is not a sub-event type of %q", quoteShort(sub), canon)
	} else {
		b.fail(n.subEventType, "unknown sub-event type %s", quoteShort(sub))
	}
	return canon, ""
}

func (b *rowBuilder) fatalities(column, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	if !isASCIIDigits(s) {
		b.fail(column, "must be a whole number of at least 0, got %s", quoteShort(s))
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > maxFatalities {
		b.fail(column, "more than %d", maxFatalities)
		return 0
	}
	return n
}

// sources reads the JSON list when given, else ACLED's ";"-separated
// source names, dated with the event's day.
func (b *rowBuilder) sources(f incidentFields, n fieldNames, at time.Time) []Source {
	if s := strings.TrimSpace(f.sourcesJSON); s != "" {
		if b.text(n.sourcesJSON, s, 0) == "" {
			return nil
		}
		var list []Source
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			b.fail(n.sourcesJSON, "not a JSON list of {name, url, date}: %v", err)
			return nil
		}
		for i, src := range list {
			for _, v := range []string{src.Name, src.URL, src.Date} {
				if strings.IndexByte(v, 0) >= 0 {
					b.fail(n.sourcesJSON, "source %d contains a NUL character", i+1)
					return nil
				}
			}
		}
		return list
	}
	if f.source == "" {
		return nil
	}
	if b.text(n.source, f.source, 0) == "" {
		return nil
	}
	date := ""
	if !at.IsZero() {
		date = at.UTC().Format(time.DateOnly)
	}
	var list []Source
	for name := range strings.SplitSeq(f.source, ";") {
		if name = strings.TrimSpace(name); name != "" {
			list = append(list, Source{Name: name, Date: date})
		}
	}
	return list
}

// defaultTitle summarises an incident that has no title of its own:
// "<sub-event type> in <location>".
func defaultTitle(inc Incident) string {
	what := inc.SubEventType
	if what == "" {
		what = inc.EventType
	}
	if what == "" {
		what = "Incident"
	}
	title := what
	if loc := strings.TrimSpace(inc.LocationName); loc != "" {
		title += " in " + loc
	}
	if utf8.RuneCountInString(title) > maxTitleLen {
		title = string([]rune(title)[:maxTitleLen-1]) + "…"
	}
	return title
}

// ParseACLEDDate parses an ACLED event date: "2020-10-18", "18 October
// 2020", "18-October-2020" or the same with a month abbreviation ("18 Oct
// 2020"), month names in any case. The result is 00:00 UTC of that day.
func ParseACLEDDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.DateOnly, "2 January 2006", "2-January-2006", "2 Jan 2006", "2-Jan-2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseTimestamp parses an RFC 3339 date-time (to UTC) or a date.
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) == len(time.DateOnly) {
		t, err := time.Parse(time.DateOnly, s)
		return t, err == nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// ValidateImportedIncident checks inc against everything the incidents
// table requires of an imported row, naming fields as the GeoJSON
// properties. Readers already guarantee this for the rows they return;
// callers that build incidents themselves use it.
func ValidateImportedIncident(inc *Incident, line int) []RowError {
	b := rowBuilder{line: line}
	if inc.ExternalID == "" || strings.TrimSpace(inc.ExternalID) != inc.ExternalID {
		b.fail("external_id", "missing or padded with spaces")
	}
	b.text("external_id", inc.ExternalID, maxExternalIDLen)
	if y := inc.OccurredAt.UTC().Year(); inc.OccurredAt.IsZero() || y < minImportYear || y > maxImportYear {
		b.fail("occurred_at", "missing or out of range")
	}
	if inc.TimePrecision < TimeDay || inc.TimePrecision > TimeMonth {
		b.fail("time_precision", "must be 1, 2 or 3")
	}
	if !ValidSubEventType(inc.EventType, inc.SubEventType) {
		b.fail("event_type", "%q / %q is not an ACLED event type and sub-event type", inc.EventType, inc.SubEventType)
	}
	b.text("actor1", inc.Actor1, maxActorLen)
	b.text("actor2", inc.Actor2, maxActorLen)
	if inc.Fatalities < 0 || inc.Fatalities > maxFatalities {
		b.fail("fatalities", "out of range")
	}
	if strings.TrimSpace(inc.Title) == "" {
		b.fail("title", "missing")
	}
	b.text("title", inc.Title, maxTitleLen)
	b.text("notes", inc.Notes, maxNotesLen)
	b.text("location_name", inc.LocationName, maxLocationLen)
	b.text("admin1", inc.Admin1, 0)
	lon, lat := inc.Point.Lon(), inc.Point.Lat()
	if !(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90) {
		b.fail("geometry", "coordinates out of range")
	}
	if inc.GeoPrecision < GeoExact || inc.GeoPrecision > GeoRegion {
		b.fail("geo_precision", "must be 1, 2 or 3")
	}
	if inc.Status != "" && !slices.Contains(IncidentStatuses, inc.Status) {
		b.fail("status", "unknown status %q", inc.Status)
	}
	for _, s := range inc.Sources {
		for _, v := range []string{s.Name, s.URL, s.Date} {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				b.fail("sources", "not valid text")
			}
		}
	}
	return b.errs
}

// ACLEDReader reads an ACLED CSV export one record at a time. The header
// is matched by name (case-insensitive, trimmed, byte order mark ignored);
// unknown columns are ignored. A cell starting with "'" before a formula
// character is read without the "'" that an export adds (see
// NeutraliseCell).
type ACLEDReader struct {
	csv  *csv.Reader
	cols [numACLEDFields]int // index of each field's column, -1 if absent
	n    int                 // columns in the header
}

// The fields an ACLEDReader reads, indexing ACLEDReader.cols.
const (
	aEventID = iota
	aEventDate
	aOccurredAt
	aTimePrecision
	aEventType
	aSubEventType
	aActor1
	aActor2
	aFatalities
	aTitle
	aNotes
	aLocation
	aAdmin1
	aLatitude
	aLongitude
	aGeoPrecision
	aSource
	aSourcesJSON
	aStatus
	aDemo
	numACLEDFields
)

var acledFieldColumns = [numACLEDFields]string{
	aEventID: "event_id_cnty", aEventDate: "event_date", aOccurredAt: "occurred_at",
	aTimePrecision: "time_precision", aEventType: "event_type", aSubEventType: "sub_event_type",
	aActor1: "actor1", aActor2: "actor2", aFatalities: "fatalities", aTitle: "title", aNotes: "notes",
	aLocation: "location", aAdmin1: "admin1", aLatitude: "latitude", aLongitude: "longitude",
	aGeoPrecision: "geo_precision", aSource: "source", aSourcesJSON: "sources_json", aStatus: "status",
	aDemo: "demo",
}

// NewACLEDReader reads the header of an ACLED CSV export from r. A header
// that lacks required columns (all of them are listed) or names a column
// twice is a *HeaderError.
func NewACLEDReader(r io.Reader) (*ACLEDReader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &HeaderError{Missing: slices.Clone(ACLEDRequiredColumns)}
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	ar := &ACLEDReader{csv: cr, n: len(header)}
	for i := range ar.cols {
		ar.cols[i] = -1
	}
	seen := map[string]bool{}
	herr := &HeaderError{}
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF")
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if seen[name] && name != "" && !slices.Contains(herr.Duplicate, name) {
			herr.Duplicate = append(herr.Duplicate, name)
		}
		seen[name] = true
		if f := slices.Index(acledFieldColumns[:], name); f >= 0 && ar.cols[f] < 0 {
			ar.cols[f] = i
		}
	}
	for _, name := range ACLEDRequiredColumns {
		if !seen[name] {
			herr.Missing = append(herr.Missing, name)
		}
	}
	if len(herr.Missing) > 0 || len(herr.Duplicate) > 0 {
		return nil, herr
	}
	return ar, nil
}

// ExternalIDColumn implements IncidentReader.
func (r *ACLEDReader) ExternalIDColumn() string { return "event_id_cnty" }

// Next implements IncidentReader. A record that CSV cannot parse (a stray
// quote) or that has a different number of fields than the header is an
// invalid row, and reading goes on with the next line.
func (r *ACLEDReader) Next() (IncidentRow, error) {
	rec, err := r.csv.Read()
	if err != nil {
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			return IncidentRow{Line: perr.StartLine, Errors: []RowError{{Line: perr.StartLine, Reason: "malformed CSV: " + perr.Err.Error()}}}, nil
		}
		return IncidentRow{}, err
	}
	line, _ := r.csv.FieldPos(0)
	if len(rec) != r.n {
		return IncidentRow{Line: line, Errors: []RowError{{Line: line,
			Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), r.n)}}}, nil
	}
	return ParseACLEDRecord(rec, r.cols, line), nil
}

// ParseACLEDRecord builds the incident of one CSV record whose fields are
// located by cols (as ACLEDReader keeps them).
func ParseACLEDRecord(rec []string, cols [numACLEDFields]int, line int) IncidentRow {
	get := func(f int) string {
		if i := cols[f]; i >= 0 && i < len(rec) {
			return UnneutraliseCell(rec[i])
		}
		return ""
	}
	f := incidentFields{
		externalID: get(aEventID), date: get(aEventDate), occurredAt: get(aOccurredAt),
		timePrecision: get(aTimePrecision), eventType: get(aEventType), subEventType: get(aSubEventType),
		actor1: get(aActor1), actor2: get(aActor2), fatalities: get(aFatalities), title: get(aTitle),
		notes: get(aNotes), location: get(aLocation), admin1: get(aAdmin1), lat: get(aLatitude),
		lon: get(aLongitude), geoPrecision: get(aGeoPrecision), source: get(aSource),
		sourcesJSON: get(aSourcesJSON), status: get(aStatus), demo: get(aDemo),
	}
	b := rowBuilder{line: line}
	inc := b.build(f, acledNames)
	return IncidentRow{Line: line, Incident: inc, Errors: b.errs}
}

// GeoJSONIncidentReader reads a GeoJSON FeatureCollection of incidents
// (Point features with the properties of incidentmap's own GeoJSON) one
// feature at a time. Rows are numbered by feature, from 1. A feature
// without external_id but with a numeric id gets "IM<id>", as in a CSV
// export.
type GeoJSONIncidentReader struct {
	dec         *json.Decoder
	n           int
	inFeatures  bool
	sawFeatures bool
}

// NewGeoJSONIncidentReader starts reading a FeatureCollection from r.
func NewGeoJSONIncidentReader(r io.Reader) (*GeoJSONIncidentReader, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("read GeoJSON: %w", err)
	}
	if tok != json.Delim('{') {
		return nil, errors.New("read GeoJSON: not a JSON object")
	}
	return &GeoJSONIncidentReader{dec: dec}, nil
}

// ExternalIDColumn implements IncidentReader.
func (g *GeoJSONIncidentReader) ExternalIDColumn() string { return "properties.external_id" }

type geojsonFeature struct {
	Type       string                     `json:"type"`
	ID         json.RawMessage            `json:"id"`
	Geometry   json.RawMessage            `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// Next implements IncidentReader.
func (g *GeoJSONIncidentReader) Next() (IncidentRow, error) {
	for {
		if g.inFeatures {
			if !g.dec.More() {
				if _, err := g.dec.Token(); err != nil { // ']'
					return IncidentRow{}, fmt.Errorf("read GeoJSON: %w", err)
				}
				g.inFeatures = false
				continue
			}
			g.n++
			var f geojsonFeature
			if err := g.dec.Decode(&f); err != nil {
				var terr *json.UnmarshalTypeError
				if errors.As(err, &terr) {
					// The value was read whole: report it and go on.
					return IncidentRow{Line: g.n, Errors: []RowError{{Line: g.n, Column: terr.Field,
						Reason: "not a GeoJSON feature: " + terr.Error()}}}, nil
				}
				return IncidentRow{}, fmt.Errorf("read GeoJSON feature %d: %w", g.n, err)
			}
			return parseGeoJSONFeature(f, g.n), nil
		}
		tok, err := g.dec.Token()
		if err != nil {
			return IncidentRow{}, fmt.Errorf("read GeoJSON: %w", err)
		}
		if tok == json.Delim('}') {
			if _, err := g.dec.Token(); !errors.Is(err, io.EOF) {
				return IncidentRow{}, errors.New("read GeoJSON: data after the FeatureCollection")
			}
			if !g.sawFeatures {
				return IncidentRow{}, errors.New(`read GeoJSON: no "features" member`)
			}
			return IncidentRow{}, io.EOF
		}
		key, _ := tok.(string)
		switch key {
		case "features":
			if tok, err := g.dec.Token(); err != nil || tok != json.Delim('[') {
				return IncidentRow{}, errors.New(`read GeoJSON: "features" is not an array`)
			}
			g.inFeatures, g.sawFeatures = true, true
		case "type":
			var t string
			if err := g.dec.Decode(&t); err != nil || t != "FeatureCollection" {
				return IncidentRow{}, errors.New("read GeoJSON: not a FeatureCollection")
			}
		default:
			var skip json.RawMessage
			if err := g.dec.Decode(&skip); err != nil {
				return IncidentRow{}, fmt.Errorf("read GeoJSON: %w", err)
			}
		}
	}
}

// parseGeoJSONFeature builds the incident of one feature.
func parseGeoJSONFeature(feat geojsonFeature, line int) IncidentRow {
	b := rowBuilder{line: line}
	if feat.Type != "Feature" {
		b.fail("type", `want "Feature", got %s`, quoteShort(feat.Type))
	}
	prop := func(name string, kind byte) string {
		raw := bytes.TrimSpace(feat.Properties[name])
		if len(raw) == 0 || string(raw) == "null" {
			return ""
		}
		var s string
		switch {
		case kind == '"' && raw[0] == '"':
			if json.Unmarshal(raw, &s) != nil {
				b.fail("properties."+name, "not a string")
			}
			return s
		case kind == '0' && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
			return string(raw)
		case kind == 'b' && (string(raw) == "true" || string(raw) == "false"):
			return string(raw)
		case kind == '[' && raw[0] == '[':
			return string(raw)
		}
		want := map[byte]string{'"': "a string", '0': "a number", 'b': "true or false", '[': "a list"}[kind]
		b.fail("properties."+name, "want %s", want)
		return ""
	}
	f := incidentFields{
		externalID: prop("external_id", '"'), occurredAt: prop("occurred_at", '"'),
		timePrecision: prop("time_precision", '0'), eventType: prop("event_type", '"'),
		subEventType: prop("sub_event_type", '"'), actor1: prop("actor1", '"'), actor2: prop("actor2", '"'),
		fatalities: prop("fatalities", '0'), title: prop("title", '"'), notes: prop("notes", '"'),
		location: prop("location_name", '"'), admin1: prop("admin1", '"'),
		geoPrecision: prop("geo_precision", '0'), sourcesJSON: prop("sources", '['),
		status: prop("status", '"'), demo: prop("demo", 'b'),
	}
	if f.externalID == "" {
		var id json.Number
		if json.Unmarshal(feat.ID, &id) == nil && isASCIIDigits(id.String()) {
			f.externalID = "IM" + id.String()
		}
	}
	var geom struct {
		Type        string        `json:"type"`
		Coordinates []json.Number `json:"coordinates"`
	}
	if err := json.Unmarshal(feat.Geometry, &geom); err != nil || geom.Type != "Point" ||
		len(geom.Coordinates) < 2 || len(geom.Coordinates) > 3 {
		b.fail("geometry", "want a Point with [longitude, latitude]")
	} else {
		f.lon, f.lat = geom.Coordinates[0].String(), geom.Coordinates[1].String()
	}
	inc := b.build(f, geojsonNames)
	// A bad geometry was reported once; build's own coordinate errors repeat it.
	if len(geom.Coordinates) < 2 {
		b.errs = slices.DeleteFunc(b.errs, func(e RowError) bool {
			return e.Column == "geometry" && strings.HasPrefix(e.Reason, "missing ")
		})
	}
	return IncidentRow{Line: line, Incident: inc, Errors: b.errs}
}

// IncidentSliceReader reads incidents already in memory (demo data),
// checking each with ValidateImportedIncident. Rows are numbered from 1.
type IncidentSliceReader struct {
	incidents []Incident
	i         int
}

// NewIncidentSliceReader reads incs in order.
func NewIncidentSliceReader(incs []Incident) *IncidentSliceReader {
	return &IncidentSliceReader{incidents: incs}
}

// ExternalIDColumn implements IncidentReader.
func (s *IncidentSliceReader) ExternalIDColumn() string { return "external_id" }

// Next implements IncidentReader.
func (s *IncidentSliceReader) Next() (IncidentRow, error) {
	if s.i >= len(s.incidents) {
		return IncidentRow{}, io.EOF
	}
	inc := s.incidents[s.i]
	s.i++
	return IncidentRow{Line: s.i, Incident: inc, Errors: ValidateImportedIncident(&inc, s.i)}, nil
}

// NeutraliseCell makes a text cell safe to open in a spreadsheet: a cell
// that would start a formula (=, +, -, @, tab or carriage return first,
// possibly after leading "'") gets one more "'" in front. The mapping is
// reversible (UnneutraliseCell), so an export imports back unchanged.
// Numbers must not go through it: "-45.2" is a longitude, not a formula.
func NeutraliseCell(s string) string {
	if startsFormula(s) {
		return "'" + s
	}
	return s
}

// UnneutraliseCell undoes NeutraliseCell.
func UnneutraliseCell(s string) string {
	if len(s) > 1 && s[0] == '\'' && startsFormula(s[1:]) {
		return s[1:]
	}
	return s
}

// startsFormula reports whether s, after any leading "'", starts with a
// character that makes spreadsheets read a formula.
func startsFormula(s string) bool {
	s = strings.TrimLeft(s, "'")
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// ACLEDWriter writes incidents as CSV in ACLED's column layout followed by
// ACLEDExtraColumns. Text cells are neutralised against formula injection;
// numeric cells are written as plain numbers.
type ACLEDWriter struct {
	csv    *csv.Writer
	record []string
	json   bytes.Buffer
}

// numericExportColumns are the export columns that hold numbers only.
var numericExportColumns = []string{
	"year", "time_precision", "inter1", "inter2", "interaction", "iso", "latitude",
	"longitude", "geo_precision", "fatalities", "timestamp", "id",
	"nearest_place_distance_m", "border_distance_m", "report_id",
}

// NewACLEDWriter writes to w; call WriteHeader first and Flush at the end.
func NewACLEDWriter(w io.Writer) *ACLEDWriter {
	return &ACLEDWriter{csv: csv.NewWriter(w), record: make([]string, len(ACLEDColumns)+len(ACLEDExtraColumns))}
}

// ACLEDExportColumns returns the header of an export.
func ACLEDExportColumns() []string {
	return slices.Concat(ACLEDColumns, ACLEDExtraColumns)
}

// WriteHeader writes the column names.
func (w *ACLEDWriter) WriteHeader() error { return w.csv.Write(ACLEDExportColumns()) }

// exportLayout maps each export column to its position, and says which
// positions hold numbers (never neutralised).
var exportLayout = sync.OnceValues(func() (map[string]int, []bool) {
	cols := ACLEDExportColumns()
	index := make(map[string]int, len(cols))
	numeric := make([]bool, len(cols))
	for i, c := range cols {
		index[c] = i
		numeric[i] = slices.Contains(numericExportColumns, c)
	}
	return index, numeric
})

// Write writes one incident. ACLED columns incidentmap does not keep are
// empty; event_id_cnty is "IM<id>" for an incident without external id;
// iso and country come from the country code.
func (w *ACLEDWriter) Write(inc *Incident) error {
	index, numeric := exportLayout()
	r := w.record
	for i := range r {
		r[i] = ""
	}
	put := func(col, v string) {
		i := index[col]
		if !numeric[i] {
			v = NeutraliseCell(v)
		}
		r[i] = v
	}
	num := func(v int64) string { return strconv.FormatInt(v, 10) }
	flt := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	at := inc.OccurredAt.UTC()
	id := inc.ExternalID
	if id == "" {
		id = "IM" + num(inc.ID)
	}
	names := make([]string, 0, len(inc.Sources))
	for _, s := range inc.Sources {
		if s.Name != "" {
			names = append(names, s.Name)
		} else if s.URL != "" {
			names = append(names, s.URL)
		}
	}
	w.json.Reset()
	enc := json.NewEncoder(&w.json)
	enc.SetEscapeHTML(false)
	sources := inc.Sources
	if sources == nil {
		sources = []Source{}
	}
	if err := enc.Encode(sources); err != nil {
		return fmt.Errorf("encode sources: %w", err)
	}
	country := acledCountries()[inc.CountryCode]

	put("event_id_cnty", id)
	put("event_date", at.Format(time.DateOnly))
	put("year", num(int64(at.Year())))
	put("time_precision", num(int64(inc.TimePrecision)))
	put("event_type", inc.EventType)
	put("sub_event_type", inc.SubEventType)
	put("actor1", inc.Actor1)
	put("actor2", inc.Actor2)
	put("iso", country.numericString())
	put("country", country.name)
	put("admin1", inc.Admin1)
	put("location", inc.LocationName)
	put("latitude", flt(inc.Point.Lat()))
	put("longitude", flt(inc.Point.Lon()))
	put("geo_precision", num(int64(inc.GeoPrecision)))
	put("source", strings.Join(names, "; "))
	put("notes", inc.Notes)
	put("fatalities", num(int64(inc.Fatalities)))
	if !inc.UpdatedAt.IsZero() {
		put("timestamp", num(inc.UpdatedAt.Unix()))
	}
	if inc.ID != 0 {
		put("id", num(inc.ID))
	}
	put("status", inc.Status)
	put("title", inc.Title)
	put("occurred_at", at.Format(time.RFC3339Nano))
	put("sources_json", strings.TrimRight(w.json.String(), "\n"))
	put("country_code", inc.CountryCode)
	put("nearest_place_name", inc.NearestPlaceName)
	if inc.NearestPlaceDistance != nil {
		put("nearest_place_distance_m", flt(*inc.NearestPlaceDistance))
	}
	if inc.BorderDistance != nil {
		put("border_distance_m", flt(*inc.BorderDistance))
	}
	if inc.ReportID != nil {
		put("report_id", num(*inc.ReportID))
	}
	put("demo", strconv.FormatBool(inc.Demo))
	return w.csv.Write(r)
}

// Flush writes any buffered data and returns the first write error.
func (w *ACLEDWriter) Flush() error {
	w.csv.Flush()
	return w.csv.Error()
}

// acledCountry is an ISO 3166-1 country as ACLED names it.
type acledCountry struct {
	numeric int    // ISO 3166-1 numeric, ACLED's "iso"
	name    string // short English name, as ACLED's "country"
}

func (c acledCountry) numericString() string {
	if c.numeric == 0 {
		return ""
	}
	return strconv.Itoa(c.numeric)
}

// ACLEDCountry returns ACLED's iso (ISO 3166-1 numeric) and country name
// for an ISO 3166-1 alpha-2 code.
func ACLEDCountry(code string) (numeric int, name string, ok bool) {
	c, ok := acledCountries()[code]
	return c.numeric, c.name, ok
}

// acledCountries parses isoCountries once.
var acledCountries = sync.OnceValue(func() map[string]acledCountry {
	m := map[string]acledCountry{}
	for e := range strings.SplitSeq(isoCountries, "|") {
		e = strings.TrimSpace(e)
		if len(e) < 6 {
			continue
		}
		n, _ := strconv.Atoi(e[2:5])
		m[e[:2]] = acledCountry{numeric: n, name: e[5:]}
	}
	return m
})

// isoCountries lists ISO 3166-1 countries as alpha-2, three-digit numeric
// code and short name (the common English name ACLED uses), "|"-separated.
// Source: ISO 3166-1 (as shipped by Debian's iso-codes); facts, not code.
const isoCountries = `AD020Andorra|AE784United Arab Emirates|AF004Afghanistan|AG028Antigua and Barbuda|
AI660Anguilla|AL008Albania|AM051Armenia|AO024Angola|AQ010Antarctica|AR032Argentina|
AS016American Samoa|AT040Austria|AU036Australia|AW533Aruba|AX248Åland Islands|
AZ031Azerbaijan|BA070Bosnia and Herzegovina|BB052Barbados|BD050Bangladesh|BE056Belgium|
BF854Burkina Faso|BG100Bulgaria|BH048Bahrain|BI108Burundi|BJ204Benin|
BL652Saint Barthélemy|BM060Bermuda|BN096Brunei|BO068Bolivia|BQ535Caribbean Netherlands|
BR076Brazil|BS044Bahamas|BT064Bhutan|BV074Bouvet Island|BW072Botswana|BY112Belarus|
BZ084Belize|CA124Canada|CC166Cocos Islands|CD180Democratic Republic of Congo|
CF140Central African Republic|CG178Republic of Congo|CH756Switzerland|CI384Ivory Coast|
CK184Cook Islands|CL152Chile|CM120Cameroon|CN156China|CO170Colombia|CR188Costa Rica|
CU192Cuba|CV132Cabo Verde|CW531Curaçao|CX162Christmas Island|CY196Cyprus|
CZ203Czech Republic|DE276Germany|DJ262Djibouti|DK208Denmark|DM212Dominica|
DO214Dominican Republic|DZ012Algeria|EC218Ecuador|EE233Estonia|EG818Egypt|
EH732Western Sahara|ER232Eritrea|ES724Spain|ET231Ethiopia|FI246Finland|FJ242Fiji|
FK238Falkland Islands|FM583Micronesia|FO234Faroe Islands|FR250France|GA266Gabon|
GB826United Kingdom|GD308Grenada|GE268Georgia|GF254French Guiana|GG831Guernsey|GH288Ghana|
GI292Gibraltar|GL304Greenland|GM270Gambia|GN324Guinea|GP312Guadeloupe|
GQ226Equatorial Guinea|GR300Greece|GS239South Georgia and the South Sandwich Islands|
GT320Guatemala|GU316Guam|GW624Guinea-Bissau|GY328Guyana|HK344Hong Kong|
HM334Heard Island and McDonald Islands|HN340Honduras|HR191Croatia|HT332Haiti|HU348Hungary|
ID360Indonesia|IE372Ireland|IL376Israel|IM833Isle of Man|IN356India|
IO086British Indian Ocean Territory|IQ368Iraq|IR364Iran|IS352Iceland|IT380Italy|
JE832Jersey|JM388Jamaica|JO400Jordan|JP392Japan|KE404Kenya|KG417Kyrgyzstan|KH116Cambodia|
KI296Kiribati|KM174Comoros|KN659Saint Kitts and Nevis|KP408North Korea|KR410South Korea|
KW414Kuwait|KY136Cayman Islands|KZ398Kazakhstan|LA418Laos|LB422Lebanon|LC662Saint Lucia|
LI438Liechtenstein|LK144Sri Lanka|LR430Liberia|LS426Lesotho|LT440Lithuania|
LU442Luxembourg|LV428Latvia|LY434Libya|MA504Morocco|MC492Monaco|MD498Moldova|
ME499Montenegro|MF663Saint Martin|MG450Madagascar|MH584Marshall Islands|
MK807North Macedonia|ML466Mali|MM104Myanmar|MN496Mongolia|MO446Macao|
MP580Northern Mariana Islands|MQ474Martinique|MR478Mauritania|MS500Montserrat|MT470Malta|
MU480Mauritius|MV462Maldives|MW454Malawi|MX484Mexico|MY458Malaysia|MZ508Mozambique|
NA516Namibia|NC540New Caledonia|NE562Niger|NF574Norfolk Island|NG566Nigeria|
NI558Nicaragua|NL528Netherlands|NO578Norway|NP524Nepal|NR520Nauru|NU570Niue|
NZ554New Zealand|OM512Oman|PA591Panama|PE604Peru|PF258French Polynesia|
PG598Papua New Guinea|PH608Philippines|PK586Pakistan|PL616Poland|
PM666Saint Pierre and Miquelon|PN612Pitcairn|PR630Puerto Rico|PS275Palestine|
PT620Portugal|PW585Palau|PY600Paraguay|QA634Qatar|RE638Réunion|RO642Romania|RS688Serbia|
RU643Russia|RW646Rwanda|SA682Saudi Arabia|SB090Solomon Islands|SC690Seychelles|SD729Sudan|
SE752Sweden|SG702Singapore|SH654Saint Helena|SI705Slovenia|SJ744Svalbard and Jan Mayen|
SK703Slovakia|SL694Sierra Leone|SM674San Marino|SN686Senegal|SO706Somalia|SR740Suriname|
SS728South Sudan|ST678Sao Tome and Principe|SV222El Salvador|SX534Sint Maarten|SY760Syria|
SZ748eSwatini|TC796Turks and Caicos Islands|TD148Chad|TF260French Southern Territories|
TG768Togo|TH764Thailand|TJ762Tajikistan|TK772Tokelau|TL626Timor-Leste|TM795Turkmenistan|
TN788Tunisia|TO776Tonga|TR792Turkey|TT780Trinidad and Tobago|TV798Tuvalu|TW158Taiwan|
TZ834Tanzania|UA804Ukraine|UG800Uganda|UM581United States Minor Outlying Islands|
US840United States|UY858Uruguay|UZ860Uzbekistan|VA336Vatican City|
VC670Saint Vincent and the Grenadines|VE862Venezuela|VG092British Virgin Islands|
VI850United States Virgin Islands|VN704Vietnam|VU548Vanuatu|WF876Wallis and Futuna|
WS882Samoa|YE887Yemen|YT175Mayotte|ZA710South Africa|ZM894Zambia|ZW716Zimbabwe`
