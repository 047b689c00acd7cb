package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo"
)

// submitAt submits a valid report at lon/lat, hours after 2020-10-18T00:30Z.
func submitAt(t *testing.T, ts *testServer, lon, lat, hours float64) int64 {
	t.Helper()
	at := time.Date(2020, 10, 18, 0, 30, 0, 0, time.UTC).Add(time.Duration(hours * float64(time.Hour)))
	body := reportBody(func(p map[string]any) {
		p["occurred_at"] = at.Format(time.RFC3339)
		p["source_urls"] = []string{fmt.Sprintf("https://example.org/news/%g", lat)}
	})
	body = strings.Replace(body, "[47.03,39.4]", fmt.Sprintf("[%g,%g]", lon, lat), 1)
	res := submit(t, ts, body)
	if res.status != http.StatusCreated {
		t.Fatalf("submit = %d %s", res.status, res.body)
	}
	return int64(res.json(t)["id"].(float64))
}

type candidateList struct {
	Version    int
	Km         float64
	Hours      float64
	Candidates []struct {
		Kind       string
		ID         int64
		Title      string
		Status     string
		DistanceM  float64 `json:"distance_m"`
		HoursApart float64 `json:"hours_apart"`
		Version    int
	}
}

func (l candidateList) has(kind string, id int64) bool {
	for _, c := range l.Candidates {
		if c.Kind == kind && c.ID == id {
			return true
		}
	}
	return false
}

func TestCorroborationCandidatesAPI(t *testing.T) {
	ts := newTestServer(t)
	token := addUser(t, ts, "mod", geo.RoleModerator)
	get := func(path string, headers ...string) response {
		return do(t, http.MethodGet, ts.URL+path, "", "", headers...)
	}
	list := func(path string) candidateList {
		t.Helper()
		res := get(path, bearer(token))
		if res.status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, res.status, res.body)
		}
		var l candidateList
		if err := json.Unmarshal(res.body, &l); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return l
	}
	// 0.018° of latitude is 2.0 km; 0.45° is 50 km.
	a := submitAt(t, ts, 47.03, 39.40, 0)
	b := submitAt(t, ts, 47.03, 39.418, 3)
	far := submitAt(t, ts, 47.03, 39.85, 0)
	late := submitAt(t, ts, 47.03, 39.405, 30)

	l := list(fmt.Sprintf("/api/reports/%d/candidates", a))
	if len(l.Candidates) != 1 || l.Candidates[0].ID != b || l.Candidates[0].Kind != "report" {
		t.Fatalf("candidates of report %d = %+v, want only report %d (not the 50 km nor the 30 h one)", a, l.Candidates, b)
	}
	if c := l.Candidates[0]; c.DistanceM < 1950 || c.DistanceM > 2050 || c.HoursApart != 3 || c.Status != "pending" {
		t.Errorf("candidate = %+v, want about 2000 m, 3 hours apart, pending", c)
	}
	if l.Km != 5 || l.Hours != 24 {
		t.Errorf("window = %g km, %g h, want the defaults 5 km, 24 h", l.Km, l.Hours)
	}
	if l := list(fmt.Sprintf("/api/reports/%d/candidates", b)); !l.has("report", a) {
		t.Errorf("candidates of report %d = %+v, want report %d", b, l.Candidates, a)
	}
	if l := list(fmt.Sprintf("/api/reports/%d/candidates?km=60&hours=48", a)); !l.has("report", far) || !l.has("report", late) {
		t.Errorf("candidates within 60 km and 48 h = %+v, want reports %d and %d too", l.Candidates, far, late)
	}

	// Verified, a report becomes an incident: a candidate of the other
	// report, with the version a merge needs; and the other of it.
	res := do(t, http.MethodPost, fmt.Sprintf("%s/api/reports/%d/verify", ts.URL, a), "application/json", `{}`, bearer(token))
	if res.status != http.StatusOK {
		t.Fatalf("verify = %d %s", res.status, res.body)
	}
	inc := int64(res.json(t)["incident_id"].(float64))
	l = list(fmt.Sprintf("/api/reports/%d/candidates", b))
	if !l.has("incident", inc) || l.has("report", a) || l.Candidates[0].Version != 1 {
		t.Errorf("candidates of report %d after verifying %d = %+v, want incident %d at version 1", b, a, l.Candidates, inc)
	}
	if l := list(fmt.Sprintf("/api/incidents/%d/candidates", inc)); !l.has("report", b) || l.has("incident", inc) || l.Version != 1 {
		t.Errorf("candidates of incident %d = %+v, want report %d, not itself, and its version 1", inc, l, b)
	}

	// Moderators only; bad parameters are named.
	path := fmt.Sprintf("/api/reports/%d/candidates", b)
	for _, h := range [][]string{nil, {bearer("not-a-token")}} {
		if res := get(path, h...); res.status != http.StatusUnauthorized {
			t.Errorf("GET %s with %v = %d, want 401", path, h, res.status)
		}
	}
	if res := get(fmt.Sprintf("/api/incidents/%d/candidates", inc)); res.status != http.StatusUnauthorized {
		t.Errorf("incident candidates without a token = %d, want 401", res.status)
	}
	for _, tt := range []struct {
		query string
		want  int
		field string
	}{
		{"km=abc", 400, "km"},
		{"hours=NaN", 400, "hours"},
		{"km=1000", 422, "km"},
		{"km=0", 422, "km"},
		{"hours=721", 422, "hours"},
		{"radius=5", 400, "radius"},
	} {
		res := get(path+"?"+tt.query, bearer(token))
		if res.status != tt.want || !strings.Contains(string(res.body), tt.field) {
			t.Errorf("GET %s?%s = %d %s, want %d naming %s", path, tt.query, res.status, res.body, tt.want, tt.field)
		}
	}
	for _, p := range []string{"/api/reports/999999/candidates", "/api/incidents/999999/candidates"} {
		if res := get(p, bearer(token)); res.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, res.status)
		}
	}
}

func TestCorroborationMergeAPI(t *testing.T) {
	ts := newTestServer(t)
	token := addUser(t, ts, "mod", geo.RoleModerator)
	post := func(path, body string, headers ...string) response {
		return do(t, http.MethodPost, ts.URL+path, "application/json", body, append(headers, bearer(token))...)
	}
	a := submitAt(t, ts, 47.03, 39.40, 0)
	b := submitAt(t, ts, 47.03, 39.418, 3)
	c := submitAt(t, ts, 47.031, 39.401, 1)
	verify := func(id int64) int64 {
		res := post(fmt.Sprintf("/api/reports/%d/verify", id), `{}`)
		if res.status != http.StatusOK {
			t.Fatalf("verify %d = %d %s", id, res.status, res.body)
		}
		return int64(res.json(t)["incident_id"].(float64))
	}
	inc := verify(a)
	lastEvent := func() int64 {
		var id int64
		ts.DB.SQL().QueryRow(`SELECT coalesce(max(id), 0) FROM incident_events`).Scan(&id)
		return id
	}
	before := lastEvent()

	mergePath := fmt.Sprintf("/api/reports/%d/merge", b)
	for _, tt := range []struct {
		body string
		want int
		says string
	}{
		{fmt.Sprintf(`{"incident_id":%d,"version":9}`, inc), 409, "version 1, not 9"},
		{fmt.Sprintf(`{"incident_id":%d}`, inc), 422, "version"},
		{`{"version":1}`, 422, "incident_id"},
		{`{"incident_id":999999,"version":1}`, 404, "no incident 999999"},
		{fmt.Sprintf(`{"incident_id":%d,"version":1,"extra":1}`, inc), 400, "extra"},
		{`not json`, 400, ""},
	} {
		res := post(mergePath, tt.body)
		if res.status != tt.want || !strings.Contains(string(res.body), tt.says) {
			t.Errorf("POST %s %s = %d %s, want %d saying %q", mergePath, tt.body, res.status, res.body, tt.want, tt.says)
		}
	}
	if res := do(t, http.MethodPost, ts.URL+mergePath, "application/json", fmt.Sprintf(`{"incident_id":%d,"version":1}`, inc)); res.status != http.StatusUnauthorized {
		t.Errorf("merge without a token = %d, want 401", res.status)
	}
	var status string
	ts.DB.SQL().QueryRow(`SELECT status FROM reports WHERE id = $1`, b).Scan(&status)
	if status != "pending" || lastEvent() != before {
		t.Fatalf("after refused merges report %d is %s and events moved from %d to %d; want pending and no event", b, status, before, lastEvent())
	}

	res := post(mergePath, fmt.Sprintf(`{"incident_id":%d,"version":1,"note":"same shelling, 2 km north"}`, inc))
	if res.status != http.StatusOK {
		t.Fatalf("merge = %d %s", res.status, res.body)
	}
	if got := res.json(t); got["incident_id"] != float64(inc) || got["version"] != 2.0 || got["status"] != "verified" {
		t.Errorf("merge answer = %v, want incident %d at version 2, report verified", got, inc)
	}
	body := getOK(t, fmt.Sprintf("%s/api/collections/incidents/items/%d", ts.URL, inc))
	if !strings.Contains(string(body), fmt.Sprintf("incidentmap report %d", b)) || !strings.Contains(string(body), "https://example.org/news/39.418") {
		t.Errorf("incident after the merge lacks report %d as a source: %s", b, body)
	}
	var events int
	ts.DB.SQL().QueryRow(`SELECT count(*) FROM incident_events WHERE id > $1 AND incident_id = $2 AND type = 'incident.updated'`, before, inc).Scan(&events)
	if events != 1 {
		t.Errorf("live events for incident %d after the merge = %d, want 1 incident.updated", inc, events)
	}
	audit := do(t, http.MethodGet, fmt.Sprintf("%s/api/incidents/%d/audit", ts.URL, inc), "", "", bearer(token))
	if !strings.Contains(string(audit.body), fmt.Sprintf("merged report %d", b)) {
		t.Errorf("incident audit lacks the merge: %s", audit.body)
	}
	var note string
	ts.DB.SQL().QueryRow(`SELECT note FROM audit_log WHERE target_type = 'report' AND target_id = $1 AND action = 'report.merge'`, b).Scan(&note)
	if note != "same shelling, 2 km north" {
		t.Errorf("report.merge audit note = %q, want the moderator's note", note)
	}
	// The same request again (a double click, a retry): refused, nothing doubled.
	res = post(mergePath, fmt.Sprintf(`{"incident_id":%d,"version":2}`, inc))
	if res.status != http.StatusConflict || !strings.Contains(string(res.body), "already verified") {
		t.Errorf("second merge = %d %s, want 409 saying the report is already verified", res.status, res.body)
	}
	if n := strings.Count(string(getOK(t, fmt.Sprintf("%s/api/collections/incidents/items/%d", ts.URL, inc))), fmt.Sprintf("incidentmap report %d", b)); n != 1 {
		t.Errorf("report %d is a source %d times, want once", b, n)
	}

	// Two incidents of one event: the duplicate is retracted, pointing at the survivor.
	dup := verify(c)
	incPath := fmt.Sprintf("/api/incidents/%d/merge", inc)
	for _, tt := range []struct {
		body string
		want int
	}{
		{fmt.Sprintf(`{"duplicate_id":%d}`, inc), 422},
		{`{}`, 422},
		{`{"duplicate_id":999999}`, 404},
		{fmt.Sprintf(`{"duplicate_id":%d,"version":1}`, dup), 409},
	} {
		if res := post(incPath, tt.body); res.status != tt.want {
			t.Errorf("POST %s %s = %d %s, want %d", incPath, tt.body, res.status, res.body, tt.want)
		}
	}
	res = post(incPath, fmt.Sprintf(`{"duplicate_id":%d,"version":2,"note":"same event"}`, dup))
	if res.status != http.StatusOK || res.json(t)["version"] != 3.0 {
		t.Fatalf("merge incidents = %d %s, want 200 at version 3", res.status, res.body)
	}
	var dupOf int64
	ts.DB.SQL().QueryRow(`SELECT status, duplicate_of FROM incidents WHERE id = $1`, dup).Scan(&status, &dupOf)
	if status != "retracted" || dupOf != inc {
		t.Errorf("duplicate incident %d: %s, duplicate_of %d; want retracted, %d", dup, status, dupOf, inc)
	}
	if !strings.Contains(string(getOK(t, fmt.Sprintf("%s/api/collections/incidents/items/%d", ts.URL, inc))), fmt.Sprintf("incidentmap report %d", c)) {
		t.Errorf("the survivor lacks the duplicate's sources")
	}
	audit = do(t, http.MethodGet, fmt.Sprintf("%s/api/incidents/%d/audit", ts.URL, dup), "", "", bearer(token))
	if !strings.Contains(string(audit.body), fmt.Sprintf("duplicate of incident %d: same event", inc)) {
		t.Errorf("duplicate's audit lacks the retraction: %s", audit.body)
	}
	if res := post(incPath, fmt.Sprintf(`{"duplicate_id":%d}`, dup)); res.status != http.StatusConflict || !strings.Contains(string(res.body), "retracted") {
		t.Errorf("merging the retracted duplicate again = %d %s, want 409 saying it is retracted", res.status, res.body)
	}
	checkMergedDuplicate(t, ts, inc, dup, c)
}

// The server's window (--corroboration-km, --corroboration-hours) is the
// default of every request.
func TestCorroborationConfiguredWindow(t *testing.T) {
	ts := newTestServerOn(t, pgtestNewDB(t), api.Config{Corroboration: geo.CorroborationWindow{Km: 1, Hours: 48}})
	token := addUser(t, ts, "mod", geo.RoleModerator)
	a := submitAt(t, ts, 47.03, 39.40, 0)
	b := submitAt(t, ts, 47.03, 39.418, 3)  // 2 km
	c := submitAt(t, ts, 47.03, 39.405, 30) // 0.6 km, 30 h
	res := do(t, http.MethodGet, fmt.Sprintf("%s/api/reports/%d/candidates", ts.URL, a), "", "", bearer(token))
	var l candidateList
	if err := json.Unmarshal(res.body, &l); err != nil || res.status != http.StatusOK {
		t.Fatalf("candidates = %d %s", res.status, res.body)
	}
	if l.Km != 1 || l.Hours != 48 || l.has("report", b) || !l.has("report", c) {
		t.Errorf("with a 1 km, 48 h window: %+v, want report %d (0.6 km, 30 h) and not %d (2 km)", l, c, b)
	}
}
