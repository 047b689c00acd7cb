package api_test

import (
	"maps"
	"net/http"
	"strings"
	"testing"
)

// Every GET route answers HEAD like GET without a body, and a wrong
// method gets 405 naming the allowed ones.
func TestMethods(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 47.03, 39.40, nil)
	for _, path := range []string{"/api", "/api/conformance", "/api/collections", "/api/collections/incidents",
		"/api/collections/incidents/items", "/api/collections/incidents/items/1", "/api/openapi",
		"/api/places?q=x", "/api/tileMatrixSets", "/healthz", "/readyz"} {
		get := do(t, http.MethodGet, ts.URL+path, "", "")
		head := do(t, http.MethodHead, ts.URL+path, "", "")
		if head.status != get.status || len(head.body) != 0 {
			t.Errorf("HEAD %s = %d with %d bytes; GET = %d: want the same status and no body", path, head.status, len(head.body), get.status)
		}
		if got, want := head.header.Get("Content-Type"), get.header.Get("Content-Type"); got != want {
			t.Errorf("HEAD %s Content-Type %q, GET %q", path, got, want)
		}
	}
	for _, tt := range []struct{ method, path, allow string }{
		{http.MethodPost, "/api/collections", "GET, HEAD"},
		{http.MethodDelete, "/api/collections/incidents/items/1", "GET, HEAD"},
		{http.MethodPut, "/api/reports", "GET, HEAD, POST"},
		{http.MethodPost, "/healthz", "GET, HEAD"},
	} {
		res := do(t, tt.method, ts.URL+tt.path, "application/json", "{}")
		if res.status != http.StatusMethodNotAllowed || !sameMethods(res.header.Get("Allow"), tt.allow) {
			t.Errorf("%s %s = %d, Allow %q; want 405, Allow %q", tt.method, tt.path, res.status, res.header.Get("Allow"), tt.allow)
		}
	}
}

// sameMethods compares Allow lists, ignoring order and OPTIONS (which
// the router answers for every path).
func sameMethods(got, want string) bool {
	set := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" && x != http.MethodOptions {
				m[x] = true
			}
		}
		return m
	}
	return maps.Equal(set(got), set(want))
}
