package geo

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// acledTestRow is a complete, valid ACLED record from the 2020
// Nagorno-Karabakh war, by column.
func acledTestRow() map[string]string {
	return map[string]string{
		"event_id_cnty": "AZE4521", "event_date": "18 October 2020", "year": "2020", "time_precision": "1",
		"disorder_type": "Political violence", "event_type": "Explosions/Remote violence",
		"sub_event_type": "Shelling/artillery/missile attack", "actor1": "Military Forces of Armenia (2018-)",
		"assoc_actor_1": "", "inter1": "1", "actor2": "Civilians (Azerbaijan)", "assoc_actor_2": "", "inter2": "7",
		"interaction": "17", "civilian_targeting": "Civilian targeting", "iso": "31",
		"region": "Caucasus and Central Asia", "country": "Azerbaijan", "admin1": "Ganja", "admin2": "", "admin3": "",
		"location": "Ganja", "latitude": "40.6828", "longitude": "46.3606", "geo_precision": "1",
		"source": "Azerbaijani Ministry of Defence; Reuters", "source_scale": "National-International",
		"notes":      "On 17 October 2020, a missile strike hit a residential area of Ganja at night, killing 13 civilians.",
		"fatalities": "13", "tags": "", "timestamp": "1603065600",
	}
}

// acledText writes rows under header (ACLEDColumns() when nil).
func acledText(header []string, rows ...map[string]string) string {
	if header == nil {
		header = acledColumns
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	for _, r := range rows {
		rec := make([]string, len(header))
		for i, c := range header {
			rec[i] = r[c]
		}
		w.Write(rec)
	}
	w.Flush()
	return b.String()
}

// readAll reads every row of an incident file.
func readAll(t *testing.T, r IncidentReader) []IncidentRow {
	t.Helper()
	var rows []IncidentRow
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
}

func readACLED(t *testing.T, text string) []IncidentRow {
	t.Helper()
	r, err := NewACLEDReader(strings.NewReader(text))
	if err != nil {
		t.Fatalf("NewACLEDReader: %v", err)
	}
	return readAll(t, r)
}

func TestParseACLEDDate(t *testing.T) {
	want := time.Date(2020, 10, 18, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"2020-10-18", "18 October 2020", "18-October-2020", "18 october 2020", "18 Oct 2020", "18-Oct-2020"} {
		if got, ok := ParseACLEDDate(s); !ok || !got.Equal(want) {
			t.Errorf("ParseACLEDDate(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	if got, ok := ParseACLEDDate("8 November 2020"); !ok || got.Day() != 8 {
		t.Errorf("single-digit day: %v, %v", got, ok)
	}
	for _, s := range []string{"", "2020-13-45", "5/9/2020", "31 February 2020", "October 18, 2020", "18 Octobre 2020"} {
		if got, ok := ParseACLEDDate(s); ok {
			t.Errorf("ParseACLEDDate(%q) = %v, want not a date", s, got)
		}
	}
}

// A full ACLED record becomes the incident it describes.
func TestACLEDReaderRecord(t *testing.T) {
	rows := readACLED(t, acledText(nil, acledTestRow()))
	if len(rows) != 1 || len(rows[0].Errors) > 0 {
		t.Fatalf("rows = %+v", rows)
	}
	got := rows[0].Incident
	want := Incident{
		ExternalID: "AZE4521", OccurredAt: time.Date(2020, 10, 18, 0, 0, 0, 0, time.UTC), TimePrecision: TimeDay,
		EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
		Actor1: "Military Forces of Armenia (2018-)", Actor2: "Civilians (Azerbaijan)", Fatalities: 13,
		Title:        "Shelling/artillery/missile attack in Ganja",
		Notes:        "On 17 October 2020, a missile strike hit a residential area of Ganja at night, killing 13 civilians.",
		LocationName: "Ganja", Admin1: "Ganja", Point: [2]float64{46.3606, 40.6828}, GeoPrecision: GeoExact,
		Sources:       []Source{{Publisher: "Azerbaijani Ministry of Defence"}, {Publisher: "Reuters"}},
		SourceDataset: DatasetACLED, StatedCountry: "Azerbaijan", StatedISO: "31", StatedCountryCode: "AZ",
		SourceRecord: map[string]string{"civilian_targeting": "Civilian targeting", "disorder_type": "Political violence",
			"event_date": "18 October 2020", "inter1": "1", "inter2": "7", "interaction": "17",
			"region": "Caucasus and Central Asia", "source_scale": "National-International", "timestamp": "1603065600"},
	}
	if !incidentsEqualFull(got, want) {
		t.Errorf("incident =\n%+v\nwant\n%+v", got, want)
	}
	if rows[0].Line != 2 {
		t.Errorf("line = %d, want 2", rows[0].Line)
	}
}

func incidentsEqual(a, b Incident) bool {
	if len(a.Sources) == 0 && len(b.Sources) == 0 {
		a.Sources, b.Sources = nil, nil
	}
	return a.ExternalID == b.ExternalID && a.OccurredAt.Equal(b.OccurredAt) && a.TimePrecision == b.TimePrecision &&
		a.EventType == b.EventType && a.SubEventType == b.SubEventType && a.Actor1 == b.Actor1 && a.Actor2 == b.Actor2 &&
		a.Fatalities == b.Fatalities && a.Title == b.Title && a.Notes == b.Notes && a.LocationName == b.LocationName &&
		a.Admin1 == b.Admin1 && a.Point == b.Point && a.GeoPrecision == b.GeoPrecision && a.Status == b.Status &&
		slices.Equal(a.Sources, b.Sources) && a.Demo == b.Demo
}

// incidentsEqualFull also compares provenance, stated fields and the
// source record.
func incidentsEqualFull(a, b Incident) bool {
	return incidentsEqual(a, b) && a.SourceDataset == b.SourceDataset &&
		maps.Equal(a.SourceRecord, b.SourceRecord) && a.StatedCountry == b.StatedCountry && a.StatedISO == b.StatedISO &&
		a.StatedCountryCode == b.StatedCountryCode && a.Admin2 == b.Admin2 && a.Admin3 == b.Admin3 &&
		a.OriginalEventType == b.OriginalEventType && a.OriginalSubEventType == b.OriginalSubEventType
}

// The header is matched by name, whatever its order, case, padding or
// byte order mark; unknown columns are kept; missing required columns
// are all reported, and so are duplicates.
func TestACLEDReaderHeader(t *testing.T) {
	row := acledTestRow()
	row["Extra"] = "ignored"
	header := []string{"\uFEFF Latitude ", "LONGITUDE", "Event_Type", "event_date", "Extra", "event_id_cnty"}
	text := acledText(header, map[string]string{"\uFEFF Latitude ": "40.6828", "LONGITUDE": "46.3606",
		"Event_Type": "Battles", "event_date": "2020-10-18", "Extra": "x", "event_id_cnty": "AZE1"})
	rows := readACLED(t, text)
	if len(rows) != 1 || len(rows[0].Errors) > 0 || rows[0].Incident.Point != [2]float64{46.3606, 40.6828} {
		t.Fatalf("rows = %+v", rows)
	}
	if got := rows[0].Incident.Title; got != "Battles" {
		t.Errorf("title without sub-event type or location = %q", got)
	}
	if got := rows[0].Incident.SourceRecord; !maps.Equal(got, map[string]string{"extra": "x"}) {
		t.Errorf("source record = %v, want the unknown column", got)
	}
	if cols, _ := csvTable(t, exportRows(t, []Incident{rows[0].Incident})); !slices.Contains(cols, "extra") {
		t.Errorf("export columns %v lack the unknown column", cols)
	}

	tests := []struct {
		text           string
		missing, dupes []string
	}{
		{"notes,event_type\n", []string{"event_id_cnty", "event_date", "latitude", "longitude"}, nil},
		{"", acledRequiredColumns, nil},
		{"event_id_cnty,event_date,event_type,latitude,longitude,notes,Notes\n", nil, []string{"notes"}},
	}
	for _, tt := range tests {
		_, err := NewACLEDReader(strings.NewReader(tt.text))
		var herr *HeaderError
		if !errors.As(err, &herr) || !errors.Is(err, ErrInvalid) {
			t.Errorf("header %q: err = %v, want *HeaderError", tt.text, err)
			continue
		}
		if !slices.Equal(herr.Missing, tt.missing) || !slices.Equal(herr.Duplicate, tt.dupes) {
			t.Errorf("header %q: missing %v, duplicate %v; want %v, %v", tt.text, herr.Missing, herr.Duplicate, tt.missing, tt.dupes)
		}
	}
}

// Every invalid value is reported with its line and column.
func TestACLEDReaderInvalidValues(t *testing.T) {
	tests := []struct {
		column, value string
		reason        string // substring
	}{
		{"event_id_cnty", "", "missing"},
		{"event_id_cnty", strings.Repeat("X", 101), "too long"},
		{"event_date", "2020-13-45", "not a date"},
		{"event_date", "18 October 1850", "year 1850 out of range"},
		{"event_date", "", "missing date"},
		{"year", "2019", `year "2019" does not match event_date 2020-10-18`},
		{"year", "twenty", "does not match"},
		{"time_precision", "4", "must be 1, 2 or 3"},
		{"event_type", "Skirmish", `unknown event type "Skirmish"`},
		{"event_type", "", "missing event type"},
		{"sub_event_type", "Peaceful protest", `not a sub-event type of "Explosions/Remote violence"`},
		{"sub_event_type", "Drone swarm", "unknown sub-event type"},
		{"actor1", "Military Forces \xff", "not valid UTF-8"},
		{"actor2", strings.Repeat("a", 301), "too long"},
		{"notes", "a\x00b", "NUL"},
		{"notes", strings.Repeat("n", 20001), "too long"},
		{"location", strings.Repeat("l", 301), "too long"},
		{"latitude", "95", "latitude 95 is out of range [-90, 90]"},
		{"latitude", "-90.5", "out of range"},
		{"latitude", "", "missing latitude"},
		{"latitude", "40,68", "not a number"},
		{"latitude", "NaN", "missing latitude"}, // pandas' missing value
		{"latitude", "Inf", "not a number"},
		{"latitude", "1e999", "not a finite number"},
		{"longitude", "-181", "longitude -181 is out of range [-180, 180]"},
		{"longitude", "0x2E", "not a number"},
		{"geo_precision", "0", "must be 1, 2 or 3"},
		{"fatalities", "-1", "whole number"},
		{"fatalities", "1.5", "whole number"},
		{"fatalities", "1000001", "more than 1000000"},
	}
	for _, tt := range tests {
		row := acledTestRow()
		row[tt.column] = tt.value
		rows := readACLED(t, acledText(nil, row))
		if len(rows) != 1 || len(rows[0].Errors) != 1 {
			t.Errorf("%s = %q: errors %+v, want one", tt.column, tt.value, rows[0].Errors)
			continue
		}
		got := rows[0].Errors[0]
		if got.Line != 2 || got.Column != tt.column || !strings.Contains(got.Reason, tt.reason) {
			t.Errorf("%s = %q: error %+v, want line 2, column %s, reason containing %q", tt.column, tt.value, got, tt.column, tt.reason)
		}
	}
}

// A row with several bad values reports each; reading goes on after bad
// rows, malformed CSV and short rows included, with physical line numbers.
func TestACLEDReaderGoesOn(t *testing.T) {
	bad := acledTestRow()
	bad["latitude"], bad["event_type"], bad["event_date"] = "95", "Skirmish", "yesterday"
	multiline := acledTestRow()
	multiline["notes"] = "First line.\nSecond line."
	ok := strings.SplitN(acledText(nil, acledTestRow()), "\n", 2)[1]
	text := acledText(nil, acledTestRow(), bad, multiline) + // lines 1-5
		"AZE9,2020-10-18,\"Batt\"les\",40,46\n" + // line 6: a stray quote
		"short,row\n" + // line 7
		ok // line 8
	rows := readACLED(t, text)
	var summary []string
	for _, r := range rows {
		var cols []string
		for _, e := range r.Errors {
			cols = append(cols, e.Column)
		}
		summary = append(summary, strings.Join(append([]string{string(rune('0' + r.Line))}, cols...), ":"))
	}
	want := []string{"2", "3:event_date:event_type:latitude", "4", "6:", "7:", "8"}
	if !slices.Equal(summary, want) {
		t.Errorf("rows (line:error columns) = %v, want %v", summary, want)
	}
}

// occurred_at (incidentmap's own column) gives the time of day when it
// falls on event_date; a title and status given are kept.
func TestACLEDReaderExtraColumns(t *testing.T) {
	header := append(slices.Clone(acledColumns), "occurred_at", "title", "status", "sources_json", "demo")
	row := acledTestRow()
	row["occurred_at"] = "2020-10-18T04:30:00+02:00"
	row["title"] = "Missile strike on Ganja"
	row["status"] = "Disputed"
	row["sources_json"] = `[{"name":"Reuters","url":"https://example.org/r","date":"2020-10-17"}]`
	row["demo"] = "true"
	rows := readACLED(t, acledText(header, row))
	inc := rows[0].Incident
	if len(rows[0].Errors) > 0 || !inc.OccurredAt.Equal(time.Date(2020, 10, 18, 2, 30, 0, 0, time.UTC)) ||
		inc.Title != "Missile strike on Ganja" || inc.Status != StatusDisputed || !inc.Demo ||
		len(inc.Sources) != 1 || inc.Sources[0].URL != "https://example.org/r" {
		t.Errorf("row = %+v", rows[0])
	}
	// An edited event_date wins over a stale occurred_at.
	row["event_date"] = "2020-10-19"
	if inc := readACLED(t, acledText(header, row))[0].Incident; !inc.OccurredAt.Equal(time.Date(2020, 10, 19, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("occurred_at = %v, want the edited day", inc.OccurredAt)
	}
	for col, v := range map[string]string{"occurred_at": "yesterday", "status": "hidden", "sources_json": "{", "demo": "maybe"} {
		bad := maps.Clone(row)
		bad[col] = v
		if errs := readACLED(t, acledText(header, bad))[0].Errors; len(errs) != 1 || errs[0].Column != col {
			t.Errorf("%s = %q: errors %+v", col, v, errs)
		}
	}
}

func TestNeutraliseCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"},
		{"+cmd", "'+cmd"},
		{"-1+1", "'-1+1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"'=x", "''=x"},
		{"'x", "'x"},
		{"x=1", "x=1"},
		{"", ""},
		{"'", "'"},
	}
	for _, tt := range tests {
		if got := NeutraliseCell(tt.in); got != tt.want {
			t.Errorf("NeutraliseCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if back := UnneutraliseCell(NeutraliseCell(tt.in)); back != tt.in {
			t.Errorf("UnneutraliseCell(NeutraliseCell(%q)) = %q", tt.in, back)
		}
	}
}

// What the writer writes, the reader reads back.
func TestACLEDWriterRoundTrip(t *testing.T) {
	report := int64(7)
	dist := 1234.0
	incs := []Incident{
		readACLED(t, acledText(nil, acledTestRow()))[0].Incident,
		{
			ID: 42, OccurredAt: time.Date(2020, 10, 18, 23, 59, 59, 123456000, time.UTC), TimePrecision: TimeWeek,
			EventType: "Protests", Title: "=1+2", Actor1: "-x", Notes: "line\nbreak, \"quoted\"", LocationName: "@home",
			Point: [2]float64{-70.64831, -33.45691}, GeoPrecision: GeoRegion, Status: StatusRetracted, Demo: true,
			CountryCode: "CL", ReportID: &report, NearestPlaceDistance: &dist,
			Sources: []Source{{URL: "https://example.org/?a=<b>&c"}},
		},
	}
	var b bytes.Buffer
	w := NewACLEDWriter(&b)
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	for i := range incs {
		if err := w.Write(&incs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows := readACLED(t, b.String())
	if len(rows) != len(incs) {
		t.Fatalf("read %d rows, want %d", len(rows), len(incs))
	}
	incs[1].ExternalID = "IM42"
	for i, r := range rows {
		if len(r.Errors) > 0 || !incidentsEqual(r.Incident, incs[i]) {
			t.Errorf("row %d = %+v\nwant %+v", i, r, incs[i])
		}
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cell := func(col string) string { return recs[2][slices.Index(recs[0], col)] }
	for col, want := range map[string]string{"iso": "152", "country": "Chile", "latitude": "-33.45691",
		"longitude": "-70.64831", "actor1": "'-x", "title": "'=1+2", "report_id": "7", "nearest_place_distance_m": "1234",
		"occurred_at": "2020-10-18T23:59:59.123456Z", "event_date": "2020-10-18", "year": "2020"} {
		if got := cell(col); got != want {
			t.Errorf("%s = %q, want %q", col, got, want)
		}
	}
}

func TestACLEDCountry(t *testing.T) {
	for code, want := range map[string]struct {
		n    int
		name string
	}{"AZ": {31, "Azerbaijan"}, "AM": {51, "Armenia"}, "RU": {643, "Russia"}, "IR": {364, "Iran"}, "CD": {180, "Democratic Republic of Congo"}} {
		if n, name, ok := ACLEDCountry(code); !ok || n != want.n || name != want.name {
			t.Errorf("ACLEDCountry(%s) = %d %q %v", code, n, name, ok)
		}
	}
	if _, _, ok := ACLEDCountry("XX"); ok {
		t.Error("ACLEDCountry(XX) found")
	}
}

const geojsonFeatureOK = `{"type":"Feature","id":17,"geometry":{"type":"Point","coordinates":[46.751900,39.815300]},
	"properties":{"external_id":"AZE1000","occurred_at":"2020-10-18T04:00:00+00:00","time_precision":1,
	"event_type":"Explosions/Remote violence","sub_event_type":"Air/drone strike","actor1":"A","actor2":null,
	"fatalities":3,"title":"Drone strike","notes":"n","location_name":"Stepanakert","geo_precision":2,
	"status":"verified","sources":[{"name":"MoD","date":"2020-10-18"}],"report_id":null,"country_code":"AZ",
	"admin1":"Xankandi","nearest_place_id":null,"demo":false,"created_at":"2024-01-01T00:00:00+00:00"}}`

func readGeoJSON(t *testing.T, text string) ([]IncidentRow, error) {
	t.Helper()
	r, err := NewGeoJSONIncidentReader(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	var rows []IncidentRow
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

// Our own GeoJSON reads back, whatever the order of the members; each bad
// property is reported by feature number and name.
func TestGeoJSONIncidentReader(t *testing.T) {
	noID := strings.Replace(geojsonFeatureOK, `"external_id":"AZE1000"`, `"external_id":null`, 1)
	badProps := strings.NewReplacer(`"fatalities":3`, `"fatalities":"3"`, `"event_type":"Explosions/Remote violence"`,
		`"event_type":"Skirmish"`, `[46.751900,39.815300]`, `[46.75]`).Replace(geojsonFeatureOK)
	text := `{"links":[{"rel":"self"}],"features":[` + geojsonFeatureOK + `,` + noID + `,` + badProps +
		`,[1,2]],"type":"FeatureCollection","numberReturned":4}`
	rows, err := readGeoJSON(t, text)
	if err != nil || len(rows) != 4 {
		t.Fatalf("rows %d, err %v", len(rows), err)
	}
	want := Incident{ExternalID: "AZE1000", OccurredAt: time.Date(2020, 10, 18, 4, 0, 0, 0, time.UTC), TimePrecision: TimeDay,
		EventType: "Explosions/Remote violence", SubEventType: "Air/drone strike", Actor1: "A", Fatalities: 3,
		Title: "Drone strike", Notes: "n", LocationName: "Stepanakert", Admin1: "Xankandi", Point: [2]float64{46.7519, 39.8153},
		GeoPrecision: GeoNear, Status: StatusVerified, Sources: []Source{{Publisher: "MoD", PublishedAt: "2020-10-18"}}}
	if len(rows[0].Errors) > 0 || !incidentsEqual(rows[0].Incident, want) {
		t.Errorf("feature 1 = %+v", rows[0])
	}
	if rows[1].Incident.ExternalID != "IM17" || len(rows[1].Errors) > 0 {
		t.Errorf("feature without external id: %+v", rows[1])
	}
	var cols []string
	for _, e := range rows[2].Errors {
		if e.Line != 3 {
			t.Errorf("error %+v not on feature 3", e)
		}
		cols = append(cols, e.Column)
	}
	if want := []string{"properties.fatalities", "geometry", "properties.event_type"}; !slices.Equal(cols, want) {
		t.Errorf("feature 3 errors %+v, want columns %v", rows[2].Errors, want)
	}
	if len(rows[3].Errors) != 1 || rows[3].Line != 4 {
		t.Errorf("feature 4 (not an object) = %+v", rows[3])
	}

	for _, bad := range []string{`[]`, `{"type":"Feature"}`, `{"features":{}}`, `{"features":[]} x`, `{"type":"FeatureCollection"}`, `{"features":[{`} {
		if _, err := readGeoJSON(t, bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// Incidents built in code are checked like parsed ones.
func TestIncidentSliceReader(t *testing.T) {
	good := readACLED(t, acledText(nil, acledTestRow()))[0].Incident
	bad := good
	bad.EventType, bad.Point = "Skirmish", [2]float64{200, 0}
	bad.Fatalities = -1
	rows := readAll(t, NewIncidentSliceReader([]Incident{good, bad}))
	if len(rows) != 2 || len(rows[0].Errors) != 0 || len(rows[1].Errors) != 3 || rows[1].Line != 2 {
		t.Errorf("rows = %+v", rows)
	}
	nan := good
	nan.Point = [2]float64{math.NaN(), 0}
	if errs := ValidateImportedIncident(&nan, 1); len(errs) != 1 || errs[0].Column != "geometry" {
		t.Errorf("NaN longitude: %+v", errs)
	}
}

func TestInvalidRowsError(t *testing.T) {
	e := &InvalidRowsError{Rows: 12, Omitted: 3}
	for i := range 11 {
		e.Errors = append(e.Errors, RowError{Line: i + 2, Column: "latitude", Reason: "bad"})
	}
	msg := e.Error()
	if !strings.HasPrefix(msg, "12 invalid rows: line 2, column latitude: bad; ") || !strings.HasSuffix(msg, "; and 4 more") {
		t.Errorf("message = %q", msg)
	}
	if !errors.Is(e, ErrInvalid) {
		t.Error("InvalidRowsError does not match ErrInvalid")
	}
	if got := (RowError{Line: 5, Reason: "has 2 fields"}).Error(); got != "line 5: has 2 fields" {
		t.Errorf("RowError without column = %q", got)
	}
}

// A byte order mark before a quoted header is not a bare quote.
func TestACLEDReaderBOMQuotedHeader(t *testing.T) {
	text := "\uFEFF\"event_id_cnty\",\"event_date\",\"event_type\",\"latitude\",\"longitude\"\r\n\"AZE1\",\"18 October 2020\",\"Battles\",\"40.6828\",\"46.3606\"\r\n"
	rows := readACLED(t, text)
	if len(rows) != 1 || len(rows[0].Errors) > 0 || rows[0].Incident.ExternalID != "AZE1" {
		t.Errorf("rows = %+v", rows)
	}
}
