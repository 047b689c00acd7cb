package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// Browsers get HTML pages of every OGC resource, with hostile text escaped;
// API clients keep getting JSON.
func TestHTMLViews(t *testing.T) {
	ts := newTestServer(t)
	hostile := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	inc := seedIncident(t, ts, 47.03, 39.40, func(i *geo.Incident) { i.Title = hostile; i.Notes = "a & b" })
	browser := "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, path := range []string{"/api", "/api/conformance", "/api/collections", "/api/collections/incidents",
		"/api/collections/incidents/items", "/api/collections/incidents/items/" + strconv.FormatInt(inc.ID, 10)} {
		for _, tt := range []struct {
			name   string
			target string
			header []string
		}{{"Accept", path, []string{browser}}, {"f=html", path + "?f=html", nil}} {
			res := do(t, http.MethodGet, ts.URL+tt.target, "", "", tt.header...)
			if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
				t.Errorf("%s (%s) = %d %s, want 200 HTML", path, tt.name, res.status, res.header.Get("Content-Type"))
				continue
			}
			body := string(res.body)
			if strings.Contains(body, "<script>") || strings.Contains(body, "<img src=x") {
				t.Errorf("%s: hostile title rendered as markup", path)
			}
			if !strings.Contains(res.header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("%s: CSP %q", path, res.header.Get("Content-Security-Policy"))
			}
		}
		// API clients: JSON as before.
		res := do(t, http.MethodGet, ts.URL+path, "", "", "Accept: application/geo+json, application/json")
		if ct := res.header.Get("Content-Type"); res.status != http.StatusOK || strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s for a JSON client = %d %s", path, res.status, ct)
		}
	}
	items := string(do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?f=html", "", "").body)
	if !strings.Contains(items, "&lt;script&gt;") || !strings.Contains(items, "a &amp; b") {
		t.Errorf("items page does not show the escaped title and notes:\n%.2000s", items)
	}
	if res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?f=html&limit=5000", "", ""); res.status != http.StatusBadRequest {
		t.Errorf("HTML page of 5000 features = %d, want 400", res.status)
	}
	if res := do(t, http.MethodGet, ts.URL+"/api/tileMatrixSets?f=html", "", ""); res.status != http.StatusBadRequest {
		t.Errorf("f=html on a JSON-only resource = %d, want 400", res.status)
	}
}
