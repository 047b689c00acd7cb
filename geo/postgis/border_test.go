package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/geotest"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// realBorders returns the countries and land borders of the real
// world-atlas file, built once per test binary.
func realBorders(t testing.TB) ([]geo.Country, []geo.Border) {
	t.Helper()
	set := geotest.Countries(t, "countries-10m.json")
	return set.Countries, set.Borders
}

// loadRealBorders loads the real countries and borders into db.
func loadRealBorders(t testing.TB, db *postgis.DB) {
	t.Helper()
	countries, borders := realBorders(t)
	ctx := context.Background()
	if _, err := db.LoadCountries(ctx, countries); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoadBorders(ctx, borders); err != nil {
		t.Fatal(err)
	}
}

// pointSQL is a point literal for queries built by the tests.
func pointSQL(p orb.Point) string {
	return fmt.Sprintf("ST_SetSRID(ST_MakePoint(%v, %v), 4326)", p.Lon(), p.Lat())
}

// queryFloat runs a query returning one number.
func queryFloat(t testing.TB, db *postgis.DB, query string, args ...any) float64 {
	t.Helper()
	var f float64
	if err := db.SQL().QueryRow(query, args...).Scan(&f); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return f
}

func TestLoadCountriesAndBorders(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	countries, borders := realBorders(t)
	for round := 0; round < 2; round++ { // loading again replaces
		n, err := db.LoadCountries(ctx, countries)
		if err != nil || n != len(countries) {
			t.Fatalf("LoadCountries = %d, %v", n, err)
		}
		n, err = db.LoadBorders(ctx, borders)
		if err != nil || n != len(borders) {
			t.Fatalf("LoadBorders = %d, %v", n, err)
		}
	}
	var nCountries, nInvalid, nBorders int
	db.SQL().QueryRow(`SELECT count(*), count(*) FILTER (WHERE NOT ST_IsValid(geom)) FROM countries`).Scan(&nCountries, &nInvalid)
	db.SQL().QueryRow(`SELECT count(*) FROM borders`).Scan(&nBorders)
	if nCountries != len(countries) || nInvalid != 0 || nBorders != len(borders) {
		t.Errorf("stored %d countries (%d invalid), %d borders; want %d, 0, %d", nCountries, nInvalid, nBorders, len(countries), len(borders))
	}
	// Served as OGC collections, through layers.
	layers, err := db.Layers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, l := range layers {
		got[l.ID] = l.Features
	}
	if got[postgis.CountriesLayer] != int64(len(countries)) || got[postgis.BordersLayer] != int64(len(borders)) {
		t.Errorf("layers = %v, want countries %d and borders %d", got, len(countries), len(borders))
	}

	for _, tt := range []struct {
		name       string
		pt         orb.Point
		code, full string
	}{
		{"Jabrayil", orb.Point{47.03, 39.40}, "AZ", "Azerbaijan"},
		{"Yerevan", orb.Point{44.51, 40.18}, "AM", "Armenia"},
		{"Tabriz", orb.Point{46.29, 38.08}, "IR", "Iran"},
		{"7.6 km off the coast of Azerbaijan", orb.Point{50.0, 40.25}, "AZ", "Azerbaijan"},
		{"Pristina", orb.Point{21.17, 42.66}, "", "Kosovo"},
		// The 1:10m AZ–IR line crosses 47°E at 39.1809°N: 330 m north of
		// it, on the Aras, is Azerbaijan; 330 m south, Iran.
		{"on the Aras just inside Azerbaijan", orb.Point{47.0, 39.1839}, "AZ", "Azerbaijan"},
		{"on the Aras just inside Iran", orb.Point{47.0, 39.1779}, "IR", "Iran"},
		{"Goma, 850 m south-west of GeoNames' point", orb.Point{29.2228, -1.6792}, "CD", "Dem. Rep. Congo"},
		{"Gisenyi", orb.Point{29.25639, -1.70278}, "RW", "Rwanda"},
		{"Rafah, Egyptian side: 1 km from the line", orb.Point{34.2167, 31.2667}, "EG", "Egypt"},
		{"Rafah, Gaza side", orb.Point{34.24357, 31.29722}, "PS", "Palestine"},
		// Rings across the antimeridian are cut there (before, Chukotka and
		// Wrangel Island made bands around the globe).
		{"Anadyr", orb.Point{177.5103, 64.73424}, "RU", "Russia"},
		{"Egvekinot (west of 180°)", orb.Point{-179.12198, 66.32166}, "RU", "Russia"},
		{"Taymyr", orb.Point{106.45, 71.21}, "RU", "Russia"},
		{"Kiruna", orb.Point{20.2253, 67.8557}, "SE", "Sweden"},
		{"Bodø", orb.Point{14.40, 67.28}, "NO", "Norway"},
		{"Cairns", orb.Point{145.7667, -16.9167}, "AU", "Australia"},
		{"Taveuni (east of 180°)", orb.Point{-179.97, -16.80}, "FJ", "Fiji"},
	} {
		code, name, err := db.CountryAt(ctx, tt.pt)
		if err != nil || code != tt.code || name != tt.full {
			t.Errorf("%s: CountryAt = %q %q, %v; want %q %q", tt.name, code, name, err, tt.code, tt.full)
		}
	}
	// (50.45, 40.5), 14 km off Absheron at 1:50m, is 8 km from the
	// islands 1:10m draws: 40 km off is far enough at either scale.
	for _, sea := range []orb.Point{{51, 41}, {50.8, 40.7}, {-30, 0}} {
		if code, name, err := db.CountryAt(ctx, sea); !errors.Is(err, geo.ErrNotFound) {
			t.Errorf("CountryAt(%v) at sea = %q %q, %v; want ErrNotFound", sea, code, name, err)
		}
	}

	jabrayil := orb.Point{47.03, 39.40}
	d, a, b, err := db.BorderDistance(ctx, jabrayil)
	if err != nil {
		t.Fatal(err)
	}
	// Independently: the distance to every border, whole, on the spheroid.
	want := queryFloat(t, db, `SELECT min(ST_Distance(ST_Segmentize(geom, 0.1)::geography, `+pointSQL(jabrayil)+`::geography)) FROM borders`)
	if a != "AZ" || b != "IR" || math.Abs(d-want) > want*0.001 || d < 5000 || d > 30000 {
		t.Errorf("Jabrayil: nearest border %s–%s at %.0f m, want AZ–IR at %.0f m", a, b, d, want)
	}

	if _, err := db.LoadCountries(ctx, nil); !errors.Is(err, geo.ErrInvalid) {
		t.Errorf("LoadCountries(nil) = %v, want ErrInvalid", err)
	}
	bad := append([]geo.Country{}, countries[:2]...)
	bad[1].Code = "xx"
	var v *geo.ValidationError
	if _, err := db.LoadCountries(ctx, bad); !errors.As(err, &v) || v.Errors[0].Field != "countries[1].code" {
		t.Errorf("bad country: %v", err)
	}
	if _, err := db.LoadBorders(ctx, []geo.Border{{NameA: "A", NameB: "B"}}); !errors.As(err, &v) {
		t.Errorf("bad border: %v", err)
	}
	db.SQL().QueryRow(`SELECT count(*) FROM countries`).Scan(&nCountries)
	if nCountries != len(countries) {
		t.Errorf("rejected loads changed the countries: %d", nCountries)
	}
}

// The distance to the nearest border is exact at any latitude: compared
// with the distance to every border, whole, from random points between
// 60°S and 75°N (where a degree of longitude is a quarter of one of
// latitude), it agrees to 0.1%.
func TestBorderDistanceAnyLatitude(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	loadRealBorders(t, db)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100; i++ {
		pt := orb.Point{rng.Float64()*360 - 180, rng.Float64()*135 - 60}
		if i < 20 { // Nordic and Russian borders, far north
			pt = orb.Point{5 + rng.Float64()*40, 60 + rng.Float64()*10}
		}
		got, _, _, err := db.BorderDistance(ctx, pt)
		if err != nil {
			t.Fatal(err)
		}
		want := queryFloat(t, db, `SELECT min(ST_Distance(ST_Segmentize(geom, 0.1)::geography, `+pointSQL(pt)+`::geography)) FROM borders`)
		if math.Abs(got-want) > want*0.001+1 {
			t.Errorf("%v: border distance %.0f m, want %.0f m", pt, got, want)
		}
	}
}
