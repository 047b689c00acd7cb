package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/photo/phototest"
)

// TestReportModerateAndLiveUpdates follows a report from the public form
// through moderation in another browser to the first browser's map, which
// shows it and then drops it again without a reload.
func TestReportModerateAndLiveUpdates(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.27, 39.40, func(inc *geo.Incident) { inc.Title = "Already on the map" })
	token := s.moderator(t, "mod")
	// A phone photo whose EXIF puts it about 18 km north-east of the point.
	photoPath := filepath.Join(t.TempDir(), "checkpoint.jpg")
	jpg := phototest.JPEGWithEXIF(64, 48, phototest.EXIF{Lat: 39.52, Lon: 47.16, HasGPS: true,
		TakenAt: "2024:03:05 14:07:09", Offset: "+04:00"})
	if err := os.WriteFile(photoPath, jpg, 0o644); err != nil {
		t.Fatal(err)
	}

	public := newBrowser(t, 1280, 800)
	pub := public.ctx
	public.do(pub, "open the map", chromedp.Navigate(s.URL+"/#map=10/39.40/47.03"), waitRendered(0), liveConnected(),
		chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`))
	if got := public.shownCount(pub); got != 1 {
		t.Fatalf("count = %d, want the 1 seeded incident", got)
	}

	// (a) The report form: the point by a click on the map, then the fields.
	public.do(pub, "open the report form", chromedp.Click(chromedp.ID("report-open")), chromedp.WaitVisible(chromedp.ID("r-description")))
	if id := eval[string](public, pub, `document.activeElement.id`); id != "report-heading" {
		t.Errorf("focus after opening the form is on #%s, want the form's heading", id)
	}
	public.clickMapAt(pub, -20, 10)
	public.do(pub, "the point is placed", chromedp.WaitReady(chromedp.CSS(`#r-point[data-lon]`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-marker-icon.report-pin`)))
	public.do(pub, "fill in the report",
		choose("r-type", "Battles"),
		choose("r-sub", "Armed clash"),
		chromedp.SendKeys(chromedp.ID("r-description"), "Heavy exchange of fire at the northern checkpoint."),
		chromedp.SendKeys(chromedp.ID("r-location-name"), "Jabrayil"),
		chromedp.SendKeys(chromedp.ID("r-source-0"), "https://example.org/news/checkpoint"),
		chromedp.SendKeys(chromedp.ID("r-contact"), "reporter@example.org"),
		chromedp.SetUploadFiles(chromedp.ID("r-photos"), []string{photoPath}),
		chromedp.WaitVisible(chromedp.CSS(`#r-photo-list li`)))
	public.screenshot(pub, "report-filled")
	public.do(pub, "send the report", chromedp.Click(chromedp.ID("r-submit")), chromedp.WaitVisible(chromedp.ID("r-done")))
	public.screenshot(pub, "report-sent")
	reportID := eval[string](public, pub, `document.getElementById('report-sheet').dataset.reportId`)
	msg := get(public, pub, "read the confirmation", chromedp.Text(chromedp.ID("r-done-message")))
	if want := "Your report #" + reportID + " is pending review; it is not public until a moderator verifies it."; msg != want {
		t.Errorf("confirmation = %q, want %q", msg, want)
	}
	if hint := get(public, pub, "read the photo hint", chromedp.Text(chromedp.ID("r-photo-hint"))); !strings.Contains(hint, "km from the point you placed") ||
		!strings.Contains(hint, "Use the photo’s location and time") {
		t.Errorf("photo hint = %q, want the distance and the offer to use the photo's location and time", hint)
	}
	if got := public.shownCount(pub); got != 1 {
		t.Errorf("count after reporting = %d: a pending report must not be on the map", got)
	}
	queue := s.pendingReports(t, token)
	if len(queue) != 1 || fmt.Sprint(queue[0].ID) != reportID {
		t.Fatalf("pending queue = %+v, want report %s", queue, reportID)
	}
	var full pendingReport // the list leaves out photos; one report has them
	s.call(t, http.MethodGet, "/api/reports/"+reportID, token, nil, http.StatusOK, &full)
	r := full.Properties
	if r.Contact != "reporter@example.org" || r.EventType != "Battles" || len(r.Photos) != 1 ||
		len(r.SourceURLs) != 1 || r.PhotoHint == nil || r.PhotoHint.PointAgrees == nil || *r.PhotoHint.PointAgrees {
		t.Errorf("stored report = %+v", r)
	}

	// (b) A moderator, in a browser of their own, verifies it.
	mod := newBrowser(t, 1280, 800)
	mc := mod.ctx
	mod.do(mc, "open moderation", chromedp.Navigate(s.URL+"/#map=10/39.40/47.03&moderate"), waitRendered(0),
		chromedp.WaitVisible(chromedp.ID("m-token")))
	mod.do(mc, "sign in", chromedp.SendKeys(chromedp.ID("m-token"), token), chromedp.Click(chromedp.CSS(`#m-sign-in button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-report-id="`+reportID+`"]`)))
	if stored := eval[string](mod, mc, `sessionStorage.getItem('incidentmap.moderatorToken') || ''`); stored != token {
		t.Error("the token is not kept in sessionStorage")
	}
	if n := eval[int](mod, mc, `localStorage.length`); n != 0 {
		t.Errorf("localStorage holds %d items: the token must stay in the tab", n)
	}
	mod.screenshot(mc, "queue")
	mod.do(mc, "review the report", chromedp.Click(chromedp.CSS(`[data-report-id="`+reportID+`"] button`)),
		chromedp.WaitVisible(chromedp.ID("m-title")),
		chromedp.Poll[chromedp.Void](`(() => { const i = document.querySelector('.report-photo');
			return !!i && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0; })()`))
	if got := get(mod, mc, "read the contact", chromedp.Text(chromedp.CSS(`.report-contact`))); got != "reporter@example.org" {
		t.Errorf("contact shown = %q", got)
	}
	if got := get(mod, mc, "read the distance", chromedp.Text(chromedp.ID("m-photo-distance"))); !strings.HasSuffix(got, "km from the reported point") {
		t.Errorf("photo distance = %q", got)
	}
	// Move the point by dragging its marker on the map.
	pin := eval[[]float64](mod, mc, `(() => { const r = document.querySelector('.leaflet-marker-icon.review-pin').getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	mod.do(mc, "drag the point", chromedp.DragAndDropXY(pin[0], pin[1], pin[0]+30, pin[1]+20, 10),
		chromedp.Poll[chromedp.Void](`document.getElementById('m-point').textContent.includes('moved')`))
	mod.screenshot(mc, "review")
	const title = "Clash at the northern checkpoint"
	mod.do(mc, "verify",
		emptyField("m-title"), chromedp.SendKeys(chromedp.ID("m-title"), title),
		chromedp.Click(chromedp.ID("m-verify")), chromedp.WaitVisible(chromedp.ID("m-done")))
	mod.screenshot(mc, "verified")
	done := get(mod, mc, "read the result", chromedp.Text(chromedp.ID("m-done")))
	m := regexp.MustCompile(`verified: it is now incident #(\d+)`).FindStringSubmatch(done)
	if m == nil {
		t.Fatalf("result = %q", done)
	}
	incidentID := m[1]
	if eval[bool](mod, mc, `!!document.querySelector('[data-report-id="`+reportID+`"]')`) {
		t.Error("the verified report is still in the queue")
	}

	// ...and the first browser's map shows it without a reload.
	public.do(pub, "wait for the new incident", countIs(2),
		chromedp.Poll[chromedp.Void](`document.querySelector('.live-notice').textContent === '1 new incident in view'`))
	if !eval[bool](public, pub, `window.sameDocument === true`) {
		t.Error("the page reloaded")
	}
	public.do(pub, "open the new incident",
		chromedp.Click(chromedp.CSS(`#map .incident-marker[aria-label^="`+title+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)))
	public.screenshot(pub, "live-added")
	if got := get(public, pub, "read the popup", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != title {
		t.Errorf("popup title = %q, want %q", got, title)
	}
	if eval[bool](public, pub, `!!document.querySelector('.leaflet-popup .popup-history')`) {
		t.Error("the public popup offers the moderators' history")
	}

	// The moderator's popup links to the incident's audit history.
	mod.do(mc, "show the incident", chromedp.Click(chromedp.CSS(`#m-done button`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .popup-history`)), still(`.leaflet-popup .popup-history`),
		chromedp.Click(chromedp.CSS(`.leaflet-popup .popup-history`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-audit li`)))
	mod.screenshot(mc, "history")
	if got := get(mod, mc, "read the history", chromedp.Text(chromedp.ID("m-audit"))); !strings.Contains(got, "mod · incident.create") ||
		!strings.Contains(got, "from report "+reportID) {
		t.Errorf("history = %q", got)
	}

	// (c) Retracted through the API: it leaves the first browser's map.
	s.call(t, http.MethodPatch, "/api/incidents/"+incidentID, token, map[string]string{"status": "retracted"}, http.StatusOK, nil)
	public.do(pub, "wait for the retraction", countIs(1),
		chromedp.Poll[chromedp.Void](`!document.querySelector('#map .incident-marker[aria-label^="`+title+`"]')`),
		chromedp.Poll[chromedp.Void](`document.querySelector('.leaflet-popup .status-badge')?.textContent === 'retracted'`))
	public.screenshot(pub, "live-retracted")

	// A dropped stream: the page says it is reconnecting, reconnects by
	// itself and resumes after the last event it saw, so an incident
	// published meanwhile still arrives.
	if n := s.streams.drop(); n < 2 {
		t.Errorf("%d live streams open, want one per browser", n)
	}
	public.do(pub, "wait for the drop to show", chromedp.Poll[chromedp.Void](`document.getElementById('map').dataset.live === 'reconnecting'`,
		chromedp.WithPollingInterval(20*time.Millisecond)))
	if got := get(public, pub, "read the live state", chromedp.Text(chromedp.CSS(`.live-state`))); got != "Live updates: reconnecting…" {
		t.Errorf("live state = %q", got)
	}
	public.screenshot(pub, "reconnecting")
	s.seed(t, 47.05, 39.38, func(inc *geo.Incident) { inc.Title = "Published while the stream was down" })
	public.do(pub, "wait for the stream and the incident", liveConnected(), countIs(2),
		chromedp.WaitReady(chromedp.CSS(`#map .incident-marker[aria-label^="Published while the stream was down"]`)))
	if got := get(public, pub, "read the live state", chromedp.Text(chromedp.CSS(`.live-state`))); got != "" {
		t.Errorf("live state after reconnecting = %q, want it gone", got)
	}
	if !eval[bool](public, pub, `window.sameDocument === true`) {
		t.Error("the page reloaded")
	}

	// The reporter takes up the photo's suggestion: the form comes back as a
	// correction, with the photo's location and time.
	public.do(pub, "use the photo's location", chromedp.Click(chromedp.ID("r-use-photo")),
		chromedp.WaitVisible(chromedp.ID("r-correction")))
	public.screenshot(pub, "correction")
	if lat, lon := eval[string](public, pub, `document.getElementById('r-point').dataset.lat`),
		eval[string](public, pub, `document.getElementById('r-point').dataset.lon`); lat != "39.520000" || lon != "47.160000" {
		t.Errorf("corrected point = %s, %s, want the photo's 39.52, 47.16", lat, lon)
	}
	if when := get(public, pub, "read the time", chromedp.Value(chromedp.ID("r-when"))); !strings.HasPrefix(when, "2024-03-05T") {
		t.Errorf("corrected time = %q, want the photo's (5 Mar 2024)", when)
	}
	if desc := get(public, pub, "read the description", chromedp.Value(chromedp.ID("r-description"))); desc != "Correction of report #"+reportID+": Heavy exchange of fire at the northern checkpoint." {
		t.Errorf("corrected description = %q", desc)
	}
}
