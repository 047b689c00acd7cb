package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/frontend"
)

// /api/docs is Swagger UI from the map's bundle: the page, its script and
// stylesheet are served with their types, under a policy that allows no
// inline code and nothing from another origin.
func TestAPIDocsPage(t *testing.T) {
	if !frontend.Built() {
		t.Fatal("the frontend bundle is not built (frontend/dist is empty): run make frontend first")
	}
	ts := newTestServer(t)
	res := do(t, http.MethodGet, ts.URL+"/api/docs", "", "")
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /api/docs = %d %q, want 200 text/html", res.status, res.header.Get("Content-Type"))
	}
	csp := res.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("/api/docs CSP %q lacks %q", csp, want)
		}
	}
	for _, relaxed := range []string{"unsafe-inline", "unsafe-eval", "https:", "*"} {
		if strings.Contains(csp, relaxed) {
			t.Errorf("/api/docs CSP %q allows %s", csp, relaxed)
		}
	}
	body := string(res.body)
	if strings.Contains(body, "<script>") || strings.Contains(body, "<style") || strings.Contains(body, " style=") {
		t.Errorf("/api/docs has inline script or style, which its CSP blocks:\n%s", body)
	}
	if strings.Contains(body, "//cdn") || strings.Contains(body, "unpkg.com") || strings.Contains(body, "jsdelivr") {
		t.Errorf("/api/docs loads from a CDN:\n%s", body)
	}
	wantTypes := map[string]string{".js": "text/javascript", ".css": "text/css", ".txt": "text/plain", ".svg": "image/svg+xml"}
	refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(body, -1)
	seen := map[string]bool{}
	for _, m := range refs {
		asset := m[1]
		ext := asset[strings.LastIndex(asset, "."):]
		seen[ext] = true
		res := do(t, http.MethodGet, ts.URL+asset, "", "")
		if res.status != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", asset, res.status)
			continue
		}
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, wantTypes[ext]) {
			t.Errorf("GET %s Content-Type = %q, want %s", asset, ct, wantTypes[ext])
		}
		switch ext {
		case ".js":
			if !strings.Contains(string(res.body), "swagger") {
				t.Errorf("%s is not Swagger UI", asset)
			}
		case ".txt":
			if !strings.Contains(string(res.body), "==== swagger-ui-dist ") {
				t.Errorf("the licences file %s does not list swagger-ui-dist", asset)
			}
		}
	}
	for ext := range wantTypes {
		if !seen[ext] {
			t.Errorf("/api/docs refers to no %s asset (refs %q)", ext, refs)
		}
	}
	// The page renders the server's own document.
	if res := do(t, http.MethodGet, ts.URL+"/api/openapi", "", ""); res.status != http.StatusOK {
		t.Errorf("GET /api/openapi = %d", res.status)
	}
	if res := do(t, http.MethodHead, ts.URL+"/api/docs", "", ""); res.status != http.StatusOK {
		t.Errorf("HEAD /api/docs = %d, want 200", res.status)
	}
}
