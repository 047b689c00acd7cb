package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// The CSP checks of the other tests are only worth something if a
// violation is seen: make one and expect it reported.
func TestCSPViolationsAreDetected(t *testing.T) {
	s := newSite(t, offlineTiles)
	b := newBrowser(t, 800, 600)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/"), waitRendered(0),
		chromedp.Evaluate[chromedp.Void](`(() => {
			const d = document.createElement('div');
			d.setAttribute('style', 'color: red'); // an inline style attribute: blocked
			document.body.append(d); })()`),
		chromedp.Sleep(300*time.Millisecond))
	problems := b.takeProblems()
	found := false
	for _, p := range problems {
		found = found || strings.Contains(p, "style-src")
	}
	if !found {
		t.Errorf("an inline style attribute was not reported as a CSP violation; reports: %q", problems)
	}
}

func TestPageHeaders(t *testing.T) {
	s := newSite(t, "http://127.0.0.1:9/{z}/{x}/{y}.png")
	get := func(path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	res, index := get("/")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	wantCSP := "default-src 'self'; img-src 'self' data: blob: https: http://127.0.0.1:9; style-src 'self'; script-src 'self'; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	for name, want := range map[string]string{
		"Content-Security-Policy": wantCSP,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-cache",
	} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("GET / %s = %q, want %q", name, got, want)
		}
	}
	if bytes.Contains(index, []byte("<style")) || bytes.Contains(index, []byte(" style=")) || bytes.Contains(index, []byte("<script>")) {
		t.Error("index.html has inline styles or scripts, which the CSP blocks")
	}
	if res, _ := get("/", "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("GET / with its ETag = %d, want 304", res.StatusCode)
	}

	script := regexp.MustCompile(`src="(/assets/main-[A-Z0-9]+\.js)"`).FindSubmatch(index)
	if script == nil {
		t.Fatalf("no hashed script in index.html:\n%s", index)
	}
	res, plain := get(string(script[1]))
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET %s = %d, headers %v", script[1], res.StatusCode, res.Header)
	}
	res, gz := get(string(script[1]), "Accept-Encoding", "gzip")
	if res.Header.Get("Content-Encoding") != "gzip" || len(gz) >= len(plain) || res.Header.Get("ETag") == "" {
		t.Errorf("gzip: Content-Encoding %q, %d bytes for %d plain", res.Header.Get("Content-Encoding"), len(gz), len(plain))
	}
	t.Logf("bundle script: %d bytes, %d gzipped", len(plain), len(gz))

	// The page names its icon, so browsers do not ask /favicon.ico (a 404 on every load).
	icon := regexp.MustCompile(`<link rel="icon" href="(/assets/favicon-[A-Z0-9]+\.svg)"`).FindSubmatch(index)
	if icon == nil {
		t.Errorf("no hashed icon in index.html")
	} else if res, body := get(string(icon[1])); res.StatusCode != http.StatusOK ||
		res.Header.Get("Content-Type") != "image/svg+xml" || !bytes.HasPrefix(body, []byte("<svg")) {
		t.Errorf("GET %s = %d %s", icon[1], res.StatusCode, res.Header.Get("Content-Type"))
	}

	for _, path := range []string{"/assets/nope.js", "/assets/", "/assets/../index.html", "/nope", string(script[1]) + ".gz"} {
		if res, _ := get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
	}

	res, body := get("/config.json")
	var cfg map[string]string
	if err := json.Unmarshal(body, &cfg); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /config.json = %d %s", res.StatusCode, body)
	}
	if cfg["tileURL"] != "http://127.0.0.1:9/{z}/{x}/{y}.png" || cfg["tileAttribution"] != "test tiles" {
		t.Errorf("config = %v", cfg)
	}
	// The API keeps its own headers.
	if res, _ := get("/api/collections"); res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") == wantCSP {
		t.Errorf("GET /api/collections = %d with the page's CSP", res.StatusCode)
	}
}

// countriesAndBorders is a made-up pair of outline layers, like the
// Natural Earth ones a real deployment imports.
func countriesAndBorders(t *testing.T, db *postgis.DB) {
	t.Helper()
	square := func(lon, lat, size float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{lon, lat}, {lon + size, lat}, {lon + size, lat + size}, {lon, lat + size}, {lon, lat}}}}
	}
	var countries []geo.Country
	for i, name := range []string{"West <b>x</b>", "East"} {
		countries = append(countries, geo.Country{Name: name, Geometry: square(45+float64(i)*2, 38.5, 2)})
	}
	// Built-in collections: loaded as `borders load` does, not as layers.
	if _, err := db.LoadCountries(context.Background(), countries); err != nil {
		t.Fatalf("load countries: %v", err)
	}
	border := geo.Border{NameA: "West <b>x</b>", NameB: "East", Geometry: orb.MultiLineString{{{47, 38.5}, {47, 40.5}}}}
	if _, err := db.LoadBorders(context.Background(), []geo.Border{border}); err != nil {
		t.Fatalf("load borders: %v", err)
	}
}

func TestOfflineBasemap(t *testing.T) {
	// Nothing listens on port 9 (discard): every tile fails at once.
	s := newSite(t, "http://127.0.0.1:9/{z}/{x}/{y}.png")
	countriesAndBorders(t, s.DB)
	s.seed(t, 47.03, 39.40, nil)

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=7/39.40/47.03"), waitRendered(0),
		chromedp.WaitVisible(chromedp.CSS(`#map.offline-basemap .map-notice`)),
		// The outlines are drawn on a canvas in their own pane once loaded.
		chromedp.WaitReady(chromedp.CSS(`.leaflet-basemap-pane canvas`)),
		chromedp.Sleep(500*time.Millisecond))
	b.screenshot(b.ctx, "offline")
	if notice := get(b, b.ctx, "read the notice", chromedp.Text(chromedp.CSS(`.map-notice`))); notice != "Map tiles unavailable — showing country outlines" {
		t.Errorf("notice = %q", notice)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('.leaflet-tile-pane img').length`); n != 0 {
		t.Errorf("%d tile images left on the offline map", n)
	}
	// The outlines' source is credited, not only Leaflet.
	if got := get(b, b.ctx, "read the attribution", chromedp.Text(chromedp.CSS(`.leaflet-control-attribution`))); !strings.Contains(got, "Natural Earth") {
		t.Errorf("offline attribution = %q, want the outlines' source", got)
	}
	// The outlines are painted: some pixel of the canvas is not transparent.
	painted := eval[bool](b, b.ctx, `(() => {
		const c = document.querySelector('.leaflet-basemap-pane canvas');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
		return false; })()`)
	if !painted {
		t.Error("the outline canvas is empty")
	}

	// The collections are overlays too, and a feature's popup lists its
	// properties as text. Click inside the "East" square (lon 47-49, lat
	// 38.5-40.5), away from the incident at the centre.
	b.do(b.ctx, "show the countries overlay", openPanel(),
		chromedp.Click(chromedp.CSS(`label[for="layer-countries"]`)),
		chromedp.Poll[chromedp.Void](`location.hash.includes('layers=incidents,countries')`),
		chromedp.WaitReady(chromedp.CSS(`.leaflet-overlay-pane canvas`)),
		chromedp.Sleep(300*time.Millisecond))
	at := eval[[]float64](b, b.ctx, `(() => {
		// Web Mercator pixels at zoom 7 between the centre and lon 48, lat 39.6.
		const px = (lon, lat) => {
			const s = 256 * 2 ** 7, r = lat * Math.PI / 180;
			return [(lon + 180) / 360 * s, (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * s];
		};
		const [cx, cy] = px(47.03, 39.40), [x, y] = px(48, 39.6);
		const r = document.getElementById('map').getBoundingClientRect();
		return [r.left + r.width / 2 + x - cx, r.top + r.height / 2 + y - cy]; })()`)
	b.do(b.ctx, "click the country", chromedp.MouseClickXY(at[0], at[1]),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .feature`)))
	b.screenshot(b.ctx, "country-popup")
	if got := get(b, b.ctx, "read the popup", chromedp.Text(chromedp.CSS(`.leaflet-popup .feature dl`))); !strings.Contains(got, "East") {
		t.Errorf("country popup = %q, want its name property", got)
	}
	// The CSP names the tile origin, so the tiles failed on the network, not
	// on the policy: checkProblems fails the test on any CSP report.
}

func TestTilesFromALocalTileServer(t *testing.T) {
	tiles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(onePixelPNG)
	}))
	t.Cleanup(tiles.Close)
	s := newSite(t, tiles.URL+"/{z}/{x}/{y}.png")
	s.seed(t, 47.03, 39.40, nil)

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=7/39.40/47.03"), waitRendered(0),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-tile-pane img.leaflet-tile-loaded`)))
	b.screenshot(b.ctx, "tiles")
	if eval[bool](b, b.ctx, `document.getElementById('map').classList.contains('offline-basemap')`) {
		t.Error("the map fell back to outlines although tiles load")
	}
}

// onePixelPNG is a 1x1 grey PNG, a stand-in for map tiles.
var onePixelPNG = []byte{
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
	0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x68, 0x00, 0x00, 0x00,
	0x82, 0x00, 0x81, 0x77, 0xcd, 0x72, 0xb6, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
	0x42, 0x60, 0x82,
}
