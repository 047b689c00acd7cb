package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// TestReportFormValidationAndPlaceSearch uses the form on a phone: a place
// found by name places the point, and the API's validation errors appear
// by the fields they are about.
func TestReportFormValidationAndPlaceSearch(t *testing.T) {
	s := newSite(t, offlineTiles)
	places := true
	if res, err := http.Get(s.URL + "/api/places?q=x"); err != nil || res.StatusCode == http.StatusNotFound {
		places = false
		t.Log("no /api/places on this server: the place search is not tested")
	} else {
		res.Body.Close()
		if _, err := s.DB.LoadPlaces(context.Background(), []geo.Place{
			{ID: 148445, Name: "Jabrayil", AlternateNames: []string{"Cəbrayıl"}, CountryCode: "AZ", Population: 6000, Point: orb.Point{47.0245, 39.3999}},
			{ID: 587084, Name: "Baku", CountryCode: "AZ", Population: 2000000, Point: orb.Point{49.892, 40.377}},
		}); err != nil {
			t.Fatalf("load places: %v", err)
		}
	}

	b := newBrowser(t, 360, 740)
	b.do(b.ctx, "open the map", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile),
		chromedp.Navigate(s.URL+"/#map=8/39.60/47.30"), waitRendered(0),
		chromedp.Click(chromedp.ID("report-open")), chromedp.WaitVisible(chromedp.ID("r-place-q")))
	b.screenshot(b.ctx, "form")
	if eval[bool](b, b.ctx, overflows) {
		t.Error("the page scrolls with the report form open at 360 px")
	}
	unlabelled := eval[[]string](b, b.ctx, `
		[...document.querySelectorAll('#report-sheet input, #report-sheet select, #report-sheet textarea')]
		  .filter(i => i.labels.length === 0 && !i.getAttribute('aria-label'))
		  .map(i => i.id || i.outerHTML)`)
	if len(unlabelled) > 0 {
		t.Errorf("report form controls without a label: %v", unlabelled)
	}
	// The map above the sheet can still be reached.
	if mapVisible := eval[float64](b, b.ctx, `(() => { const m = document.getElementById('map').getBoundingClientRect();
		const s = document.getElementById('report-sheet').getBoundingClientRect(); return s.top - m.top; })()`); mapVisible < 200 {
		t.Errorf("only %.0f px of the map are left above the report form", mapVisible)
	}

	if places {
		// (e) A place by name; results are buttons.
		b.do(b.ctx, "search for a place", chromedp.SendKeys(chromedp.ID("r-place-q"), "jabr"),
			chromedp.WaitVisible(chromedp.CSS(`#r-place-results button`)))
		b.screenshot(b.ctx, "place-results")
		if got := get(b, b.ctx, "read the results", chromedp.Text(chromedp.ID("r-place-results"))); !strings.Contains(got, "Jabrayil") {
			t.Errorf("place results = %q", got)
		}
		b.do(b.ctx, "choose the place", chromedp.Click(chromedp.CSS(`#r-place-results button`)),
			chromedp.WaitReady(chromedp.CSS(`#r-point[data-lat]`)))
		lat := eval[string](b, b.ctx, `document.getElementById('r-point').dataset.lat`)
		lon := eval[string](b, b.ctx, `document.getElementById('r-point').dataset.lon`)
		if lat != "39.399900" || lon != "47.024500" {
			t.Errorf("point = %s, %s, want the place's 39.3999, 47.0245", lat, lon)
		}
		if got := get(b, b.ctx, "read the place name", chromedp.Value(chromedp.ID("r-location-name"))); got != "Jabrayil" {
			t.Errorf("place name = %q, want it taken from the search", got)
		}
		// The point is in the part of the map the sheet leaves visible.
		if !eval[bool](b, b.ctx, `(() => { const p = document.querySelector('.report-pin').getBoundingClientRect();
			const s = document.getElementById('report-sheet').getBoundingClientRect(); return p.bottom <= s.top; })()`) {
			t.Error("the placed point is hidden under the report form")
		}
	} else {
		b.do(b.ctx, "place the point at the centre", chromedp.Click(chromedp.ID("r-centre")),
			chromedp.WaitReady(chromedp.CSS(`#r-point[data-lat]`)))
	}

	// (d) No description, and a link that is not http(s): both are said at
	// once, in words, each by its field, before anything is sent.
	b.do(b.ctx, "send an incomplete report",
		choose("r-type", "Protests"),
		chromedp.SendKeys(chromedp.ID("r-source-0"), "javascript:alert(1)"),
		chromedp.Click(chromedp.ID("r-submit")),
		chromedp.WaitVisible(chromedp.ID("r-description-error")))
	b.screenshot(b.ctx, "validation")
	if got := get(b, b.ctx, "read the error", chromedp.Text(chromedp.ID("r-description-error"))); got != "Describe what happened." {
		t.Errorf("description error = %q, want \"Describe what happened.\"", got)
	}
	if got := eval[string](b, b.ctx, `document.getElementById('r-description').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("description aria-invalid = %q", got)
	}
	if id := eval[string](b, b.ctx, `document.activeElement.id`); id != "r-description" {
		t.Errorf("focus after the errors is on #%s, want the first invalid field", id)
	}
	if got := get(b, b.ctx, "read the link error", chromedp.Text(chromedp.ID("r-source-0-error"))); !strings.Contains(got, "https://") {
		t.Errorf("error by the bad source link = %q, want what a link must start with", got)
	}
	if eval[bool](b, b.ctx, `!document.getElementById('r-type-error').hidden`) {
		t.Error("an error shows by the event type, which was valid")
	}
	if n := len(s.pendingReports(t, s.moderator(t, "mod"))); n != 0 {
		t.Errorf("%d reports stored from an invalid form", n)
	}

	// Fixed, it goes through, but its answer is lost on the way back: the
	// form offers to retry, and the retry, with the same Idempotency-Key,
	// gets the first answer instead of storing the report twice.
	s.reports.setLosing(true)
	b.do(b.ctx, "fix and send",
		chromedp.SendKeys(chromedp.ID("r-description"), "A crowd gathered by the town hall."),
		emptyField("r-source-0"),
		chromedp.Click(chromedp.ID("r-submit")),
		chromedp.WaitVisible(chromedp.ID("r-retry")))
	b.screenshot(b.ctx, "connection-lost")
	if got := get(b, b.ctx, "read the error", chromedp.Text(chromedp.ID("r-form-error"))); !strings.Contains(got, "never stored twice") {
		t.Errorf("error after a lost answer = %q", got)
	}
	s.reports.setLosing(false)
	b.do(b.ctx, "retry", chromedp.Click(chromedp.ID("r-retry")), chromedp.WaitVisible(chromedp.ID("r-done")))
	b.screenshot(b.ctx, "sent")
	keys := s.reports.seenKeys()
	// The lost one (perhaps resent by the browser) and the retry (the
	// invalid form was not sent): one filling of the form, one key.
	if len(keys) < 2 || keys[0] == "" {
		t.Errorf("Idempotency-Keys sent = %q", keys)
	}
	for _, k := range keys {
		if k != keys[0] {
			t.Errorf("Idempotency-Keys sent = %q, want the same key for every attempt", keys)
			break
		}
	}
	stored := s.pendingReports(t, s.moderator(t, "mod2"))
	if len(stored) != 1 {
		t.Fatalf("%d reports stored, want exactly 1 after a retry", len(stored))
	}
	if got := eval[string](b, b.ctx, `document.getElementById('report-sheet').dataset.reportId`); got != fmt.Sprint(stored[0].ID) {
		t.Errorf("confirmed report #%s, but #%d was stored", got, stored[0].ID)
	}
	b.do(b.ctx, "press Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("report-sheet")))
	if id := eval[string](b, b.ctx, `document.activeElement.id`); id != "report-open" {
		t.Errorf("focus after Escape is on #%s, want the report button", id)
	}
}

// TestReportFormSaysWhatIsWrong: an empty report is answered with every
// problem at once, in words; a time in the future is told in the
// reporter's own zone (Baku, UTC+04:00, emulated); a sent report leaves a
// receipt with its number.
func TestReportFormSaysWhatIsWrong(t *testing.T) {
	s := newSite(t, offlineTiles)
	b := newBrowser(t, 1280, 800)
	if _, err := chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Baku"}); err != nil {
		t.Fatalf("emulate Baku's time zone: %v", err)
	}
	b.do(b.ctx, "open the form", chromedp.Navigate(s.URL+"/#map=10/39.40/47.03"), waitRendered(0),
		chromedp.Click(chromedp.ID("report-open")), chromedp.WaitVisible(chromedp.ID("r-submit")))
	b.do(b.ctx, "send it empty", emptyField("r-when"), chromedp.Click(chromedp.ID("r-submit")),
		chromedp.WaitVisible(chromedp.ID("r-description-error")))
	b.screenshot(b.ctx, "empty")
	for id, want := range map[string]string{
		"r-location-error":    "Place the point",
		"r-when-error":        "Enter the date and time it happened.",
		"r-type-error":        "Choose the type of event.",
		"r-description-error": "Describe what happened.",
	} {
		if got := eval[string](b, b.ctx, fmt.Sprintf(`(() => { const e = document.getElementById(%q); return e.hidden ? '(hidden)' : e.textContent; })()`, id)); !strings.HasPrefix(got, want) {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}

	// A time two days ahead, typed in Baku's time: the message quotes it as typed.
	future := eval[string](b, b.ctx, `(() => { const d = new Date(Date.now() + 2 * 86400000);
		const p = (n) => String(n).padStart(2, '0');
		return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T09:30'; })()`)
	b.do(b.ctx, "fill it in, in the future",
		chromedp.Click(chromedp.ID("r-centre")),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById('r-when').value = %q`, future)),
		choose("r-type", "Protests"),
		chromedp.SendKeys(chromedp.ID("r-description"), "ok"),
		chromedp.Click(chromedp.ID("r-submit")),
		chromedp.WaitVisible(chromedp.ID("r-when-error")))
	when := get(b, b.ctx, "read the time error", chromedp.Text(chromedp.ID("r-when-error")))
	if !strings.Contains(when, "09:30 (UTC+04:00) is in the future") {
		t.Errorf("time error = %q, want the time as typed, in UTC+04:00", when)
	}
	if got := get(b, b.ctx, "read the description error", chromedp.Text(chromedp.ID("r-description-error"))); !strings.Contains(got, "at least 10 characters") {
		t.Errorf("a two-letter description: %q", got)
	}

	b.do(b.ctx, "fix and send",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('r-when').value = '2020-10-18T08:30'`),
		chromedp.SendKeys(chromedp.ID("r-description"), " — a crowd by the town hall."),
		chromedp.Click(chromedp.ID("r-submit")), chromedp.WaitVisible(chromedp.ID("r-receipt")))
	b.screenshot(b.ctx, "receipt")
	receipt := get(b, b.ctx, "read the receipt", chromedp.Text(chromedp.ID("r-receipt")))
	id := eval[string](b, b.ctx, `document.getElementById('report-sheet').dataset.reportId`)
	for _, want := range []string{"#" + id, "pending review", "18 Oct 2020, 08:30 (UTC+04:00)", "Protests"} {
		if !strings.Contains(receipt, want) {
			t.Errorf("receipt %q lacks %q", receipt, want)
		}
	}
}
