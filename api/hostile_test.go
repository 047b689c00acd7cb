package api_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// leakPattern matches what must never reach a client: SQL, SQLSTATEs,
// driver messages, Go stack traces, file paths.
var leakPattern = regexp.MustCompile(`(?i)(sqlstate|pq: |syntax error at|select .* from|insert into|goroutine \d|panic:|\.go:\d+|/root/|/usr/lib/postgresql|runtime error)`)

// Hostile requests across the API: each gets a 4xx, never leaks internals,
// and changes nothing that is stored.
func TestHostileRequests(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 47.03, 39.40, nil)
	mod := addUser(t, ts, "mod", geo.RoleModerator)
	reportID := submitID(t, ts)

	sqlPayloads := []string{
		`' OR '1'='1`, `1; DROP TABLE incidents; --`, `") OR 1=1 --`, `1 UNION SELECT contact FROM reports`,
		`'; SELECT pg_sleep(10); --`, `$1`, `\' OR 1=1`,
	}
	type req struct {
		method, path, ctype, body string
		headers                   []string
	}
	var reqs []req
	for _, p := range sqlPayloads {
		q := url.QueryEscape(p)
		for _, param := range []string{"bbox", "datetime", "limit", "sortby", "properties", "event_type", "status", "country", "cursor", "near_place", "near_border_km"} {
			reqs = append(reqs, req{method: "GET", path: "/api/collections/incidents/items?" + param + "=" + q})
		}
		reqs = append(reqs,
			req{method: "GET", path: "/api/collections/" + url.PathEscape(p) + "/items"},
			req{method: "GET", path: "/api/collections/incidents/items/" + url.PathEscape(p)},
			req{method: "GET", path: "/api/reports?status=" + q, headers: []string{bearer(mod)}},
			req{method: "GET", path: "/api/reports/" + url.PathEscape(p), headers: []string{bearer(mod)}},
			req{method: "GET", path: "/api/reports", headers: []string{"Authorization: Bearer " + p}},
		)
	}
	nested := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	reqs = append(reqs,
		// Unknown, privileged and internal fields.
		req{"POST", "/api/reports", "application/json", strings.Replace(reportBody(nil), `"contact"`, `"status":"verified","contact"`, 1), nil},
		req{"POST", "/api/reports", "application/json", strings.Replace(reportBody(nil), `"contact"`, `"incident_id":1,"contact"`, 1), nil},
		req{"POST", "/api/reports", "application/json", strings.Replace(reportBody(nil), `"contact"`, `"__proto__":{},"contact"`, 1), nil},
		// Malformed and oversized bodies.
		req{"POST", "/api/reports", "application/json", nested, nil},
		req{"POST", "/api/reports", "application/json", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1e309,0]},"properties":{}}`, nil},
		req{"POST", "/api/reports", "application/json", "\xef\xbb\xbf" + reportBody(nil)[:20], nil},
		req{"POST", "/api/reports", "application/json", strings.Repeat("x", 2<<20), nil},
		req{"POST", "/api/reports", "application/x-www-form-urlencoded", "lon=1&lat=2", nil},
		req{"POST", "/api/reports", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"../../etc/passwd\"\r\nContent-Type: image/jpeg\r\n\r\nGIF89a\x01\x00\x01\x00\r\n--x--\r\n", nil},
		req{"POST", "/api/reports", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.png\"\r\n\r\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00\r\n--x--\r\n", nil},
		// XSS payloads are data: accepted as text or rejected, never reflected raw in an error.
		req{"GET", "/api/collections/<script>alert(1)</script>", "", "", nil},
		req{"GET", "/api/collections/incidents/items?q=" + url.QueryEscape("<img src=x onerror=alert(1)>") + "&colour=<b>", "", "", nil},
		// Moderation without rights, and on privileged routes.
		req{"POST", "/api/reports/1/verify", "application/json", `{}`, nil},
		req{"POST", "/api/users", "application/json", `{"name":"evil","role":"admin"}`, []string{bearer(mod)}},
		req{"DELETE", "/api/users/mod", "", "", []string{bearer(mod)}},
		req{"GET", "/api/audit", "", "", []string{bearer(mod)}},
		req{"PATCH", "/api/incidents/1", "application/json", `{"status":"retracted"}`, nil},
		req{"PATCH", "/api/incidents/1", "application/json", `{"version":99}`, []string{bearer(mod)}},
		req{"PATCH", "/api/incidents/1", "application/json", `{"title":"x","title":"y"}`, []string{bearer(mod)}},
		// Query strings that do not parse whole: never the unfiltered collection.
		req{"GET", "/api/collections/incidents/items?bbox=200,0,1,1;x=1", "", "", nil},
		req{"GET", "/api/collections/incidents/items?bbox=200,0,1,1" + strings.Repeat("&x=1", 10_000), "", "", nil},
		req{"GET", "/api/reports?status=pending;x=1", "", "", []string{bearer(mod)}},
		// Text that would be stored altered, and other charsets.
		req{"POST", "/api/reports", "application/json", strings.Replace(reportBody(nil), "Mortar", `\ud800`, 1), nil},
		req{"POST", "/api/reports", "application/geo+json; charset=iso-8859-1", reportBody(nil), nil},
		req{"POST", "/api/reports", "application/json; charset=utf-16", reportBody(nil), nil},
		// A "photo" that is markup.
		req{"POST", "/api/reports", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"x.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n<svg onload=alert(1)/>\r\n--x--\r\n", nil},
		// NUL bytes and invalid UTF-8 in the query.
		req{"GET", "/api/collections/incidents/items?q=%00", "", "", nil},
		req{"GET", "/api/collections/incidents/items?actor=%ff%fe", "", "", nil},
		req{"GET", "/api/places?q=%00", "", "", nil},
	)
	counts := func() map[string]int {
		out := map[string]int{}
		for _, table := range []string{"incidents", "reports", "users", "audit_log"} {
			out[table] = countRows(t, ts, table)
		}
		return out
	}
	before := counts()
	for _, r := range reqs {
		res := do(t, r.method, ts.URL+r.path, r.ctype, r.body, r.headers...)
		if res.status < 400 || res.status >= 500 {
			t.Errorf("%s %s: status %d, want 4xx\n%.300s", r.method, r.path, res.status, res.body)
		}
		// Quoting the client's own input back in the message is fine;
		// anything else that looks like SQL or a trace is a leak.
		body := string(res.body)
		for _, p := range sqlPayloads {
			body = strings.ReplaceAll(body, strings.Trim(mustJSON(p), `"`), "")
		}
		if leakPattern.MatchString(body) {
			t.Errorf("%s %s: body leaks internals: %.300s", r.method, r.path, res.body)
		}
		if strings.Contains(string(res.body), "<script>") || strings.Contains(string(res.body), "<img src=x") {
			t.Errorf("%s %s: body reflects markup raw: %.300s", r.method, r.path, res.body)
		}
		if ct := res.header.Get("Content-Type"); strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s %s: error answered as HTML", r.method, r.path)
		}
	}
	after := counts()
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s rows %d → %d after hostile requests", table, n, after[table])
		}
	}
	t.Logf("%d hostile requests, all 4xx", len(reqs))
	var status string
	ts.DB.SQL().QueryRow(`SELECT status FROM reports WHERE id = $1`, reportID).Scan(&status)
	if status != geo.ReportPending {
		t.Errorf("report status %q after hostile requests, want pending", status)
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
