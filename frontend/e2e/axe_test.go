package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
)

// axeViolations runs axe-core (npm axe-core, a dev dependency) on the
// document of the tab ctx and lists its violations as "rule (impact):
// help: targets". The script goes in as a DevTools evaluation, which the
// page's CSP does not govern; the page itself never loads it.
func (b *browser) axeViolations(ctx context.Context) []string {
	b.t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		b.t.Fatalf("%v (run 'make frontend')", err)
	}
	b.do(ctx, "inject axe-core", chromedp.Evaluate[chromedp.Void](string(src)+"\n;undefined"))
	return get(b, ctx, "run axe-core", chromedp.Evaluate[[]string](`axe.run(document, { resultTypes: ['violations'] }).then(r =>
		r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ': ' +
			v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', ') + (v.nodes.length > 4 ? ', …' : '')))`,
		chromedp.EvalAwaitPromise))
}

// TestAccessibility scans the map (offline basemap, labels, markers, a
// popup), the report form and the moderation view (queue and a review)
// with axe-core: no violation is allowed.
func TestAccessibility(t *testing.T) {
	s := newSite(t, offlineTiles)
	countriesAndBorders(t, s.DB)
	for i := range 4 {
		s.seed(t, 46.6+0.25*float64(i), 39.4, func(inc *geo.Incident) { inc.Title = fmt.Sprintf("Shelling %d", i) })
	}
	token := s.moderator(t, "mod")
	var out struct{ ID int64 }
	s.call(t, http.MethodPost, "/api/reports", "", map[string]any{
		"type":     "Feature",
		"geometry": map[string]any{"type": "Point", "coordinates": []float64{47.03, 39.40}},
		"properties": map[string]any{"occurred_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "event_type": "Battles",
			"description": "Gunfire near the bridge."},
	}, http.StatusCreated, &out)

	b := newBrowser(t, 1366, 768)
	check := func(what string) {
		t.Helper()
		b.screenshot(b.ctx, what)
		for _, v := range b.axeViolations(b.ctx) {
			t.Errorf("%s: %s", what, v)
		}
	}
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/39.40/47.03"), waitRendered(0),
		chromedp.Poll[chromedp.Void](`document.getElementById('map').dataset.basemap === 'drawn'`))
	check("map")
	b.do(b.ctx, "open a popup and the legend", chromedp.Click(chromedp.CSS(`#map .incident-marker`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .popup-zoom`)),
		chromedp.Click(chromedp.CSS(`.legend summary`)))
	check("popup")

	b.do(b.ctx, "open the report form", chromedp.Click(chromedp.ID("report-open")), chromedp.WaitVisible(chromedp.ID("report-sheet")))
	check("report-form")
	b.do(b.ctx, "send it empty", chromedp.Click(chromedp.ID("r-submit")),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#report-sheet .field-error')].some(e => !e.hidden && e.textContent)`))
	check("report-form-errors")

	b.do(b.ctx, "open moderation", chromedp.Navigate(s.URL+"/#moderate&map=11/39.40/47.03"), waitRendered(0),
		chromedp.WaitVisible(chromedp.ID("m-token")))
	check("moderation-sign-in")
	b.do(b.ctx, "sign in", chromedp.SendKeys(chromedp.ID("m-token"), token),
		chromedp.Click(chromedp.CSS(`#m-sign-in button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"]`, out.ID))))
	check("moderation-queue")
	b.do(b.ctx, "review the report", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"] button`, out.ID))),
		chromedp.WaitVisible(chromedp.ID("m-title")))
	check("moderation-review")
}

// TestAccessibilityOnAPhone scans the map and the open filter panel at
// 390 x 844.
func TestAccessibilityOnAPhone(t *testing.T) {
	s := newSite(t, offlineTiles)
	countriesAndBorders(t, s.DB)
	s.seed(t, 47.03, 39.40, nil)
	b := newBrowser(t, 390, 844)
	b.do(b.ctx, "open the map", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(s.URL+"/#map=9/39.40/47.03"), waitRendered(0),
		chromedp.Poll[chromedp.Void](`document.getElementById('map').dataset.basemap === 'drawn'`))
	for _, v := range b.axeViolations(b.ctx) {
		t.Errorf("phone map: %s", v)
	}
	b.do(b.ctx, "open the panel", chromedp.Click(chromedp.ID("panel-toggle")), chromedp.WaitVisible(chromedp.ID("f-q")))
	b.screenshot(b.ctx, "panel")
	for _, v := range b.axeViolations(b.ctx) {
		t.Errorf("phone panel: %s", v)
	}
}
