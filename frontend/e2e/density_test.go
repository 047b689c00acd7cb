package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// --- density tiles: views with more incidents than the threshold ---

// canvasWatch runs before the app in every document of a tab: it records
// on each canvas the text drawn with fillText (and where, in CSS pixels of
// the canvas), forgetting it when the whole canvas is cleared, so that a
// test can read the cluster counts the tile layer drew.
const canvasWatch = `(() => {
  const proto = CanvasRenderingContext2D.prototype;
  const fill = proto.fillText;
  proto.fillText = function (text, x, y, ...rest) {
    const m = this.getTransform();
    const dpr = devicePixelRatio || 1;
    (this.canvas.__texts ||= []).push({
      text: String(text), x: (m.a * x + m.c * y + m.e) / dpr, y: (m.b * x + m.d * y + m.f) / dpr });
    return fill.call(this, text, x, y, ...rest);
  };
  const clear = proto.clearRect;
  proto.clearRect = function (x, y, w, h) {
    const m = this.getTransform();
    if (m.a === 1 && m.d === 1 && x <= 0 && y <= 0 && w >= this.canvas.width && h >= this.canvas.height) this.canvas.__texts = [];
    return clear.call(this, x, y, w, h);
  };
})()`

// watchCanvases installs canvasWatch in the tab ctx (before navigating).
func (b *browser) watchCanvases(ctx context.Context) {
	b.t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: canvasWatch}); err != nil {
		b.t.Fatalf("install the canvas watch: %v", err)
	}
}

// tileLabel is a text the tile layer drew, at page coordinates.
type tileLabel struct {
	Text string  `json:"text"`
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	Tile string  `json:"tile"`
}

// tileLabelsJS lists the texts on the incident tiles of the zoom in the
// URL hash (tiles of other zooms may linger while a zoom settles).
const tileLabelsJS = `(() => {
  const z = /map=([0-9]+)\//.exec(location.hash)[1];
  const out = [];
  for (const c of document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas')) {
    if (!c.dataset.tile.startsWith(z + '/')) continue;
    const r = c.getBoundingClientRect();
    // A cluster near an edge is drawn on the neighbour too: it counts where its centre is.
    for (const t of c.__texts || []) if (t.x >= 0 && t.x < r.width && t.y >= 0 && t.y < r.height) out.push({ text: t.text, x: r.left + t.x, y: r.top + t.y, tile: c.dataset.tile });
  }
  return out; })()`

// tileLabels reads the cluster counts drawn on the tiles in view and
// their sum, failing on a label that is not a whole number.
func (b *browser) tileLabels(ctx context.Context) ([]tileLabel, int) {
	b.t.Helper()
	labels := eval[[]tileLabel](b, ctx, tileLabelsJS)
	sum := 0
	for _, l := range labels {
		n, err := strconv.Atoi(l.Text)
		if err != nil {
			b.t.Fatalf("tile label %q (tile %s) is not a count", l.Text, l.Tile)
		}
		sum += n
	}
	return labels, sum
}

// tileLabelSumIs waits until the cluster counts drawn add up to n.
func tileLabelSumIs(n int) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`%s.reduce((s, l) => s + Number(l.text), 0) === %d`, tileLabelsJS, n),
		chromedp.WithPollingInterval(50*time.Millisecond))
}

// tileURLs lists the incident tile requests the page made since the last
// clearTimings, as paths with their query.
func (b *browser) tileURLs(ctx context.Context) []string {
	b.t.Helper()
	return eval[[]string](b, ctx, `performance.getEntriesByType('resource')
		.map(e => new URL(e.name)).filter(u => u.pathname.startsWith('/api/collections/incidents/tiles/WebMercatorQuad/'))
		.map(u => u.pathname + u.search)`)
}

const clearTimings = `performance.clearResourceTimings()`

// tilesPainted: some pixel of some incident tile is not transparent.
const tilesPainted = `[...document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas')].some((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
  return false; })`

// waitMode waits until the map shows incidents as mode ("tiles" or
// "features") and has rendered more than after times.
func waitMode(mode string, after int) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.getElementById('map').dataset.mode === %q`, mode),
			chromedp.WithPollingInterval(50*time.Millisecond)),
		waitRendered(after))
}

func (b *browser) countText(ctx context.Context) string {
	b.t.Helper()
	return get(b, ctx, "read the count", chromedp.Text(chromedp.ID("incident-count")))
}

// TestDensityTilesAboveTheThreshold: a view holding more incidents than
// the threshold (lowered for the test) is drawn from vector tiles whose
// clusters add up to the incidents in view; live updates, filters and the
// timeline window change the tiles, a permalink restores them, a cluster
// zooms in when clicked, and a view under the threshold loads markers again.
func TestDensityTilesAboveTheThreshold(t *testing.T) {
	s := newSite(t, offlineTiles)
	for i := range 30 {
		s.seed(t, 46.9+0.01*float64(i%10), 39.3+0.01*float64(i/10), func(inc *geo.Incident) {
			inc.Title = fmt.Sprintf("Shelling %d", i)
			inc.OccurredAt = time.Date(2020, 10, 10+i%10, 6, 0, 0, 0, time.UTC)
		})
	}
	for i := range 10 {
		s.seed(t, 47.2+0.01*float64(i), 39.45, func(inc *geo.Incident) {
			inc.EventType, inc.SubEventType, inc.Title = "Battles", "Armed clash", fmt.Sprintf("Clash %d", i)
			inc.OccurredAt = time.Date(2020, 10, 10+i, 6, 0, 0, 0, time.UTC)
		})
	}
	for i := range 5 {
		s.seed(t, 30.5+0.01*float64(i), 50.45, func(inc *geo.Incident) {
			inc.Title = fmt.Sprintf("Kyiv %d", i)
			inc.OccurredAt = time.Date(2020, 10, 15, 6, 0, 0, 0, time.UTC)
		})
	}

	b := newBrowser(t, 1280, 800)
	b.watchCanvases(b.ctx)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/?tile-threshold=20#map=4/45.00/40.00"),
		waitMode("tiles", 0), liveConnected())
	b.screenshot(b.ctx, "tiles")
	if got, want := b.countText(b.ctx), "Showing 45 incidents in view as density tiles — zoom in for details"; got != want {
		t.Errorf("count = %q, want %q", got, want)
	}
	urls := b.tileURLs(b.ctx)
	if len(urls) == 0 {
		t.Fatal("no tile was requested")
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, "/api/collections/incidents/tiles/WebMercatorQuad/4/") {
			t.Errorf("tile request %s, want zoom 4 tiles", u)
		}
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .incident-marker, #map .incident-cluster').length`); n != 0 {
		t.Errorf("%d markers on the map in tile mode", n)
	}
	if !eval[bool](b, b.ctx, tilesPainted) {
		t.Error("the incident tiles are blank")
	}
	labels, sum := b.tileLabels(b.ctx)
	if sum != 45 || len(labels) < 2 {
		t.Errorf("cluster counts drawn: %v (sum %d), want clusters adding up to 45 (Kyiv apart from Jabrayil)", labels, sum)
	}
	// The timeline's histogram comes from the server in tile mode.
	b.do(b.ctx, "wait for the histogram", chromedp.Poll[chromedp.Void](`document.getElementById('tl-summary').textContent.includes('in view')`))
	if got := eval[string](b, b.ctx, `document.getElementById('tl-summary').textContent`); got != "All dates: 45 incidents in view" {
		t.Errorf("timeline summary = %q, want the server's count per day of the 45", got)
	}

	// A new incident in view: its tile is redrawn and the count follows.
	s.seed(t, 46.95, 39.32, func(inc *geo.Incident) { inc.Title = "Published live" })
	b.do(b.ctx, "wait for the live incident", tileLabelSumIs(46),
		chromedp.Poll[chromedp.Void](`document.getElementById('incident-count').textContent.startsWith('Showing 46 incidents')`))
	if got := b.countText(b.ctx); !strings.Contains(got, "46 incidents in view") {
		t.Errorf("count after a live incident = %q", got)
	}

	// A filter changes the tiles' URLs and what they hold.
	b.do(b.ctx, "forget the requests so far", chromedp.Evaluate[chromedp.Void](clearTimings), openPanel())
	n := b.renders(b.ctx)
	b.do(b.ctx, "untick Battles", chromedp.Click(chromedp.CSS(`label[for="f-type-0"]`)), waitMode("tiles", n), tileLabelSumIs(36))
	b.screenshot(b.ctx, "no-battles")
	urls = b.tileURLs(b.ctx)
	if len(urls) == 0 {
		t.Fatal("no tile requested after the filter changed")
	}
	for _, u := range urls {
		if !strings.Contains(u, "event_type=Explosions%2FRemote+violence%2C") || strings.Contains(u, "Battles") {
			t.Errorf("tile request %s after unticking Battles, want the other event types as event_type", u)
		}
	}
	if got := b.countText(b.ctx); got != "Showing 36 incidents in view as density tiles — zoom in for details" {
		t.Errorf("count without Battles = %q", got)
	}

	// The timeline window goes to the server with the tiles: 10-14 Oct.
	b.do(b.ctx, "forget the requests so far", chromedp.Evaluate[chromedp.Void](clearTimings))
	if max := eval[string](b, b.ctx, `document.getElementById('tl-end').max`); max != "9" {
		t.Errorf("the timeline spans %s+1 days, want the 10 days of the incidents", max)
	}
	n = b.renders(b.ctx)
	b.do(b.ctx, "move the window",
		chromedp.Evaluate[chromedp.Void](`(() => {
			for (const [id, v] of [['tl-start', '0'], ['tl-end', '4']]) {
				const el = document.getElementById(id);
				el.value = v;
				el.dispatchEvent(new Event('input', {bubbles: true}));
			} })()`),
		waitMode("tiles", n), tileLabelSumIs(15))
	b.screenshot(b.ctx, "window")
	for _, u := range b.tileURLs(b.ctx) {
		if !strings.Contains(u, "datetime=2020-10-10%2F2020-10-14") || !strings.Contains(u, "event_type=") {
			t.Errorf("tile request %s in the window, want datetime=2020-10-10/2020-10-14 and the event types", u)
		}
	}
	if got := b.countText(b.ctx); !strings.Contains(got, "15 incidents in view, 10 Oct 2020 – 14 Oct 2020, as density tiles") {
		t.Errorf("count in the window = %q", got)
	}
	permalink := eval[string](b, b.ctx, `location.href`)
	for _, want := range []string{"types=", "win=2020-10-10/2020-10-14"} {
		if !strings.Contains(permalink, want) {
			t.Errorf("permalink %q lacks %q", permalink, want)
		}
	}

	// The permalink reopens the same tiles.
	tab := b.openTab(b.ctx)
	b.watchCanvases(tab)
	b.do(tab, "open the permalink", chromedp.Navigate(permalink), waitMode("tiles", 0), tileLabelSumIs(15))
	b.screenshot(tab, "permalink")
	restored := b.tileURLs(tab)
	if len(restored) == 0 {
		t.Error("the permalink requested no tile")
	}
	for _, u := range restored {
		if !strings.Contains(u, "datetime=2020-10-10%2F2020-10-14") || !strings.Contains(u, "event_type=Explosions") {
			t.Errorf("tile request %s from the permalink, want its filters and window", u)
		}
	}

	// Clicking a cluster zooms in on it.
	n = b.renders(b.ctx)
	b.do(b.ctx, "show all dates", chromedp.Click(chromedp.ID("tl-all")), waitMode("tiles", n), tileLabelSumIs(36))
	labels, _ = b.tileLabels(b.ctx)
	var biggest tileLabel
	for _, l := range labels {
		if v, _ := strconv.Atoi(l.Text); v > 25 {
			biggest = l
		}
	}
	if biggest.Text == "" {
		t.Fatalf("no cluster holds the 31 incidents near Jabrayil: %v", labels)
	}
	n = b.renders(b.ctx)
	b.do(b.ctx, "click the cluster", chromedp.MouseClickXY(biggest.X, biggest.Y),
		chromedp.Poll[chromedp.Void](`location.hash.startsWith('#map=6/')`), waitMode("tiles", n))
	b.screenshot(b.ctx, "zoomed-in")
	if got := b.countText(b.ctx); !strings.Contains(got, "31 incidents in view") {
		t.Errorf("count after zooming in on the cluster = %q, want the 31 incidents near Jabrayil", got)
	}

	// Battles only: 10 incidents, under the threshold: markers again.
	n = b.renders(b.ctx)
	b.do(b.ctx, "tick Battles", chromedp.Click(chromedp.CSS(`label[for="f-type-0"]`)), waitMode("tiles", n))
	n = b.renders(b.ctx)
	b.do(b.ctx, "untick Explosions", chromedp.Click(chromedp.CSS(`label[for="f-type-1"]`)), waitMode("features", n))
	b.screenshot(b.ctx, "markers")
	if got := b.shownCount(b.ctx); got != 10 {
		t.Errorf("count of battles = %d, want 10", got)
	}
	if got := b.markersShown(b.ctx); got != 10 {
		t.Errorf("markers and clusters hold %d incidents, want the 10 battles", got)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas').length`); n != 0 {
		t.Errorf("%d incident tiles left on the map in marker mode", n)
	}
}

// TestDensityTilePointOpensItsPopup: from the cluster zoom on, tiles hold
// one point per incident; clicking one opens the popup the markers open,
// with the incident's text as text, completed from the API.
func TestDensityTilePointOpensItsPopup(t *testing.T) {
	s := newSite(t, offlineTiles)
	const title = `<img src=x onerror=alert(1)> Riot at the market`
	target := s.seed(t, 47.03, 39.40, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Riots", "Mob violence", title
		inc.Notes = `<script>alert(2)</script>`
	})
	for i := range 5 {
		s.seed(t, 47.03+0.01*float64(i+1), 39.40+0.004*float64(i%3), func(inc *geo.Incident) { inc.Title = fmt.Sprintf("Shelling %d", i) })
	}

	b := newBrowser(t, 1280, 800)
	b.watchCanvases(b.ctx)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=12/39.40000/47.03000"), waitMode("tiles", 0))
	b.screenshot(b.ctx, "points")
	if got, want := b.countText(b.ctx), "Showing 6 incidents in view as tiles — zoom in for details"; got != want {
		t.Errorf("count = %q, want %q", got, want)
	}
	if labels, _ := b.tileLabels(b.ctx); len(labels) != 0 {
		t.Errorf("labels drawn at zoom 12: %v, want points, not clusters", labels)
	}
	if !eval[bool](b, b.ctx, tilesPainted) {
		t.Error("the incident tiles are blank")
	}
	// The point's fill is the Riots yellow of style.css.
	if !eval[bool](b, b.ctx, `(() => {
		const m = document.getElementById('map').getBoundingClientRect();
		const x = m.left + m.width / 2, y = m.top + m.height / 2 + 3; // a little below the centre: inside the triangle
		for (const c of document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas')) {
			const r = c.getBoundingClientRect();
			if (x < r.left || x >= r.right || y < r.top || y >= r.bottom) continue;
			const k = c.width / r.width;
			const [red, green, blue] = c.getContext('2d').getImageData(Math.floor((x - r.left) * k), Math.floor((y - r.top) * k), 1, 1).data;
			return red > 200 && green > 150 && blue < 120;
		}
		return false; })()`) {
		t.Error("the point at the centre is not drawn in the Riots colour")
	}

	b.clickMapAt(b.ctx, 0, 0)
	b.do(b.ctx, "wait for the whole incident", chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .sources a`)), chromedp.Sleep(300*time.Millisecond))
	b.screenshot(b.ctx, "popup")
	if got := get(b, b.ctx, "read the title", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != title {
		t.Errorf("popup title = %q, want the literal %q", got, title)
	}
	if got := get(b, b.ctx, "read the notes", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-notes`))); got != `<script>alert(2)</script>` {
		t.Errorf("popup notes = %q, want the literal text", got)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('.leaflet-popup img, .leaflet-popup script').length`); n != 0 {
		t.Errorf("the popup holds %d elements made from incident text", n)
	}
	if hash := eval[string](b, b.ctx, `location.hash`); !strings.Contains(hash, fmt.Sprintf("sel=%d", target.ID)) {
		t.Errorf("hash = %q, want sel=%d", hash, target.ID)
	}
	if d := b.dialogsSeen(); len(d) > 0 {
		t.Errorf("JavaScript dialogs opened: %v", d)
	}

	// Zoomed in on the point, the view holds one incident: a marker again.
	n := b.renders(b.ctx)
	b.do(b.ctx, "zoom in", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=18/39.40000/47.03000"), waitMode("features", n))
	b.screenshot(b.ctx, "marker")
	if got := b.shownCount(b.ctx); got != 1 {
		t.Errorf("count at zoom 18 = %d, want 1", got)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .incident-marker.type-riots').length`); n != 1 {
		t.Errorf("%d Riots markers, want the one in view", n)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas').length`); n != 0 {
		t.Errorf("%d incident tiles left on the map in marker mode", n)
	}
}

// TestDensityTilesByKeyboard: canvas drawings cannot take focus, so with
// the map focused in tile mode Enter does to the cluster or point drawn
// nearest the centre what a click does, and a live region says what that
// is: a cluster zooms in on its incidents, a point opens its popup (the
// title as text) with focus in it, and Escape gives focus back to the map.
func TestDensityTilesByKeyboard(t *testing.T) {
	s := newSite(t, offlineTiles)
	const title = `<img src=x onerror=alert(1)> Roadblock "north"`
	target := s.seed(t, 47.03, 39.40, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Riots", "Mob violence", title
	})
	for i := range 5 {
		s.seed(t, 47.03+0.01*float64(i+1), 39.40+0.004*float64(i%3), func(inc *geo.Incident) { inc.Title = fmt.Sprintf("Shelling %d", i) })
	}

	b := newBrowser(t, 1280, 800)
	b.watchCanvases(b.ctx)
	// A headless page is not focused: no element would get focus events
	// (Leaflet's own keys depend on them too) unless focus is emulated.
	if _, err := chromedp.Call(b.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("emulate a focused page: %v", err)
	}
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=4/39.40000/47.03000"), waitMode("tiles", 0), tileLabelSumIs(6))
	const hintJS = `document.querySelector('#map .tile-keyhint')?.textContent ?? '(none)'`
	if got := eval[string](b, b.ctx, hintJS); got != "" {
		t.Errorf("hint before the map has focus = %q, want it silent", got)
	}
	b.do(b.ctx, "focus the map", chromedp.Focus(chromedp.ID("map")),
		chromedp.Poll[chromedp.Void](hintJS+` === 'Enter: zoom to 6 incidents near the centre'`, chromedp.WithPollingInterval(50*time.Millisecond)))
	b.screenshot(b.ctx, "cluster-hint")
	if got := eval[string](b, b.ctx, `document.querySelector('#map .tile-keyhint').getAttribute('aria-live')`); got != "polite" {
		t.Errorf("hint aria-live = %q, want polite", got)
	}
	n := b.renders(b.ctx)
	b.do(b.ctx, "press Enter on the cluster", chromedp.KeyEvent(kb.Enter),
		chromedp.Poll[chromedp.Void](`location.hash.startsWith('#map=6/')`), waitMode("tiles", n))
	b.screenshot(b.ctx, "zoomed-in")
	if got := eval[string](b, b.ctx, `document.activeElement.id`); got != "map" {
		t.Errorf("focus after zooming in is on #%s, want the map", got)
	}
	if got := b.countText(b.ctx); !strings.Contains(got, "6 incidents in view") {
		t.Errorf("count after zooming in on the cluster = %q, want the 6 incidents", got)
	}
	b.do(b.ctx, "wait for the hint at zoom 6",
		chromedp.Poll[chromedp.Void](hintJS+`.startsWith('Enter: zoom to ')`, chromedp.WithPollingInterval(50*time.Millisecond)))

	// At the cluster zoom each incident is a point: Enter opens the one at the centre.
	n = b.renders(b.ctx)
	b.do(b.ctx, "go to the point zoom", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=12/39.40000/47.03000"), waitMode("tiles", n))
	if labels, _ := b.tileLabels(b.ctx); len(labels) != 0 {
		t.Errorf("labels drawn at zoom 12: %v, want points, not clusters", labels)
	}
	wantHint := "Enter: open \u201c" + title + "\u201d"
	b.do(b.ctx, "focus the map", chromedp.Focus(chromedp.ID("map")),
		chromedp.Poll[chromedp.Void](hintJS+` === `+strconv.Quote(wantHint), chromedp.WithPollingInterval(50*time.Millisecond)))
	b.screenshot(b.ctx, "point-hint")
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .tile-keyhint *').length`); n != 0 {
		t.Errorf("the hint holds %d elements made from incident text", n)
	}
	b.do(b.ctx, "press Enter on the point", chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)))
	if got := get(b, b.ctx, "read the title", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != title {
		t.Errorf("popup title = %q, want the literal %q", got, title)
	}
	if got := eval[string](b, b.ctx, `document.activeElement.textContent`); got != title {
		t.Errorf("focus after Enter is on %q, want the popup title", got)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('.leaflet-popup img, .leaflet-popup script').length`); n != 0 {
		t.Errorf("the popup holds %d elements made from incident text", n)
	}
	if hash := eval[string](b, b.ctx, `location.hash`); !strings.Contains(hash, fmt.Sprintf("sel=%d", target.ID)) {
		t.Errorf("hash = %q, want sel=%d", hash, target.ID)
	}
	b.screenshot(b.ctx, "popup")
	b.do(b.ctx, "press Escape", chromedp.KeyEvent(kb.Escape),
		chromedp.Poll[chromedp.Void](`!document.querySelector('.leaflet-popup')`))
	if got := eval[string](b, b.ctx, `document.activeElement.id`); got != "map" {
		t.Errorf("focus after Escape is on #%s, want the map", got)
	}
	if d := b.dialogsSeen(); len(d) > 0 {
		t.Errorf("JavaScript dialogs opened: %v", d)
	}

	// With markers (focusable themselves) there is no hint.
	n = b.renders(b.ctx)
	b.do(b.ctx, "zoom in to markers", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=18/39.40000/47.03000"), waitMode("features", n))
	if got := eval[string](b, b.ctx, hintJS); got != "(none)" {
		t.Errorf("hint in marker mode = %q, want none", got)
	}
}

// TestDensityTilesAtTheDefaultThreshold: the real threshold, 20,000: a
// view holding 20,000 incidents loads them as markers; one more, and it is
// drawn from tiles; a filter that leaves fewer loads markers again.
func TestDensityTilesAtTheDefaultThreshold(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 20,000 incidents and loads them; skipped with -short")
	}
	s := newSite(t, offlineTiles)
	var csvText bytes.Buffer
	csvText.WriteString("event_id_cnty,event_date,event_type,sub_event_type,latitude,longitude,title\n")
	subTypes := map[string]string{}
	for typ, subs := range geo.EventTaxonomy() {
		subTypes[typ] = subs[0]
	}
	perType := map[string]int{}
	for i := range 20000 {
		typ := geo.EventTypes()[i%len(geo.EventTypes())]
		perType[typ]++
		fmt.Fprintf(&csvText, "T%d,2020-10-%02d,%s,%s,%.5f,%.5f,Incident %d\n", i, 1+i%28, typ, subTypes[typ],
			38.8+float64((i*104729)%1000)/714, 46+float64((i*7919)%1000)/500, i)
	}
	r, err := geo.NewACLEDReader(&csvText)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := s.DB.ImportIncidents(context.Background(), r, postgis.ImportOptions{}); err != nil || res.Inserted != 20000 {
		t.Fatalf("import: %+v, %v", res, err)
	}

	b := newBrowser(t, 1280, 800)
	b.watchCanvases(b.ctx)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=7/39.50/47.00"), waitMode("features", 0), liveConnected())
	b.screenshot(b.ctx, "20000")
	if got := b.shownCount(b.ctx); got != 20000 {
		t.Fatalf("count = %d, want the 20,000 incidents as markers", got)
	}
	s.seed(t, 47.0, 39.5, func(inc *geo.Incident) { inc.Title = "One more" })
	b.do(b.ctx, "wait for the live incident", chromedp.Poll[chromedp.Void](
		`document.getElementById('incident-count').textContent.startsWith('20,001 incidents in view')`))
	n := b.renders(b.ctx)
	b.do(b.ctx, "move the map", chromedp.Navigate(s.URL+"/#map=7/39.55/47.05"), waitMode("tiles", n))
	b.screenshot(b.ctx, "20001")
	if got, want := b.countText(b.ctx), "Showing 20,001 incidents in view as density tiles — zoom in for details"; got != want {
		t.Errorf("count = %q, want %q", got, want)
	}
	// The incidents span four tiles: each cluster is drawn once, by the
	// tile that holds its centre, not again from a neighbour's buffer.
	b.do(b.ctx, "wait for the clusters", tileLabelSumIs(20001))
	if labels, _ := b.tileLabels(b.ctx); len(labels) < 8 {
		t.Errorf("%d clusters drawn, want the incidents spread over several", len(labels))
	}
	if tiles := eval[int](b, b.ctx, `new Set(`+tileLabelsJS+`.map(l => l.tile)).size`); tiles < 2 {
		t.Errorf("clusters drawn on %d tiles, want the incidents across tile edges", tiles)
	}
	// Below the threshold but close to it, the view stays in tiles (so a
	// view near the threshold does not flip on every pan); well below it,
	// markers come back.
	withoutBattles := 20001 - perType["Battles"]
	n = b.renders(b.ctx)
	b.do(b.ctx, "untick Battles", openPanel(), chromedp.Click(chromedp.CSS(`label[for="f-type-0"]`)),
		waitMode("tiles", n), tileLabelSumIs(withoutBattles))
	b.screenshot(b.ctx, "no-battles")
	if got := b.countText(b.ctx); !strings.HasPrefix(got, fmt.Sprintf("Showing %s incidents in view as density tiles", thousands(withoutBattles))) {
		t.Errorf("count without Battles = %q, want %d as tiles", got, withoutBattles)
	}
	n = b.renders(b.ctx)
	b.do(b.ctx, "untick Explosions", chromedp.Click(chromedp.CSS(`label[for="f-type-1"]`)), waitMode("features", n))
	b.screenshot(b.ctx, "no-battles-explosions")
	// The live incident was an explosion too.
	if got, want := b.shownCount(b.ctx), withoutBattles-perType["Explosions/Remote violence"]-1; got != want {
		t.Errorf("count without Battles and Explosions = %d, want %d", got, want)
	}
}

// thousands formats n as the map does (en: 16,667).
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
