package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
)

// TestModerationSignInMergeAndReject covers the rest of the moderation
// view: a refused token, merging into a nearby incident, rejecting with a
// reason, and a token revoked while signed in.
func TestModerationSignInMergeAndReject(t *testing.T) {
	s := newSite(t, offlineTiles)
	token := s.moderator(t, "mod")
	at := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	existing := s.seed(t, 47.04, 39.41, func(inc *geo.Incident) {
		inc.Title, inc.OccurredAt = "Shelling of the bridge", at.Add(-2*time.Hour)
	})
	s.seed(t, 47.5, 39.41, func(inc *geo.Incident) { inc.Title, inc.OccurredAt = "Too far to merge", at })
	report := func(desc string) int64 {
		var out struct{ ID int64 }
		s.call(t, http.MethodPost, "/api/reports", "", map[string]any{
			"type":     "Feature",
			"geometry": map[string]any{"type": "Point", "coordinates": []float64{47.03, 39.40}},
			"properties": map[string]any{"occurred_at": at.Format(time.RFC3339), "event_type": "Explosions/Remote violence",
				"description": desc, "contact": "+994 00 000 00 00"},
		}, http.StatusCreated, &out)
		return out.ID
	}
	dup, spam := report("The bridge was shelled again."), report("Buy cheap watches")

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open moderation", chromedp.Navigate(s.URL+"/#moderate&map=11/39.40/47.03"), waitRendered(0),
		chromedp.WaitVisible(chromedp.ID("m-token")))
	b.do(b.ctx, "sign in with a wrong token", chromedp.SendKeys(chromedp.ID("m-token"), "not-a-token"),
		chromedp.Click(chromedp.CSS(`#m-sign-in button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("m-token-error")))
	if got := get(b, b.ctx, "read the error", chromedp.Text(chromedp.ID("m-token-error"))); !strings.Contains(got, "not accepted") {
		t.Errorf("sign-in error = %q", got)
	}
	if eval[bool](b, b.ctx, `sessionStorage.getItem('incidentmap.moderatorToken') !== null`) {
		t.Error("a refused token was stored")
	}
	b.do(b.ctx, "sign in", emptyField("m-token"), chromedp.SendKeys(chromedp.ID("m-token"), token),
		chromedp.Click(chromedp.CSS(`#m-sign-in button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"]`, spam))))

	// Merge: the review lists what lies within 5 km and a day; Merge asks
	// first and takes a note for the audit log.
	candidate := fmt.Sprintf(`#m-corroboration .corroboration-item[data-kind="incident"][data-id="%d"]`, existing.ID)
	b.do(b.ctx, "review the duplicate", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"] button`, dup))),
		chromedp.WaitVisible(chromedp.ID("m-title")), chromedp.WaitVisible(chromedp.CSS(candidate)))
	b.screenshot(b.ctx, "merge-candidates")
	if n := eval[float64](b, b.ctx, `document.querySelectorAll('#m-merge-form, #m-merge').length`); n != 0 {
		t.Errorf("the review still has the older merge form (%v elements): one way to merge, in the candidates list", n)
	}
	b.do(b.ctx, "merge", chromedp.Click(chromedp.CSS(candidate+" button")),
		chromedp.WaitVisible(chromedp.CSS(candidate+" .corroboration-note")),
		chromedp.SendKeys(chromedp.CSS(candidate+" .corroboration-note"), "same bridge, same hour"),
		chromedp.Click(chromedp.CSS(candidate+" .corroboration-confirm")),
		chromedp.WaitVisible(chromedp.ID("m-done")))
	if got := get(b, b.ctx, "read the result", chromedp.Text(chromedp.ID("m-done"))); !strings.Contains(got, fmt.Sprintf("merged into incident #%d", existing.ID)) {
		t.Errorf("merge result = %q", got)
	}
	var note string
	if err := s.DB.SQL().QueryRow(`SELECT note FROM audit_log WHERE target_type = 'report' AND target_id = $1 AND action = 'report.merge'`, dup).Scan(&note); err != nil || note != "same bridge, same hour" {
		t.Errorf("audit note of the merge = %q (%v), want the moderator's note", note, err)
	}
	var merged struct {
		Properties struct{ Sources []geo.Source } `json:"properties"`
	}
	s.call(t, http.MethodGet, fmt.Sprintf("/api/collections/incidents/items/%d", existing.ID), "", nil, http.StatusOK, &merged)
	if n := len(merged.Properties.Sources); n != 2 {
		t.Errorf("the incident has %d sources after the merge, want 2", n)
	}

	// Reject, with a reason the API requires.
	b.do(b.ctx, "review the spam", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"] button`, spam))),
		chromedp.WaitVisible(chromedp.ID("m-title")),
		chromedp.Click(chromedp.CSS(`details:has(#m-reject-form) > summary`)),
		chromedp.Click(chromedp.ID("m-reject")), chromedp.WaitVisible(chromedp.ID("m-reason-error")))
	b.do(b.ctx, "reject", chromedp.SendKeys(chromedp.ID("m-reason"), "Advertising"), chromedp.Click(chromedp.ID("m-reject")),
		chromedp.WaitVisible(chromedp.ID("m-done")))
	b.screenshot(b.ctx, "rejected")
	if got := get(b, b.ctx, "read the queue", chromedp.Text(chromedp.ID("m-queue-count"))); got != "No report is waiting for review." {
		t.Errorf("queue = %q, want it empty", got)
	}

	// A revoked token sends the moderator back to sign in, with a reason.
	if err := s.DB.RevokeUser(context.Background(), "mod", nil); err != nil {
		t.Fatal(err)
	}
	b.do(b.ctx, "refresh the queue", chromedp.Click(chromedp.CSS(`#moderation-sheet .moderation-body .actions button`)),
		chromedp.WaitVisible(chromedp.ID("m-token")))
	b.screenshot(b.ctx, "signed-out")
	if got := get(b, b.ctx, "read the notice", chromedp.Text(chromedp.CSS(`#m-sign-in .notice`))); !strings.Contains(got, "sign in again") &&
		!strings.Contains(got, "Sign in again") {
		t.Errorf("notice after revocation = %q", got)
	}
	if eval[bool](b, b.ctx, `sessionStorage.getItem('incidentmap.moderatorToken') !== null`) {
		t.Error("the refused token is still stored")
	}
}

// TestReviewOfAPhotoLessReport reviews a report with no photos and no
// place name: the review shows no stray "null", and the public title does
// not start as the bare event type, nor can it be published as one.
func TestReviewOfAPhotoLessReport(t *testing.T) {
	s := newSite(t, offlineTiles)
	token := s.moderator(t, "mod")
	at := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	var out struct{ ID int64 }
	s.call(t, http.MethodPost, "/api/reports", "", map[string]any{
		"type":     "Feature",
		"geometry": map[string]any{"type": "Point", "coordinates": []float64{47.03, 39.40}},
		"properties": map[string]any{"occurred_at": at.Format(time.RFC3339), "event_type": "Battles",
			"description": "Gunfire heard from the hills for an hour."},
	}, http.StatusCreated, &out)

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open moderation", chromedp.Navigate(s.URL+"/#moderate&map=11/39.40/47.03"), waitRendered(0),
		chromedp.WaitVisible(chromedp.ID("m-token")))
	b.do(b.ctx, "sign in", chromedp.SendKeys(chromedp.ID("m-token"), token),
		chromedp.Click(chromedp.CSS(`#m-sign-in button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"]`, out.ID))))
	b.do(b.ctx, "review the report", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"] button`, out.ID))),
		chromedp.WaitVisible(chromedp.ID("m-title")))
	b.screenshot(b.ctx, "review")
	// Text nodes of the review, outside the form controls' values.
	nulls := eval[[]string](b, b.ctx, `(() => {
		const main = document.getElementById('m-review-heading').parentElement;
		const walk = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
		const out = [];
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			if (/\b(null|undefined)\b/.test(n.data)) out.push((n.parentElement?.tagName || '') + ': ' + n.data);
		}
		return out;
	})()`)
	if len(nulls) > 0 {
		t.Errorf("the review shows %q", nulls)
	}
	if title := get(b, b.ctx, "read the title", chromedp.Value(chromedp.ID("m-title"))); strings.EqualFold(title, "Battles") {
		t.Errorf("the title starts as %q, the bare event type", title)
	}

	// Publishing with the bare type as title is refused, by the field.
	b.do(b.ctx, "verify with the bare type", emptyField("m-title"), chromedp.SendKeys(chromedp.ID("m-title"), "Battles"),
		chromedp.Click(chromedp.ID("m-verify")), chromedp.WaitVisible(chromedp.ID("m-title-error")))
	if got := get(b, b.ctx, "read the error", chromedp.Text(chromedp.ID("m-title-error"))); !strings.Contains(got, "what happened and where") {
		t.Errorf("title error = %q", got)
	}
	if got := eval[string](b, b.ctx, `document.activeElement.id`); got != "m-title" {
		t.Errorf("focus after the refusal is on #%s, want the title", got)
	}
	if n := len(s.pendingReports(t, token)); n != 1 {
		t.Errorf("%d reports pending after the refusal, want 1", n)
	}
	const title = "Gunfire in the hills north of Jabrayil"
	b.do(b.ctx, "verify with a title", emptyField("m-title"), chromedp.SendKeys(chromedp.ID("m-title"), title),
		chromedp.Click(chromedp.ID("m-verify")), chromedp.WaitVisible(chromedp.ID("m-done")))
	var inc struct {
		Features []struct {
			Properties struct{ Title string } `json:"properties"`
		} `json:"features"`
	}
	s.call(t, http.MethodGet, "/api/collections/incidents/items?limit=10", "", nil, http.StatusOK, &inc)
	if len(inc.Features) != 1 || inc.Features[0].Properties.Title != title {
		t.Errorf("published incidents = %+v, want one titled %q", inc.Features, title)
	}
}
