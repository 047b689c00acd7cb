package geo

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

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

// ACLEDExportColumns returns the header of a one-pass export
// (NewACLEDWriter): the current ACLED columns, incidentmap's own and the
// derived ones.
func ACLEDExportColumns() []string {
	return slices.Concat(acledColumns, acledExtraColumns)
}

// ACLEDLayout chooses the columns of a CSV export in a first pass over
// the incidents (Observe each, then Columns): the columns ACLED's layout
// requires (ACLEDExportRequiredColumns()), and every other column some
// incident has a value for, from its SourceRecord or its fields. Then
// NewACLEDColumnsWriter writes the second pass with those columns. An
// export of imported ACLED rows thus gives back the file's columns.
type ACLEDLayout struct {
	derived bool
	seen    map[string]bool
}

// ACLEDOption configures an ACLEDLayout.
type ACLEDOption func(*ACLEDLayout)

// WithDerived adds the columns the store derives (DerivedColumns: id,
// country_code, nearest place, border distance, geo_check).
func WithDerived() ACLEDOption { return func(l *ACLEDLayout) { l.derived = true } }

// NewACLEDLayout starts a layout with no incident observed.
func NewACLEDLayout(opts ...ACLEDOption) *ACLEDLayout {
	l := &ACLEDLayout{seen: map[string]bool{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// renderedColumns are the columns rendered from Incident's fields.
var renderedColumns = slices.Concat(acledColumnOrder, incidentmapColumns)

// Observe notes which columns inc has a value for.
func (l *ACLEDLayout) Observe(inc *Incident) {
	for _, col := range renderedColumns {
		if !l.seen[col] && exportCell(inc, col) != "" {
			l.seen[col] = true
		}
	}
	for col, v := range inc.SourceRecord {
		if !l.seen[col] && v != "" && exportCell(inc, col) != "" {
			l.seen[col] = true
		}
	}
}

// Columns returns the header: ACLED's columns in ACLED's order (every era's
// columns merged), then unknown source columns sorted by name, then
// incidentmap's own, then the derived ones when asked for.
func (l *ACLEDLayout) Columns() []string {
	var cols []string
	for _, c := range acledColumnOrder {
		if l.seen[c] || slices.Contains(acledExportRequiredColumns, c) {
			cols = append(cols, c)
		}
	}
	var unknown []string
	for c := range l.seen {
		if !slices.Contains(renderedColumns, c) && !(l.derived && slices.Contains(derivedColumns, c)) {
			unknown = append(unknown, c)
		}
	}
	slices.Sort(unknown)
	cols = append(cols, unknown...)
	for _, c := range incidentmapColumns {
		if l.seen[c] {
			cols = append(cols, c)
		}
	}
	if l.derived {
		cols = append(cols, derivedColumns...)
	}
	return cols
}

// ACLEDWriter writes incidents as CSV in ACLED's layout. Each cell is the
// incident's SourceRecord value for that column when there is one that
// still agrees with the incident's fields, else the fields' canonical
// rendering. Text cells are neutralised against formula injection;
// numeric cells holding numbers are written plain.
type ACLEDWriter struct {
	csv     *csv.Writer
	cols    []string
	numeric []bool
	derived []bool
	record  []string
}

// NewACLEDWriter writes every column of ACLEDExportColumns in one pass;
// call WriteHeader first and Flush at the end. Source columns outside
// that list are not written: use ACLEDLayout for a faithful export.
func NewACLEDWriter(w io.Writer) *ACLEDWriter {
	return NewACLEDColumnsWriter(w, ACLEDExportColumns())
}

// NewACLEDColumnsWriter writes the columns given (ACLEDLayout.Columns);
// call WriteHeader first and Flush at the end.
func NewACLEDColumnsWriter(w io.Writer, columns []string) *ACLEDWriter {
	aw := &ACLEDWriter{csv: csv.NewWriter(w), cols: slices.Clone(columns), record: make([]string, len(columns)),
		numeric: make([]bool, len(columns)), derived: make([]bool, len(columns))}
	for i, c := range columns {
		aw.numeric[i] = slices.Contains(numericColumns, c)
		aw.derived[i] = slices.Contains(derivedColumns, c)
	}
	return aw
}

// WriteHeader writes the column names.
func (w *ACLEDWriter) WriteHeader() error { return w.csv.Write(w.cols) }

// Write writes one incident.
func (w *ACLEDWriter) Write(inc *Incident) error {
	for i, c := range w.cols {
		var v string
		if w.derived[i] {
			v = canonicalCell(inc, c)
		} else {
			v = exportCell(inc, c)
		}
		if !w.numeric[i] || (v != "" && !isDecimalNumber(v)) {
			v = NeutraliseCell(v)
		}
		w.record[i] = v
	}
	return w.csv.Write(w.record)
}

// Flush writes any buffered data and returns the first write error.
func (w *ACLEDWriter) Flush() error {
	w.csv.Flush()
	return w.csv.Error()
}

// exportCell is the cell of column col for inc: the source's text when
// it still reads as the incident's value, else the canonical rendering.
func exportCell(inc *Incident, col string) string {
	if v, ok := inc.SourceRecord[col]; ok && readsBack(col, v, inc) {
		return v
	}
	return canonicalCell(inc, col)
}

// canonicalCell renders column col of inc from its fields alone. Columns
// the fields say nothing about are empty. A reader keeps a source cell in
// SourceRecord exactly when it differs from this rendering.
func canonicalCell(inc *Incident, col string) string {
	if v, ok := acledCell(inc, col); ok {
		return v
	}
	if v, ok := incidentmapCell(inc, col); ok {
		return v
	}
	v, _ := derivedCell(inc, col)
	return v
}

// acledCell renders one of ACLED's own columns (false: col is not one).
func acledCell(inc *Incident, col string) (string, bool) {
	num := func(v int64) string { return strconv.FormatInt(v, 10) }
	flt := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	at := inc.OccurredAt.UTC()
	fromACLED := inc.SourceDataset == DatasetACLED
	switch col {
	case "event_id_cnty":
		if inc.ExternalID == "" && inc.ID != 0 {
			return "IM" + num(inc.ID), true
		}
		return inc.ExternalID, true
	case "event_date":
		if at.IsZero() {
			return "", true
		}
		return at.Format(time.DateOnly), true
	case "year":
		if at.IsZero() {
			return "", true
		}
		return num(int64(at.Year())), true
	case "time_precision":
		if inc.TimePrecision == 0 {
			return "", true
		}
		return num(int64(inc.TimePrecision)), true
	case "event_type":
		if legacyRendered(inc) {
			return inc.OriginalEventType, true
		}
		return inc.EventType, true
	case "sub_event_type":
		if legacyRendered(inc) {
			return inc.OriginalSubEventType, true
		}
		return inc.SubEventType, true
	case "actor1":
		return inc.Actor1, true
	case "actor2":
		return inc.Actor2, true
	case "notes":
		return inc.Notes, true
	case "location":
		return inc.LocationName, true
	case "admin1":
		return inc.Admin1, true
	case "admin2":
		return inc.Admin2, true
	case "admin3":
		return inc.Admin3, true
	case "iso", "country":
		return acledCountryCell(inc, col), true
	case "latitude":
		return flt(inc.Point.Lat()), true
	case "longitude":
		return flt(inc.Point.Lon()), true
	case "geo_precision":
		if inc.GeoPrecision == 0 {
			return "", true
		}
		return num(int64(inc.GeoPrecision)), true
	case "source":
		return sourceColumn(inc.Sources), true
	case "fatalities":
		return num(int64(inc.Fatalities)), true
	case "timestamp":
		// ACLED's timestamp is the source's (kept in SourceRecord); for
		// incidentmap's own records it is the last change.
		if fromACLED || inc.UpdatedAt.IsZero() {
			return "", true
		}
		return num(inc.UpdatedAt.Unix()), true
	}
	return "", false
}

// acledCountryCell renders ACLED's iso (numeric code) or country (name)
// column: as the source stated it, for ACLED rows and rows that state
// either; else from the derived country code.
func acledCountryCell(inc *Incident, col string) string {
	if inc.StatedISO != "" || inc.StatedCountry != "" || inc.SourceDataset == DatasetACLED {
		if col == "iso" {
			return inc.StatedISO
		}
		return inc.StatedCountry
	}
	n, name, _ := ACLEDCountry(inc.CountryCode)
	if col == "country" {
		return name
	}
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(int64(n), 10)
}

// incidentmapCell renders one of the columns incidentmap adds to keep its
// own record whole (incidentmapColumns; false: col is not one).
func incidentmapCell(inc *Incident, col string) (string, bool) {
	num := func(v int64) string { return strconv.FormatInt(v, 10) }
	at := inc.OccurredAt.UTC()
	switch col {
	case "status":
		if inc.Status == StatusVerified {
			return "", true
		}
		return inc.Status, true
	case "title":
		if inc.Title == defaultTitle(*inc) {
			return "", true
		}
		return inc.Title, true
	case "occurred_at":
		if at.IsZero() || at.Equal(at.Truncate(24*time.Hour)) {
			return "", true
		}
		return at.Format(time.RFC3339Nano), true
	case "sources_json":
		if !sourcesNeedJSON(inc.Sources) {
			return "", true
		}
		return sourcesJSON(inc.Sources), true
	case "demo":
		if inc.Demo {
			return "true", true
		}
		return "", true
	case "report_id":
		if inc.ReportID == nil {
			return "", true
		}
		return num(*inc.ReportID), true
	}
	return "", false
}

// derivedCell renders one of the derived columns (derivedColumns; false:
// col is not one).
func derivedCell(inc *Incident, col string) (string, bool) {
	num := func(v int64) string { return strconv.FormatInt(v, 10) }
	flt := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	switch col {
	case "id":
		if inc.ID == 0 {
			return "", true
		}
		return num(inc.ID), true
	case "country_code":
		return inc.CountryCode, true
	case "nearest_place_name":
		return inc.NearestPlaceName, true
	case "nearest_place_distance_m":
		if inc.NearestPlaceDistance == nil {
			return "", true
		}
		return flt(*inc.NearestPlaceDistance), true
	case "border_distance_m":
		if inc.BorderDistance == nil {
			return "", true
		}
		return flt(*inc.BorderDistance), true
	case "geo_check":
		return strings.Join(inc.GeoCheck, ";"), true
	case "contested":
		if inc.Contested {
			return "true", true
		}
		return "false", true
	case "duplicate_of":
		if inc.DuplicateOf == nil {
			return "", true
		}
		return num(*inc.DuplicateOf), true
	}
	return "", false
}

// sourceColumn renders ACLED's source column: the sources' publishers (or
// their URLs) joined by "; ".
func sourceColumn(list []Source) string {
	names := make([]string, 0, len(list))
	for _, s := range list {
		if s.Publisher != "" {
			names = append(names, s.Publisher)
		} else if s.URL != "" {
			names = append(names, s.URL)
		}
	}
	return strings.Join(names, "; ")
}

// sourcesJSON renders the sources_json column: the sources as JSON, HTML
// left unescaped; empty if they cannot be encoded.
func sourcesJSON(list []Source) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(list); err != nil {
		return ""
	}
	return strings.TrimRight(b.String(), "\n")
}

// sourcesNeedJSON reports sources that ACLED's source column (publishers
// joined by "; ") would not give back: any field but the publisher, a
// publisher that is empty, padded or holds ";".
func sourcesNeedJSON(list []Source) bool {
	for _, s := range list {
		if s != (Source{Publisher: s.Publisher}) || s.Publisher == "" || strings.TrimSpace(s.Publisher) != s.Publisher ||
			strings.Contains(s.Publisher, ";") {
			return true
		}
	}
	return false
}

// legacyRendered reports an incident whose source used a pre-2019 event
// type that still maps to its current type: the export writes the
// source's type.
func legacyRendered(inc *Incident) bool {
	if inc.OriginalEventType == "" {
		return false
	}
	sr := inc.SourceRecord
	t, sub, ok := MapLegacyEventType(inc.OriginalEventType, interCodes(sr["inter1"], sr["inter2"], sr["interaction"]))
	if !ok || t != inc.EventType {
		return false
	}
	if inc.OriginalSubEventType != "" {
		return strings.EqualFold(inc.OriginalSubEventType, inc.SubEventType)
	}
	return sub == inc.SubEventType
}

// readsBack reports whether raw, a source's cell of column col, still
// reads as inc's value: a cell kept from the import that a later edit
// made stale is not written.
func readsBack(col, raw string, inc *Incident) bool {
	if slices.Contains(incidentmapColumns, col) {
		return incidentmapReadsBack(col, raw, inc)
	}
	null := isNullCell(raw)
	canon := canonicalCell(inc, col)
	wholeIs := func(want, empty int) bool {
		if null || strings.TrimSpace(raw) == "" {
			return want == empty
		}
		n, ok := parseWholeNumber(raw)
		return ok && n == want
	}
	switch col {
	case "event_date":
		d, ok := parseACLEDDate(raw)
		day := inc.OccurredAt.UTC().Truncate(24 * time.Hour)
		return ok && (d.day.Equal(day) || d.dayFirst.Equal(day) || d.monthFirst.Equal(day))
	case "year":
		if null || strings.TrimSpace(raw) == "" {
			return true // redundant with event_date; empty says nothing else
		}
		return wholeIs(inc.OccurredAt.UTC().Year(), -1)
	case "time_precision":
		return wholeIs(int(inc.TimePrecision), 1)
	case "geo_precision":
		return wholeIs(int(inc.GeoPrecision), 1)
	case "fatalities":
		return wholeIs(inc.Fatalities, 0)
	case "latitude", "longitude":
		f, ok := parseCoord(strings.TrimSpace(raw))
		return ok && strconv.FormatFloat(f, 'f', -1, 64) == canon
	case "event_type", "sub_event_type":
		if null {
			raw = ""
		}
		return legacyKey(raw) == legacyKey(canon)
	case "source":
		if null {
			raw = ""
		}
		return canonicalCell(&Incident{Sources: sourceNames(raw)}, "source") == canon
	case "event_id_cnty", "country":
		if null {
			raw = ""
		}
		return strings.TrimSpace(raw) == canon
	case "iso":
		if n, ok := parseWholeNumber(raw); ok {
			return strconv.Itoa(n) == canon
		}
		return (null || strings.TrimSpace(raw) == "") && canon == ""
	case "actor1", "actor2", "notes", "location", "admin1", "admin2", "admin3":
		if null {
			raw = ""
		}
		return raw == canon
	}
	return true
}

// incidentmapReadsBack is readsBack for the columns incidentmap adds
// (incidentmapColumns).
func incidentmapReadsBack(col, raw string, inc *Incident) bool {
	null := isNullCell(raw)
	canon := canonicalCell(inc, col)
	switch col {
	case "status":
		s := strings.ToLower(strings.TrimSpace(raw))
		if s == StatusVerified {
			s = ""
		}
		return s == strings.ToLower(canon)
	case "title":
		if strings.TrimSpace(raw) == "" || null {
			return canon == ""
		}
		return raw == inc.Title
	case "occurred_at":
		s := strings.TrimSpace(raw)
		if s == "" || null {
			return canon == ""
		}
		t, ok := parseTimestamp(s)
		if !ok {
			return false
		}
		day := inc.OccurredAt.UTC().Truncate(24 * time.Hour)
		// A reader takes occurred_at only when it falls on event_date.
		return t.Equal(inc.OccurredAt) || (canon == "" && !t.Truncate(24*time.Hour).Equal(day))
	case "sources_json":
		s := strings.TrimSpace(raw)
		if s == "" || null {
			return canon == ""
		}
		var list []Source
		if json.Unmarshal([]byte(s), &list) != nil {
			return false
		}
		return slices.Equal(list, inc.Sources) || (len(list) == 0 && len(inc.Sources) == 0)
	case "demo":
		s := strings.ToLower(strings.TrimSpace(raw))
		return (s == "true" || s == "1") == inc.Demo
	}
	return true
}
