package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// submitID submits a valid report and returns its id.
func submitID(t *testing.T, ts *testServer) int64 {
	t.Helper()
	res := submit(t, ts, reportBody(nil))
	if res.status != http.StatusCreated {
		t.Fatalf("submit = %d %s", res.status, res.body)
	}
	return int64(res.json(t)["id"].(float64))
}

func TestVerifyWithCorrectionsMergeAndReject(t *testing.T) {
	ts := newTestServer(t)
	token := addUser(t, ts, "mod", geo.RoleModerator)
	post := func(path, body string) response {
		return do(t, http.MethodPost, ts.URL+path, "application/json", body, bearer(token))
	}

	// Verify with a moved point and corrected fields.
	first := submitID(t, ts)
	res := post(fmt.Sprintf("/api/reports/%d/verify", first),
		`{"title":"Shelling of Jabrayil","location":[47.05,39.41],"fatalities":2,"geo_precision":1,"status":"disputed"}`)
	if res.status != http.StatusOK {
		t.Fatalf("verify = %d %s", res.status, res.body)
	}
	incidentID := int64(res.json(t)["incident_id"].(float64))
	p := getItems(t, ts, fmt.Sprintf("/api/collections/incidents/items?status=disputed"))
	if len(p.fc.Features) != 1 {
		t.Fatalf("disputed incidents = %d, want 1", len(p.fc.Features))
	}
	f := p.fc.Features[0]
	if pt := f.Point(); pt[0] != 47.05 || pt[1] != 39.41 || f.Properties["fatalities"] != 2.0 || f.Properties["title"] != "Shelling of Jabrayil" {
		t.Errorf("verified incident = %v %v, want the corrections applied", pt, f.Properties)
	}
	if f.Properties["report_id"] != float64(first) {
		t.Errorf("report_id = %v, want %d", f.Properties["report_id"], first)
	}

	// A second report of the same event merges as an additional source.
	second := submit(t, ts, reportBody(func(p map[string]any) { p["source_urls"] = []string{"https://example.org/second"} }))
	secondID := int64(second.json(t)["id"].(float64))
	res = post(fmt.Sprintf("/api/reports/%d/verify", secondID), fmt.Sprintf(`{"merge_into":%d,"note":"same event"}`, incidentID))
	if res.status != http.StatusOK || int64(res.json(t)["incident_id"].(float64)) != incidentID {
		t.Fatalf("merge = %d %s", res.status, res.body)
	}
	body := getOK(t, fmt.Sprintf("%s/api/collections/incidents/items/%d", ts.URL, incidentID))
	if !strings.Contains(string(body), "https://example.org/second") {
		t.Errorf("merged incident lacks the second report's source: %s", body)
	}
	if n := countRows(t, ts, "incidents"); n != 1 {
		t.Errorf("incidents = %d after a merge, want 1", n)
	}

	// Reject needs a reason; a rejected report stays private.
	third := submitID(t, ts)
	if res := post(fmt.Sprintf("/api/reports/%d/reject", third), `{}`); res.status != http.StatusUnprocessableEntity {
		t.Errorf("reject without reason = %d, want 422", res.status)
	}
	if res := post(fmt.Sprintf("/api/reports/%d/reject", third), `{"reason":"duplicate of an earlier report"}`); res.status != http.StatusOK {
		t.Fatalf("reject = %d %s", res.status, res.body)
	}
	if res := post(fmt.Sprintf("/api/reports/%d/verify", third), `{}`); res.status != http.StatusConflict {
		t.Errorf("verify after reject = %d, want 409", res.status)
	}
	queue := do(t, http.MethodGet, ts.URL+"/api/reports?status=rejected", "", "", bearer(token))
	var rejected struct{ Features []map[string]any }
	json.Unmarshal(queue.body, &rejected)
	if len(rejected.Features) != 1 {
		t.Errorf("rejected queue = %s, want the one report", queue.body)
	}

	// Bad moderation input: clear 4xx, nothing changes.
	fourth := submitID(t, ts)
	bad := []struct {
		path, body string
		want       int
	}{
		{fmt.Sprintf("/api/reports/%d/verify", fourth), `{"location":[47]}`, 422},
		{fmt.Sprintf("/api/reports/%d/verify", fourth), `{"location":[47,95]}`, 422},
		{fmt.Sprintf("/api/reports/%d/verify", fourth), `{"status":"pending"}`, 422},
		{fmt.Sprintf("/api/reports/%d/verify", fourth), `{"event_type":"Skirmish"}`, 422},
		{fmt.Sprintf("/api/reports/%d/verify", fourth), `{"title":""}`, 422},
		{fmt.Sprintf("/api/reports/%d/verify", fourth), `{"merge_into":999999}`, 404},
		{fmt.Sprintf("/api/reports/%d/verify", fourth), `{"contact":"x"}`, 400},
		{fmt.Sprintf("/api/reports/%d/verify", fourth), `not json`, 400},
		{"/api/reports/999999/verify", `{}`, 404},
		{"/api/reports/abc/verify", `{}`, 404},
	}
	for _, tt := range bad {
		if res := post(tt.path, tt.body); res.status != tt.want {
			t.Errorf("POST %s %s = %d %s, want %d", tt.path, tt.body, res.status, res.body, tt.want)
		}
	}
	if res := do(t, http.MethodPost, ts.URL+fmt.Sprintf("/api/reports/%d/verify", fourth), "text/plain", `{}`, bearer(token)); res.status != http.StatusUnsupportedMediaType {
		t.Errorf("verify with text/plain = %d, want 415", res.status)
	}
	var pending int
	ts.DB.SQL().QueryRow(`SELECT count(*) FROM reports WHERE id = $1 AND status = 'pending'`, fourth).Scan(&pending)
	if pending != 1 {
		t.Errorf("report %d is no longer pending after only bad requests", fourth)
	}
	patch := do(t, http.MethodPatch, fmt.Sprintf("%s/api/incidents/%d", ts.URL, incidentID), "application/json", `{"fatalities":-3}`, bearer(token))
	if patch.status != http.StatusUnprocessableEntity {
		t.Errorf("PATCH fatalities -3 = %d, want 422", patch.status)
	}
}
