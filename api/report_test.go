package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo"
)

// reportJSON is a valid report body; modify changes its properties.
func reportBody(modify func(props map[string]any)) string {
	props := map[string]any{
		"occurred_at":    "2020-10-18T04:30:00+04:00",
		"event_type":     "Explosions/Remote violence",
		"sub_event_type": "Shelling/artillery/missile attack",
		"description":    "Mortar fire heard near the villages on the Aras river before dawn.",
		"location_name":  "Jabrayil",
		"geo_precision":  2,
		"fatalities":     0,
		"source_urls":    []string{"https://example.org/news/1"},
		"contact":        "reporter-secret@example.net",
	}
	if modify != nil {
		modify(props)
	}
	b, _ := json.Marshal(map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Point", "coordinates": []float64{47.03, 39.40}}, "properties": props})
	return string(b)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", r.status, err, r.body)
	}
	return m
}

// do sends a request with optional headers ("Name: value").
func do(t *testing.T, method, target, contentType, body string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

func submit(t *testing.T, ts *testServer, body string, headers ...string) response {
	t.Helper()
	return do(t, http.MethodPost, ts.URL+"/api/reports", "application/json", body, headers...)
}

// addUser creates a user directly in the store and returns its token.
func addUser(t *testing.T, ts *testServer, name, role string) string {
	t.Helper()
	_, token, err := ts.DB.CreateUser(context.Background(), name, role, nil)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func bearer(token string) string { return "Authorization: Bearer " + token }

func countRows(t *testing.T, ts *testServer, table string) int {
	t.Helper()
	var n int
	if err := ts.DB.SQL().QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sseReader reads events from /api/events of a server.
type sseEvent struct {
	id, event, data string
}

func openEvents(t *testing.T, base string, headers ...string) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events", nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("/api/events = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.event != "" {
					out <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.data = line[6:]
			}
		}
	}()
	return out, cancel
}

func nextEvent(t *testing.T, events <-chan sseEvent, within time.Duration) sseEvent {
	t.Helper()
	select {
	case e, ok := <-events:
		if !ok {
			t.Fatal("event stream ended")
		}
		return e
	case <-time.After(within):
		t.Fatalf("no event within %v", within)
	}
	return sseEvent{}
}

// The path of a report onto the map: submitted, invisible, verified by a
// moderator, then public and announced live by another server instance.
func TestReportLifecycle(t *testing.T) {
	first := newTestServer(t)
	second := newTestServerOn(t, first.DSN, api.Config{})
	events, stop := openEvents(t, second.URL)
	defer stop()

	res := submit(t, first, reportBody(nil))
	if res.status != http.StatusCreated {
		t.Fatalf("submit = %d %s, want 201", res.status, res.body)
	}
	body := res.json(t)
	id := int64(body["id"].(float64))
	if body["status"] != "pending" || res.header.Get("Location") != fmt.Sprintf("/api/reports/%d", id) {
		t.Errorf("submit answer %v Location %q, want pending and /api/reports/%d", body, res.header.Get("Location"), id)
	}
	if p := getItems(t, first, "/api/collections/incidents/items"); len(p.fc.Features) != 0 {
		t.Fatalf("a pending report is public: %v", p.titles())
	}

	token := addUser(t, first, "mod", geo.RoleModerator)
	queue := do(t, http.MethodGet, first.URL+"/api/reports?status=pending", "", "", bearer(token))
	if queue.status != http.StatusOK || !bytes.Contains(queue.body, []byte("reporter-secret@example.net")) {
		t.Fatalf("moderation queue = %d %s, want the report with its contact", queue.status, queue.body)
	}
	verify := do(t, http.MethodPost, fmt.Sprintf("%s/api/reports/%d/verify", first.URL, id), "application/json",
		`{"title": "Mortar fire near Jabrayil", "note": "matches MoD statement"}`, bearer(token))
	if verify.status != http.StatusOK {
		t.Fatalf("verify = %d %s", verify.status, verify.body)
	}
	incidentID := int64(verify.json(t)["incident_id"].(float64))

	p := getItems(t, first, "/api/collections/incidents/items")
	if got := p.titles(); len(got) != 1 || got[0] != "Mortar fire near Jabrayil" {
		t.Fatalf("after verify, incidents = %v", got)
	}
	e := nextEvent(t, events, 10*time.Second)
	if e.event != "incident.created" || !strings.Contains(e.data, "Mortar fire near Jabrayil") {
		t.Errorf("second instance's event = %+v, want incident.created with the feature", e)
	}
	if strings.Contains(e.data, "reporter-secret") {
		t.Errorf("SSE event leaks the contact: %s", e.data)
	}

	again := do(t, http.MethodPost, fmt.Sprintf("%s/api/reports/%d/verify", first.URL, id), "application/json", `{}`, bearer(token))
	if again.status != http.StatusConflict {
		t.Errorf("verifying twice = %d %s, want 409", again.status, again.body)
	}

	// Retract through PATCH with optimistic locking.
	inc := do(t, http.MethodGet, fmt.Sprintf("%s/api/incidents/%d", first.URL, incidentID), "", "", bearer(token))
	etag := inc.header.Get("ETag")
	stale := do(t, http.MethodPatch, fmt.Sprintf("%s/api/incidents/%d", first.URL, incidentID), "application/json",
		`{"fatalities": 1}`, bearer(token), `If-Match: "v999"`)
	if stale.status != http.StatusPreconditionFailed {
		t.Errorf("PATCH with a stale If-Match = %d %s, want 412", stale.status, stale.body)
	}
	patched := do(t, http.MethodPatch, fmt.Sprintf("%s/api/incidents/%d", first.URL, incidentID), "application/json",
		`{"status": "retracted"}`, bearer(token), "If-Match: "+etag)
	if patched.status != http.StatusOK || patched.header.Get("ETag") == etag {
		t.Fatalf("PATCH = %d %s (ETag %q → %q)", patched.status, patched.body, etag, patched.header.Get("ETag"))
	}
	if e := nextEvent(t, events, 10*time.Second); e.event != "incident.retracted" {
		t.Errorf("after retracting, event = %+v, want incident.retracted", e)
	}
	if p := getItems(t, first, "/api/collections/incidents/items"); len(p.fc.Features) != 0 {
		t.Errorf("retracted incident still listed by default")
	}
	history := do(t, http.MethodGet, fmt.Sprintf("%s/api/incidents/%d/audit", first.URL, incidentID), "", "", bearer(token))
	var audit struct{ Entries []geo.AuditEntry }
	json.Unmarshal(history.body, &audit)
	if len(audit.Entries) < 2 || audit.Entries[0].Action != "incident.update" || audit.Entries[0].UserName != "mod" {
		t.Errorf("incident audit = %s, want the update by mod first", history.body)
	}
	if _, err := first.DB.SQL().Exec(`DELETE FROM audit_log`); err == nil {
		t.Errorf("audit log rows could be deleted; it must be append-only")
	}
}

func TestReportIdempotency(t *testing.T) {
	ts := newTestServer(t)
	body := reportBody(nil)
	a := submit(t, ts, body, "Idempotency-Key: retry-1")
	b := submit(t, ts, body, "Idempotency-Key: retry-1")
	if a.status != http.StatusCreated || b.status != http.StatusCreated {
		t.Fatalf("statuses %d, %d; want 201 twice", a.status, b.status)
	}
	if a.json(t)["id"] != b.json(t)["id"] || b.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry got id %v (replayed %q), want the first id %v", b.json(t)["id"], b.header.Get("Idempotent-Replayed"), a.json(t)["id"])
	}
	other := submit(t, ts, reportBody(func(p map[string]any) { p["description"] = "something else" }), "Idempotency-Key: retry-1")
	if other.status != http.StatusConflict {
		t.Errorf("same key, other body = %d %s, want 409", other.status, other.body)
	}
	if n := countRows(t, ts, "reports"); n != 1 {
		t.Errorf("reports stored = %d, want 1", n)
	}
}

// The limit is per client and shared by every instance through PostgreSQL.
func TestReportRateLimitAcrossInstances(t *testing.T) {
	cfg := api.Config{ReportRate: geo.RateLimit{Burst: 3, PerMinute: 1}}
	first := newTestServerOn(t, pgtestNewDB(t), cfg)
	second := newTestServerOn(t, first.DSN, cfg)
	for i, ts := range []*testServer{first, second, first} {
		if res := submit(t, ts, reportBody(nil)); res.status != http.StatusCreated {
			t.Fatalf("report %d = %d %s, want 201", i, res.status, res.body)
		}
	}
	res := submit(t, second, reportBody(nil))
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Errorf("4th report (on the other instance) = %d, Retry-After %q; want 429 with Retry-After", res.status, res.header.Get("Retry-After"))
	}
	spoofed := submit(t, first, reportBody(nil), "X-Forwarded-For: 203.0.113.9")
	if spoofed.status != http.StatusTooManyRequests {
		t.Errorf("X-Forwarded-For from an untrusted client bypassed the limit: %d", spoofed.status)
	}
	if n := countRows(t, first, "reports"); n != 3 {
		t.Errorf("reports stored = %d, want 3", n)
	}
}

func TestReportBadBodies(t *testing.T) {
	ts := newTestServer(t)
	valid := reportBody(nil)
	with := func(modify func(map[string]any)) string { return reportBody(modify) }
	future := time.Now().Add(3 * time.Hour).Format(time.RFC3339)
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		field       string // expected in errors[].field for 400 and 422
	}{
		{"wrong content type", "text/plain", valid, 415, ""},
		{"xml", "application/xml", `<report/>`, 415, ""},
		{"no content type", "", valid, 415, ""},
		{"too large", "application/json", `{"type":"Feature","x":"` + strings.Repeat("a", 70<<10) + `"}`, 413, ""},
		{"malformed", "application/json", `{"type":`, 400, "body"},
		{"not an object", "application/json", `[1,2]`, 422, "body"},
		{"trailing data", "application/json", valid + `{}`, 400, "body"},
		{"unknown top-level field", "application/json", strings.Replace(valid, `"type":"Feature"`, `"type":"Feature","id":1`, 1), 400, "id"},
		{"unknown property", "application/json", with(func(p map[string]any) { p["status"] = "verified" }), 400, "properties.status"},
		{"case-variant key", "application/json", strings.Replace(valid, `"event_type"`, `"Event_Type"`, 1), 400, "properties.Event_Type"},
		{"duplicate key", "application/json", strings.Replace(valid, `"type":"Feature"`, `"type":"Feature","type":"Feature"`, 1), 400, "type"},
		{"deep nesting", "application/json", strings.Replace(valid, `"source_urls":[`, `"source_urls":[[[[[[[[[[`, 1), 400, "properties.source_urls"},
		{"invalid utf-8", "application/json", strings.Replace(valid, "Mortar", "Mort\xffar", 1), 400, "body"},
		{"NUL escape", "application/json", strings.Replace(valid, "Mortar", `Mort\u0000ar`, 1), 400, "body"},
		{"NaN literal", "application/json", strings.Replace(valid, "[47.03,39.4]", "[NaN,39.4]", 1), 400, "body"},
		{"lone high surrogate", "application/json", strings.Replace(valid, "Mortar", `Mort\ud800ar`, 1), 400, "body"},
		{"lone low surrogate", "application/json", strings.Replace(valid, "Mortar", `Mort\udc00ar`, 1), 400, "body"},
		{"reversed surrogates", "application/json", strings.Replace(valid, "Mortar", `\udc00\ud800`, 1), 400, "body"},
		{"10,000-deep nesting", "application/json", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), 400, "body"},
		{"latin-1 charset", "application/geo+json; charset=iso-8859-1", valid, 415, ""},
		{"utf-16 charset", "application/json; charset=utf-16", valid, 415, ""},
		{"huge number", "application/json", strings.Replace(valid, "[47.03,39.4]", "[1e999,39.4]", 1), 422, "geometry.coordinates"},
		{"latitude 91", "application/json", strings.Replace(valid, "[47.03,39.4]", "[47.03,91]", 1), 422, "geometry.coordinates"},
		{"longitude -181", "application/json", strings.Replace(valid, "[47.03,39.4]", "[-181,39.4]", 1), 422, "geometry.coordinates"},
		{"3D point", "application/json", strings.Replace(valid, "[47.03,39.4]", "[47.03,39.4,100]", 1), 422, "geometry.coordinates"},
		{"one coordinate", "application/json", strings.Replace(valid, "[47.03,39.4]", "[47.03]", 1), 422, "geometry.coordinates"},
		{"coordinates as strings", "application/json", strings.Replace(valid, "[47.03,39.4]", `["47.03","39.4"]`, 1), 422, "geometry.coordinates"},
		{"line instead of point", "application/json", strings.Replace(valid, `"type":"Point"`, `"type":"LineString"`, 1), 422, "geometry.type"},
		{"no geometry", "application/json", `{"type":"Feature","properties":{}}`, 422, "geometry"},
		{"not a feature", "application/json", strings.Replace(valid, `"type":"Feature"`, `"type":"FeatureCollection"`, 1), 422, "type"},
		{"time in the future", "application/json", with(func(p map[string]any) { p["occurred_at"] = future }), 422, "properties.occurred_at"},
		{"time before 1900", "application/json", with(func(p map[string]any) { p["occurred_at"] = "1899-12-31T00:00:00Z" }), 422, "properties.occurred_at"},
		{"time without zone", "application/json", with(func(p map[string]any) { p["occurred_at"] = "2020-10-18 04:30" }), 422, "properties.occurred_at"},
		{"unknown event type", "application/json", with(func(p map[string]any) { p["event_type"] = "Skirmish" }), 422, "properties.event_type"},
		{"sub-event of another type", "application/json", with(func(p map[string]any) { p["sub_event_type"] = "Peaceful protest" }), 422, "properties.sub_event_type"},
		{"empty description", "application/json", with(func(p map[string]any) { p["description"] = "" }), 422, "properties.description"},
		{"description too long", "application/json", with(func(p map[string]any) { p["description"] = strings.Repeat("x", 5001) }), 422, "properties.description"},
		{"control characters", "application/json", with(func(p map[string]any) { p["location_name"] = "Jabrayil\x07" }), 422, "properties.location_name"},
		{"javascript url", "application/json", with(func(p map[string]any) { p["source_urls"] = []string{"javascript:alert(1)"} }), 422, "properties.source_urls[0]"},
		{"relative url", "application/json", with(func(p map[string]any) { p["source_urls"] = []string{"/etc/passwd"} }), 422, "properties.source_urls[0]"},
		{"too many urls", "application/json", with(func(p map[string]any) {
			p["source_urls"] = strings.Split(strings.Repeat("https://a.example/,", 11), ",")[:11]
		}), 422, "properties.source_urls"},
		{"negative fatalities", "application/json", with(func(p map[string]any) { p["fatalities"] = -1 }), 422, "properties.fatalities"},
		{"fractional fatalities", "application/json", with(func(p map[string]any) { p["fatalities"] = 1.5 }), 422, "properties.fatalities"},
		{"geo precision 4", "application/json", with(func(p map[string]any) { p["geo_precision"] = 4 }), 422, "properties.geo_precision"},
		{"geo precision 0", "application/json", with(func(p map[string]any) { p["geo_precision"] = 0 }), 422, "properties.geo_precision"},
		{"contact too long", "application/json", with(func(p map[string]any) { p["contact"] = strings.Repeat("c", 301) }), 422, "properties.contact"},
		{"multipart without boundary", "multipart/form-data", "x", 422, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, http.MethodPost, ts.URL+"/api/reports", tt.contentType, tt.body)
			if res.status != tt.status {
				t.Fatalf("status = %d %s, want %d", res.status, res.body, tt.status)
			}
			var body struct {
				Code, Description string
				Errors            []geo.FieldError
			}
			if err := json.Unmarshal(res.body, &body); err != nil || body.Code == "" {
				t.Fatalf("error body %q is not a JSON error document", res.body)
			}
			if tt.field != "" {
				found := false
				for _, e := range body.Errors {
					found = found || e.Field == tt.field
				}
				if !found {
					t.Errorf("errors = %+v, want one for field %q", body.Errors, tt.field)
				}
			}
		})
	}
	if n := countRows(t, ts, "reports"); n != 0 {
		t.Errorf("bad bodies stored %d reports", n)
	}
}

func TestModerationAuth(t *testing.T) {
	ts := newTestServer(t)
	mod := addUser(t, ts, "mod", geo.RoleModerator)
	admin := addUser(t, ts, "boss", geo.RoleAdmin)
	revoked := addUser(t, ts, "gone", geo.RoleModerator)
	if err := ts.DB.RevokeUser(context.Background(), "gone", nil); err != nil {
		t.Fatal(err)
	}
	tampered := mod[:len(mod)-1] + map[bool]string{true: "A", false: "B"}[mod[len(mod)-1] != 'A']
	tests := []struct {
		name, method, path, auth string
		want                     int
	}{
		{"no token", "GET", "/api/reports", "", 401},
		{"not bearer", "GET", "/api/reports", "Authorization: Basic bW9kOm1vZA==", 401},
		{"garbage token", "GET", "/api/reports", bearer("nope"), 401},
		{"tampered token", "GET", "/api/reports", bearer(tampered), 401},
		{"revoked token", "GET", "/api/reports", bearer(revoked), 401},
		{"moderator", "GET", "/api/reports", bearer(mod), 200},
		{"moderator on audit", "GET", "/api/audit", bearer(mod), 403},
		{"moderator on users", "GET", "/api/users", bearer(mod), 403},
		{"moderator adding a user", "POST", "/api/users", bearer(mod), 403},
		{"admin on audit", "GET", "/api/audit", bearer(admin), 200},
		{"admin on users", "GET", "/api/users", bearer(admin), 200},
		{"admin on reports", "GET", "/api/reports", bearer(admin), 200},
		{"no token on verify", "POST", "/api/reports/1/verify", "", 401},
		{"no token on patch", "PATCH", "/api/incidents/1", "", 401},
	}
	for _, tt := range tests {
		var headers []string
		if tt.auth != "" {
			headers = append(headers, tt.auth)
		}
		res := do(t, tt.method, ts.URL+tt.path, "application/json", "", headers...)
		if res.status != tt.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, res.status, res.body, tt.want)
		}
	}
	// Admins manage users over the API; the new token works at once.
	created := do(t, "POST", ts.URL+"/api/users", "application/json", `{"name":"newmod","role":"moderator"}`, bearer(admin))
	if created.status != http.StatusCreated {
		t.Fatalf("create user = %d %s", created.status, created.body)
	}
	token, _ := created.json(t)["token"].(string)
	if res := do(t, "GET", ts.URL+"/api/reports", "", "", bearer(token)); res.status != 200 {
		t.Errorf("new user's token = %d, want 200", res.status)
	}
	if res := do(t, "DELETE", ts.URL+"/api/users/newmod", "", "", bearer(admin)); res.status != http.StatusNoContent {
		t.Errorf("revoke = %d %s", res.status, res.body)
	}
	if res := do(t, "GET", ts.URL+"/api/reports", "", "", bearer(token)); res.status != 401 {
		t.Errorf("revoked user's token = %d, want 401", res.status)
	}
}

// Guessing tokens is cut off after a few failures per client.
func TestModerationBruteForceLimited(t *testing.T) {
	ts := newTestServer(t)
	var last int
	for i := 0; i < 15; i++ {
		last = do(t, "GET", ts.URL+"/api/reports", "", "", bearer(fmt.Sprintf("imt_1_%043d", i))).status
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("15th failed sign-in = %d, want 429", last)
	}
}

// A client that reconnects with Last-Event-ID gets the events it missed,
// from the backlog kept in the database, then live ones.
func TestEventsResumeWithLastEventID(t *testing.T) {
	ts := newTestServer(t)
	events, stop := openEvents(t, ts.URL)
	seedIncident(t, ts, 47, 39, func(i *geo.Incident) { i.Title = "first" })
	first := nextEvent(t, events, 10*time.Second)
	stop() // the client drops; meanwhile two more incidents appear
	seedIncident(t, ts, 47, 39, func(i *geo.Incident) { i.Title = "second" })
	seedIncident(t, ts, 47, 39, func(i *geo.Incident) { i.Title = "third" })
	time.Sleep(300 * time.Millisecond)

	resumed, stop2 := openEvents(t, ts.URL, "Last-Event-ID: "+first.id)
	defer stop2()
	for _, want := range []string{"second", "third"} {
		e := nextEvent(t, resumed, 10*time.Second)
		if !strings.Contains(e.data, `"title" : "`+want+`"`) && !strings.Contains(e.data, `"title":"`+want+`"`) {
			t.Errorf("resumed event = %s %.120s, want %s", e.event, e.data, want)
		}
	}
	seedIncident(t, ts, 47, 39, func(i *geo.Incident) { i.Title = "fourth" })
	if e := nextEvent(t, resumed, 10*time.Second); !strings.Contains(e.data, "fourth") {
		t.Errorf("live event after resume = %.120s, want fourth", e.data)
	}
	if res := do(t, http.MethodGet, ts.URL+"/api/events", "", "", "Last-Event-ID: abc"); res.status != http.StatusBadRequest {
		t.Errorf("Last-Event-ID abc = %d, want 400", res.status)
	}
}
