package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestReceiptChecksStatus: the receipt of a report carries a link to its
// public status; "Check status" says pending, then published once a
// moderator has verified the report; the link itself answers the same
// to anyone who holds it (a fresh tab), and nothing without its token.
func TestReceiptChecksStatus(t *testing.T) {
	s := newSite(t, offlineTiles)
	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the form", chromedp.Navigate(s.URL+"/#map=10/39.40/47.03"), waitRendered(0),
		chromedp.Click(chromedp.ID("report-open")), chromedp.WaitVisible(chromedp.ID("r-submit")))
	b.do(b.ctx, "fill in and send",
		chromedp.Click(chromedp.ID("r-centre")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('r-when').value = '2020-10-18T08:30'`),
		choose("r-type", "Protests"),
		chromedp.SendKeys(chromedp.ID("r-description"), "A crowd by the town hall, about two hundred people."),
		chromedp.Click(chromedp.ID("r-submit")), chromedp.WaitVisible(chromedp.ID("r-check-status")))
	id := eval[string](b, b.ctx, `document.getElementById('report-sheet').dataset.reportId`)
	link := eval[string](b, b.ctx, `document.getElementById('r-status-link').href`)
	if !strings.HasPrefix(link, fmt.Sprintf("%s/api/reports/%s/status?token=", s.URL, id)) {
		t.Fatalf("status link = %q, want %s/api/reports/%s/status?token=…", link, s.URL, id)
	}
	if receipt := get(b, b.ctx, "read the receipt", chromedp.Text(chromedp.ID("r-receipt"))); !strings.Contains(receipt, link) {
		t.Errorf("receipt %q does not hold the status link (it is what the reporter keeps)", receipt)
	}

	b.do(b.ctx, "check the status", chromedp.Click(chromedp.ID("r-check-status")), chromedp.Poll[chromedp.Void](`document.getElementById('r-receipt-status').textContent.includes('Status:')`))
	if got := get(b, b.ctx, "read the status", chromedp.Text(chromedp.ID("r-receipt-status"))); !strings.Contains(got, "pending review") {
		t.Errorf("status = %q, want pending review", got)
	}

	mod := s.moderator(t, "mod")
	s.call(t, http.MethodPost, "/api/reports/"+id+"/verify", mod, map[string]any{"title": "Protest by the town hall"}, http.StatusOK, nil)
	b.do(b.ctx, "check again", chromedp.Click(chromedp.ID("r-check-status")),
		chromedp.Poll[chromedp.Void](`document.getElementById('r-receipt-status').textContent.includes('published')`))
	b.screenshot(b.ctx, "published")
	if got := get(b, b.ctx, "read the status", chromedp.Text(chromedp.ID("r-receipt-status"))); !strings.Contains(got, "Status: published") {
		t.Errorf("status after verifying = %q, want published", got)
	}

	// The link as kept, opened elsewhere: the public status, and only it.
	tab := b.openTab(b.ctx)
	b.do(tab, "open the link", chromedp.Navigate(link))
	if body := get(b, tab, "read the answer", chromedp.Text(chromedp.CSS("body"))); strings.TrimSpace(body) != fmt.Sprintf(`{"id":%s,"status":"published"}`, id) {
		t.Errorf("the status link answers %q, want only the id and published", body)
	}
	res, err := http.Get(link[:strings.Index(link, "?")])
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("the link without its token: status %d, want 400", res.StatusCode)
	}
	b.checkProblems()
}
