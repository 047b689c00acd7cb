package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// featureProps fetches one incident feature's properties.
func featureProps(t *testing.T, ts *testServer, id int64) map[string]any {
	t.Helper()
	var f struct{ Properties map[string]any }
	body := getOK(t, fmt.Sprintf("%s/api/collections/incidents/items/%d", ts.URL, id))
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatalf("decode feature %d: %v", id, err)
	}
	return f.Properties
}

// A moderator's sources are validated field by field (422 naming the
// field, nothing stored); valid ones are published with every field and
// counted; the first shape {name, date} is still accepted.
func TestPatchSources(t *testing.T) {
	ts := newTestServer(t)
	token := addUser(t, ts, "mod", geo.RoleModerator)
	inc := seedIncident(t, ts, 47.03, 39.40, nil)
	patch := func(body string) response {
		return do(t, http.MethodPatch, fmt.Sprintf("%s/api/incidents/%d", ts.URL, inc.ID), "application/json", body, bearer(token))
	}
	hash := strings.Repeat("0f", 32)
	for _, tt := range []struct {
		name, sources, field, msg string
	}{
		{"javascript url", `[{"publisher":"x","url":"javascript:alert(1)"}]`, "sources[0].url", "not an absolute URL"},
		{"ftp url", `[{"url":"ftp://example.org/a"}]`, "sources[0].url", "only http and https"},
		{"bad kind", `[{"publisher":"x"},{"publisher":"y","kind":"rumour"}]`, "sources[1].kind", "unknown kind"},
		{"bad sha256", `[{"publisher":"x","archive_url":"https://archive.example/1","sha256":"XYZ"}]`, "sources[0].sha256", "64 lower-case hexadecimal"},
		{"sha256 without archive", `[{"publisher":"x","sha256":"` + hash + `"}]`, "sources[0].sha256", "archive_url"},
		{"bad archive url", `[{"publisher":"x","archive_url":"data:text/html,x"}]`, "sources[0].archive_url", "not an absolute URL"},
		{"invented date", `[{"publisher":"x","published_at":"last week"}]`, "sources[0].published_at", "YYYY-MM-DD"},
		{"empty source", `[{"title":"t"}]`, "sources[0]", "publisher or a url"},
	} {
		res := patch(`{"sources":` + tt.sources + `}`)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: got %d %s, want 422", tt.name, res.status, res.body)
			continue
		}
		var body struct{ Errors []geo.FieldError }
		json.Unmarshal(res.body, &body)
		if len(body.Errors) != 1 || body.Errors[0].Field != tt.field || !strings.Contains(body.Errors[0].Message, tt.msg) {
			t.Errorf("%s: got errors %+v, want %s: …%s…", tt.name, body.Errors, tt.field, tt.msg)
		}
	}
	if res := patch(`{"sources":[{"publisher":"x","colour":"red"}]}`); res.status != http.StatusBadRequest {
		t.Errorf("unknown source field: got %d, want 400", res.status)
	}
	if res := patch(`{"sources":[{"publisher":"x","name":"y"}]}`); res.status != http.StatusBadRequest {
		t.Errorf("publisher and name differing: got %d, want 400", res.status)
	}
	p := featureProps(t, ts, inc.ID)
	if src := p["sources"].([]any); len(src) != 1 || src[0].(map[string]any)["publisher"] != "Armenian MoD" {
		t.Fatalf("after refused patches: sources %v, want the seeded one unchanged", p["sources"])
	}

	res := patch(`{"sources":[
		{"url":"https://www.reuters.com/a","publisher":"Reuters","title":"Truce breached","published_at":"2020-10-18T06:00:00Z",
		 "accessed_at":"2020-10-19","archive_url":"https://web.archive.org/web/2020/https://www.reuters.com/a","sha256":"` + hash + `","kind":"media"},
		{"url":"https://www.reuters.com/b","publisher":" REUTERS ","kind":"media"},
		{"name":"Armenian Ministry of Defence","date":"2020-10-18","kind":"official_statement"}]}`)
	if res.status != http.StatusOK {
		t.Fatalf("patch valid sources: got %d %s, want 200", res.status, res.body)
	}
	p = featureProps(t, ts, inc.ID)
	if got := p["independent_sources"]; got != 2.0 {
		t.Errorf("independent_sources = %v, want 2 (Reuters twice, the ministry)", got)
	}
	src := p["sources"].([]any)
	first := src[0].(map[string]any)
	for k, want := range map[string]string{"url": "https://www.reuters.com/a", "publisher": "Reuters", "title": "Truce breached",
		"published_at": "2020-10-18T06:00:00Z", "accessed_at": "2020-10-19", "sha256": hash, "kind": "media",
		"archive_url": "https://web.archive.org/web/2020/https://www.reuters.com/a"} {
		if first[k] != want {
			t.Errorf("sources[0].%s = %v, want %q", k, first[k], want)
		}
	}
	if third := src[2].(map[string]any); third["publisher"] != "Armenian Ministry of Defence" || third["published_at"] != "2020-10-18" ||
		third["name"] != nil || third["date"] != nil {
		t.Errorf("old-shape source published as %v, want publisher and published_at only", third)
	}
}

// min_sources=N returns exactly the incidents with N or more independent
// sources; a bad value is a 400 naming the parameter.
func TestItemsMinSources(t *testing.T) {
	ts := newTestServer(t)
	ids := map[int64]string{}
	for _, s := range []struct {
		name    string
		sources []geo.Source
	}{
		{"none", nil},
		{"one", []geo.Source{{Publisher: "Reuters"}}},
		{"wire copies", []geo.Source{{Publisher: "Reuters", URL: "https://reuters.com/1"}, {Publisher: "reuters", URL: "https://reuters.com/2"}}},
		{"two", []geo.Source{{Publisher: "Reuters"}, {Publisher: "Azatutyun"}}},
		{"two by host", []geo.Source{{URL: "https://www.bbc.co.uk/1"}, {URL: "https://t.me/x/2"}}},
		{"three", []geo.Source{{Publisher: "Reuters"}, {Publisher: "Azatutyun"}, {Publisher: "APA"}}},
	} {
		inc := seedIncident(t, ts, 47.03, 39.40, func(inc *geo.Incident) { inc.Title, inc.Sources = s.name, s.sources })
		ids[inc.ID] = s.name
	}
	titles := func(query string) []string {
		t.Helper()
		p := getItems(t, ts, "/api/collections/incidents/items?"+query)
		var got []string
		for _, f := range p.fc.Features {
			got = append(got, ids[int64(f.ID.(float64))])
		}
		slices.Sort(got)
		return got
	}
	for query, want := range map[string][]string{
		"min_sources=2":                        {"three", "two", "two by host"},
		"min_sources=3":                        {"three"},
		"min_sources=1":                        {"one", "three", "two", "two by host", "wire copies"},
		"min_sources=0":                        {"none", "one", "three", "two", "two by host", "wire copies"},
		"filter=independent_sources%20%3D%202": {"two", "two by host"},
	} {
		if got := titles(query); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", query, got, want)
		}
	}
	for _, bad := range []string{"-1", "two", "1.5", "9999"} {
		res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?min_sources="+bad, "", "")
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "min_sources") {
			t.Errorf("min_sources=%s: got %d %s, want 400 naming min_sources", bad, res.status, res.body)
		}
	}
}

// reported incidents are published: shown by default with verified and
// disputed ones, and alone with status=reported; retracted ones are not.
func TestReportedStatusVisibility(t *testing.T) {
	ts := newTestServer(t)
	ids := map[int64]string{}
	for _, status := range geo.IncidentStatuses() {
		inc := seedIncident(t, ts, 47.03, 39.40, func(inc *geo.Incident) { inc.Status = status })
		ids[inc.ID] = status
	}
	statuses := func(query string) []string {
		t.Helper()
		var got []string
		for _, f := range getItems(t, ts, "/api/collections/incidents/items"+query).fc.Features {
			got = append(got, ids[int64(f.ID.(float64))])
		}
		slices.Sort(got)
		return got
	}
	for query, want := range map[string][]string{
		"":                           {"disputed", "reported", "verified"},
		"?status=reported":           {"reported"},
		"?status=reported,retracted": {"reported", "retracted"},
	} {
		if got := statuses(query); !slices.Equal(got, want) {
			t.Errorf("items%s: got %v, want %v", query, got, want)
		}
	}
	token := addUser(t, ts, "mod", geo.RoleModerator)
	id := submitID(t, ts)
	res := do(t, http.MethodPost, fmt.Sprintf("%s/api/reports/%d/verify", ts.URL, id), "application/json", `{"status":"reported"}`, bearer(token))
	if res.status != http.StatusOK {
		t.Fatalf("verify as reported: got %d %s, want 200", res.status, res.body)
	}
	p := featureProps(t, ts, int64(res.json(t)["incident_id"].(float64)))
	if p["status"] != "reported" {
		t.Errorf("status = %v, want reported", p["status"])
	}
	// The report is a source of its own, the link it gave another.
	if p["independent_sources"] != 2.0 {
		t.Errorf("independent_sources = %v, want 2 (the report, example.org)", p["independent_sources"])
	}
	first := p["sources"].([]any)[0].(map[string]any)
	if first["publisher"] != fmt.Sprintf("incidentmap report %d", id) || first["kind"] != "eyewitness_report" {
		t.Errorf("sources[0] = %v, want the report as an eyewitness report", first)
	}
	if link := p["sources"].([]any)[1].(map[string]any); link["published_at"] != nil {
		t.Errorf("the report's link = %v, want no invented published_at", link)
	}
}

// Sources given when verifying replace those built from the report (the
// report still counts as one); a report merged into an incident counts as
// one more independent source.
func TestVerifySources(t *testing.T) {
	ts := newTestServer(t)
	token := addUser(t, ts, "mod", geo.RoleModerator)
	post := func(path, body string) response {
		return do(t, http.MethodPost, ts.URL+path, "application/json", body, bearer(token))
	}
	first := submitID(t, ts)
	if res := post(fmt.Sprintf("/api/reports/%d/verify", first), `{"sources":[{"url":"ftp://x.example/1"}]}`); res.status != http.StatusUnprocessableEntity {
		t.Errorf("verify with an ftp source: got %d %s, want 422", res.status, res.body)
	}
	res := post(fmt.Sprintf("/api/reports/%d/verify", first),
		`{"sources":[{"url":"https://example.org/news/1","publisher":"Example News","kind":"media"},{"publisher":"APA","kind":"media"}]}`)
	if res.status != http.StatusOK {
		t.Fatalf("verify with sources: got %d %s, want 200", res.status, res.body)
	}
	incidentID := int64(res.json(t)["incident_id"].(float64))
	p := featureProps(t, ts, incidentID)
	if src := p["sources"].([]any); len(src) != 2 || src[0].(map[string]any)["publisher"] != "Example News" {
		t.Errorf("sources = %v, want the moderator's two", p["sources"])
	}
	if p["independent_sources"] != 3.0 {
		t.Errorf("independent_sources = %v, want 3 (Example News, APA, the report)", p["independent_sources"])
	}
	second := submitID(t, ts)
	if res := post(fmt.Sprintf("/api/reports/%d/verify", second), fmt.Sprintf(`{"merge_into":%d}`, incidentID)); res.status != http.StatusOK {
		t.Fatalf("merge: got %d %s, want 200", res.status, res.body)
	}
	// The second report adds itself; its link is to Example News's site,
	// counted already.
	if got := featureProps(t, ts, incidentID)["independent_sources"]; got != 4.0 {
		t.Errorf("after a merged report: independent_sources = %v, want 4 (its link is Example News's site)", got)
	}
}
