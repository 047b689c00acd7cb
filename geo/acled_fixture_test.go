package geo

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixtureRow is what one row of a fixture must become.
type fixtureRow struct {
	day                   string // event day, YYYY-MM-DD
	eventType, sub        string
	origType              string // the pre-2019 type as written, or ""
	country, iso, code    string // stated country, iso and alpha-2
	admin1, admin2, place string
}

// readFixture reads every row of a fixture in geo/testdata/acled.
func readFixture(t *testing.T, name string) ([]IncidentRow, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "acled", name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\uFEFF")) || !bytes.Contains(data, []byte("\r\n")) {
		t.Fatalf("%s: fixture lost its byte order mark or CRLF line ends", name)
	}
	r, err := NewACLEDReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return readAll(t, r), data
}

// Every row of every historical layout imports: the date forms, the
// pre-2019 types (mapped, originals kept) and the stated geography.
func TestACLEDFixtures(t *testing.T) {
	karabakh2020 := map[string]fixtureRow{
		"AZE1204":  {"2020-10-18", "Explosions/Remote violence", "Shelling/artillery/missile attack", "", "Azerbaijan", "31", "AZ", "Ganja", "Ganja", "Ganja"},
		"AZE1187":  {"2020-10-17", "Battles", "Armed clash", "", "Azerbaijan", "31", "AZ", "Fuzuli", "Fuzuli", "Horadiz"},
		"AZE1166":  {"2020-10-16", "Explosions/Remote violence", "", "Remote violence", "Azerbaijan", "31", "AZ", "Tartar", "Tartar", "Tartar"},
		"ARM1052":  {"2020-10-09", "Explosions/Remote violence", "Air/drone strike", "", "Armenia", "51", "AM", "Syunik", "Goris", "Goris"},
		"AZE1098":  {"2020-10-04", "Battles", "Armed clash", "Battle-No change of territory", "Azerbaijan", "31", "AZ", "Jabrayil", "Jabrayil", "Jabrayil"},
		"AZE1320":  {"2020-10-18", "Battles", "Government regains territory", "Battle-Government regains territory", "Azerbaijan", "31", "AZ", "Jabrayil", "Jabrayil", "Khudafarin"},
		"COD20117": {"2020-10-28", "Violence against civilians", "", "", "Democratic Republic of Congo", "180", "CD", "Nord-Kivu", "Goma", "Goma"},
	}
	current := clone(karabakh2020, map[string]fixtureRow{
		"AZE1412": {"2020-11-20", "Strategic developments", "Non-violent transfer of territory", "Non-violent transfer of territory", "Azerbaijan", "31", "AZ", "Aghdam", "Aghdam", "Aghdam"},
		"ARM1110": {"2020-10-05", "Protests", "", "Riots/Protests", "Armenia", "51", "AM", "Yerevan", "Yerevan", "Yerevan"},
		"PSE8021": {"2020-11-12", "Strategic developments", "", "Strategic development", "Palestine", "275", "PS", "Gaza Strip", "Rafah", "Rafah"},
	})
	export2019 := clone(karabakh2020, map[string]fixtureRow{
		"ARM1110": {"2020-10-05", "Riots", "", "Riots/Protests", "Armenia", "51", "AM", "Yerevan", "Yerevan", "Yerevan"},
		"EGY7712": {"2020-11-03", "Strategic developments", "Headquarters or base established", "Headquarters or base established", "Egypt", "818", "EG", "North Sinai", "Rafah", "Rafah"},
		"PSE8021": {"2020-11-12", "Strategic developments", "", "Non-violent activity by a conflict actor", "Palestine", "275", "PS", "Gaza Strip", "Rafah", "Rafah"},
	})
	drc, egy := "Democratic Republic of Congo", "Egypt"
	africa2016 := map[string]fixtureRow{
		"DRC10345": {"2016-05-03", "Protests", "", "Riots/Protests", drc, "", "CD", "Nord-Kivu", "Goma", "Goma"},
		"DRC10377": {"2016-05-14", "Riots", "", "Riots/Protests", drc, "", "CD", "Nord-Kivu", "Beni", "Beni"},
		"DRC10390": {"2016-05-21", "Battles", "Armed clash", "Battle-No change of territory", drc, "", "CD", "Nord-Kivu", "Beni", "Mavivi"},
		"DRC10401": {"2016-06-09", "Violence against civilians", "", "", drc, "", "CD", "Nord-Kivu", "Beni", "Beni"},
		"DRC10422": {"2016-07-02", "Battles", "Non-state actor overtakes territory", "Battle-Non-state actor overtakes territory", drc, "", "CD", "Ituri", "Irumu", "Bunia"},
		"EGY4410":  {"2016-07-17", "Explosions/Remote violence", "", "Remote violence", egy, "", "EG", "North Sinai", "Rafah", "Rafah"},
		"EGY4452":  {"2016-08-04", "Battles", "Government regains territory", "Battle-Government regains territory", egy, "", "EG", "North Sinai", "Al Arish", "El Arish"},
		"EGY4455":  {"2016-08-05", "Strategic developments", "", "Strategic development", egy, "", "EG", "North Sinai", "Rafah", "Sheikh Zuweid"},
		"EGY4460":  {"2016-08-28", "Strategic developments", "Headquarters or base established", "Headquarters or base established", egy, "", "EG", "North Sinai", "Rafah", "Rafah"},
		"DRC10470": {"2016-09-12", "Strategic developments", "Non-violent transfer of territory", "Non-violent transfer of territory", drc, "", "CD", "Nord-Kivu", "Rutshuru", "Bunagana"},
		"DRC10488": {"2016-09-18", "Strategic developments", "", "Non-violent activity by a conflict actor", drc, "", "CD", "Nord-Kivu", "Beni", "Beni"},
	}
	tests := []struct {
		file  string
		want  map[string]fixtureRow
		order DateOrder
	}{
		{"current.csv", current, DayFirst},
		{"export2019.csv", export2019, DayFirst},
		{"legacy2016.csv", africa2016, DayFirst},
		{"pandas2016.csv", africa2016, MonthFirst},
	}
	for _, tt := range tests {
		rows, _ := readFixture(t, tt.file)
		if len(rows) != len(tt.want) {
			t.Errorf("%s: %d rows, want %d", tt.file, len(rows), len(tt.want))
		}
		lastLine := 0
		for _, row := range rows {
			inc := row.Incident
			if len(row.Errors) > 0 {
				t.Errorf("%s line %d: errors %v", tt.file, row.Line, row.Errors)
				continue
			}
			if row.Line <= lastLine {
				t.Errorf("%s: line %d after line %d: rows out of order", tt.file, row.Line, lastLine)
			}
			lastLine = row.Line
			w, ok := tt.want[inc.ExternalID]
			if !ok {
				t.Errorf("%s: unexpected row %s", tt.file, inc.ExternalID)
				continue
			}
			got := fixtureRow{inc.OccurredAt.Format(time.DateOnly), inc.EventType, inc.SubEventType, inc.OriginalEventType,
				inc.StatedCountry, inc.StatedISO, inc.StatedCountryCode, inc.Admin1, inc.Admin2, inc.LocationName}
			if got != w {
				t.Errorf("%s %s:\n got %+v\nwant %+v", tt.file, inc.ExternalID, got, w)
			}
			if inc.SourceDataset != DatasetACLED {
				t.Errorf("%s %s: source dataset %q, want ACLED", tt.file, inc.ExternalID, inc.SourceDataset)
			}
			if inc.OriginalSubEventType != "" {
				t.Errorf("%s %s: original sub-event type %q, want none", tt.file, inc.ExternalID, inc.OriginalSubEventType)
			}
			for _, s := range inc.Sources {
				if s.PublishedAt != "" {
					t.Errorf("%s %s: source %q dated %s: ACLED gives no publication dates", tt.file, inc.ExternalID, s.Publisher, s.PublishedAt)
				}
			}
		}
	}
	// Spot checks of what only SourceRecord keeps.
	rows, _ := readFixture(t, "pandas2016.csv")
	sr := rows[0].Incident.SourceRecord
	for k, want := range map[string]string{"": "0", "gwno": "490.0", "event_date": "2016-05-03 00:00:00", "year": "2016.0",
		"time_precision": "1.0", "fatalities": "0.0", "ally_actor_1": "nan", "event_id_no_cnty": "10345.0", "inter1": "6.0"} {
		if got, ok := sr[k]; !ok || got != want {
			t.Errorf("pandas row 1: source_record[%q] = %q, %v; want %q", k, got, ok, want)
		}
	}
	if inc := rows[4].Incident; inc.Admin3 != "" || inc.SourceRecord["admin3"] != "nan" || inc.Fatalities != 2 || inc.GeoPrecision != GeoNear {
		t.Errorf("pandas row 5: admin3 %q (source %q), fatalities %d, geo precision %d", inc.Admin3, inc.SourceRecord["admin3"], inc.Fatalities, inc.GeoPrecision)
	}
	if notes := rows[0].Incident.Notes; !strings.Contains(notes, "territory.\nPolice") {
		t.Errorf("multi-line notes = %q", notes)
	}
}

func clone(base, extra map[string]fixtureRow) map[string]fixtureRow {
	m := map[string]fixtureRow{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// exportRows writes incs in their own layout, in two passes.
func exportRows(t *testing.T, incs []Incident, opts ...ACLEDOption) []byte {
	t.Helper()
	layout := NewACLEDLayout(opts...)
	for i := range incs {
		layout.Observe(&incs[i])
	}
	var b bytes.Buffer
	w := NewACLEDColumnsWriter(&b, layout.Columns())
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
	return b.Bytes()
}

// csvTable reads CSV text as rows of cells by lower-case column, leaving
// out columns that are empty in every row (an export writes only
// columns that carry data).
func csvTable(t *testing.T, data []byte) (cols []string, rows []map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, c := range recs[0] {
			c = strings.ToLower(strings.TrimSpace(c))
			row[c] = rec[i]
			used[c] = used[c] || rec[i] != ""
		}
		rows = append(rows, row)
	}
	for c, u := range used {
		if u {
			cols = append(cols, c)
		}
	}
	slices.Sort(cols)
	return cols, rows
}

// Import, export, import, export: the exports are equal, and the first
// gives back the file's columns and values (modulo quoting, column order
// and case, and columns empty in every row).
func TestACLEDFixtureRoundTrip(t *testing.T) {
	for _, name := range []string{"current.csv", "export2019.csv", "legacy2016.csv", "pandas2016.csv"} {
		rows, input := readFixture(t, name)
		incs := make([]Incident, len(rows))
		for i, r := range rows {
			incs[i] = r.Incident
		}
		first := exportRows(t, incs)
		wantCols, wantRows := csvTable(t, input)
		gotCols, gotRows := csvTable(t, first)
		if !slices.Equal(gotCols, wantCols) {
			t.Errorf("%s: columns\n got %v\nwant %v", name, gotCols, wantCols)
		}
		if len(gotRows) != len(wantRows) {
			t.Fatalf("%s: %d rows written, want %d", name, len(gotRows), len(wantRows))
		}
		for i := range wantRows {
			for _, c := range wantCols {
				if got, want := gotRows[i][c], wantRows[i][c]; got != want {
					t.Errorf("%s row %d, %s = %q, want %q", name, i+1, c, got, want)
				}
			}
		}
		r, err := NewACLEDReader(bytes.NewReader(first))
		if err != nil {
			t.Fatalf("%s: read the export: %v", name, err)
		}
		again := readAll(t, r)
		incs = incs[:0]
		for _, row := range again {
			if len(row.Errors) > 0 {
				t.Fatalf("%s: export line %d: %v", name, row.Line, row.Errors)
			}
			incs = append(incs, row.Incident)
		}
		if second := exportRows(t, incs); !bytes.Equal(second, first) {
			t.Errorf("%s: second export differs:\n%s\nfirst:\n%s", name, second, first)
		}
		for i := range rows {
			if !incidentsEqualFull(again[i].Incident, rows[i].Incident) {
				t.Errorf("%s row %d reads back as\n%+v\nwant\n%+v", name, i+1, again[i].Incident, rows[i].Incident)
			}
		}
	}
}
