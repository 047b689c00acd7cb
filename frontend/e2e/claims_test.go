package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
)

// seedDemoTruceBreach stores the demo's truce-breach incident (near
// Jabrayil; the test database has no gazetteer) with its claims.
func seedDemoTruceBreach(t *testing.T, s *site) geo.Incident {
	t.Helper()
	for _, d := range geo.DemoIncidents() {
		if d.Incident.ExternalID == "demo-2020-10-18-jabrayil" {
			return s.seed(t, 46.98, 39.40, func(inc *geo.Incident) {
				pt := inc.Point
				*inc = d.Incident
				inc.Point, inc.Demo = pt, true
			})
		}
	}
	t.Fatal("no demo-2020-10-18-jabrayil in the demo data")
	return geo.Incident{}
}

// pollJS waits until a JavaScript expression is true.
func pollJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))
}

// The seed's truce-breach popup shows both sides, the Armenian charge and
// Baku's non-response, and is contested (a charge the accused left
// unanswered); like an incident with a denial, it carries the contested
// ring, and the popup says so.
func TestClaimsPopupAndContestedMarker(t *testing.T) {
	s := newSite(t, offlineTiles)
	demo := seedDemoTruceBreach(t, s)
	contested := s.seed(t, 47.10, 39.45, func(inc *geo.Incident) {
		inc.Title = "Contested shelling"
		inc.Claims = []geo.Claim{
			{Party: "Ministry of Defence of Armenia", Stance: geo.StanceAsserts, Text: "shelling", Source: geo.ClaimSource{Name: "Test wire"}},
			{Party: "Ministry of Defence of Azerbaijan", Stance: geo.StanceDenies, Text: "no shelling took place",
				Source: geo.ClaimSource{Name: "Test wire", URL: "https://example.org/denial"}},
		}
	})
	if !demo.Contested || !contested.Contested {
		t.Fatalf("stored contested: demo %v, fixture %v; want true, true", demo.Contested, contested.Contested)
	}
	// contested=true finds both, and only them.
	res, err := http.Get(s.URL + "/api/collections/incidents/items?contested=true")
	if err != nil {
		t.Fatal(err)
	}
	var found struct {
		Features []struct{ ID int64 } `json:"features"`
	}
	err = json.NewDecoder(res.Body).Decode(&found)
	res.Body.Close()
	ids := map[int64]bool{}
	for _, f := range found.Features {
		ids[f.ID] = true
	}
	if err != nil || len(found.Features) != 2 || !ids[demo.ID] || !ids[contested.ID] {
		t.Errorf("contested=true found %+v (%v), want ids %d and %d", found.Features, err, demo.ID, contested.ID)
	}

	b := newBrowser(t, 1280, 1000)
	b.do(b.ctx, "open the demo incident", chromedp.Navigate(fmt.Sprintf("%s/#map=10/39.66/47.04&sel=%d", s.URL, demo.ID)),
		waitRendered(0), pollJS(`document.querySelectorAll('.incident-popup .claims li').length === 2`), still(`.incident-popup`))
	b.screenshot(b.ctx, "demo-claims-popup")
	claims := get(b, b.ctx, "read the claims", chromedp.Text(chromedp.CSS(`.incident-popup .claims`)))
	for _, want := range []string{
		"Ministry of Defence of Armenia blames Military Forces of Azerbaijan: Spokeswoman Shusan Stepanyan",
		"launched mortar and artillery fire in the vicinity of Jabrayil",
		"Baku (Government of Azerbaijan): Baku had no immediate response to the charge.",
	} {
		if !strings.Contains(claims, want) {
			t.Errorf("demo popup claims %q lack %q", claims, want)
		}
	}
	if !strings.Contains(claims, "Contested") {
		t.Errorf("demo popup does not say contested: %q", claims)
	}
	// Opened from its marker, the popup pans clear of the map's controls:
	// what lies at the centre of its title and of its first label is theirs.
	b.do(b.ctx, "reopen from the marker", chromedp.Click(chromedp.CSS(`.leaflet-popup-close-button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`.leaflet-popup`)),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#map .incident-marker[aria-label^=%q]`, demo.Title))),
		pollJS(`document.querySelectorAll('.incident-popup .claims li').length === 2`), still(`.incident-popup`))
	b.screenshot(b.ctx, "demo-claims-popup-from-marker")
	for _, sel := range []string{".incident-popup .incident-title", ".incident-popup .props dt"} {
		if !eval[bool](b, b.ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); const r = e.getBoundingClientRect();
			const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); return at === e || e.contains(at); })()`, sel)) {
			t.Errorf("%s is covered after opening the popup from its marker", sel)
		}
	}

	// Exactly the contested incidents have the ring; the legend explains it.
	rings := eval[[]string](b, b.ctx, `[...document.querySelectorAll('#map .incident-marker.is-contested')].map((m) => m.getAttribute('aria-label')).sort()`)
	if len(rings) != 2 || !strings.HasPrefix(rings[0], demo.Title) || !strings.HasPrefix(rings[1], "Contested shelling") {
		t.Errorf("contested markers = %q, want Contested shelling and %s", rings, demo.Title)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .incident-marker:not(.is-contested)').length`); n != 0 {
		t.Errorf("%d markers without the ring, want 0", n)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('.legend .symbol.is-contested').length`); n != 1 {
		t.Errorf("legend contested entries = %d, want 1", n)
	}
	b.do(b.ctx, "open the contested incident", chromedp.Navigate(fmt.Sprintf("%s/#map=10/39.42/47.04&sel=%d", s.URL, contested.ID)),
		pollJS(fmt.Sprintf(`document.querySelectorAll('.incident-popup [data-incident-id="%d"] .claims li').length === 2`, contested.ID)))
	text := eval[string](b, b.ctx, fmt.Sprintf(`document.querySelector('.incident-popup [data-incident-id="%d"] .claims').textContent`, contested.ID))
	if !strings.Contains(text, "Contested: the parties’ accounts conflict.") ||
		!strings.Contains(text, "Ministry of Defence of Azerbaijan denies: no shelling took place") {
		t.Errorf("contested popup claims = %q", text)
	}
	if href := eval[string](b, b.ctx, `document.querySelector('.incident-popup .claim-source a').getAttribute('rel')`); href != "noopener noreferrer" {
		t.Errorf("claim source link rel = %q, want noopener noreferrer", href)
	}
	b.checkProblems()
}

// A moderator adds a claim from the popup: the popup shows it and the
// marker keeps its contested ring after the live update.
func TestModeratorAddsClaim(t *testing.T) {
	s := newSite(t, offlineTiles)
	token := s.moderator(t, "mod")
	demo := seedDemoTruceBreach(t, s)

	b := newBrowser(t, 1280, 800)
	page := fmt.Sprintf("%s/#map=10/39.42/47.04&sel=%d", s.URL, demo.ID)
	b.do(b.ctx, "sign in", chromedp.Navigate(page), waitRendered(0),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`sessionStorage.setItem('incidentmap.moderatorToken', %q)`, token)),
		chromedp.Reload(), waitRendered(0), liveConnected(),
		pollJS(`document.querySelectorAll('.incident-popup .claims li').length === 2`),
		chromedp.WaitVisible(chromedp.CSS(`.incident-popup .claims-edit`)), still(`.incident-popup .claims-edit`))
	b.do(b.ctx, "open the claims editor", chromedp.Click(chromedp.CSS(`.incident-popup .claims-edit`)),
		pollJS(`document.querySelectorAll('.incident-popup .claims-edit-list li').length === 2`))
	b.do(b.ctx, "fill in a denial",
		chromedp.SendKeys(chromedp.CSS(`.incident-popup .claim-form [name=party]`), "Ministry of Defence of Azerbaijan"),
		chromedp.SetValue(chromedp.CSS(`.incident-popup .claim-form [name=stance]`), "denies"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('.incident-popup .claim-form [name=stance]').dispatchEvent(new Event('change'))`),
		chromedp.SendKeys(chromedp.CSS(`.incident-popup .claim-form [name=text]`), "No shelling <b>took</b> place"),
		chromedp.SendKeys(chromedp.CSS(`.incident-popup .claim-form [name=source_name]`), "Test wire"),
		still(`.incident-popup .claim-save`))
	b.do(b.ctx, "add it", chromedp.Click(chromedp.CSS(`.incident-popup .claim-save`)),
		pollJS(`document.querySelectorAll('.incident-popup .claims li').length === 3`))
	b.screenshot(b.ctx, "claim-added")
	text := get(b, b.ctx, "read the claims", chromedp.Text(chromedp.CSS(`.incident-popup .claims`)))
	if !strings.Contains(text, "Ministry of Defence of Azerbaijan denies: No shelling <b>took</b> place") ||
		!strings.Contains(text, "Contested") {
		t.Errorf("popup claims after adding a denial = %q", text)
	}
	// The live update redraws the marker with the contested ring (the
	// popup's growth panned the map: go back to the marker).
	b.do(b.ctx, "wait for the contested ring", chromedp.Navigate(s.URL+"/#map=10/39.42/47.04"), pollJS(`document.querySelectorAll('#map .incident-marker.is-contested').length === 1`))
	b.checkProblems()
}
