package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
)

// A reported incident is on the map by default (a retracted one is not);
// its popup lists each source as "Publisher — title (kind, published
// date)" with safe links (http(s) only, new tab, no opener or referrer),
// the archived copy, and how many independent publishers support it. A
// javascript: URL (stored before validation existed) is never a link.
func TestPopupListsSourcesAsEvidence(t *testing.T) {
	s := newSite(t, offlineTiles)
	hash := strings.Repeat("9f", 32)
	s.seed(t, 47.03, 39.40, func(inc *geo.Incident) {
		inc.Title = "Rockets struck two border villages"
		inc.Status = geo.StatusReported
		inc.Sources = []geo.Source{
			{URL: "https://www.reuters.com/a", Publisher: "Reuters", Title: "Truce breached", PublishedAt: "2020-10-18T06:00:00+04:00",
				Kind: geo.SourceMedia, ArchiveURL: "https://web.archive.org/web/2020/https://www.reuters.com/a", SHA256: hash},
			{URL: "https://www.reuters.com/b", Publisher: " REUTERS ", Kind: geo.SourceMedia},
			{Publisher: "Armenian Ministry of Defence", PublishedAt: "2020-10-18", Kind: geo.SourceOfficialStatement},
			{URL: "javascript:alert(1)", Publisher: "Evil", ArchiveURL: "javascript:alert(2)"},
		}
	})
	s.seed(t, 47.05, 39.42, func(inc *geo.Incident) { inc.Title, inc.Status = "Withdrawn", geo.StatusRetracted })

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=12/39.40/47.03"), waitRendered(0), openPanel())
	if n := b.markersShown(b.ctx); n != 1 {
		t.Errorf("markers shown = %d, want 1 (reported shown, retracted hidden)", n)
	}
	if on := eval[bool](b, b.ctx, `document.getElementById('f-status-reported').checked && !document.getElementById('f-status-retracted').checked`); !on {
		t.Errorf("status boxes: want reported ticked and retracted not, by default")
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('.legend .status-reported').length`); n != 1 {
		t.Errorf("legend symbols for reported = %d, want 1", n)
	}
	b.do(b.ctx, "click the marker",
		chromedp.Click(chromedp.CSS(`#map .incident-marker.status-reported`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .sources`)),
		still(`.leaflet-popup .sources`),
		chromedp.Sleep(200*time.Millisecond)) // time for an injected handler to fire
	b.screenshot(b.ctx, "sources")

	if got := get(b, b.ctx, "read the count", chromedp.Text(chromedp.CSS(`.leaflet-popup .independent-sources`))); got != "3 independent sources" {
		t.Errorf("count = %q, want \"3 independent sources\" (Reuters twice, the ministry, Evil)", got)
	}
	if got := get(b, b.ctx, "read the status line", chromedp.Text(chromedp.CSS(`.leaflet-popup .status-badge.status-reported`))); got != "reported" {
		t.Errorf("status badge = %q, want reported", got)
	}
	if got := eval[string](b, b.ctx, `document.querySelector('.leaflet-popup .independent-sources').parentElement.textContent`); got != "reported · 3 independent sources" {
		t.Errorf("status line = %q, want \"reported · 3 independent sources\"", got)
	}
	items := eval[[]string](b, b.ctx, `[...document.querySelectorAll('.leaflet-popup .sources li')].map(li => li.textContent)`)
	want := []string{
		"Reuters — Truce breached (media, 2020-10-18) · archived copy",
		"REUTERS (media)",
		"Armenian Ministry of Defence (official statement, 2020-10-18)",
		"Evil",
	}
	if strings.Join(items, "\n") != strings.Join(want, "\n") {
		t.Errorf("sources listed:\n%s\nwant:\n%s", strings.Join(items, "\n"), strings.Join(want, "\n"))
	}
	links := eval[[]map[string]string](b, b.ctx, `[...document.querySelectorAll('.leaflet-popup .sources a')].map(a =>
		({href: a.getAttribute('href'), rel: a.rel, target: a.target, text: a.textContent, title: a.title}))`)
	wantLinks := [][2]string{
		{"https://www.reuters.com/a", "Reuters — Truce breached"},
		{"https://web.archive.org/web/2020/https://www.reuters.com/a", "archived copy"},
		{"https://www.reuters.com/b", "REUTERS"},
	}
	if len(links) != len(wantLinks) {
		t.Fatalf("links = %v, want %d (no javascript: link)", links, len(wantLinks))
	}
	for i, l := range links {
		if l["href"] != wantLinks[i][0] || l["text"] != wantLinks[i][1] || l["rel"] != "noopener noreferrer" || l["target"] != "_blank" {
			t.Errorf("link %d = %v, want href %s, text %q, rel noopener noreferrer, target _blank", i, l, wantLinks[i][0], wantLinks[i][1])
		}
	}
	if links[1]["title"] != "SHA-256 "+hash {
		t.Errorf("archived copy's title = %q, want its SHA-256", links[1]["title"])
	}
	if n := eval[int](b, b.ctx, `[...document.querySelectorAll('.leaflet-popup a')].filter(a => !/^https?:/.test(a.href)).length`); n != 0 {
		t.Errorf("%d popup links are not http(s)", n)
	}
	if d := b.dialogsSeen(); len(d) > 0 {
		t.Errorf("JavaScript dialogs opened: %v", d)
	}
}
