package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
)

// The API documentation renders the server's OpenAPI document with Swagger
// UI, offline, under its CSP: the incidents' items operation is listed and,
// opened, shows its bbox parameter; "Try it out" with a bbox fetches the
// incident inside it. Any console error, exception or CSP violation fails
// the test (the browser's checkProblems).
func TestAPIDocsRenderOperations(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, func(i *geo.Incident) { i.Title = "Shelling inside the box" })
	s.seed(t, 10, 10, func(i *geo.Incident) { i.Title = "Far outside the box" })
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
	// bbox is an array of numbers: one input per item.
	bbox := op + ` tr[data-param-name="bbox"]`
	steps := []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(op + ` .try-out__btn`))}
	for i, v := range []string{"46", "38", "48", "40"} {
		item := fmt.Sprintf(`%s .json-schema-form-item:nth-child(%d) input`, bbox, i+1)
		steps = append(steps, chromedp.Click(chromedp.CSS(bbox+` .json-schema-form-item-add`)),
			chromedp.WaitVisible(chromedp.CSS(item)), chromedp.SendKeys(chromedp.CSS(item), v))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(op+` .execute`)),
		chromedp.WaitVisible(chromedp.CSS(op+` .live-responses-table tbody .response-col_status`)))
	b.do(b.ctx, "try the operation with a bbox", steps...)
	status := eval[string](b, b.ctx, `document.querySelector('`+op+` .live-responses-table tbody .response-col_status').textContent.trim()`)
	if status != "200" {
		t.Errorf("Try it out answered %q, want 200", status)
	}
	body := eval[string](b, b.ctx, `document.querySelector('`+op+` .live-responses-table tbody .response-col_description').textContent`)
	if !strings.Contains(body, "Shelling inside the box") || strings.Contains(body, "Far outside the box") {
		t.Errorf("Try it out with bbox=46,38,48,40 shows %.300q, want the incident inside the box only", body)
	}
}
