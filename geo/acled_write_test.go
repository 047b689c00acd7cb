package geo

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"
)

// header returns the header an export of incs has.
func exportHeader(t *testing.T, incs []Incident, opts ...ACLEDOption) []string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(exportRows(t, incs, opts...))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[0]
}

// incidentmap's own columns are written only when a row carries what the
// ACLED columns do not; the derived ones only when asked for.
func TestACLEDLayoutOwnColumns(t *testing.T) {
	base := readACLED(t, acledText(nil, acledTestRow()))[0].Incident
	cols := exportHeader(t, []Incident{base})
	// Columns empty in every row are left out.
	want := slices.DeleteFunc(slices.Clone(acledColumns), func(c string) bool {
		return slices.Contains([]string{"assoc_actor_1", "assoc_actor_2", "admin2", "admin3", "tags"}, c)
	})
	if !slices.Equal(cols, want) {
		t.Errorf("plain ACLED row: columns\n got %v\nwant %v", cols, want)
	}
	report := int64(9)
	tests := []struct {
		col  string
		edit func(*Incident)
	}{
		{"status", func(i *Incident) { i.Status = StatusDisputed }},
		{"title", func(i *Incident) { i.Title = "Missile strike on Ganja" }},
		{"occurred_at", func(i *Incident) { i.OccurredAt = i.OccurredAt.Add(90 * time.Minute) }},
		{"sources_json", func(i *Incident) { i.Sources = []Source{{Publisher: "Reuters", URL: "https://example.org/r"}} }},
		{"sources_json", func(i *Incident) { i.Sources = []Source{{Publisher: "Reuters", PublishedAt: "2020-10-18"}} }},
		{"demo", func(i *Incident) { i.Demo = true }},
		{"report_id", func(i *Incident) { i.ReportID = &report }},
	}
	for _, tt := range tests {
		inc := base
		tt.edit(&inc)
		cols := exportHeader(t, []Incident{base, inc})
		if extra := slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return slices.Contains(acledColumns, c) }); !slices.Equal(extra, []string{tt.col}) {
			t.Errorf("%s: extra columns %v, want [%s]", tt.col, extra, tt.col)
		}
	}
	inc := base
	inc.Status = StatusVerified
	if cols := exportHeader(t, []Incident{inc}); slices.Contains(cols, "status") {
		t.Errorf("verified row wrote a status column: %v", cols)
	}
	cols = exportHeader(t, []Incident{base}, WithDerived())
	if got := cols[len(cols)-len(derivedColumns):]; !slices.Equal(got, derivedColumns) {
		t.Errorf("WithDerived: columns end with %v, want %v", got, derivedColumns)
	}

	// What the own columns say reads back.
	inc = base
	inc.Status, inc.Title, inc.Demo = StatusDisputed, "Missile strike on Ganja", true
	inc.OccurredAt = inc.OccurredAt.Add(90 * time.Minute)
	inc.Sources = []Source{{Publisher: "Reuters", URL: "https://example.org/r", PublishedAt: "2020-10-18"}}
	r, err := NewACLEDReader(bytes.NewReader(exportRows(t, []Incident{inc})))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)[0]
	inc.SourceDataset = DatasetIncidentmap
	if len(got.Errors) > 0 || !incidentsEqualFull(got.Incident, inc) {
		t.Errorf("own columns read back as\n%+v %v\nwant\n%+v", got.Incident, got.Errors, inc)
	}
}

// A source cell an edit made stale is not written: the field's value is.
func TestACLEDWriterStaleSource(t *testing.T) {
	row := acledTestRow()
	row["event_type"], row["sub_event_type"], row["event_date"], row["fatalities"] = "Remote violence", "", "9-Oct-20", "13.0"
	row["inter1"] = "=1+1" // a formula in a numeric column
	inc := readACLED(t, acledText(nil, row))[0].Incident
	cell := func(inc Incident, col string) string {
		t.Helper()
		recs, err := csv.NewReader(bytes.NewReader(exportRows(t, []Incident{inc}))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs[1][slices.Index(recs[0], col)]
	}
	for col, want := range map[string]string{"event_type": "Remote violence", "sub_event_type": "", "event_date": "9-Oct-20",
		"fatalities": "13.0", "inter1": "'=1+1", "latitude": "40.6828"} {
		if got := cell(inc, col); got != want {
			t.Errorf("as imported: %s = %q, want %q", col, got, want)
		}
	}
	edited := inc
	edited.EventType, edited.SubEventType = "Battles", "Armed clash"
	edited.OccurredAt = time.Date(2020, 10, 10, 0, 0, 0, 0, time.UTC)
	edited.Fatalities = 14
	for col, want := range map[string]string{"event_type": "Battles", "sub_event_type": "Armed clash", "event_date": "2020-10-10",
		"year": "2020", "fatalities": "14"} {
		if got := cell(edited, col); got != want {
			t.Errorf("after an edit: %s = %q, want %q", col, got, want)
		}
	}
}

// The one-pass writer keeps its fixed header; numbers stay plain, text is
// neutralised, derived country only for incidentmap's own records.
func TestACLEDWriterOnePass(t *testing.T) {
	report := int64(7)
	inc := Incident{ID: 42, OccurredAt: time.Date(2020, 10, 18, 23, 59, 59, 0, time.UTC), TimePrecision: TimeDay,
		EventType: "Protests", Title: "=1+2", Actor1: "-x", Point: [2]float64{-70.64831, -33.45691}, GeoPrecision: GeoExact,
		CountryCode: "CL", ReportID: &report, GeoCheck: []string{GeoCheckCountryMismatch}}
	var b bytes.Buffer
	w := NewACLEDWriter(&b)
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	acled := inc
	acled.SourceDataset = DatasetACLED
	if err := w.Write(&inc); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&acled); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], ACLEDExportColumns()) {
		t.Fatalf("header %v", recs[0])
	}
	for row, want := range []map[string]string{
		{"iso": "152", "country": "Chile", "latitude": "-33.45691", "actor1": "'-x", "title": "'=1+2", "report_id": "7",
			"event_id_cnty": "IM42", "occurred_at": "2020-10-18T23:59:59Z", "geo_check": "country_mismatch", "country_code": "CL"},
		{"iso": "", "country": ""}, // ACLED's own rows state their country or none
	} {
		for col, v := range want {
			if got := recs[row+1][slices.Index(recs[0], col)]; got != v {
				t.Errorf("row %d: %s = %q, want %q", row+1, col, got, v)
			}
		}
	}
}

func TestStatedCountryCode(t *testing.T) {
	tests := []struct{ iso, country, want string }{
		{"31", "", "AZ"},
		{"031", "", "AZ"},
		{"31.0", "whatever", "AZ"},
		{"", "Azerbaijan", "AZ"},
		{"999", "Armenia", "AM"},
		{"", "Democratic Republic of Congo", "CD"},
		{"", "democratic  republic of CONGO", "CD"},
		{"", "Republic of Congo", "CG"},
		{"", "Palestine", "PS"},
		{"", "eSwatini", "SZ"},
		{"", "Swaziland", "SZ"},
		{"", "Ivory Coast", "CI"},
		{"", "Czech Republic", "CZ"},
		{"", "Russia", "RU"},
		{"818", "Egypt", "EG"},
		{"", "Kosovo", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := StatedCountryCode(tt.iso, tt.country); got != tt.want {
			t.Errorf("StatedCountryCode(%q, %q) = %q, want %q", tt.iso, tt.country, got, tt.want)
		}
	}
}

func TestSummariseRowErrors(t *testing.T) {
	text := acledText(nil, acledTestRow())
	for _, mod := range []map[string]string{
		{"event_date": "5/9/2020"}, {"event_date": "yesterday"}, {"event_date": "tomorrow"},
		{"latitude": "95"}, {"event_type": "Skirmish"}, {"event_type": "Clash", "latitude": "x"},
	} {
		row := acledTestRow()
		for k, v := range mod {
			row[k] = v
		}
		text += strings.SplitN(acledText(nil, row), "\n", 2)[1]
	}
	var errs []RowError
	for _, r := range readACLED(t, text) {
		for _, e := range r.Errors {
			if e.Kind == "" {
				t.Errorf("error without kind: %+v", e)
			}
			errs = append(errs, e)
		}
	}
	got := SummariseRowErrors(errs)
	want := []RowErrorCount{
		{"event_date", KindNotDate, 2}, {"event_type", KindUnknownEventType, 2}, {"event_date", KindAmbiguousDate, 1},
		{"latitude", KindNotNumber, 1}, {"latitude", KindOutOfRange, 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("summary\n got %+v\nwant %+v", got, want)
	}
	if s := FormatRowErrorSummary(got); !strings.HasPrefix(s, "2  event_date: not a date\n") {
		t.Errorf("formatted summary = %q", s)
	}
}
