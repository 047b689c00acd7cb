package geo

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

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

// Values of Incident.SourceDataset set by the readers.
const (
	DatasetACLED       = "ACLED"
	DatasetIncidentmap = "incidentmap" // incidentmap's own CSV export
	DatasetGeoJSON     = "GeoJSON"
)

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
	externalID, date, year, occurredAt, timePrecision, eventType, subEventType,
	actor1, actor2, fatalities, title, notes, location, admin1, admin2, admin3,
	country, iso, lat, lon, geoPrecision, source, sourcesJSON, status, demo string
	inter []int // actor type codes, for pre-2019 Riots/Protests
}

// fieldNames name each field in the source format, for errors. An empty
// date name means the format has no date-only field: occurred_at is then
// required and may carry a time.
type fieldNames struct {
	externalID, date, year, occurredAt, timePrecision, eventType, subEventType,
	actor1, actor2, fatalities, title, notes, location, admin1, admin2, admin3,
	country, iso, lat, lon, geoPrecision, source, sourcesJSON, status, demo string
}

var acledNames = fieldNames{
	externalID: "event_id_cnty", date: "event_date", year: "year", occurredAt: "occurred_at",
	timePrecision: "time_precision", eventType: "event_type", subEventType: "sub_event_type",
	actor1: "actor1", actor2: "actor2", fatalities: "fatalities", title: "title", notes: "notes",
	location: "location", admin1: "admin1", admin2: "admin2", admin3: "admin3", country: "country",
	iso: "iso", lat: "latitude", lon: "longitude", geoPrecision: "geo_precision", source: "source",
	sourcesJSON: "sources_json", status: "status", demo: "demo",
}

var geojsonNames = fieldNames{
	externalID: "properties.external_id", occurredAt: "properties.occurred_at",
	timePrecision: "properties.time_precision", eventType: "properties.event_type",
	subEventType: "properties.sub_event_type", actor1: "properties.actor1", actor2: "properties.actor2",
	fatalities: "properties.fatalities", title: "properties.title", notes: "properties.notes",
	location: "properties.location_name", admin1: "properties.admin1", admin2: "properties.admin2",
	admin3: "properties.admin3", country: "properties.country", iso: "properties.iso",
	lat: "geometry", lon: "geometry", geoPrecision: "properties.geo_precision",
	sourcesJSON: "properties.sources", status: "properties.status", demo: "properties.demo",
}

// rowBuilder turns raw fields into an Incident, collecting every error.
type rowBuilder struct {
	line int
	errs []RowError
	// order is the file's numeric date order when known; final says no
	// later row can settle it, so an ambiguous date is an error.
	order    DateOrder
	final    bool
	lookedTo int // last line read, for the ambiguity's message
	// Out: pending is true when the date needs an order not yet known;
	// evidence is the order the date alone proves.
	pending  bool
	evidence DateOrder
}

func (b *rowBuilder) fail(column, kind, format string, args ...any) {
	b.errs = append(b.errs, RowError{Line: b.line, Column: column, Kind: kind, Reason: fmt.Sprintf(format, args...)})
}

// text checks a free-text value: valid UTF-8, no NUL (PostgreSQL text
// cannot hold one) and at most limit characters (0: no limit).
func (b *rowBuilder) text(column, s string, limit int) string {
	switch {
	case !utf8.ValidString(s):
		b.fail(column, KindNotUTF8, "not valid UTF-8")
		return ""
	case strings.IndexByte(s, 0) >= 0:
		b.fail(column, KindNUL, "contains a NUL character")
		return ""
	case limit > 0 && utf8.RuneCountInString(s) > limit:
		b.fail(column, KindTooLong, "too long (%d characters, at most %d)", utf8.RuneCountInString(s), limit)
		return ""
	}
	return s
}

// small parses an optional code in [1, 3] ("2.0" too); empty is 1.
func (b *rowBuilder) small(column, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 1
	}
	n, ok := parseWholeNumber(s)
	if !ok || n < 1 || n > 3 {
		b.fail(column, KindNotCode, "must be 1, 2 or 3, got %s", quoteShort(s))
		return 1
	}
	return n
}

// coord parses a decimal number in [-limit, limit].
func (b *rowBuilder) coord(column, s string, limit float64, what string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		b.fail(column, KindMissing, "missing %s", what)
		return 0
	}
	if !isDecimalNumber(s) {
		b.fail(column, KindNotNumber, "%s is not a number: %s", what, quoteShort(s))
		return 0
	}
	f, ok := parseCoord(s)
	if !ok {
		b.fail(column, KindNotNumber, "%s is not a finite number: %s", what, quoteShort(s))
		return 0
	}
	if f < -limit || f > limit {
		b.fail(column, KindOutOfRange, "%s %s is out of range [%g, %g]", what, s, -limit, limit)
		return 0
	}
	return f
}

// build checks f and returns the incident it describes.
func (b *rowBuilder) build(f incidentFields, n fieldNames) Incident {
	var inc Incident
	inc.ExternalID = b.text(n.externalID, strings.TrimSpace(f.externalID), maxExternalIDLen)
	if inc.ExternalID == "" && len(b.errs) == 0 {
		b.fail(n.externalID, KindMissing, "missing external id")
	}
	inc.OccurredAt = b.when(f, n)
	inc.TimePrecision = TimePrecision(b.small(n.timePrecision, f.timePrecision))
	inc.EventType, inc.SubEventType, inc.OriginalEventType, inc.OriginalSubEventType = b.eventTypes(f, n)
	inc.Actor1 = b.text(n.actor1, f.actor1, maxActorLen)
	inc.Actor2 = b.text(n.actor2, f.actor2, maxActorLen)
	inc.Fatalities = b.fatalities(n.fatalities, f.fatalities)
	inc.Notes = b.text(n.notes, f.notes, maxNotesLen)
	inc.LocationName = b.text(n.location, f.location, maxLocationLen)
	inc.Admin1 = b.text(n.admin1, f.admin1, 0)
	inc.Admin2 = b.text(n.admin2, f.admin2, 0)
	inc.Admin3 = b.text(n.admin3, f.admin3, 0)
	inc.StatedCountry = b.text(n.country, strings.TrimSpace(f.country), 0)
	iso := strings.TrimSpace(f.iso)
	if num, ok := parseWholeNumber(iso); ok {
		iso = fmt.Sprint(num) // "31.0" from a spreadsheet is 31
	}
	inc.StatedISO = b.text(n.iso, iso, 0)
	inc.StatedCountryCode = StatedCountryCode(inc.StatedISO, inc.StatedCountry)
	lat := b.coord(n.lat, f.lat, 90, "latitude")
	lon := b.coord(n.lon, f.lon, 180, "longitude")
	inc.Point = [2]float64{lon, lat}
	inc.GeoPrecision = GeoPrecision(b.small(n.geoPrecision, f.geoPrecision))
	inc.Sources = b.sources(f, n)
	if s := strings.TrimSpace(f.status); s != "" {
		if st, ok := canonicalIn(incidentStatuses)(s); ok {
			inc.Status = st
		} else {
			b.fail(n.status, KindUnknownStatus, "unknown status %s (want %s)", quoteShort(s), strings.Join(incidentStatuses, ", "))
		}
	}
	switch strings.ToLower(strings.TrimSpace(f.demo)) {
	case "", "false", "0":
	case "true", "1":
		inc.Demo = true
	default:
		b.fail(n.demo, KindNotBool, "want true or false, got %s", quoteShort(f.demo))
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
			b.fail(n.occurredAt, KindNotDate, "not an RFC 3339 date-time or a date: %s", quoteShort(s))
		} else if y := t.Year(); y < minImportYear || y > maxImportYear {
			b.fail(n.occurredAt, KindOutOfRange, "year %d out of range [%d, %d]", y, minImportYear, maxImportYear)
		} else {
			exact = t
		}
	} else if n.date == "" {
		b.fail(n.occurredAt, KindMissing, "missing date")
	}
	if n.date == "" {
		return exact
	}
	s := strings.TrimSpace(f.date)
	if s == "" {
		b.fail(n.date, KindMissing, "missing date")
		return time.Time{}
	}
	d, ok := parseACLEDDate(s)
	if !ok {
		b.fail(n.date, KindNotDate, `not a date (want 2020-10-18, "18 October 2020", 18-Oct-2020 or 9-May-20): %s`, quoteShort(s))
		return time.Time{}
	}
	day, evidence, outcome := d.resolve(b.order)
	b.evidence = evidence
	switch outcome {
	case dateAmbiguous:
		if !b.final {
			b.pending = true
			return time.Time{}
		}
		b.fail(n.date, KindAmbiguousDate, "%s could be day/month or month/day, and no numeric date up to line %d has a day above 12 to tell; write dates as 2020-09-05 or 5 September 2020", quoteShort(s), max(b.lookedTo, b.line))
		return time.Time{}
	case dateConflict:
		b.fail(n.date, KindDateOrder, "%s is only a date read %s, but the file's other dates are %s", quoteShort(s), evidence, b.order)
		return time.Time{}
	}
	if y := day.Year(); y < minImportYear || y > maxImportYear {
		b.fail(n.date, KindOutOfRange, "year %d out of range [%d, %d]", y, minImportYear, maxImportYear)
		return time.Time{}
	}
	// year repeats event_date's year (ACLED); one that does not is a
	// broken row, not a value to keep.
	if y := strings.TrimSpace(f.year); y != "" {
		if v, ok := parseWholeNumber(y); !ok || v != day.Year() {
			b.fail(n.year, KindYearMismatch, "year %s does not match event_date %s", quoteShort(y), day.Format(time.DateOnly))
			return time.Time{}
		}
	}
	if !exact.IsZero() && exact.Truncate(24*time.Hour).Equal(day) {
		return exact
	}
	return day
}

// eventTypes returns the current event type and sub-event type, and the
// source's own when it used the pre-2019 taxonomy.
func (b *rowBuilder) eventTypes(f incidentFields, n fieldNames) (typ, sub, origType, origSub string) {
	t := strings.TrimSpace(f.eventType)
	if t == "" {
		b.fail(n.eventType, KindMissing, "missing event type")
		return
	}
	sub = strings.TrimSpace(f.subEventType)
	canon, ok := canonicalIn(eventTypes)(t)
	if !ok {
		lt, ls, ok := MapLegacyEventType(t, f.inter)
		if !ok {
			b.fail(n.eventType, KindUnknownEventType, "unknown event type %s", quoteShort(t))
			return
		}
		if sub != "" {
			// The old taxonomy had no sub-event types: keep what is there.
			if cs, ok := canonicalIn(eventTaxonomy[lt])(sub); ok {
				return lt, cs, t, sub
			}
			b.fail(n.subEventType, KindSubTypeMismatch, "%s is not a sub-event type of %q (mapped from the pre-2019 type %s)", quoteShort(sub), lt, quoteShort(t))
			return
		}
		return lt, ls, t, ""
	}
	if sub == "" {
		return canon, "", "", ""
	}
	if cs, ok := canonicalIn(eventTaxonomy[canon])(sub); ok {
		return canon, cs, "", ""
	}
	if _, ok := canonicalIn(SubEventTypes())(sub); ok {
		b.fail(n.subEventType, KindSubTypeMismatch, "%s is not a sub-event type of %q", quoteShort(sub), canon)
	} else {
		b.fail(n.subEventType, KindUnknownSubType, "unknown sub-event type %s", quoteShort(sub))
	}
	return canon, "", "", ""
}

func (b *rowBuilder) fatalities(column, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, ok := parseWholeNumber(s)
	if !ok {
		if isASCIIDigits(s) {
			b.fail(column, KindOutOfRange, "more than %d", maxFatalities)
		} else {
			b.fail(column, KindNotWholeNumber, "must be a whole number of at least 0, got %s", quoteShort(s))
		}
		return 0
	}
	if n > maxFatalities {
		b.fail(column, KindOutOfRange, "more than %d", maxFatalities)
		return 0
	}
	return n
}

// sources reads the JSON list when given, else ACLED's ";"-separated
// source names. ACLED does not say when each source published, so the
// names carry no date.
func (b *rowBuilder) sources(f incidentFields, n fieldNames) []Source {
	if s := strings.TrimSpace(f.sourcesJSON); s != "" {
		if b.text(n.sourcesJSON, s, 0) == "" {
			return nil
		}
		var list []Source
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			b.fail(n.sourcesJSON, KindBadSources, "not a JSON list of sources {url, publisher, title, published_at, ...}: %v", err)
			return nil
		}
		for i, src := range list {
			for _, v := range []string{src.Publisher, src.URL, src.Title, src.PublishedAt, src.AccessedAt, src.ArchiveURL} {
				if strings.IndexByte(v, 0) >= 0 {
					b.fail(n.sourcesJSON, KindNUL, "source %d contains a NUL character", i+1)
					return nil
				}
			}
		}
		b.checkSources(n.sourcesJSON, list)
		return list
	}
	if f.source == "" || b.text(n.source, f.source, 0) == "" {
		return nil
	}
	list := sourceNames(f.source)
	b.checkSources(n.source, list)
	return list
}

// checkSources fails column for each invalid source.
func (b *rowBuilder) checkSources(column string, list []Source) {
	v := &ValidationError{}
	ValidateSources(v, "sources", list, time.Now())
	for _, e := range v.Errors {
		b.fail(column, KindBadSources, "%s: %s", e.Field, e.Message)
	}
}

// sourceNames splits ACLED's source column ("A; B") into sources, one a
// publisher. ACLED names who published, not what: the kind is left empty
// (not guessed), and the ACLED record itself is not listed as a source
// of its own, which would count ACLED as one more independent publisher
// of what it only collected (its provenance is source_dataset).
func sourceNames(s string) []Source {
	var list []Source
	for name := range strings.SplitSeq(s, ";") {
		if name = strings.TrimSpace(name); name != "" {
			list = append(list, Source{Publisher: name})
		}
	}
	return list
}

// parseCoord parses a finite decimal number, without negative zero.
func parseCoord(s string) (float64, bool) {
	if !isDecimalNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	if f == 0 {
		f = 0 // no negative zero
	}
	return f, true
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
		b.fail("external_id", KindMissing, "missing or padded with spaces")
	}
	b.text("external_id", inc.ExternalID, maxExternalIDLen)
	if y := inc.OccurredAt.UTC().Year(); inc.OccurredAt.IsZero() || y < minImportYear || y > maxImportYear {
		b.fail("occurred_at", KindOutOfRange, "missing or out of range")
	}
	if inc.TimePrecision < TimeDay || inc.TimePrecision > TimeMonth {
		b.fail("time_precision", KindNotCode, "must be 1, 2 or 3")
	}
	if !ValidSubEventType(inc.EventType, inc.SubEventType) {
		b.fail("event_type", KindUnknownEventType, "%q / %q is not an ACLED event type and sub-event type", inc.EventType, inc.SubEventType)
	}
	b.text("actor1", inc.Actor1, maxActorLen)
	b.text("actor2", inc.Actor2, maxActorLen)
	if inc.Fatalities < 0 || inc.Fatalities > maxFatalities {
		b.fail("fatalities", KindOutOfRange, "out of range")
	}
	if strings.TrimSpace(inc.Title) == "" {
		b.fail("title", KindMissing, "missing")
	}
	b.text("title", inc.Title, maxTitleLen)
	b.text("notes", inc.Notes, maxNotesLen)
	b.text("location_name", inc.LocationName, maxLocationLen)
	for _, f := range [][2]string{{"admin1", inc.Admin1}, {"admin2", inc.Admin2}, {"admin3", inc.Admin3},
		{"country", inc.StatedCountry}, {"iso", inc.StatedISO}, {"original_event_type", inc.OriginalEventType},
		{"original_sub_event_type", inc.OriginalSubEventType}} {
		b.text(f[0], f[1], 0)
	}
	for k, v := range inc.SourceRecord {
		if b.text("source_record", k, 0) != k || b.text("source_record", v, 0) != v {
			break
		}
	}
	lon, lat := inc.Point.Lon(), inc.Point.Lat()
	if !(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90) {
		b.fail("geometry", KindOutOfRange, "coordinates out of range")
	}
	if inc.GeoPrecision < GeoExact || inc.GeoPrecision > GeoRegion {
		b.fail("geo_precision", KindNotCode, "must be 1, 2 or 3")
	}
	if inc.Status != "" && !slices.Contains(incidentStatuses, inc.Status) {
		b.fail("status", KindUnknownStatus, "unknown status %q", inc.Status)
	}
	b.checkSources("sources", inc.Sources)
	return b.errs
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
