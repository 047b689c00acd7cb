package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestMetricsAndSecurityHeaders(t *testing.T) {
	ts := newTestServer(t)
	do(t, http.MethodGet, ts.URL+"/healthz", "", "")
	if res := submit(t, ts, reportBody(nil)); res.status != http.StatusCreated {
		t.Fatalf("submit = %d", res.status)
	}
	submit(t, ts, `{"type":"Feature"}`)
	res := do(t, http.MethodGet, ts.URL+"/metrics", "", "")
	if res.status != http.StatusOK {
		t.Fatalf("/metrics = %d", res.status)
	}
	for _, want := range []string{
		`incidentmap_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`incidentmap_http_request_duration_seconds_bucket{method="POST",route="/api/reports"`,
		`incidentmap_reports_total{outcome="accepted"} 1`,
		`incidentmap_reports_total{outcome="invalid"} 1`,
		`incidentmap_db_connections_open`,
		`incidentmap_sse_clients 0`,
	} {
		if !strings.Contains(string(res.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, path := range []string{"/api/collections", "/healthz", "/api/nope"} {
		res := do(t, http.MethodGet, ts.URL+path, "", "")
		for header, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "frame-ancestors 'none'",
		} {
			if got := res.header.Get(header); !strings.Contains(got, want) {
				t.Errorf("%s: %s = %q, want %q", path, header, got, want)
			}
		}
	}
	// CORS is for public reads only, never for writes or moderation.
	pre := do(t, http.MethodOptions, ts.URL+"/api/reports", "", "", "Origin: https://evil.example", "Access-Control-Request-Method: POST")
	if pre.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS preflight for POST /api/reports allowed origin %q", pre.header.Get("Access-Control-Allow-Origin"))
	}
	get := do(t, http.MethodGet, ts.URL+"/api/collections", "", "", "Origin: https://example.org")
	if get.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("public GET lacks CORS *")
	}
}
