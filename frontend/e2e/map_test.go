package e2e_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/geotest"
)

func TestMapShowsIncidentsInView(t *testing.T) {
	s := newSite(t, offlineTiles)
	for i := range 5 {
		s.seed(t, 46.95+0.04*float64(i), 39.35+0.02*float64(i), func(inc *geo.Incident) { inc.Title = fmt.Sprintf("near Jabrayil %d", i) })
	}
	s.seed(t, 30.52, 50.45, func(inc *geo.Incident) { inc.Title = "Kyiv" })
	s.seed(t, 179.5, -17, func(inc *geo.Incident) { inc.Title = "Fiji" })

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/39.40/47.03"), waitRendered(0))
	b.screenshot(b.ctx, "loaded")
	if eval[bool](b, b.ctx, overflows) {
		t.Error("the page scrolls: the map and the panel should fill the window exactly")
	}

	if got := b.shownCount(b.ctx); got != 5 {
		t.Errorf("count shown = %d, want the 5 incidents near Jabrayil", got)
	}
	link := b.apiLinkFromPage(b.ctx)
	if !strings.HasPrefix(link, s.URL+"/api/collections/incidents/items?") || !strings.Contains(link, "bbox=") {
		t.Errorf("API link = %q, want an absolute items URL with a bbox", link)
	}
	if got, want := b.shownCount(b.ctx), apiCount(t, link); got != want {
		t.Errorf("count shown = %d, but the API counts %d for the same view", got, want)
	}
	if got := b.markersShown(b.ctx); got != 5 {
		t.Errorf("markers and clusters hold %d incidents, want 5", got)
	}

	// Zoomed out to the world (a hash change, as the back button would
	// make), everything is in view, Fiji included.
	n := b.renders(b.ctx)
	b.do(b.ctx, "zoom out", chromedp.Navigate(s.URL+"/#map=2/0.00/60.00"), waitRendered(n))
	b.screenshot(b.ctx, "world")
	if got := b.shownCount(b.ctx); got != 7 {
		t.Errorf("count at world view = %d, want 7", got)
	}
	if got, want := b.shownCount(b.ctx), apiCount(t, b.apiLinkFromPage(b.ctx)); got != want {
		t.Errorf("count shown = %d, but the API counts %d for the world view", got, want)
	}

	// Across the antimeridian: Fiji on both sides of it, and both in view.
	s.seed(t, -179.5, -17.2, func(inc *geo.Incident) { inc.Title = "Fiji west" })
	n = b.renders(b.ctx)
	b.do(b.ctx, "go to Fiji", chromedp.Navigate(s.URL+"/#map=7/-17.00/180.00"), waitRendered(n))
	b.screenshot(b.ctx, "antimeridian")
	if got := b.shownCount(b.ctx); got != 2 {
		t.Errorf("count across the antimeridian = %d, want 2", got)
	}
	if got := b.markersShown(b.ctx); got != 2 {
		t.Errorf("markers across the antimeridian = %d, want 2 (placed on the copy of the world in view)", got)
	}
}

func TestFiltersChangeWhatIsShown(t *testing.T) {
	s := newSite(t, offlineTiles)
	for i := range 3 {
		s.seed(t, 46.9+0.05*float64(i), 39.4, func(inc *geo.Incident) {
			inc.EventType, inc.SubEventType, inc.Title = "Battles", "Armed clash", fmt.Sprintf("Clash %d", i)
		})
	}
	s.seed(t, 47.1, 39.35, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Protests", "Peaceful protest", "Protest for a ceasefire"
	})
	s.seed(t, 47.15, 39.45, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Protests", "Peaceful protest", "Protest at the town hall"
	})
	s.seed(t, 47.0, 39.42, func(inc *geo.Incident) { inc.Status, inc.Title = geo.StatusRetracted, "Retracted report" })

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/39.40/47.03"), waitRendered(0), openPanel())
	if got := b.shownCount(b.ctx); got != 5 {
		t.Fatalf("count = %d, want 5 (retracted hidden by default)", got)
	}

	// Untick Battles by its label, as a person would.
	n := b.renders(b.ctx)
	b.do(b.ctx, "untick Battles", chromedp.Click(chromedp.CSS(`label[for="f-type-0"]`)), waitRendered(n))
	b.screenshot(b.ctx, "no-battles")
	if got := b.shownCount(b.ctx); got != 2 {
		t.Errorf("count without Battles = %d, want 2", got)
	}
	if got := b.markersShown(b.ctx); got != 2 {
		t.Errorf("markers without Battles = %d, want 2", got)
	}

	n = b.renders(b.ctx)
	b.do(b.ctx, "search for ceasefire", chromedp.SendKeys(chromedp.ID("f-q"), "ceasefire\n"), waitRendered(n))
	b.screenshot(b.ctx, "search")
	if got := b.shownCount(b.ctx); got != 1 {
		t.Errorf("count for q=ceasefire = %d, want 1", got)
	}
	link := b.apiLinkFromPage(b.ctx)
	for _, want := range []string{"q=ceasefire", "event_type="} {
		if !strings.Contains(link, want) {
			t.Errorf("API link %q lacks %q", link, want)
		}
	}
	if got, want := b.shownCount(b.ctx), apiCount(t, link); got != want {
		t.Errorf("count shown = %d, API = %d", got, want)
	}

	// Clearing the filters brings everything back; ticking Retracted adds it.
	n = b.renders(b.ctx)
	b.do(b.ctx, "clear filters", chromedp.Click(chromedp.CSS(`#filters button[type="reset"]`)), waitRendered(n))
	n = b.renders(b.ctx)
	b.do(b.ctx, "tick Retracted", chromedp.Click(chromedp.CSS(`label[for="f-status-retracted"]`)), waitRendered(n))
	if got := b.shownCount(b.ctx); got != 6 {
		t.Errorf("count with retracted = %d, want 6", got)
	}
}

// TestHeatmapOffThenReload turns the heatmap on, off and on again, then
// changes a filter: the loads after it still succeed (leaflet.heat used to
// throw on new data once removed, "reading '_animating'", and every later
// load failed until a reload).
func TestHeatmapOffThenReload(t *testing.T) {
	s := newSite(t, offlineTiles)
	for i := range 3 {
		s.seed(t, 46.9+0.05*float64(i), 39.4, func(inc *geo.Incident) {
			inc.EventType, inc.SubEventType, inc.Title = "Battles", "Armed clash", fmt.Sprintf("Clash %d", i)
		})
	}
	s.seed(t, 47.1, 39.35, nil)

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/39.40/47.03"), waitRendered(0), openPanel())
	heatOn := `!!document.querySelector('#map canvas.leaflet-heatmap-layer')`
	for i, want := range []bool{true, false, true, false} {
		b.do(b.ctx, fmt.Sprintf("toggle the heatmap %d", i), chromedp.Click(chromedp.CSS(`label[for="layer-heat"]`)),
			chromedp.Poll[chromedp.Void](fmt.Sprintf(`%s === %t`, heatOn, want)))
		// A filter change while the heatmap is on or off: a load with new data.
		n := b.renders(b.ctx)
		b.do(b.ctx, fmt.Sprintf("toggle Battles %d", i), chromedp.Click(chromedp.CSS(`label[for="f-type-0"]`)), waitRendered(n))
		wantCount := 1
		if i%2 == 1 {
			wantCount = 4
		}
		if got := b.shownCount(b.ctx); got != wantCount {
			t.Errorf("step %d (heatmap on: %t): count = %d, want %d", i, want, got, wantCount)
		}
		if shown := eval[bool](b, b.ctx, `!document.getElementById('load-error').hidden`); shown {
			t.Errorf("step %d: error shown: %q", i, eval[string](b, b.ctx, `document.getElementById('load-error').textContent`))
		}
	}
	b.screenshot(b.ctx, "after-heatmap-toggles")
}

// TestHalfTypedDateSendsNothing types a year digit by digit, as a date
// input reports it (0002, 0020, 0202, 2020): nothing is asked of the server
// until the date is whole, so no request fails with a 400 meanwhile.
func TestHalfTypedDateSendsNothing(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, nil)
	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/39.40/47.03"), waitRendered(0), openPanel(),
		chromedp.Evaluate[chromedp.Void](clearTimings))
	for _, year := range []string{"0002", "0020", "0202"} {
		b.do(b.ctx, "type year "+year, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(() => { const i = document.getElementById('f-from'); i.value = '%s-10-01'; i.dispatchEvent(new Event('change', { bubbles: true })); })()`, year)),
			chromedp.Sleep(100*time.Millisecond))
	}
	b.do(b.ctx, "wait a little", chromedp.Sleep(500*time.Millisecond))
	asked := eval[[]string](b, b.ctx, `performance.getEntriesByType('resource').map(e => e.name).filter(u => u.includes('/items'))`)
	if len(asked) != 0 {
		t.Errorf("requests while the year was typed: %q", asked)
	}
	n := b.renders(b.ctx)
	b.do(b.ctx, "finish the year", chromedp.Evaluate[chromedp.Void](
		`(() => { const i = document.getElementById('f-from'); i.value = '2020-10-01'; i.dispatchEvent(new Event('change', { bubbles: true })); })()`),
		waitRendered(n))
	if got := b.shownCount(b.ctx); got != 1 {
		t.Errorf("count from 2020-10-01 = %d, want 1", got)
	}
	if strings.Contains(eval[string](b, b.ctx, `location.hash`), "0202") {
		t.Error("a half-typed year reached the permalink")
	}
}

// TestLegendStaysSmall opens the legend on a laptop screen: it covers at
// most a sixth of the map, and using the map puts it away.
func TestLegendStaysSmall(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, nil)
	b := newBrowser(t, 1366, 768)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/39.40/47.03"), waitRendered(0))
	b.do(b.ctx, "open the legend", chromedp.Click(chromedp.CSS(`.legend summary`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('.legend').open`))
	b.screenshot(b.ctx, "legend-open")
	share := eval[float64](b, b.ctx, `(() => {
		const l = document.querySelector('.legend').getBoundingClientRect();
		const m = document.getElementById('map').getBoundingClientRect();
		return (l.width * l.height) / (m.width * m.height); })()`)
	if share > 1.0/6 {
		t.Errorf("the open legend covers %.0f%% of the map, want at most a sixth", share*100)
	}
	b.do(b.ctx, "click the map", chromedp.MouseClickXY(900, 300),
		chromedp.Poll[chromedp.Void](`!document.querySelector('.legend').open`))
}

func TestPopupShowsTextNotMarkup(t *testing.T) {
	s := newSite(t, offlineTiles)
	const title = `<img src=x onerror=alert(1)>`
	inc := s.seed(t, 47.03, 39.40, func(inc *geo.Incident) {
		inc.Title = title
		inc.Notes = `<script>alert(2)</script><b>bold</b>`
		inc.Actor1 = `<svg onload=alert(3)>`
		inc.Sources = []geo.Source{
			{Publisher: `<a href="javascript:alert(4)">x</a>`, URL: "javascript:alert(5)"},
			{Publisher: "Ministry", URL: "https://example.org/report?id=1&lang=en"},
		}
	})

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=12/39.40/47.03"), waitRendered(0))
	b.do(b.ctx, "click the marker",
		chromedp.Click(chromedp.CSS(`#map .incident-marker`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)),
		chromedp.Sleep(300*time.Millisecond)) // time for an injected handler to fire
	b.screenshot(b.ctx, "popup")

	if got := get(b, b.ctx, "read the title", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != title {
		t.Errorf("popup title = %q, want the literal %q", got, title)
	}
	if notes := get(b, b.ctx, "read the notes", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-notes`))); !strings.Contains(notes, "<script>") {
		t.Errorf("notes = %q, want the literal text", notes)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('.leaflet-popup img, .leaflet-popup script, .leaflet-popup svg, .leaflet-popup b').length`); n != 0 {
		t.Errorf("the popup holds %d elements made from incident text", n)
	}
	links := eval[[]map[string]string](b, b.ctx,
		`[...document.querySelectorAll('.leaflet-popup .sources a')].map(a => ({href: a.href, rel: a.rel, target: a.target, text: a.textContent}))`)
	if len(links) != 1 {
		t.Fatalf("source links = %v, want only the https one", links)
	}
	if l := links[0]; l["href"] != "https://example.org/report?id=1&lang=en" || l["rel"] != "noopener noreferrer" || l["target"] != "_blank" {
		t.Errorf("source link = %v", l)
	}
	if hash := eval[string](b, b.ctx, `location.hash`); !strings.Contains(hash, fmt.Sprintf("sel=%d", inc.ID)) {
		t.Errorf("hash = %q, want sel=%d", hash, inc.ID)
	}
	if d := b.dialogsSeen(); len(d) > 0 {
		t.Errorf("JavaScript dialogs opened: %v", d)
	}
}

func TestPermalinkRestoresTheView(t *testing.T) {
	s := newSite(t, offlineTiles)
	for i := range 4 {
		s.seed(t, 46.9+0.06*float64(i), 39.38, func(inc *geo.Incident) {
			inc.Title = fmt.Sprintf("Shelling %d", i)
			inc.OccurredAt = time.Date(2020, 10, 10+i, 6, 0, 0, 0, time.UTC)
		})
	}
	target := s.seed(t, 47.2, 39.5, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Battles", "Armed clash", "Clash at the ridge"
		inc.OccurredAt = time.Date(2020, 10, 18, 0, 0, 0, 0, time.UTC)
		inc.TimePrecision = geo.TimeWeek
	})
	s.seed(t, 47.1, 39.45, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Battles", "Armed clash", "Clash in November"
		inc.OccurredAt = time.Date(2020, 11, 20, 0, 0, 0, 0, time.UTC)
	})

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=10/39.45/47.05"), waitRendered(0), openPanel())
	// Set filters the way a person would: dates, a type, text.
	n := b.renders(b.ctx)
	b.do(b.ctx, "set dates",
		chromedp.SetValue(chromedp.ID("f-from"), "2020-10-01"),
		chromedp.SetValue(chromedp.ID("f-to"), "2020-10-31"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-to').dispatchEvent(new Event('change', {bubbles: true}))`),
		waitRendered(n))
	n = b.renders(b.ctx)
	b.do(b.ctx, "untick Explosions", chromedp.Click(chromedp.CSS(`label[for="f-type-1"]`)), waitRendered(n))
	n = b.renders(b.ctx)
	b.do(b.ctx, "search", chromedp.SendKeys(chromedp.ID("f-q"), "clash\n"), waitRendered(n))
	if got := b.shownCount(b.ctx); got != 1 {
		t.Fatalf("count = %d, want 1 (the October clash)", got)
	}
	b.do(b.ctx, "select the incident",
		chromedp.Click(chromedp.CSS(`#map .incident-marker`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)),
		chromedp.Sleep(500*time.Millisecond)) // the popup's pan settles and rewrites the hash
	if when := get(b, b.ctx, "read the date", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-when`))); when != "week of 12 Oct 2020" {
		t.Errorf("week-precision date = %q, want \"week of 12 Oct 2020\"", when)
	}
	b.do(b.ctx, "copy the permalink", chromedp.Click(chromedp.ID("copy-permalink")), chromedp.WaitVisible(chromedp.ID("share-url")))
	permalink := get(b, b.ctx, "read the permalink", chromedp.Value(chromedp.ID("share-url")))
	b.screenshot(b.ctx, "original")
	for _, want := range []string{"#map=", "from=2020-10-01", "to=2020-10-31", "types=", "q=clash", fmt.Sprintf("sel=%d", target.ID)} {
		if !strings.Contains(permalink, want) {
			t.Errorf("permalink %q lacks %q", permalink, want)
		}
	}
	hash := permalink[strings.Index(permalink, "#"):]

	// A new tab opens the link as a person pasting it would.
	tab := b.openTab(b.ctx)
	b.do(tab, "open the permalink", chromedp.Navigate(permalink), waitRendered(0),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)), openPanel())
	b.screenshot(tab, "restored")
	if got := eval[string](b, tab, `location.hash`); got != hash {
		t.Errorf("restored hash = %q, want %q (centre, zoom, filters, selection)", got, hash)
	}
	if got := get(b, tab, "read the popup", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != "Clash at the ridge" {
		t.Errorf("restored popup = %q, want the selected incident", got)
	}
	from := get(b, tab, "read from", chromedp.Value(chromedp.ID("f-from")))
	to := get(b, tab, "read to", chromedp.Value(chromedp.ID("f-to")))
	q := get(b, tab, "read q", chromedp.Value(chromedp.ID("f-q")))
	if from != "2020-10-01" || to != "2020-10-31" || q != "clash" {
		t.Errorf("restored filters: from %q, to %q, q %q", from, to, q)
	}
	types := eval[[]bool](b, tab, `[...document.querySelectorAll('#f-types input')].map(i => i.checked)`)
	if want := []bool{true, false, true, true, true, true}; fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("restored event types = %v, want %v", types, want)
	}
	if got := b.shownCount(tab); got != 1 {
		t.Errorf("restored count = %d, want 1", got)
	}
}

func TestTimelineWindowAndPlay(t *testing.T) {
	s := newSite(t, offlineTiles)
	seedStaircase(t, s)
	b := newBrowser(t, 1280, 1000)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=8/39.40/47.03"), waitRendered(0), openPanel())
	if got := b.shownCount(b.ctx); got != 55 {
		t.Fatalf("count = %d, want 55", got)
	}
	if max := eval[string](b, b.ctx, `document.getElementById('tl-end').max`); max != "9" {
		t.Errorf("timeline spans %s+1 days, want 10", max)
	}
	// The histogram has a date axis: round dates of October 2020, in order.
	ticks := strings.Split(eval[string](b, b.ctx, `document.getElementById('tl-histogram').dataset.ticks || ''`), ",")
	if len(ticks) < 2 {
		t.Errorf("timeline axis = %q, want dates", ticks)
	}
	for _, tick := range ticks {
		if !regexp.MustCompile(`^([1-9]|10) Oct$`).MatchString(tick) {
			t.Errorf("timeline axis tick %q, want a day of 1-10 October", tick)
		}
	}
	// Narrow the window to 3-5 Oct with the keyboard on the range inputs.
	n := b.renders(b.ctx)
	b.do(b.ctx, "move the window",
		chromedp.Evaluate[chromedp.Void](`(() => {
			for (const [id, v] of [['tl-start', '2'], ['tl-end', '4']]) {
				const el = document.getElementById(id);
				el.value = v;
				el.dispatchEvent(new Event('input', {bubbles: true}));
			} })()`),
		waitRendered(n))
	b.screenshot(b.ctx, "window")
	if got := b.shownCount(b.ctx); got != 3+4+5 {
		t.Errorf("count in 3-5 Oct = %d, want 12", got)
	}
	if hash := eval[string](b, b.ctx, `location.hash`); !strings.Contains(hash, "win=2020-10-03/2020-10-05") {
		t.Errorf("hash = %q, want the window in it", hash)
	}
	link := b.apiLinkFromPage(b.ctx)
	if !strings.Contains(link, "datetime=2020-10-03%2F2020-10-05") {
		t.Errorf("API link %q does not select the window", link)
	}
	if got, want := b.shownCount(b.ctx), apiCount(t, link); got != want {
		t.Errorf("count in the window = %d, API = %d", got, want)
	}
	// Play moves the window a day at a time.
	n = b.renders(b.ctx)
	b.do(b.ctx, "play", chromedp.Click(chromedp.ID("tl-play")), waitRendered(n))
	b.do(b.ctx, "wait for a step", chromedp.Poll[chromedp.Void](`location.hash.includes('win=2020-10-04/2020-10-06')`))
	b.do(b.ctx, "pause", chromedp.Click(chromedp.ID("tl-play")))
	if pressed := eval[string](b, b.ctx, `document.getElementById('tl-play').getAttribute('aria-pressed')`); pressed != "false" {
		t.Errorf("aria-pressed = %s after pausing", pressed)
	}
	n = b.renders(b.ctx)
	b.do(b.ctx, "show all dates", chromedp.Click(chromedp.ID("tl-all")), waitRendered(n))
	if got := b.shownCount(b.ctx); got != 55 {
		t.Errorf("count for all dates = %d, want 55", got)
	}
}

func TestKeyboardOpensAndClosesAPopup(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, func(inc *geo.Incident) { inc.Title = "Reachable by keyboard" })
	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=12/39.40/47.03"), waitRendered(0))
	// Markers are buttons in the tab order; Enter opens the popup and moves
	// focus into it, Escape closes it and gives focus back.
	b.do(b.ctx, "focus the marker", chromedp.Focus(chromedp.CSS(`#map .incident-marker`)))
	if role := eval[string](b, b.ctx, `document.activeElement.getAttribute('role')`); role != "button" {
		t.Errorf("focused marker role = %q, want button", role)
	}
	b.do(b.ctx, "press Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)))
	if got := eval[string](b, b.ctx, `document.activeElement.textContent`); got != "Reachable by keyboard" {
		t.Errorf("focus after Enter is on %q, want the popup title", got)
	}
	b.screenshot(b.ctx, "popup")
	b.do(b.ctx, "press Escape", chromedp.KeyEvent(kb.Escape),
		chromedp.Poll[chromedp.Void](`!document.querySelector('.leaflet-popup')`))
	// The popup panned the map clear of the controls, and the incidents were
	// drawn again: focus still goes back to the marker, not the page.
	b.do(b.ctx, "wait for the reload", chromedp.Sleep(600*time.Millisecond), waitRendered(0))
	if !eval[bool](b, b.ctx, `document.activeElement.classList.contains('incident-marker')`) {
		t.Errorf("focus after Escape is on %s, want the marker", eval[string](b, b.ctx, `document.activeElement.outerHTML.slice(0, 80)`))
	}
}

func TestNarrowScreen(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, nil)
	b := newBrowser(t, 360, 740)
	// Headless windows do not get narrower than 500 px: emulate the phone.
	b.do(b.ctx, "open the map", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile),
		chromedp.Navigate(s.URL+"/#map=8/39.40/47.03"), waitRendered(0))
	b.screenshot(b.ctx, "closed")
	if eval[bool](b, b.ctx, overflows) {
		t.Error("the page scrolls at 360 px")
	}
	if !eval[bool](b, b.ctx, `document.getElementById('panel').hidden`) {
		t.Error("the filter panel covers the map at 360 px before it is asked for")
	}
	b.do(b.ctx, "open the panel", chromedp.Click(chromedp.ID("panel-toggle")), chromedp.WaitVisible(chromedp.ID("f-q")))
	b.screenshot(b.ctx, "open")
	if got := eval[string](b, b.ctx, `document.getElementById('panel-toggle').getAttribute('aria-expanded')`); got != "true" {
		t.Errorf("aria-expanded = %q after opening", got)
	}
	if eval[bool](b, b.ctx, overflows) {
		t.Error("the page scrolls with the panel open at 360 px (the panel should scroll, not the page)")
	}
	// Every form control has a label.
	unlabelled := eval[[]string](b, b.ctx, `
		[...document.querySelectorAll('input, select, textarea')]
		  .filter(i => i.labels.length === 0 && !i.getAttribute('aria-label'))
		  .map(i => i.id || i.outerHTML)`)
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v", unlabelled)
	}

	// The moderation view fits too, below the map, and closes the filter panel.
	b.do(b.ctx, "open moderation", chromedp.Click(chromedp.ID("moderate-open")), chromedp.WaitVisible(chromedp.ID("m-token")))
	b.screenshot(b.ctx, "moderation")
	if eval[bool](b, b.ctx, overflows) {
		t.Error("the page scrolls with the moderation view open at 360 px")
	}
	if !eval[bool](b, b.ctx, `document.getElementById('panel').hidden`) {
		t.Error("the filter panel stays open over the moderation view")
	}
	if hash := eval[string](b, b.ctx, `location.hash`); !strings.HasSuffix(hash, "&moderate") {
		t.Errorf("hash = %q, want the moderation view in it", hash)
	}
	b.do(b.ctx, "press Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("moderation-sheet")))
	if id := eval[string](b, b.ctx, `document.activeElement.id`); id != "moderate-open" {
		t.Errorf("focus after Escape is on #%s, want the Moderate button", id)
	}
}

// TestPhonePopupIsNotCovered opens a popup near the top of a phone's map,
// offline: neither the "Map tiles unavailable" notice nor the zoom and
// place controls may cover its title or its close button.
func TestPhonePopupIsNotCovered(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, func(inc *geo.Incident) { inc.Title = "Shelling near Jabrayil" })
	b := newBrowser(t, 390, 844)
	// The marker about 190 px above the centre: its popup would reach the top edge.
	b.do(b.ctx, "open the map", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(s.URL+"/#map=10/39.20/47.03"), waitRendered(0),
		chromedp.WaitVisible(chromedp.CSS(`#map .map-notice`)))
	b.do(b.ctx, "tap the marker", chromedp.Click(chromedp.CSS(`#map .incident-marker`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)),
		// The popup fills in its incident, and the map pans (animated) to fit it.
		chromedp.Poll[chromedp.Void](`document.querySelector('.leaflet-popup .props')?.textContent.includes('Sources')`),
		still(`.leaflet-popup-close-button`))
	b.screenshot(b.ctx, "popup")
	for _, sel := range []string{".leaflet-popup-close-button", ".leaflet-popup .incident-title"} {
		// What a tap at its centre reaches, and what is drawn over any part
		// of it (the notice lets taps through, yet hides what is under it).
		got := eval[[]string](b, b.ctx, fmt.Sprintf(`(() => {
			const want = document.querySelector(%q);
			const r = want.getBoundingClientRect();
			const found = [];
			const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
			if (!at || (at !== want && !want.contains(at))) found.push('at its centre: ' + (at ? at.outerHTML.slice(0, 80) : 'nothing'));
			for (const e of document.querySelectorAll('#map .leaflet-control, #map .map-notice, #map .live-box > :not(:empty)')) {
				const o = e.getBoundingClientRect();
				if (o.width && o.height && o.left < r.right && r.left < o.right && o.top < r.bottom && r.top < o.bottom) {
					found.push('over it: ' + e.className);
				}
			}
			return found;
		})()`, sel))
		if len(got) > 0 {
			t.Errorf("%s is covered: %q", sel, got)
		}
	}
	b.do(b.ctx, "tap the close button", chromedp.Click(chromedp.CSS(`.leaflet-popup-close-button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`.leaflet-popup`)))
}

// TestTenThousandMarkers measures the time from navigation to 10,000
// markers rendered (logged, not asserted: machines differ).
func TestTenThousandMarkers(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 incidents; skipped with -short")
	}
	s := newSite(t, offlineTiles)
	seedMany(t, s.DB, 10000)

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=8/39.40/47.03"), waitRendered(0),
		chromedp.Poll[chromedp.Void](`document.getElementById('map').dataset.rendered === '10000'`))
	// The marks of the last load: when it asked, when the data was in, when
	// the markers were painted (milliseconds since navigation).
	mark := func(name string) float64 {
		return eval[float64](b, b.ctx, `performance.getEntriesByName('incidentmap:`+name+`').pop().startTime`)
	}
	fetchAt, fetchedAt, renderedAt := mark("fetch"), mark("fetched"), mark("rendered")
	readyAt := eval[float64](b, b.ctx, `performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd`)
	b.screenshot(b.ctx, "10000")
	if got := b.shownCount(b.ctx); got != 10000 {
		t.Errorf("count = %d, want 10000", got)
	}
	if got := b.markersShown(b.ctx); got != 10000 {
		t.Errorf("markers and clusters hold %d incidents, want 10000", got)
	}
	t.Logf("10,000 incidents: markers rendered %.0f ms after navigation "+
		"(DOM ready %.0f ms; request sent %.0f ms, data in %.0f ms)", renderedAt, readyAt, fetchAt, fetchedAt)
}

// TestGoToPlace types place names in Armenian script and Azerbaijani Latin
// into the map's "go to place" box: the real GeoNames places of the South
// Caucasus are found through their alternate names, with the keyboard
// alone, and the map lands on them; a name is shown as text, not markup.
func TestGoToPlace(t *testing.T) {
	s := newSite(t, offlineTiles)
	places := geotest.GeoNamesWhere(t, geotest.InSouthCaucasus)
	places = append(places, geo.Place{ID: 999_999_001, Name: `<img src=x onerror="document.title='pwned'">Shushatown`,
		Population: 600, Point: orb.Point{47.5, 38.5}})
	if _, err := s.DB.LoadPlaces(context.Background(), places); err != nil {
		t.Fatalf("load places: %v", err)
	}

	b := newBrowser(t, 1024, 768)
	// Start over Yerevan: the places are 200 km away.
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/40.18/44.51"), waitRendered(0),
		chromedp.WaitVisible(chromedp.ID("place-search-q")))
	if label := eval[string](b, b.ctx, `document.getElementById('place-search-q').labels[0]?.textContent || ''`); label == "" {
		t.Error("the place search box has no label")
	}
	mapView := regexp.MustCompile(`map=(\d+)/(-?[\d.]+)/(-?[\d.]+)`)
	for _, tt := range []struct {
		typed, want      string
		wantLat, wantLon float64
		keys             string // how the place is chosen: Enter takes the first, ArrowDown+Enter the focused one
	}{
		{"Շուշի", "Şuşa", 39.76006, 46.74989, kb.Enter},
		{"Cəbrayıl", "Jebrail", 39.39917, 47.02835, kb.ArrowDown + kb.Enter},
	} {
		b.do(b.ctx, "type "+tt.typed, chromedp.Focus(chromedp.ID("place-search-q")),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('place-search-q').value = ''`),
			chromedp.SendKeys(chromedp.ID("place-search-q"), tt.typed),
			chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.getElementById('place-search-results').dataset.q === %q &&
				document.querySelector('#place-search-results button') !== null`, tt.typed),
				chromedp.WithPollingInterval(50*time.Millisecond)))
		b.screenshot(b.ctx, "results-"+tt.want)
		first := get(b, b.ctx, "read the first result", chromedp.Text(chromedp.CSS(`#place-search-results li:first-child .place-name`)))
		if !strings.HasPrefix(first, tt.want+" (") || !strings.Contains(first, tt.typed) {
			t.Errorf("%s: first result %q, want %s, matched as typed", tt.typed, first, tt.want)
		}
		b.do(b.ctx, "choose with the keyboard", chromedp.KeyEvent(tt.keys),
			chromedp.Poll[chromedp.Void](`document.querySelector('#place-search-results button') === null`,
				chromedp.WithPollingInterval(50*time.Millisecond)))
		var m []string
		b.do(b.ctx, "wait for the map to land", chromedp.Poll[chromedp.Void](fmt.Sprintf(
			`(() => { const m = /map=\d+\/(-?[\d.]+)\/(-?[\d.]+)/.exec(location.hash);
			  return m && Math.abs(m[1] - %f) < 0.01 && Math.abs(m[2] - %f) < 0.01; })()`, tt.wantLat, tt.wantLon),
			chromedp.WithPollingInterval(50*time.Millisecond)))
		m = mapView.FindStringSubmatch(eval[string](b, b.ctx, `location.hash`))
		if zoom, _ := strconv.Atoi(m[1]); zoom != 12 && zoom != 13 {
			t.Errorf("%s: zoom %d, want a town's 12 or 13", tt.typed, zoom)
		}
		if active := eval[string](b, b.ctx, `document.activeElement.id`); active != "place-search-q" {
			t.Errorf("%s: focus on %q after choosing, want the search box", tt.typed, active)
		}
	}

	// A hostile name is text; Escape clears the box.
	b.do(b.ctx, "search a hostile name", chromedp.Evaluate[chromedp.Void](`document.getElementById('place-search-q').value = ''`),
		chromedp.SendKeys(chromedp.ID("place-search-q"), "shushatown"),
		chromedp.Poll[chromedp.Void](`document.getElementById('place-search-results').dataset.q === 'shushatown'`,
			chromedp.WithPollingInterval(50*time.Millisecond)))
	if got := get(b, b.ctx, "read the hostile result", chromedp.Text(chromedp.CSS(`#place-search-results .place-name`))); !strings.HasPrefix(got, "<img") {
		t.Errorf("hostile name shown as %q, want its text", got)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#place-search-results img').length`); n != 0 {
		t.Errorf("a place name became %d img elements", n)
	}
	if title := eval[string](b, b.ctx, `document.title`); title == "pwned" {
		t.Error("a place name ran script")
	}
	b.do(b.ctx, "Escape", chromedp.KeyEvent(kb.Escape),
		chromedp.Poll[chromedp.Void](`document.querySelector('#place-search-results button') === null`,
			chromedp.WithPollingInterval(50*time.Millisecond)))
	if v := eval[string](b, b.ctx, `document.getElementById('place-search-q').value`); v != "" {
		t.Errorf("after Escape the box holds %q", v)
	}
}

// TestPopupActionsAndWording: a district-precise incident's popup says in
// which area it is (not "0 m from" a place), "Zoom to" zooms as close as
// the point is precise, "Copy link" gives a link that opens the same
// popup; hovering a marker shows its title; and an incident that arrives
// live is marked as new.
func TestPopupActionsAndWording(t *testing.T) {
	s := newSite(t, offlineTiles)
	const title = "Shelling of the Jabrayil district"
	inc := s.seed(t, 47.03, 39.40, func(inc *geo.Incident) {
		inc.Title, inc.LocationName, inc.Admin1, inc.GeoPrecision = title, "Jebrail", "Jabrayil", geo.GeoRegion
	})
	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=8/39.40/47.03"), waitRendered(0), liveConnected())

	// Hover: the title in a tooltip, and no browser tooltip beside it.
	at := eval[[]float64](b, b.ctx, `(() => { const r = document.querySelector('#map .incident-marker').getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	b.do(b.ctx, "hover the marker", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, at[0]-30, at[1]-30), chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, at[0], at[1]),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-tooltip.incident-tooltip`)))
	b.screenshot(b.ctx, "tooltip")
	if got := get(b, b.ctx, "read the tooltip", chromedp.Text(chromedp.CSS(`.incident-tooltip`))); got != title {
		t.Errorf("tooltip = %q, want %q", got, title)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .incident-marker[title]').length`); n != 0 {
		t.Errorf("%d markers keep a title attribute (a second, browser tooltip)", n)
	}

	b.do(b.ctx, "open the popup", chromedp.Click(chromedp.CSS(`#map .incident-marker`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .popup-zoom`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('.leaflet-popup .props')?.textContent.includes('Sources')`))
	place := get(b, b.ctx, "read the popup", chromedp.Text(chromedp.CSS(`.leaflet-popup .props`)))
	if !strings.Contains(place, "in the Jabrayil area") || regexp.MustCompile(`\d m from`).MatchString(place) {
		t.Errorf("popup place = %q, want the area and no distance in metres", place)
	}

	b.do(b.ctx, "let the map fit the popup", still(`.leaflet-popup .popup-zoom`))
	n := b.renders(b.ctx)
	b.do(b.ctx, "zoom to", chromedp.Click(chromedp.CSS(`.leaflet-popup .popup-zoom`)),
		chromedp.Poll[chromedp.Void](`location.hash.startsWith('#map=10/')`, chromedp.WithPollingInterval(50*time.Millisecond)),
		waitRendered(n))
	b.do(b.ctx, "copy the link", still(`.leaflet-popup .popup-copy`), chromedp.Click(chromedp.CSS(`.leaflet-popup .popup-copy`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .popup-link`)))
	b.screenshot(b.ctx, "link")
	// After the zoom the popup is whole again, clear of the map's top edge.
	if top := eval[float64](b, b.ctx, `document.querySelector('.leaflet-popup').getBoundingClientRect().top - document.getElementById('map').getBoundingClientRect().top`); top < 0 {
		t.Errorf("the popup starts %.0f px above the map after zooming to it", -top)
	}
	link := get(b, b.ctx, "read the link", chromedp.Value(chromedp.CSS(`.leaflet-popup .popup-link`)))
	if !strings.HasPrefix(link, s.URL+"/#") || !strings.Contains(link, fmt.Sprintf("sel=%d", inc.ID)) {
		t.Fatalf("link = %q, want this site with sel=%d", link, inc.ID)
	}
	tab := b.openTab(b.ctx)
	b.do(tab, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)))
	if got := get(b, tab, "read the title", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != title {
		t.Errorf("the link opens %q, want %q", got, title)
	}

	// A live arrival is marked until the view loads again.
	b.do(b.ctx, "close the popup", chromedp.Click(chromedp.CSS(`.leaflet-popup-close-button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`.leaflet-popup`)))
	s.seed(t, 47.2, 39.45, func(inc *geo.Incident) { inc.Title = "Arrived live" })
	b.do(b.ctx, "wait for the live incident", chromedp.WaitVisible(chromedp.CSS(`#map .incident-marker.is-new[aria-label^="Arrived live"]`)))
	b.screenshot(b.ctx, "new")
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .incident-marker.is-new').length`); n != 1 {
		t.Errorf("%d markers marked new, want the one that arrived", n)
	}
}

// TestSheetBesideThePanel: on a laptop, opening the moderation view beside
// the open filter panel would leave a sliver of map between them: the panel
// closes, and the map keeps a usable width.
func TestSheetBesideThePanel(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, nil)
	b := newBrowser(t, 1366, 768)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/39.40/47.03"), waitRendered(0), openPanel())
	b.do(b.ctx, "open moderation", chromedp.Click(chromedp.ID("moderate-open")), chromedp.WaitVisible(chromedp.ID("m-token")))
	b.screenshot(b.ctx, "moderation")
	if w := eval[int](b, b.ctx, `document.getElementById('map').clientWidth`); w < 720 {
		t.Errorf("the map is %d px wide beside the moderation view, want at least 720", w)
	}
	if !eval[bool](b, b.ctx, `document.getElementById('panel').hidden`) {
		t.Error("the filter panel stayed open beside the moderation view")
	}
	// Asked for again, it opens (the person chose a narrow map).
	b.do(b.ctx, "reopen the panel", chromedp.Click(chromedp.ID("panel-toggle")), chromedp.WaitVisible(chromedp.ID("f-q")))
}
