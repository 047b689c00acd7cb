package postgis_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// derived are an incident's derived geography columns.
type derived struct {
	Country       sql.NullString
	PlaceID       sql.NullInt64
	PlaceName     sql.NullString
	PlaceDistance sql.NullFloat64
	Border        sql.NullFloat64
}

func readDerived(t *testing.T, db *postgis.DB, id int64) derived {
	t.Helper()
	var d derived
	err := db.SQL().QueryRow(`SELECT country_code, nearest_place_id, nearest_place_name, nearest_place_distance_m,
		border_distance_m FROM incidents WHERE id = $1`, id).
		Scan(&d.Country, &d.PlaceID, &d.PlaceName, &d.PlaceDistance, &d.Border)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// createAt stores an incident at pt through the store, as the API does,
// with the country code an import would supply ("" for none).
func createAt(t *testing.T, db *postgis.DB, pt orb.Point, country string) int64 {
	t.Helper()
	inc := geo.Incident{
		OccurredAt: time.Date(2020, 10, 18, 4, 0, 0, 0, time.UTC),
		EventType:  "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
		Title: "Shelling", Point: pt, CountryCode: country,
	}
	if err := db.CreateIncident(context.Background(), &inc); err != nil {
		t.Fatal(err)
	}
	return inc.ID
}

// Independent answers, by brute force over whole tables.
func nearestBorderBruteForce(t *testing.T, db *postgis.DB, pt orb.Point) float64 {
	t.Helper()
	return queryFloat(t, db, `SELECT min(ST_Distance(ST_Segmentize(geom, 0.1)::geography, `+pointSQL(pt)+`::geography)) FROM borders`)
}

func TestEnrichment(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)

	// Nothing loaded: the supplied country stays, nothing is derived.
	id := createAt(t, db, orb.Point{47.03, 39.40}, "AZ")
	if d := readDerived(t, db, id); d.Country.String != "AZ" || d.PlaceID.Valid || d.Border.Valid {
		t.Errorf("without geography: %+v", d)
	}

	loadCaucasus(t, db)
	loadRealBorders(t, db)

	t.Run("Jabrayil", func(t *testing.T) {
		pt := orb.Point{47.03, 39.40}
		d := readDerived(t, db, createAt(t, db, pt, ""))
		if d.Country.String != "AZ" {
			t.Errorf("country = %v, want AZ", d.Country)
		}
		if d.PlaceID.Int64 != idJebrail || d.PlaceName.String != "Jebrail" || d.PlaceDistance.Float64 > 2000 {
			t.Errorf("nearest place = %v %v at %v m, want Jebrail within 2 km", d.PlaceID, d.PlaceName, d.PlaceDistance)
		}
		wantPlace := queryFloat(t, db, `SELECT ST_Distance(geom::geography, `+pointSQL(pt)+`::geography) FROM places WHERE id = $1`, idJebrail)
		if math.Abs(d.PlaceDistance.Float64-wantPlace) > 0.01 {
			t.Errorf("place distance %v m, independently %v m", d.PlaceDistance.Float64, wantPlace)
		}
		// The nearest border is Iran's (the Aras), some 14 km south.
		wantBorder := queryFloat(t, db, `SELECT min(ST_Distance(geom::geography, `+pointSQL(pt)+`::geography))
			FROM borders WHERE country_a = 'AZ' AND country_b = 'IR'`)
		if math.Abs(d.Border.Float64-wantBorder) > wantBorder*0.05 || d.Border.Float64 > 20000 {
			t.Errorf("border distance %v m, independently %v m to the AZ–IR border", d.Border.Float64, wantBorder)
		}
		if all := nearestBorderBruteForce(t, db, pt); math.Abs(d.Border.Float64-all) > all*0.001 {
			t.Errorf("border distance %v m, brute force over every border %v m", d.Border.Float64, all)
		}
	})

	t.Run("Caspian Sea", func(t *testing.T) {
		pt := orb.Point{51.0, 41.0}
		d := readDerived(t, db, createAt(t, db, pt, ""))
		coast := queryFloat(t, db, `SELECT min(ST_Distance(geom::geography, `+pointSQL(pt)+`::geography)) FROM countries`)
		if coast < 10000 {
			t.Fatalf("the test point is only %v m from land", coast)
		}
		if d.Country.Valid {
			t.Errorf("country = %v, want none: the nearest land is %.0f m away", d.Country.String, coast)
		}
		// The nearest land border, not the nearer coast (87 km).
		want := nearestBorderBruteForce(t, db, pt)
		if math.Abs(d.Border.Float64-want) > want*0.001 || d.Border.Float64 < coast+10000 {
			t.Errorf("border distance %.0f m, want %.0f m (the coast, at %.0f m, must not count)", d.Border.Float64, want, coast)
		}
		wantPlace := queryFloat(t, db, `SELECT min(ST_Distance(geom::geography, `+pointSQL(pt)+`::geography)) FROM places`)
		if math.Abs(d.PlaceDistance.Float64-wantPlace) > 0.5 {
			t.Errorf("nearest place %v at %v m, brute force %.0f m", d.PlaceName, d.PlaceDistance, wantPlace)
		}
		// At sea, a country code the writer gave stays.
		if d := readDerived(t, db, createAt(t, db, pt, "TM")); d.Country.String != "TM" {
			t.Errorf("supplied country at sea = %v, want TM kept", d.Country)
		}
	})

	t.Run("coast", func(t *testing.T) {
		near := orb.Point{50.0, 40.25} // 7.6 km off Azerbaijan
		if d := readDerived(t, db, createAt(t, db, near, "")); d.Country.String != "AZ" {
			t.Errorf("7.6 km off the coast: country %v, want AZ", d.Country)
		}
		far := orb.Point{50.8, 40.7} // 43 km off the islands 1:10m draws
		if d := readDerived(t, db, createAt(t, db, far, "")); d.Country.Valid {
			t.Errorf("43 km off the coast: country %v, want none", d.Country)
		}
	})

	t.Run("derived wins over supplied", func(t *testing.T) {
		if d := readDerived(t, db, createAt(t, db, orb.Point{47.03, 39.40}, "AM")); d.Country.String != "AZ" {
			t.Errorf("country = %v, want AZ computed over AM supplied", d.Country)
		}
	})

	t.Run("updates", func(t *testing.T) {
		id := createAt(t, db, orb.Point{47.03, 39.40}, "")
		// Moving it recomputes everything: Tbilisi.
		if _, err := db.SQL().Exec(`UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(44.80, 41.72), 4326) WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		d := readDerived(t, db, id)
		if d.Country.String != "GE" || d.PlaceName.String != "Tbilisi" {
			t.Errorf("moved to Tbilisi: %v %v", d.Country, d.PlaceName)
		}
		// Other updates leave the derived fields alone.
		if _, err := db.SQL().Exec(`UPDATE incidents SET title = 'x', border_distance_m = 1 WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if d := readDerived(t, db, id); d.Border.Float64 != 1 {
			t.Errorf("an update without geom recomputed: %v", d.Border)
		}
		// ReEnrich puts it right, and then has nothing to do.
		n, err := db.ReEnrich(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n < 2 { // this one, and the first incident, stored before the geography
			t.Errorf("ReEnrich changed %d incidents, want at least 2", n)
		}
		if d := readDerived(t, db, id); d.Border.Float64 < 1000 {
			t.Errorf("after ReEnrich: border %v", d.Border)
		}
		if n, err := db.ReEnrich(ctx); err != nil || n != 0 {
			t.Errorf("second ReEnrich changed %d, %v; want 0", n, err)
		}
	})

	t.Run("enrichment off", func(t *testing.T) {
		tx, err := db.SQL().Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		tx.Exec(`SET LOCAL incidentmap.enrich = 'off'`)
		var id int64
		err = tx.QueryRow(`INSERT INTO incidents (occurred_at, event_type, title, geom, country_code)
			VALUES (now(), 'Battles', 'bulk', ST_SetSRID(ST_MakePoint(44.51, 40.18), 4326), 'AM') RETURNING id`).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if d := readDerived(t, db, id); d.PlaceID.Valid || d.Border.Valid || d.Country.String != "AM" {
			t.Errorf("with enrichment off: %+v", d)
		}
		if _, err := db.ReEnrich(ctx); err != nil {
			t.Fatal(err)
		}
		if d := readDerived(t, db, id); d.PlaceName.String != "Yerevan" || !d.Border.Valid {
			t.Errorf("after ReEnrich: %+v", d)
		}
	})
}

// The nearest place is exact: random points against every place.
func TestNearestPlaceExact(t *testing.T) {
	db := openTestDB(t)
	loadCaucasus(t, db)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		pt := orb.Point{43 + rng.Float64()*8, 37.5 + rng.Float64()*5.5}
		var gotID int64
		var gotD float64
		err := db.SQL().QueryRow(`SELECT place_id, place_distance_m FROM incident_geography(`+pointSQL(pt)+`)`).Scan(&gotID, &gotD)
		if err != nil {
			t.Fatal(err)
		}
		want := queryFloat(t, db, `SELECT min(ST_Distance(geom::geography, `+pointSQL(pt)+`::geography)) FROM places`)
		if math.Abs(gotD-want) > 0.5 {
			t.Errorf("%v: nearest place %d at %.1f m, brute force %.1f m", pt, gotID, gotD, want)
		}
	}
}

// BenchmarkEnrich measures the trigger on a 100k-row INSERT ... SELECT
// against the whole gazetteer and every border, with and without it, and
// the set-based ReEnrich. Run it once:
//
//	go test ./geo/postgis -run '^$' -bench Enrich -benchtime 1x
//
// Points are scattered within 5 km of 100k random real places, worldwide,
// all different (ReEnrich computes each distinct point once, so real data,
// where events repeat locations, goes faster).
func BenchmarkEnrich(b *testing.B) {
	ctx := context.Background()
	db, err := postgis.Open(ctx, pgtest.NewDB(b), postgis.Options{StatementTimeout: 30 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.LoadPlaces(ctx, realPlaces(b)); err != nil {
		b.Fatal(err)
	}
	loadRealBorders(b, db)
	const rows = 100_000
	if _, err := db.SQL().Exec(fmt.Sprintf(`
		SELECT setseed(0.5);
		CREATE TABLE bench_points AS
		SELECT ST_SetSRID(ST_MakePoint(
		           greatest(-180, least(180, ST_X(geom) + (random() - 0.5) * 0.09)),
		           greatest(-90, least(90, ST_Y(geom) + (random() - 0.5) * 0.09))), 4326) AS geom
		FROM places ORDER BY random() LIMIT %d;
		ANALYZE`, rows)); err != nil {
		b.Fatal(err)
	}
	insert := func(settings string) time.Duration {
		b.Helper()
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(`SET LOCAL statement_timeout = 0; SET LOCAL incidentmap.bulk = 'on'; ` + settings); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := tx.Exec(`INSERT INTO incidents (occurred_at, event_type, title, geom)
			SELECT now(), 'Battles', 'bench', geom FROM bench_points`); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for i := 0; i < b.N; i++ {
		db.SQL().Exec(`TRUNCATE incidents CASCADE`)
		off := insert(`SET LOCAL incidentmap.enrich = 'off'`)
		start := time.Now()
		if _, err := db.ReEnrich(ctx); err != nil {
			b.Fatal(err)
		}
		re := time.Since(start)
		db.SQL().Exec(`TRUNCATE incidents CASCADE`)
		on := insert(``)
		b.ReportMetric(rows/on.Seconds(), "trigger-rows/s")
		b.ReportMetric(rows/off.Seconds(), "no-enrich-rows/s")
		b.ReportMetric(rows/re.Seconds(), "reenrich-rows/s")
		var enriched int
		db.SQL().QueryRow(`SELECT count(*) FROM incidents WHERE nearest_place_id IS NOT NULL AND border_distance_m IS NOT NULL`).Scan(&enriched)
		if enriched != rows {
			b.Fatalf("%d of %d rows enriched", enriched, rows)
		}
	}
}
