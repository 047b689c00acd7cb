package postgis_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// nkPlace is a place of the 2020 Nagorno-Karabakh war, as ACLED codes it.
type nkPlace struct {
	name, admin1, country string
	iso                   int
	lat, lon              float64
}

var nkPlaces = []nkPlace{
	{"Stepanakert", "Xankandi", "Azerbaijan", 31, 39.8153, 46.7519},
	{"Shusha", "Shusha", "Azerbaijan", 31, 39.7583, 46.7485},
	{"Hadrut", "Khojavend", "Azerbaijan", 31, 39.5200, 47.0310},
	{"Jabrayil", "Jabrayil", "Azerbaijan", 31, 39.3999, 47.0245},
	{"Fuzuli", "Fuzuli", "Azerbaijan", 31, 39.6000, 47.1431},
	{"Martuni", "Khojavend", "Azerbaijan", 31, 39.7950, 47.1120},
	{"Ganja", "Ganja", "Azerbaijan", 31, 40.6828, 46.3606},
	{"Tartar", "Tartar", "Azerbaijan", 31, 40.3414, 46.9314},
	{"Barda", "Barda", "Azerbaijan", 31, 40.3744, 47.1267},
	{"Goris", "Syunik", "Armenia", 51, 39.5111, 46.3381},
	{"Vardenis", "Gegharkunik", "Armenia", 51, 40.1833, 45.7333},
}

var nkKinds = []struct{ eventType, subEventType, actor1, actor2, civilians string }{
	{"Explosions/Remote violence", "Shelling/artillery/missile attack", "Military Forces of Azerbaijan (2003-)", "Military Forces of Armenia (2018-)", ""},
	{"Explosions/Remote violence", "Air/drone strike", "Military Forces of Azerbaijan (2003-)", "Military Forces of Nagorno-Karabakh (1991-)", ""},
	{"Battles", "Armed clash", "Military Forces of Armenia (2018-)", "Military Forces of Azerbaijan (2003-)", ""},
	{"Explosions/Remote violence", "Shelling/artillery/missile attack", "Military Forces of Armenia (2018-)", "Civilians (Azerbaijan)", "Civilian targeting"},
	{"Strategic developments", "Agreement", "Government of Armenia (2018-)", "Government of Azerbaijan (2003-)", ""},
}

// nkRow is the i-th generated ACLED record (every column filled), dated
// in the autumn 2020 war; the date is written in the format ACLED used
// for exports of that time ("18 October 2020") for odd i.
func nkRow(i int) map[string]string {
	p := nkPlaces[i%len(nkPlaces)]
	k := nkKinds[(i/3)%len(nkKinds)]
	day := time.Date(2020, 9, 27, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%45)
	date := day.Format("2006-01-02")
	if i%2 == 1 {
		date = day.Format("2 January 2006")
	}
	prefix := "AZE"
	if p.iso == 51 {
		prefix = "ARM"
	}
	return map[string]string{
		"event_id_cnty": fmt.Sprintf("%s%d", prefix, 1000+i), "event_date": date, "year": "2020",
		"time_precision": strconv.Itoa(1 + i%2), "disorder_type": "Political violence",
		"event_type": k.eventType, "sub_event_type": k.subEventType,
		"actor1": k.actor1, "assoc_actor_1": "", "inter1": "1", "actor2": k.actor2, "assoc_actor_2": "",
		"inter2": "1", "interaction": "11", "civilian_targeting": k.civilians, "iso": strconv.Itoa(p.iso),
		"region": "Caucasus and Central Asia", "country": p.country, "admin1": p.admin1, "admin2": "", "admin3": "",
		"location": p.name, "latitude": strconv.FormatFloat(p.lat+float64(i%7)*0.001, 'f', 4, 64),
		"longitude": strconv.FormatFloat(p.lon-float64(i%5)*0.001, 'f', 4, 64), "geo_precision": strconv.Itoa(1 + i%3),
		"source": "Armenian Ministry of Defence; Azerbaijani Ministry of Defence", "source_scale": "National",
		"notes": fmt.Sprintf("On %s, Azerbaijani forces shelled positions near %s (%s). "+
			"Armenian MoD reported %d killed; Azerbaijan denied the claim. [size=no report]", date, p.name, p.admin1, i%4),
		"fatalities": strconv.Itoa(i % 4), "tags": "", "timestamp": "1603065600",
	}
}

// acledCSV writes rows as an ACLED CSV file with every ACLED column.
func acledCSV(t testing.TB, rows ...map[string]string) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(geo.ACLEDColumns())
	for _, r := range rows {
		rec := make([]string, len(geo.ACLEDColumns()))
		for i, c := range geo.ACLEDColumns() {
			rec[i] = r[c]
		}
		w.Write(rec)
	}
	w.Flush()
	return b.String()
}

func importCSV(t *testing.T, db *postgis.DB, text string, opts postgis.ImportOptions) (postgis.ImportResult, error) {
	t.Helper()
	r, err := geo.NewACLEDReader(strings.NewReader(text))
	if err != nil {
		t.Fatalf("NewACLEDReader: %v", err)
	}
	return db.ImportIncidents(context.Background(), r, opts)
}

func mustImportCSV(t *testing.T, db *postgis.DB, text string, opts postgis.ImportOptions) postgis.ImportResult {
	t.Helper()
	res, err := importCSV(t, db, text, opts)
	if err != nil {
		t.Fatalf("ImportIncidents: %v", err)
	}
	return res
}

func queryInt(t *testing.T, db *postgis.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func checkCounts(t *testing.T, got postgis.ImportResult, rows, inserted, updated, unchanged, invalid int64) {
	t.Helper()
	if got.Rows != rows || got.Inserted != inserted || got.Updated != updated || got.Unchanged != unchanged || got.Invalid != invalid {
		t.Errorf("result = rows %d, inserted %d, updated %d, unchanged %d, invalid %d; want %d, %d, %d, %d, %d",
			got.Rows, got.Inserted, got.Updated, got.Unchanged, got.Invalid, rows, inserted, updated, unchanged, invalid)
	}
}

// A generated ACLED export imports with its values where they belong, in
// both date formats.
func TestImportACLED(t *testing.T) {
	db := openTestDB(t)
	rows := []map[string]string{nkRow(0), nkRow(1), nkRow(2)}
	rows[0]["event_date"] = "2020-10-18"
	rows[1]["event_date"] = "18 October 2020"
	rows[2]["event_date"] = "18-October-2020"
	rows[0]["event_type"] = "explosions/remote VIOLENCE" // matched case-insensitively
	rows[0]["sub_event_type"] = "shelling/artillery/missile attack"
	before := collectionVersion(t, db, "incidents")
	res := mustImportCSV(t, db, acledCSV(t, rows...), postgis.ImportOptions{})
	checkCounts(t, res, 3, 3, 0, 0, 0)
	if res.Bulk {
		t.Error("a 3-row import ran in bulk mode")
	}
	if collectionVersion(t, db, "incidents") == before {
		t.Error("collection version unchanged after an import that inserted rows")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM incident_events WHERE type = 'incident.created'`); n != 3 {
		t.Errorf("live events = %d, want 3 (small imports keep per-row events)", n)
	}

	var (
		occurred                               time.Time
		tp, gp, fatalities                     int
		eventType, sub, actor1, actor2, title  string
		notes, loc, admin1, status, sources    string
		lon, lat                               float64
		demo                                   bool
		countryCode                            *string
		wantNotes, wantLat, wantLon, wantTitle = rows[0]["notes"], 39.8153, 46.7519, "Shelling/artillery/missile attack in Stepanakert"
	)
	err := db.SQL().QueryRow(`SELECT occurred_at, time_precision, geo_precision, fatalities, event_type, sub_event_type,
		actor1, actor2, title, notes, location_name, admin1, status, sources::text, ST_X(geom), ST_Y(geom), demo, country_code
		FROM incidents WHERE external_id = 'AZE1000'`).Scan(&occurred, &tp, &gp, &fatalities, &eventType, &sub,
		&actor1, &actor2, &title, &notes, &loc, &admin1, &status, &sources, &lon, &lat, &demo, &countryCode)
	if err != nil {
		t.Fatal(err)
	}
	if !occurred.Equal(time.Date(2020, 10, 18, 0, 0, 0, 0, time.UTC)) || tp != 1 || gp != 1 || fatalities != 0 {
		t.Errorf("occurred_at %v, time_precision %d, geo_precision %d, fatalities %d", occurred, tp, gp, fatalities)
	}
	if eventType != "Explosions/Remote violence" || sub != "Shelling/artillery/missile attack" {
		t.Errorf("event type %q / %q, want the canonical spelling", eventType, sub)
	}
	if actor1 != "Military Forces of Azerbaijan (2003-)" || actor2 != "Military Forces of Armenia (2018-)" {
		t.Errorf("actors %q, %q", actor1, actor2)
	}
	if title != wantTitle || notes != wantNotes || loc != "Stepanakert" || admin1 != "Xankandi" || status != "verified" || demo {
		t.Errorf("title %q, notes %q, location %q, admin1 %q, status %q, demo %v", title, notes, loc, admin1, status, demo)
	}
	if lon != wantLon || lat != wantLat {
		t.Errorf("point = %v %v, want %v %v", lon, lat, wantLon, wantLat)
	}
	// ACLED gives no publication date for its sources: none is invented.
	if want := `[{"publisher": "Armenian Ministry of Defence"}, {"publisher": "Azerbaijani Ministry of Defence"}]`; sources != want {
		t.Errorf("sources = %s, want %s", sources, want)
	}
	for _, id := range []string{"AZE1001", "AZE1002"} {
		if n := queryInt(t, db, `SELECT count(*) FROM incidents WHERE external_id = $1 AND occurred_at = '2020-10-18T00:00:00Z'`, id); n != 1 {
			t.Errorf("%s not dated 2020-10-18", id)
		}
	}
}

// Importing the same file again changes nothing: no update, no version
// or updated_at change, no event, no collection version bump. A changed
// row updates just that incident.
func TestImportACLEDReimportIsNoop(t *testing.T) {
	db := openTestDB(t)
	var rows []map[string]string
	for i := range 20 {
		rows = append(rows, nkRow(i))
	}
	text := acledCSV(t, rows...)
	checkCounts(t, mustImportCSV(t, db, text, postgis.ImportOptions{}), 20, 20, 0, 0, 0)
	type state struct {
		updated, events int64
		version         int64
	}
	snapshot := func() state {
		return state{
			updated: queryInt(t, db, `SELECT sum(extract(epoch FROM updated_at) * 1e6 + version)::bigint FROM incidents`),
			events:  queryInt(t, db, `SELECT count(*) FROM incident_events`),
			version: collectionVersion(t, db, "incidents"),
		}
	}
	before := snapshot()
	res := mustImportCSV(t, db, text, postgis.ImportOptions{})
	checkCounts(t, res, 20, 0, 0, 20, 0)
	if after := snapshot(); after != before {
		t.Errorf("re-import changed the database: %+v, was %+v", after, before)
	}

	rows[4]["fatalities"] = "12"
	rows[4]["notes"] = "Revised: 12 killed."
	res = mustImportCSV(t, db, acledCSV(t, rows...), postgis.ImportOptions{})
	checkCounts(t, res, 20, 0, 1, 19, 0)
	id := rows[4]["event_id_cnty"]
	if n := queryInt(t, db, `SELECT version FROM incidents WHERE external_id = $1`, id); n != 2 {
		t.Errorf("version of the changed incident = %d, want 2", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM incidents WHERE version <> 1`); n != 1 {
		t.Errorf("%d incidents changed version, want 1", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM incident_events WHERE type = 'incident.updated'`); n != 1 {
		t.Errorf("update events = %d, want 1", n)
	}
}

// A moderator's retraction survives a re-import of ACLED data, which has
// no status column.
func TestImportKeepsStatus(t *testing.T) {
	db := openTestDB(t)
	text := acledCSV(t, nkRow(0), nkRow(1))
	mustImportCSV(t, db, text, postgis.ImportOptions{})
	if _, err := db.SQL().Exec(`UPDATE incidents SET status = 'retracted' WHERE external_id = 'AZE1000'`); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, mustImportCSV(t, db, text, postgis.ImportOptions{}), 2, 0, 0, 2, 0)
	if n := queryInt(t, db, `SELECT count(*) FROM incidents WHERE status = 'retracted'`); n != 1 {
		t.Errorf("retracted incidents = %d after re-import, want 1", n)
	}
}

// badRows are three invalid records among valid ones: latitude 95 on
// line 3, an unknown event type on line 5, a bad date on line 6.
func badRows() []map[string]string {
	var rows []map[string]string
	for i := range 6 {
		rows = append(rows, nkRow(i))
	}
	rows[1]["latitude"] = "95"
	rows[3]["event_type"] = "Skirmish"
	rows[4]["event_date"] = "2020-13-45"
	return rows
}

// One invalid row and nothing is written; the error names every invalid
// row's line and column.
func TestImportInvalidRowsWriteNothing(t *testing.T) {
	db := openTestDB(t)
	before := collectionVersion(t, db, "incidents")
	res, err := importCSV(t, db, acledCSV(t, badRows()...), postgis.ImportOptions{})
	var rowsErr *geo.InvalidRowsError
	if !errors.As(err, &rowsErr) || !errors.Is(err, geo.ErrInvalid) {
		t.Fatalf("err = %v (%T), want *geo.InvalidRowsError", err, err)
	}
	want := []struct {
		line   int
		column string
	}{{3, "latitude"}, {5, "event_type"}, {6, "event_date"}}
	if rowsErr.Rows != 3 || len(rowsErr.Errors) != len(want) {
		t.Fatalf("errors = %+v (%d rows), want %d", rowsErr.Errors, rowsErr.Rows, len(want))
	}
	for i, w := range want {
		if got := rowsErr.Errors[i]; got.Line != w.line || got.Column != w.column || got.Reason == "" {
			t.Errorf("error %d = %+v, want line %d column %s", i, got, w.line, w.column)
		}
	}
	if msg := err.Error(); !strings.Contains(msg, "line 3, column latitude: latitude 95 is out of range") {
		t.Errorf("error message %q does not name line 3, column latitude", msg)
	}
	checkCounts(t, res, 6, 0, 0, 0, 3)
	if n := queryInt(t, db, `SELECT count(*) FROM incidents`); n != 0 {
		t.Errorf("%d incidents written, want none", n)
	}
	if collectionVersion(t, db, "incidents") != before {
		t.Error("collection version bumped by a failed import")
	}
}

// With SkipInvalid the valid rows are written and the invalid reported.
func TestImportSkipInvalid(t *testing.T) {
	db := openTestDB(t)
	res, err := importCSV(t, db, acledCSV(t, badRows()...), postgis.ImportOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, res, 6, 3, 0, 0, 3)
	if len(res.Errors) != 3 || res.Errors[0].Line != 3 {
		t.Errorf("reported errors = %+v", res.Errors)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM incidents`); n != 3 {
		t.Errorf("%d incidents written, want 3", n)
	}
}

// A repeated external id is an invalid row naming the first one.
func TestImportDuplicateExternalID(t *testing.T) {
	db := openTestDB(t)
	dup := nkRow(1)
	dup["event_id_cnty"] = "AZE1000"
	_, err := importCSV(t, db, acledCSV(t, nkRow(0), dup, nkRow(2)), postgis.ImportOptions{})
	var rowsErr *geo.InvalidRowsError
	if !errors.As(err, &rowsErr) || len(rowsErr.Errors) != 1 {
		t.Fatalf("err = %v, want one invalid row", err)
	}
	if got := rowsErr.Errors[0]; got.Line != 3 || got.Column != "event_id_cnty" || !strings.Contains(got.Reason, "first on line 2") {
		t.Errorf("error = %+v, want line 3, column event_id_cnty, first on line 2", got)
	}
	res, err := importCSV(t, db, acledCSV(t, nkRow(0), dup, nkRow(2)), postgis.ImportOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, res, 3, 2, 0, 0, 1)
}

// A header without required columns lists all of them.
func TestImportMissingColumns(t *testing.T) {
	_, err := geo.NewACLEDReader(strings.NewReader("\uFEFFEvent_ID_Cnty,notes,event_type\nX,y,Battles\n"))
	var herr *geo.HeaderError
	if !errors.As(err, &herr) || strings.Join(herr.Missing, ",") != "event_date,latitude,longitude" {
		t.Fatalf("err = %v, want missing event_date, latitude, longitude", err)
	}
}

// Large imports run in bulk mode: no per-row live events (only feed-only
// ones), still one version bump; the demo option marks the rows.
func TestImportBulkDemo(t *testing.T) {
	db := openTestDB(t)
	var rows []map[string]string
	for i := range 1500 {
		rows = append(rows, nkRow(i))
	}
	var phases []string
	res := mustImportCSV(t, db, acledCSV(t, rows...), postgis.ImportOptions{Demo: true, Progress: func(p postgis.ImportProgress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	}})
	checkCounts(t, res, 1500, 1500, 0, 0, 0)
	if !res.Bulk {
		t.Error("a 1500-row import did not run in bulk mode")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM incident_events WHERE live`); n != 0 {
		t.Errorf("bulk import wrote %d live events, want 0", n)
	}
	// The changes feed still hears of every row (changes_test.go).
	if n := queryInt(t, db, `SELECT count(*) FROM incident_events WHERE NOT live`); n != 1500 {
		t.Errorf("bulk import wrote %d feed-only events, want 1500", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM incidents WHERE demo`); n != 1500 {
		t.Errorf("%d demo incidents, want 1500", n)
	}
	if got := strings.Join(phases, ","); !strings.HasPrefix(got, "checking,merging") || !strings.HasSuffix(got, "done") {
		t.Errorf("progress phases = %s", got)
	}
}

// The reader's own errors (broken syntax) abort the import.
func TestImportReaderError(t *testing.T) {
	db := openTestDB(t)
	r, err := geo.NewGeoJSONIncidentReader(strings.NewReader(`{"type":"FeatureCollection","features":[{"type":"Feature"`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportIncidents(context.Background(), r, postgis.ImportOptions{}); err == nil || errors.Is(err, geo.ErrInvalid) {
		t.Fatalf("err = %v, want a read error", err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM incidents`); n != 0 {
		t.Errorf("%d incidents written, want none", n)
	}
}

// writeGeneratedACLED writes n generated rows as an ACLED CSV file.
func writeGeneratedACLED(tb testing.TB, n int) string {
	tb.Helper()
	f, err := os.CreateTemp("", "acled-bench-*.csv")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.Remove(f.Name()) })
	w := csv.NewWriter(f)
	w.Write(geo.ACLEDColumns())
	rec := make([]string, len(geo.ACLEDColumns()))
	for i := range n {
		r := nkRow(i)
		r["event_id_cnty"] = fmt.Sprintf("BEN%d", i)
		for j, c := range geo.ACLEDColumns() {
			rec[j] = r[c]
		}
		w.Write(rec)
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		tb.Fatal(err)
	}
	return f.Name()
}

// BenchmarkImportACLED imports IMPORT_BENCH_ROWS (default 100,000)
// generated ACLED rows from a CSV file into an empty database and reports
// rows/s, the whole import (read, stage, check, merge, commit) timed; then
// imports the same file again and reports how long that no-op took. For
// the 1,000,000-row target:
//
//	IMPORT_BENCH_ROWS=1000000 go test ./geo/postgis -run '^$' -bench BenchmarkImportACLED -benchtime 1x
func BenchmarkImportACLED(b *testing.B) {
	n := 100_000
	if s := os.Getenv("IMPORT_BENCH_ROWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("IMPORT_BENCH_ROWS=%q: want a positive number", s)
		}
		n = v
	}
	path := writeGeneratedACLED(b, n)
	ctx := context.Background()
	importFile := func(db *postgis.DB) (postgis.ImportResult, time.Duration) {
		b.Helper()
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		start := time.Now()
		r, err := geo.NewACLEDReader(f)
		if err != nil {
			b.Fatal(err)
		}
		phase, phaseStart := "", start
		res, err := db.ImportIncidents(ctx, r, postgis.ImportOptions{Progress: func(p postgis.ImportProgress) {
			if p.Phase != phase {
				if phase != "" {
					b.Logf("%-10s %v", phase, time.Since(phaseStart).Round(time.Millisecond))
				}
				phase, phaseStart = p.Phase, time.Now()
			}
		}})
		if err != nil {
			b.Fatal(err)
		}
		return res, time.Since(start)
	}
	var total, noop time.Duration
	for b.Loop() {
		b.StopTimer()
		db, err := postgis.Open(ctx, pgtest.NewDB(b), postgis.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, took := importFile(db)
		b.StopTimer()
		total += took
		if res.Inserted != int64(n) {
			b.Fatalf("inserted %d, want %d", res.Inserted, n)
		}
		res, took = importFile(db)
		noop += took
		if res.Unchanged != int64(n) {
			b.Fatalf("re-import: %d unchanged, want %d", res.Unchanged, n)
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "rows/s")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/import")
	b.ReportMetric(noop.Seconds()/float64(b.N), "s/reimport")
}

// loadKarabakhGeography loads a gazetteer of two places and two
// rectangular "countries" meeting at 46.5°E, through the stores' loaders.
func loadKarabakhGeography(t *testing.T, db *postgis.DB) {
	t.Helper()
	ctx := context.Background()
	box := func(minLon, maxLon float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{minLon, 38}, {maxLon, 38}, {maxLon, 42}, {minLon, 42}, {minLon, 38}}}}
	}
	if _, err := db.LoadCountries(ctx, []geo.Country{
		{Code: "AM", Numeric: "051", Name: "Armenia", Geometry: box(43, 46.5)},
		{Code: "AZ", Numeric: "031", Name: "Azerbaijan", Geometry: box(46.5, 50)},
	}); err != nil {
		t.Fatalf("load countries: %v", err)
	}
	if _, err := db.LoadPlaces(ctx, []geo.Place{
		{ID: 174875, Name: "Stepanakert", CountryCode: "AZ", Population: 55000, Point: orb.Point{46.7519, 39.8153}},
		{ID: 586523, Name: "Ganja", CountryCode: "AZ", Population: 300000, Point: orb.Point{46.3606, 40.6828}},
	}); err != nil {
		t.Fatalf("load places: %v", err)
	}
}

// Small and bulk imports alike get their derived geography set-based,
// before the rows are written (in the same transaction).
func TestImportEnriches(t *testing.T) {
	for _, n := range []int{20, 1200} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			db := openTestDB(t)
			loadKarabakhGeography(t, db)
			var rows []map[string]string
			for i := range n {
				rows = append(rows, nkRow(i))
			}
			var phases []string
			res := mustImportCSV(t, db, acledCSV(t, rows...), postgis.ImportOptions{Progress: func(p postgis.ImportProgress) {
				phases = append(phases, p.Phase)
			}})
			if got, want := strings.Join(slices.Compact(phases), ","), "checking,enriching,merging,done"; res.Bulk != (n >= 1000) || got != want {
				t.Errorf("bulk = %v, phases %s, want %s", res.Bulk, got, want)
			}
			if missing := queryInt(t, db, `SELECT count(*) FROM incidents WHERE country_code IS NULL OR nearest_place_name IS NULL`); missing != 0 {
				t.Errorf("%d of %d incidents not enriched", missing, n)
			}
			if got := queryInt(t, db, `SELECT count(*) FROM incidents WHERE country_code = 'AM'`); got == 0 {
				t.Error("no incident west of 46.5°E is in Armenia")
			}
		})
	}
}

// The reasons count every error, not only the ones kept.
func TestImportReasonsCountAllErrors(t *testing.T) {
	db := openTestDB(t)
	var rows []map[string]string
	for i := range 30 {
		r := nkRow(i)
		if i%2 == 0 {
			r["latitude"] = "95"
		}
		rows = append(rows, r)
	}
	rows = append(rows, nkRow(1)) // a duplicate of row 1
	res, err := importCSV(t, db, acledCSV(t, rows...), postgis.ImportOptions{SkipInvalid: true, MaxErrors: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, res, 31, 15, 0, 0, 16)
	if len(res.Errors) != 3 || res.ErrorsOmitted != 13 {
		t.Errorf("kept %d errors, omitted %d; want 3, 13", len(res.Errors), res.ErrorsOmitted)
	}
	if len(res.Reasons) != 2 || res.Reasons[0].Column != "latitude" || res.Reasons[0].Count != 15 ||
		res.Reasons[1] != (postgis.ImportReason{Column: "event_id_cnty", Kind: "duplicate external id", Count: 1}) {
		t.Errorf("reasons = %+v, want 15 latitude, 1 duplicate", res.Reasons)
	}
}
