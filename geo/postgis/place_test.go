package postgis_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/geotest"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// realPlaces returns every place of the real GeoNames cities500 file,
// decoded once per test binary (shared: callers must not modify it).
func realPlaces(t testing.TB) []geo.Place { return geotest.GeoNames(t) }

var (
	gazetteerOnce sync.Once
	gazetteer     *postgis.DB
	gazetteerErr  error
)

// gazetteerDB returns a database holding the whole real gazetteer (every
// place of cities500 with its alternate names, and the built-in aliases),
// loaded once per test binary and shared: tests must only read it.
func gazetteerDB(t testing.TB) *postgis.DB {
	t.Helper()
	places := realPlaces(t)
	gazetteerOnce.Do(func() {
		gazetteerErr = func() error {
			ctx := context.Background()
			const name = "gazetteer"
			if err := pgtest.Cluster().CreateDatabase(ctx, name, pgtest.TemplateDB); err != nil {
				return err
			}
			db, err := postgis.Open(ctx, pgtest.Cluster().DSN(name), postgis.Options{})
			if err != nil {
				return err
			}
			start := time.Now()
			if _, err := db.LoadPlaces(ctx, places); err != nil {
				return err
			}
			if _, err := db.AddBuiltinAliases(ctx, geo.BuiltinAliases()); err != nil {
				return err
			}
			if _, err := db.SQL().Exec(`VACUUM ANALYZE places, place_names`); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "gazetteer: loaded %d places in %v\n", len(places), time.Since(start).Round(time.Millisecond))
			gazetteer = db
			return nil
		}()
	})
	if gazetteerErr != nil {
		t.Fatalf("load the gazetteer: %v", gazetteerErr)
	}
	return gazetteer
}

// caucasusBBox holds Armenia, Azerbaijan, Georgia and the edges of their
// neighbours: some 700 real places, quick to load.
var caucasusBBox = orb.Bound{Min: orb.Point{43, 37.5}, Max: orb.Point{51, 43}}

// caucasusPlaces is the real subset of the gazetteer inside caucasusBBox.
func caucasusPlaces(t testing.TB) []geo.Place {
	t.Helper()
	var out []geo.Place
	for _, p := range realPlaces(t) {
		if caucasusBBox.Contains(p.Point) {
			out = append(out, p)
		}
	}
	return out
}

// GeoNames ids of the places the tests look for.
const (
	idJebrail  = 148141 // Jabrayil, Azerbaijan
	idXankandi = 146970 // Stepanakert
	idShushi   = 147105 // Shusha
)

// loadCaucasus loads the Caucasus places with the contested and
// transliterated names as aliases.
func loadCaucasus(t testing.TB, db *postgis.DB) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.LoadPlaces(ctx, caucasusPlaces(t)); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		id          int64
		alias, note string
	}{
		{idJebrail, "Jabrayil", "official romanisation"},
		{idJebrail, "Cəbrayıl", "Azerbaijani"},
		{idXankandi, "Stepanakert", "Armenian name"},
		{idShushi, "Shusha", "Azerbaijani name, romanised"},
		{idShushi, "Şuşa", "Azerbaijani"},
	} {
		if _, err := db.AddAlias(ctx, a.id, a.alias, a.note); err != nil {
			t.Fatalf("alias %s: %v", a.alias, err)
		}
	}
}

func TestLoadPlacesIdempotent(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	places := caucasusPlaces(t)
	if len(places) < 500 {
		t.Fatalf("only %d real places in the Caucasus box", len(places))
	}
	res, err := db.LoadPlaces(ctx, places)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != int64(len(places)) || res.Updated != 0 || res.Unchanged != 0 {
		t.Errorf("first load = %+v, want %d inserted", res, len(places))
	}
	if _, err := db.AddAlias(ctx, idJebrail, "Jabrayil", ""); err != nil {
		t.Fatal(err)
	}
	res, err = db.LoadPlaces(ctx, places)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 0 || res.Updated != 0 || res.Unchanged != int64(len(places)) {
		t.Errorf("second load = %+v, want all unchanged", res)
	}
	changed := slices.Clone(places)
	for i := range changed {
		if changed[i].ID == idJebrail {
			changed[i].Population++
			changed[i].AlternateNames = []string{"Dzhebrail"}
		}
	}
	res, err = db.LoadPlaces(ctx, changed[:len(changed)-1])
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 0 || res.Updated != 1 || res.Unchanged != int64(len(places)-2) {
		t.Errorf("load with one change = %+v, want 1 updated", res)
	}
	p, err := db.Place(ctx, idJebrail)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Jebrail" || p.ASCIIName != "Jebrail" || p.Population != 8397 || !slices.Equal(p.AlternateNames, []string{"Dzhebrail"}) {
		t.Errorf("Jebrail after update = %+v", p)
	}
	// The alias survived, the alternate name is searchable, and a place
	// missing from the last load is still there.
	for _, q := range []string{"Jabrayil", "dzhebrail"} {
		m, err := db.SearchPlaces(ctx, q, nil, 1)
		if err != nil || len(m) != 1 || m[0].ID != idJebrail {
			t.Errorf("search %q after reload = %+v, %v", q, m, err)
		}
	}
	last := places[len(places)-1]
	if _, err := db.Place(ctx, last.ID); err != nil {
		t.Errorf("place %d left out of the last load: %v", last.ID, err)
	}
	// An ASCII name is derived when none is given: unaccented, schwa as e.
	p2, err := db.Place(ctx, 147105) // Şuşa: ASCII name as GeoNames gives it
	if err != nil || p2.ASCIIName != "Susa" {
		t.Errorf("Şuşa = %+v, %v; want ASCII name Susa", p2, err)
	}
	if _, err := db.LoadPlaces(ctx, []geo.Place{{ID: 9_000_000_001, Name: "Xankəndi Şəhəri", Point: orb.Point{46.75, 39.82}}}); err != nil {
		t.Fatal(err)
	}
	if p3, err := db.Place(ctx, 9_000_000_001); err != nil || p3.ASCIIName != "Xankendi Seheri" {
		t.Errorf("derived ASCII name = %q, %v", p3.ASCIIName, err)
	}
}

func TestLoadPlacesRejects(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	good := geo.Place{ID: 1, Name: "A", Point: orb.Point{1, 1}}
	for _, tt := range []struct {
		places []geo.Place
		field  string
	}{
		{[]geo.Place{good, {ID: 2, Name: "", Point: orb.Point{1, 1}}}, "places[1].name"},
		{[]geo.Place{good, {ID: 2, Name: "B", Point: orb.Point{1, 100}}}, "places[1].location"},
		{[]geo.Place{good, {ID: 1, Name: "B", Point: orb.Point{1, 1}}}, "places[1].id"},
	} {
		_, err := db.LoadPlaces(ctx, tt.places)
		var v *geo.ValidationError
		if !errors.As(err, &v) || v.Errors[0].Field != tt.field {
			t.Errorf("LoadPlaces(%+v) = %v, want an error on %s", tt.places, err, tt.field)
		}
	}
	var n int
	db.SQL().QueryRow(`SELECT count(*) FROM places`).Scan(&n)
	if n != 0 {
		t.Errorf("%d places stored by rejected loads", n)
	}
}

func TestAddAlias(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	if _, err := db.LoadPlaces(ctx, []geo.Place{{ID: idShushi, Name: "Shushi", CountryCode: "AZ", Point: orb.Point{46.75, 39.76}}}); err != nil {
		t.Fatal(err)
	}
	a, err := db.AddAlias(ctx, idShushi, "  Shusha ", " Azerbaijani name ")
	if err != nil || a.ID == 0 || a.Alias != "Shusha" || a.Note != "Azerbaijani name" {
		t.Fatalf("AddAlias = %+v, %v", a, err)
	}
	// The same alias in another case or accent is the same alias.
	for _, dup := range []string{"SHUSHA", "Shúsha", "shusha"} {
		if _, err := db.AddAlias(ctx, idShushi, dup, ""); !errors.Is(err, geo.ErrConflict) {
			t.Errorf("AddAlias(%q) = %v, want ErrConflict", dup, err)
		}
	}
	if _, err := db.AddAlias(ctx, 1, "Nowhere", ""); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("alias of a missing place: %v, want ErrNotFound", err)
	}
	if _, err := db.AddAlias(ctx, idShushi, "", ""); !errors.Is(err, geo.ErrInvalid) {
		t.Errorf("empty alias: %v, want ErrInvalid", err)
	}
	aliases, err := db.PlaceAliases(ctx, idShushi)
	if err != nil || len(aliases) != 1 || aliases[0].Alias != "Shusha" {
		t.Errorf("aliases = %+v, %v", aliases, err)
	}
	// Deleting the alias (psql) takes it out of the search, by trigger.
	if _, err := db.SQL().Exec(`DELETE FROM place_aliases WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	if m, err := db.SearchPlaces(ctx, "shusha", nil, 5); err != nil || len(m) != 0 && m[0].Score == 1 {
		t.Errorf("search after deleting the alias = %+v, %v", m, err)
	}
}

func TestSearchPlaces(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	loadCaucasus(t, db)
	tests := []struct {
		name, q        string
		wantID         int64
		wantMatched    string
		minScore       float64
		maxScore       float64
		wantFirstScore float64
	}{
		{"prefix of an alias", "jabr", idJebrail, "Jabrayil", 0.9, 0.9, 0},
		{"alias", "Jabrayil", idJebrail, "Jabrayil", 1, 1, 0},
		{"name", "Jebrail", idJebrail, "Jebrail", 1, 1, 0},
		{"accents ignored in the query", "cebrayil", idJebrail, "Cəbrayıl", 1, 1, 0},
		{"accents ignored in the name", "Çəbrayil", idJebrail, "Cəbrayıl", 1, 1, 0},
		{"case and spaces", "  JEBRAIL  ", idJebrail, "Jebrail", 1, 1, 0},
		{"typo", "Stepanakret", idXankandi, "Stepanakert", 0.2, 0.7, 0},
		{"typo in the name", "Xankandy", idXankandi, "Xankandi", 0.2, 0.7, 0},
		{"contested name", "Stepanakert", idXankandi, "Stepanakert", 1, 1, 0},
		{"other contested name", "Shusha", idShushi, "Shusha", 1, 1, 0},
		{"Azerbaijani spelling", "Şuşa", idShushi, "Şuşa", 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			matches, err := db.SearchPlaces(ctx, tt.q, nil, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(matches) == 0 {
				t.Fatalf("%q found nothing", tt.q)
			}
			m := matches[0]
			if m.ID != tt.wantID || m.Matched != tt.wantMatched || m.Score < tt.minScore || m.Score > tt.maxScore {
				t.Errorf("%q: first = %d %s (matched %q, score %v), want %d via %q, score %v..%v",
					tt.q, m.ID, m.Name, m.Matched, m.Score, tt.wantID, tt.wantMatched, tt.minScore, tt.maxScore)
			}
			if m.DistanceM != nil {
				t.Errorf("distance without near: %v", *m.DistanceM)
			}
			for i := 1; i < len(matches); i++ {
				if matches[i].Score > matches[i-1].Score {
					t.Errorf("results not ordered by score: %v after %v", matches[i].Score, matches[i-1].Score)
				}
				if matches[i].ID == matches[i-1].ID {
					t.Errorf("place %d listed twice", matches[i].ID)
				}
			}
		})
	}

	// Equal matches rank the bigger place first; near a small one, that one.
	abovyan, err := db.SearchPlaces(ctx, "Abovyan", nil, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(abovyan) < 2 || abovyan[0].Score != 1 || abovyan[1].Score != 1 || abovyan[0].Population <= abovyan[1].Population {
		t.Fatalf("Abovyan = %+v, want two exact matches, the bigger first", abovyan)
	}
	small := abovyan[1]
	nearSmall, err := db.SearchPlaces(ctx, "Abovyan", &small.Point, 5)
	if err != nil {
		t.Fatal(err)
	}
	if nearSmall[0].ID != small.ID || nearSmall[0].DistanceM == nil || *nearSmall[0].DistanceM > 1 {
		t.Errorf("near the smaller Abovyan: first = %+v, want it at 0 m", nearSmall[0])
	}
	// Prefix matches also rank by size: every result for "a" is a prefix
	// match, by population.
	as, err := db.SearchPlaces(ctx, "a", nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	// By the documented weight: ln(population + 10), feature code, 2.5
	// for the place's own name (none is typed with accents, none is near).
	weight := func(m geo.PlaceMatch) float64 {
		w := math.Log(float64(m.Population) + 10)
		switch m.FeatureCode {
		case "PPLC":
			w += 1.5
		case "PPLA":
			w++
		case "PPLA2":
			w += 0.5
		}
		if m.Matched == m.Name || m.Matched == m.ASCIIName {
			w += 2.5
		}
		return w
	}
	if len(as) != 20 || !slices.IsSortedFunc(as, func(a, b geo.PlaceMatch) int { return cmp.Compare(weight(b), weight(a)) }) {
		t.Errorf("\"a\": %d results, want 20 by weight: %+v", len(as), as)
	}
	// A word inside a name, after the names it begins.
	bazar, err := db.SearchPlaces(ctx, "bazar", nil, 50)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(bazar, func(m geo.PlaceMatch) bool { return m.ID == 147695 }); i < 1 ||
		bazar[i].Score != 0.8 || bazar[i].Matched != "Qırmızı Bazar" || bazar[i-1].Score < 0.8 {
		t.Errorf("bazar: Qırmızı Bazar at %d in %+v, want it after the prefix matches with score 0.8", i, bazar)
	}
	for _, m := range as {
		if m.Score != 0.9 && m.Score != 1 {
			t.Errorf("\"a\" matched %q with score %v", m.Matched, m.Score)
		}
	}
	// Limits, nothing found, bad input.
	if m, err := db.SearchPlaces(ctx, "a", nil, 3); err != nil || len(m) != 3 {
		t.Errorf("limit 3: %d, %v", len(m), err)
	}
	if m, err := db.SearchPlaces(ctx, "qqqqzzzz", nil, 10); err != nil || len(m) != 0 {
		t.Errorf("nonsense found %+v, %v", m, err)
	}
	for _, bad := range []struct {
		q     string
		limit int
	}{{"", 10}, {"a\x00", 10}, {strings.Repeat("a", 101), 10}, {"a", 0}, {"a", 51}} {
		if _, err := db.SearchPlaces(ctx, bad.q, nil, bad.limit); !errors.Is(err, geo.ErrInvalid) {
			t.Errorf("SearchPlaces(%q, %d) = %v, want ErrInvalid", bad.q, bad.limit, err)
		}
	}
	if _, err := db.SearchPlaces(ctx, "a", &orb.Point{200, 0}, 10); !errors.Is(err, geo.ErrInvalid) {
		t.Errorf("near out of range: %v, want ErrInvalid", err)
	}
}

// The gazetteer as an OGC collection: paging by id, bbox, one feature.
func TestPlacesCollection(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	loadCaucasus(t, db)
	b := geo.BBox{MinLon: 46.5, MinLat: 39.2, MaxLon: 47.5, MaxLat: 39.9}
	q := geo.LayerQuery{BBox: &b, Limit: 2}
	var ids []int64
	for page := 0; ; page++ {
		var got []string
		p, err := db.StreamPlaces(ctx, q, func(f []byte) error { got = append(got, string(f)); return nil })
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range got {
			var feature struct{ ID int64 }
			if err := json.Unmarshal([]byte(f), &feature); err != nil {
				t.Fatalf("feature %s: %v", f, err)
			}
			ids = append(ids, feature.ID)
		}
		if !p.HasNext {
			break
		}
		next := p.Last
		q.Cursor = &next
		if page > 10 {
			t.Fatal("too many pages")
		}
	}
	n, exact, err := db.CountPlaces(ctx, geo.LayerQuery{BBox: &b}, 1000)
	if err != nil || !exact || int(n) != len(ids) || n < 2 {
		t.Errorf("count %d (exact %v, %v), streamed %d", n, exact, err, len(ids))
	}
	if !slices.Contains(ids, idJebrail) || !slices.IsSorted(ids) {
		t.Errorf("streamed ids %v, want sorted and Jebrail among them", ids)
	}
	f, err := db.PlaceFeature(ctx, idJebrail)
	if err != nil {
		t.Fatal(err)
	}
	var feature struct {
		ID         int64
		Geometry   struct{ Coordinates []float64 }
		Properties struct {
			Name       string
			Population int64
			Aliases    []string
		}
	}
	if err := json.Unmarshal(f, &feature); err != nil {
		t.Fatalf("feature %s: %v", f, err)
	}
	if feature.ID != idJebrail || feature.Properties.Name != "Jebrail" || feature.Properties.Population != 8396 ||
		!slices.Equal(feature.Properties.Aliases, []string{"Jabrayil", "Cəbrayıl"}) ||
		!slices.Equal(feature.Geometry.Coordinates, []float64{47.02835, 39.39917}) {
		t.Errorf("feature = %s", f)
	}
	if _, err := db.PlaceFeature(ctx, 1); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("missing place: %v", err)
	}
	if _, err := db.StreamPlaces(ctx, geo.LayerQuery{Limit: 1, Time: &geo.TimeInterval{}}, func([]byte) error { return nil }); !errors.Is(err, geo.ErrInvalid) {
		t.Errorf("datetime on places: %v", err)
	}
	v1, err := db.CollectionVersion(ctx, postgis.PlacesCollection)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddAlias(ctx, idJebrail, "Dzhebrail", ""); err != nil {
		t.Fatal(err)
	}
	if v2, _ := db.CollectionVersion(ctx, postgis.PlacesCollection); v2 == v1 {
		t.Error("adding an alias did not change the places collection version")
	}
	if ext, err := db.PlacesExtent(ctx); err != nil || ext.BBox == nil ||
		ext.BBox.MinLon > 47 || ext.BBox.MaxLon < 47.1 || ext.BBox.MinLat > 39.3 || ext.BBox.MaxLat < 39.5 {
		t.Errorf("extent %+v, %v: want a box around the places", ext.BBox, err)
	}
}

// The whole real gazetteer (cities500: 200k places, 820k names): search
// latency. Each search is timed alone; each kind of query reports its
// median, 95th percentile and worst time (the target: p95 under 20 ms).
// The load time is printed when the gazetteer is loaded.
func BenchmarkSearchPlaces(b *testing.B) {
	ctx := context.Background()
	db := gazetteerDB(b)
	queries := benchQueries(realPlaces(b))
	for _, r := range regionalNames {
		queries["regional"] = append(queries["regional"], r.q)
	}
	near := orb.Point{47.03, 39.40}
	for _, kind := range []string{"regional", "prefix1", "prefix2", "prefix3", "prefix5", "name", "typo", "two words", "contested"} {
		b.Run(kind, func(b *testing.B) {
			qs := queries[kind]
			var times []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				q := qs[i%len(qs)]
				var pt *orb.Point
				if i%2 == 1 {
					pt = &near
				}
				t0 := time.Now()
				if _, err := db.SearchPlaces(ctx, q, pt, 10); err != nil {
					b.Fatal(q, err)
				}
				times = append(times, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(times)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(times[len(times)/2]), "p50-ms")
			b.ReportMetric(ms(times[len(times)*95/100]), "p95-ms")
			b.ReportMetric(ms(times[len(times)-1]), "max-ms")
		})
	}
}

// benchQueries draws queries of each kind from real names, deterministically.
func benchQueries(places []geo.Place) map[string][]string {
	out := map[string][]string{
		"contested": {"jabr", "Jabrayil", "cebrayil", "Stepanakret", "Stepanakert", "shusha", "Xankendi", "Ստեփանակերտ", "Степанакерт"},
	}
	for i := 0; i < len(places); i += len(places) / 200 {
		name := []rune(strings.ToLower(places[i].Name))
		if len(name) < 6 {
			continue
		}
		out["prefix1"] = append(out["prefix1"], string(name[:1]))
		out["prefix2"] = append(out["prefix2"], string(name[:2]))
		out["prefix3"] = append(out["prefix3"], string(name[:3]))
		out["prefix5"] = append(out["prefix5"], string(name[:5]))
		out["name"] = append(out["name"], places[i].Name)
		typo := slices.Clone(name)
		typo[len(typo)/2], typo[len(typo)/2+1] = typo[len(typo)/2+1], typo[len(typo)/2] // swap two letters
		out["typo"] = append(out["typo"], string(typo))
		j := (i * 7) % len(places)
		out["two words"] = append(out["two words"], places[i].Name+" "+places[j].Name)
	}
	return out
}

// With near, a small place close by outranks big ones far away, even for
// a one-letter prefix that hundreds of bigger places match.
func TestSearchPlacesNear(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	var places []geo.Place
	for i := range 400 {
		places = append(places, geo.Place{ID: int64(1000 + i), Name: fmt.Sprintf("Abig %d", i), Population: 1_000_000 + int64(i),
			Point: orb.Point{10 + float64(i%20), float64(i / 20)}})
	}
	village := geo.Place{ID: 7, Name: "Aghdam Village", Population: 100, Point: orb.Point{46.9, 40.0}}
	places = append(places, village)
	if _, err := db.LoadPlaces(ctx, places); err != nil {
		t.Fatal(err)
	}
	far, err := db.SearchPlaces(ctx, "a", nil, 10)
	if err != nil || len(far) != 10 || far[0].Population < 1_000_000 {
		t.Fatalf("without near: %+v, %v", far, err)
	}
	near, err := db.SearchPlaces(ctx, "a", &orb.Point{47.03, 39.40}, 10)
	if err != nil || len(near) != 10 || near[0].ID != village.ID || near[0].DistanceM == nil || *near[0].DistanceM > 70000 {
		t.Errorf("near: first = %+v, %v; want the village", near[0], err)
	}
	// The worst case of the distance weight: an exact match 1 km away, of
	// no population and a section of a city, beats the same exact match
	// 3,000 km away in a capital of 22 million.
	if _, err := db.LoadPlaces(ctx, []geo.Place{
		{ID: 11, Name: "Samename", FeatureCode: "PPLX", Point: orb.Point{10, 50}},
		{ID: 12, Name: "Samename", FeatureCode: "PPLC", Population: 22_000_000, Point: orb.Point{52.45, 50}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		near   *orb.Point
		want   int64
		wantKm float64
	}{{nil, 12, 0}, {&orb.Point{10.014, 50}, 11, 1}, {&orb.Point{52.436, 50}, 12, 1}} {
		m, err := db.SearchPlaces(ctx, "Samename", tt.near, 2)
		if err != nil || len(m) != 2 {
			t.Fatalf("Samename near %v: %+v, %v", tt.near, m, err)
		}
		if m[0].ID != tt.want || m[0].Score != 1 || m[1].Score != 1 {
			t.Errorf("Samename near %v: got %d first (score %v), want %d", tt.near, m[0].ID, m[0].Score, tt.want)
		}
		if tt.near != nil {
			if d := *m[0].DistanceM / 1000; math.Abs(d-tt.wantKm) > 0.05 {
				t.Errorf("Samename near %v: %.2f km from the first, want %v", tt.near, d, tt.wantKm)
			}
			if d := *m[1].DistanceM / 1000; d < 2990 || d > 3010 {
				t.Errorf("Samename near %v: %.0f km from the second, want 3,000", tt.near, d)
			}
		}
	}
	// A word inside its name, too.
	if m, err := db.SearchPlaces(ctx, "village", &orb.Point{47.03, 39.40}, 1); err != nil || len(m) != 1 || m[0].ID != village.ID || m[0].Score != 0.8 {
		t.Errorf("word near: %+v, %v", m, err)
	}
}

// regionalNames are names of places of the 2020 Nagorno-Karabakh war and
// its borders as reports spell them — Azerbaijani and English Latin,
// Armenian and Cyrillic script — each with the GeoNames id (cities500)
// that must come first. Ids looked up in cities500.txt by name and
// alternate names; near is the map's centre when the case needs one.
var regionalNames = []struct {
	q    string
	want int64
	near *orb.Point
}{
	// Latin: Azerbaijani, English and Russian-style spellings.
	{"Shusha", 147105, nil}, {"Şuşa", 147105, nil}, {"Shushi", 147105, nil},
	{"Fuzuli", 148106, nil}, {"Füzuli", 148106, nil}, {"Fizuli", 148106, nil},
	{"Lachin", 147625, nil}, {"Laçın", 147625, nil},
	{"Tartar", 584871, nil}, {"Tərtər", 584871, nil}, {"Terter", 584871, nil},
	{"Gəncə", 586523, nil}, {"Ganja", 586523, nil}, {"Ganca", 586523, nil},
	{"Bərdə", 587057, nil}, {"Barda", 587057, nil},
	{"Naxçıvan", 147429, nil}, {"Nakhchivan", 147429, nil},
	{"Cəbrayıl", 148141, nil}, {"Jabrayil", 148141, nil}, {"Jebrail", 148141, nil},
	{"Stepanakert", 146970, nil}, {"Khankendi", 146970, nil}, {"Xankəndi", 146970, nil},
	{"Hadrut", 148105, nil}, {"Agdam", 148619, nil}, {"Ağdam", 148619, nil}, {"Aghdam", 148619, nil},
	{"Horadiz", 148003, nil}, {"Khoda Afarin", 127409, nil},
	{"Zəngilan", 146901, nil}, {"Zangilan", 146901, nil}, {"Qubadlı", 147305, nil},
	{"Kəlbəcər", 586268, nil}, {"Kalbajar", 586268, nil},
	{"Martakert", 587379, nil}, {"Ağdərə", 587379, nil},
	{"Xocalı", 147774, nil}, {"Khojaly", 147774, nil}, {"Khojavend", 146969, nil},
	{"Ağcabədi", 587384, nil}, {"Agjabadi", 587384, nil}, {"Beyləqan", 148354, nil},
	{"Goris", 174895, nil}, {"Kapan", 174875, nil}, {"Yerevan", 616052, nil}, {"Baku", 587084, nil},
	// Armenian script.
	{"Ջաբրայիլ", 148141, nil}, {"Ջաբրաիլ", 148141, nil}, {"Ստեփանակերտ", 146970, nil}, {"Շուշի", 147105, nil},
	{"Գորիս", 174895, nil}, {"Հադրութ", 148105, nil}, {"Մարտակերտ", 587379, nil}, {"Երևան", 616052, nil},
	// Cyrillic script.
	{"Степанакерт", 146970, nil}, {"Ханкенди", 146970, nil}, {"Шуша", 147105, nil}, {"Гянджа", 586523, nil},
	{"Физули", 148106, nil}, {"Лачин", 147625, nil}, {"Тертер", 584871, nil}, {"Агдам", 148619, nil},
	{"Нахичевань", 147429, nil}, {"Горадиз", 148003, nil}, {"Гадрут", 148105, nil}, {"Джебраил", 148141, nil},
	// Two places share a name: Martuni in Armenia is the bigger, but seen
	// from Stepanakert, Martuni is Xocavənd 20 km away.
	{"Martuni", 616438, nil}, {"Martuni", 146969, &orb.Point{46.7528, 39.8177}},
}

// Every regional name finds its place first, on the whole gazetteer.
func TestSearchPlacesRegionalNames(t *testing.T) {
	ctx := context.Background()
	db := gazetteerDB(t)
	// Once to warm the cache, then timed: each search alone.
	for _, tt := range regionalNames {
		if _, err := db.SearchPlaces(ctx, tt.q, tt.near, 10); err != nil {
			t.Fatalf("%q: %v", tt.q, err)
		}
	}
	first := 0
	var times []time.Duration
	for _, tt := range regionalNames {
		t0 := time.Now()
		matches, err := db.SearchPlaces(ctx, tt.q, tt.near, 10)
		times = append(times, time.Since(t0))
		if err != nil {
			t.Fatalf("%q: %v", tt.q, err)
		}
		switch {
		case len(matches) == 0:
			t.Errorf("%q: got nothing, want %d", tt.q, tt.want)
		case matches[0].ID != tt.want:
			t.Errorf("%q: got %d %s (%s, matched %q, score %v) first, want %d", tt.q, matches[0].ID, matches[0].Name,
				matches[0].CountryCode, matches[0].Matched, matches[0].Score, tt.want)
		default:
			first++
		}
	}
	slices.Sort(times)
	t.Logf("%d of %d names found their place first; search p50 %v, p95 %v, max %v", first, len(regionalNames),
		times[len(times)/2], times[len(times)*95/100], times[len(times)-1])
	if len(regionalNames) < 40 {
		t.Errorf("only %d names", len(regionalNames))
	}
}

// Ranking on the whole gazetteer: exact before prefix, however near the
// prefix match; near before size for matches of the same quality.
func TestSearchPlacesRankingReal(t *testing.T) {
	ctx := context.Background()
	db := gazetteerDB(t)
	search := func(q string, near *orb.Point) []geo.PlaceMatch {
		t.Helper()
		m, err := db.SearchPlaces(ctx, q, near, 10)
		if err != nil || len(m) == 0 {
			t.Fatalf("%q: %v, %d results", q, err, len(m))
		}
		return m
	}
	lachin := orb.Point{46.55045, 39.59881}
	// "Lachi" is a town in Pakistan and the prefix of Lachin: exact first,
	// even seen from Lachin.
	for _, near := range []*orb.Point{nil, &lachin} {
		m := search("Lachi", near)
		if m[0].Score != 1 || m[0].CountryCode != "PK" {
			t.Errorf("Lachi near %v: got %d %s (%s, score %v) first, want the exact match in PK", near, m[0].ID, m[0].Name, m[0].CountryCode, m[0].Score)
		}
		if i := slices.IndexFunc(m, func(p geo.PlaceMatch) bool { return p.ID == 147625 }); i < 1 || m[i].Score != 0.9 {
			t.Errorf("Lachi near %v: Lachin at %d, want it after the exact match as a prefix match", near, i)
		}
	}
	// Barda in Azerbaijan (37,000) and Barda in Russia's Perm krai (8,000),
	// 2,000 km apart: the bigger without near, each seen from 1 km away.
	bardaAZ, bardaRU := int64(587057), int64(579132)
	for _, tt := range []struct {
		near *orb.Point
		want int64
	}{{nil, bardaAZ}, {&orb.Point{55.5962, 56.9377}, bardaRU}, {&orb.Point{47.12619, 40.3848}, bardaAZ}} {
		m := search("Barda", tt.near)
		if m[0].ID != tt.want {
			t.Errorf("Barda near %v: got %d (%s) first, want %d", tt.near, m[0].ID, m[0].CountryCode, tt.want)
		}
		if tt.near != nil && (m[0].DistanceM == nil || *m[0].DistanceM < 900 || *m[0].DistanceM > 1100) {
			t.Errorf("Barda near %v: distance %v, want about 1 km", tt.near, m[0].DistanceM)
		}
	}
}

// Free-text incident search finds incidents by place name under any of
// its spellings: at the place (nearest place) or named after it.
func TestIncidentTextMatchesPlaceNames(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	loadCaucasus(t, db)
	create := func(pt orb.Point, title, location string) int64 {
		t.Helper()
		inc := geo.Incident{
			OccurredAt: time.Date(2020, 10, 18, 4, 0, 0, 0, time.UTC),
			EventType:  "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
			Title: title, LocationName: location, Point: pt,
		}
		if err := db.CreateIncident(ctx, &inc); err != nil {
			t.Fatal(err)
		}
		return inc.ID
	}
	atXankandi := create(orb.Point{46.7528, 39.8177}, "Shelling", "")
	namedKhankendi := create(orb.Point{45.0, 41.0}, "Shelling", "Khankendi outskirts")
	atYerevan := create(orb.Point{44.51361, 40.18111}, "Shelling reported", "Yerevan")
	for _, tt := range []struct {
		q    string
		want []int64
	}{
		{"Stepanakert", []int64{atXankandi, namedKhankendi}},
		{"Степанакерт", []int64{atXankandi, namedKhankendi}},
		{"Xankəndi", []int64{atXankandi, namedKhankendi}},
		{"khankendi", []int64{atXankandi, namedKhankendi}},
		{"Ереван", []int64{atYerevan}},
		{"shelling", []int64{atXankandi, namedKhankendi, atYerevan}},
		{"reported", []int64{atYerevan}},
		{"Shusha", nil},
	} {
		q, err := geo.ParseIncidentQuery(url.Values{"q": {tt.q}})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		if _, err := db.StreamIncidents(ctx, q, func(b []byte) error {
			var f struct{ ID int64 }
			if err := json.Unmarshal(b, &f); err != nil {
				return err
			}
			got = append(got, f.ID)
			return nil
		}); err != nil {
			t.Fatalf("q=%s: %v", tt.q, err)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("q=%s: got incidents %v, want %v", tt.q, got, tt.want)
		}
	}
}
