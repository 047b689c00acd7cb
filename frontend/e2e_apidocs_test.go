package frontend_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The API documentation renders the server's OpenAPI document with Swagger
// UI, offline, under its CSP: the incidents' items operation is listed and,
// opened, shows its bbox parameter. Any console error, exception or CSP
// violation fails the test (the browser's checkProblems).
func TestAPIDocsRenderOperations(t *testing.T) {
	s := newSite(t, offlineTiles)
	b := newBrowser(t, 1200, 900)
	op := `#operations-default-getFeatures_incidents`
	b.do(b.ctx, "open the API docs", chromedp.Navigate(s.URL+"/api/docs"),
		chromedp.WaitVisible(chromedp.CSS(op)))
	title := eval[string](b, b.ctx, `document.querySelector('.info .title') ? document.querySelector('.info .title').textContent : ''`)
	if !strings.Contains(title, "incidentmap") {
		t.Errorf("the docs' title = %q, want the document's title (incidentmap...)", title)
	}
	path := eval[string](b, b.ctx, `document.querySelector('`+op+` .opblock-summary-path').textContent`)
	if path != "/collections/incidents/items" && path != "/api/collections/incidents/items" {
		t.Errorf("the incidents items operation shows path %q, want /collections/incidents/items", path)
	}
	b.do(b.ctx, "open the incidents items operation",
		chromedp.Click(chromedp.CSS(op+` .opblock-summary-control`)),
		chromedp.WaitVisible(chromedp.CSS(op+` tr[data-param-name="bbox"]`)))
	desc := eval[string](b, b.ctx, `document.querySelector('`+op+` tr[data-param-name="bbox"]').textContent`)
	if !strings.Contains(desc, "bbox") || !strings.Contains(desc, "query") {
		t.Errorf("the bbox parameter row reads %q, want its name and location (query)", desc)
	}
	n := eval[int](b, b.ctx, `document.querySelectorAll('.opblock').length`)
	if n < 10 {
		t.Errorf("the docs list %d operations, want every path of the document (more than 10)", n)
	}
}
