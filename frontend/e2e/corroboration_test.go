package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
)

// TestCorroborationMerge: a moderator reviewing a report sees the
// incident and the other report nearby, merges the report into the
// incident, then from the incident's popup merges the nearby report too.
func TestCorroborationMerge(t *testing.T) {
	s := newSite(t, offlineTiles)
	token := s.moderator(t, "mod")
	at := time.Now().UTC().Add(-6 * time.Hour).Truncate(time.Second)
	existing := s.seed(t, 47.04, 39.41, func(inc *geo.Incident) {
		inc.Title, inc.OccurredAt = "Shelling of the bridge", at.Add(-2*time.Hour)
	})
	s.seed(t, 47.03, 39.95, func(inc *geo.Incident) { inc.Title, inc.OccurredAt = "Far away: 60 km north", at })
	report := func(lat float64, when time.Time, desc string) int64 {
		var out struct{ ID int64 }
		s.call(t, http.MethodPost, "/api/reports", "", map[string]any{
			"type":     "Feature",
			"geometry": map[string]any{"type": "Point", "coordinates": []float64{47.03, lat}},
			"properties": map[string]any{"occurred_at": when.Format(time.RFC3339), "event_type": "Explosions/Remote violence",
				"description": desc, "location_name": "Jabrayil", "source_urls": []string{fmt.Sprintf("https://example.org/%g", lat)}},
		}, http.StatusCreated, &out)
		return out.ID
	}
	first := report(39.40, at, "Shells hit the bridge before dawn.")
	nearby := report(39.418, at.Add(3*time.Hour), "The bridge was shelled, seen from the hill.") // 2 km, 3 h

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open moderation", chromedp.Navigate(s.URL+"/#moderate&map=11/39.40/47.03"), waitRendered(0),
		chromedp.WaitVisible(chromedp.ID("m-token")))
	b.do(b.ctx, "sign in", chromedp.SendKeys(chromedp.ID("m-token"), token),
		chromedp.Click(chromedp.CSS(`#m-sign-in button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"]`, first))))
	item := func(kind string, id int64) string {
		return fmt.Sprintf(`#m-corroboration .corroboration-item[data-kind="%s"][data-id="%d"]`, kind, id)
	}
	b.do(b.ctx, "review the first report", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"] button`, first))),
		chromedp.WaitVisible(chromedp.CSS(item("incident", existing.ID))), chromedp.WaitVisible(chromedp.CSS(item("report", nearby))))
	b.screenshot(b.ctx, "corroboration-review")
	for _, v := range b.axeViolations(b.ctx) {
		t.Errorf("review with candidates: %s", v)
	}
	listed := eval[[]string](b, b.ctx, `[...document.querySelectorAll('#m-corroboration .corroboration-item')].map(e => e.dataset.kind + ' ' + e.dataset.id)`)
	// The incident is 1.4 km away, the report 2.0 km: nearest first; not the incident 60 km away.
	if want := []string{fmt.Sprintf("incident %d", existing.ID), fmt.Sprintf("report %d", nearby)}; strings.Join(listed, ",") != strings.Join(want, ",") {
		t.Errorf("candidates = %v, want %v", listed, want)
	}
	if got := get(b, b.ctx, "read the nearby report", chromedp.Text(chromedp.CSS(item("report", nearby)))); !strings.Contains(got, "2.0 km away") ||
		!strings.Contains(got, "3 h apart") || !strings.Contains(got, "pending") {
		t.Errorf("nearby report reads %q, want 2.0 km away, 3 h apart, pending", got)
	}

	// Merge asks first; Cancel does nothing.
	merge := item("incident", existing.ID) + " button"
	b.do(b.ctx, "merge, then cancel", chromedp.Click(chromedp.CSS(merge)),
		chromedp.WaitVisible(chromedp.CSS(`#m-corroboration .corroboration-confirm`)),
		chromedp.Click(chromedp.CSS(item("incident", existing.ID)+" .button.secondary")),
		chromedp.WaitNotPresent(chromedp.CSS(`#m-corroboration .corroboration-confirm`)))
	b.do(b.ctx, "merge and confirm", chromedp.Click(chromedp.CSS(merge)),
		chromedp.WaitVisible(chromedp.CSS(`#m-corroboration .corroboration-confirm`)))
	for _, v := range b.axeViolations(b.ctx) {
		t.Errorf("merge confirmation: %s", v)
	}
	b.do(b.ctx, "confirm",
		chromedp.Click(chromedp.CSS(`#m-corroboration .corroboration-confirm`)),
		chromedp.WaitVisible(chromedp.ID("m-done")))
	if got := get(b, b.ctx, "read the result", chromedp.Text(chromedp.ID("m-done"))); !strings.Contains(got, fmt.Sprintf("Report #%d merged into incident #%d", first, existing.ID)) {
		t.Errorf("merge result = %q", got)
	}
	var merged struct {
		Properties struct {
			Status     string `json:"status"`
			IncidentID int64  `json:"incident_id"`
		} `json:"properties"`
	}
	s.call(t, http.MethodGet, fmt.Sprintf("/api/reports/%d", first), token, nil, http.StatusOK, &merged)
	if merged.Properties.Status != "verified" || merged.Properties.IncidentID != existing.ID {
		t.Errorf("report %d after the merge: %+v, want verified into incident %d", first, merged.Properties, existing.ID)
	}

	// The incident's popup leads to its candidates: merge the other report there.
	b.do(b.ctx, "show the incident", chromedp.Click(chromedp.CSS(`#m-done button`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .popup-duplicates`)), still(`.leaflet-popup .popup-duplicates`),
		chromedp.Click(chromedp.CSS(`.leaflet-popup .popup-duplicates`)),
		chromedp.WaitVisible(chromedp.CSS(item("report", nearby))))
	if got := get(b, b.ctx, "read the heading", chromedp.Text(chromedp.ID("m-duplicates-heading"))); got != fmt.Sprintf("Incident #%d: Shelling of the bridge", existing.ID) {
		t.Errorf("heading = %q, want the incident", got)
	}
	b.do(b.ctx, "merge the nearby report", chromedp.Click(chromedp.CSS(item("report", nearby)+" button")),
		chromedp.WaitVisible(chromedp.CSS(`#m-corroboration .corroboration-confirm`)),
		chromedp.Click(chromedp.CSS(`#m-corroboration .corroboration-confirm`)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector('#m-corroboration [role=status]').textContent.includes('Report #%d merged into incident #%d')`, nearby, existing.ID)),
		chromedp.WaitNotPresent(chromedp.CSS(item("report", nearby))))
	b.screenshot(b.ctx, "corroboration-incident")
	s.call(t, http.MethodGet, fmt.Sprintf("/api/reports/%d", nearby), token, nil, http.StatusOK, &merged)
	if merged.Properties.Status != "verified" || merged.Properties.IncidentID != existing.ID {
		t.Errorf("report %d after the popup merge: %+v, want verified into incident %d", nearby, merged.Properties, existing.ID)
	}
	var feature struct {
		Properties struct {
			Sources []struct{ Publisher, URL string } `json:"sources"`
		} `json:"properties"`
	}
	s.call(t, http.MethodGet, fmt.Sprintf("/api/collections/incidents/items/%d", existing.ID), "", nil, http.StatusOK, &feature)
	names := fmt.Sprint(feature.Properties.Sources)
	for _, want := range []string{fmt.Sprintf("incidentmap report %d", first), fmt.Sprintf("incidentmap report %d", nearby), "https://example.org/39.418"} {
		if !strings.Contains(names, want) {
			t.Errorf("incident sources = %s, want %q among them", names, want)
		}
	}
	b.checkProblems()
}
