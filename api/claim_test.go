package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// claimsOfFeature decodes the claims and contested flag of a feature.
func claimsOfFeature(t *testing.T, body []byte) (claims []map[string]any, contested any) {
	t.Helper()
	var f struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatalf("feature is not JSON: %v\n%s", err, body)
	}
	raw, _ := f.Properties["claims"].([]any)
	for _, c := range raw {
		claims = append(claims, c.(map[string]any))
	}
	return claims, f.Properties["contested"]
}

// A moderator adds, edits and deletes claims; the public feature shows
// them and the contested flag follows; contested=true finds exactly the
// contested incidents.
func TestClaimsAPI(t *testing.T) {
	ts := newTestServer(t)
	token := addUser(t, ts, "mod", geo.RoleModerator)
	accused := seedIncident(t, ts, 46.9, 39.4, func(i *geo.Incident) { i.Title = "accused" })
	quiet := seedIncident(t, ts, 46.8, 39.3, func(i *geo.Incident) { i.Title = "quiet" })
	claimsURL := fmt.Sprintf("%s/api/incidents/%d/claims", ts.URL, accused.ID)
	post := func(url, body string, headers ...string) response {
		return do(t, http.MethodPost, url, "application/json", body, headers...)
	}

	// Sign-in required.
	for _, h := range [][]string{nil, {bearer("not-a-token")}} {
		if res := post(claimsURL, `{"party":"x"}`, h...); res.status != http.StatusUnauthorized {
			t.Errorf("POST claims with %v = %d, want 401", h, res.status)
		}
	}
	if res := do(t, http.MethodDelete, claimsURL+"/1", "", ""); res.status != http.StatusUnauthorized {
		t.Errorf("DELETE claim without a token = %d, want 401", res.status)
	}

	// Invalid claims: 422 naming each field; unreadable ones 400.
	invalid := []struct{ body, field, msg string }{
		{`{}`, "party", "required"},
		{`{"party":"Armenia MoD","stance":"insists","text":"x","source":{"name":"n"}}`, "stance", `unknown stance`},
		{`{"party":"Armenia MoD","stance":"attributes_to","text":"x","source":{"name":"n"}}`, "attributed_to", "required"},
		{`{"party":"Armenia MoD","stance":"asserts","text":"x"}`, "source", "required"},
		{`{"party":"Armenia MoD","stance":"asserts","text":"x","source":{"url":"javascript:alert(1)"}}`, "source.url", "http or https"},
		{`{"party":"Armenia MoD","stance":"asserts","text":"x","source":{"name":"n"},"claimed_at":"yesterday"}`, "claimed_at", "RFC 3339"},
	}
	for _, tc := range invalid {
		res := post(claimsURL, tc.body, bearer(token))
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), `"field":"`+tc.field+`"`) ||
			!strings.Contains(string(res.body), tc.msg) {
			t.Errorf("POST %s = %d %s, want 422 on %s saying %q", tc.body, res.status, res.body, tc.field, tc.msg)
		}
	}
	for _, body := range []string{`{"party":`, `{"party":"a","version":3}`, `{"source":{"name":"n","date":"x"}}`} {
		if res := post(claimsURL, body, bearer(token)); res.status != http.StatusBadRequest {
			t.Errorf("POST %s = %d %s, want 400", body, res.status, res.body)
		}
	}
	if res := post(fmt.Sprintf("%s/api/incidents/999999/claims", ts.URL),
		`{"party":"a","stance":"asserts","text":"x","source":{"name":"n"}}`, bearer(token)); res.status != http.StatusNotFound {
		t.Errorf("POST claim on no incident = %d, want 404", res.status)
	}

	res := post(claimsURL, `{"party":"Ministry of Defence of Armenia","actor_code":"ARM-MOD","stance":"attributes_to",
		"attributed_to":"Azerbaijan","text":"Azeri forces launched mortar and artillery fire","claimed_at":"2020-10-18T06:00:00+04:00",
		"source":{"name":"Global Research","url":"https://www.globalresearch.ca/"}}`, bearer(token))
	if res.status != http.StatusCreated || res.header.Get("ETag") != `"v1"` || res.header.Get("Location") == "" {
		t.Fatalf("POST claim = %d %v %s, want 201 with ETag \"v1\" and Location", res.status, res.header, res.body)
	}
	if res.json(t)["id"] == nil {
		t.Errorf("POST claim answered no id: %s", res.body)
	}
	res = post(claimsURL, `{"party":"Azerbaijan","stance":"no_comment","text":"no immediate response","source":{"name":"Global Research"}}`, bearer(token))
	if res.status != http.StatusCreated {
		t.Fatalf("POST second claim = %d %s", res.status, res.body)
	}
	bakuID := int64(res.json(t)["id"].(float64))

	feature := getOK(t, fmt.Sprintf("%s/api/collections/incidents/items/%d", ts.URL, accused.ID))
	claims, contested := claimsOfFeature(t, feature)
	if len(claims) != 2 || contested != true {
		t.Fatalf("feature claims %v contested %v, want 2 claims, contested (a charge the accused left unanswered)", claims, contested)
	}
	if c := claims[0]; c["party"] != "Ministry of Defence of Armenia" || c["actor_code"] != "ARM-MOD" || c["stance"] != "attributes_to" ||
		c["attributed_to"] != "Azerbaijan" || c["claimed_at"] != "2020-10-18T02:00:00+00:00" ||
		c["source"].(map[string]any)["url"] != "https://www.globalresearch.ca/" {
		t.Errorf("first public claim = %v, want the Armenian claim as sent", c)
	}

	// Baku denies: contested. A stale If-Match is refused.
	claimURL := fmt.Sprintf("%s/%d", claimsURL, bakuID)
	res = do(t, http.MethodPatch, claimURL, "application/json", `{"stance":"denies","text":"denies it"}`, bearer(token), `If-Match: "v1"`)
	if res.status != http.StatusOK || res.json(t)["version"] != 2.0 || res.json(t)["party"] != "Azerbaijan" {
		t.Fatalf("PATCH claim = %d %s, want 200, version 2, party kept", res.status, res.body)
	}
	res = do(t, http.MethodPatch, claimURL, "application/json", `{"text":"stale"}`, bearer(token), `If-Match: "v1"`)
	if res.status != http.StatusPreconditionFailed {
		t.Errorf("PATCH with a stale If-Match = %d %s, want 412", res.status, res.body)
	}
	res = do(t, http.MethodPatch, claimURL, "application/json", `{"stance":"attributes_to"}`, bearer(token))
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), "attributed_to") {
		t.Errorf("PATCH to attributes_to without whom = %d %s, want 422 on attributed_to", res.status, res.body)
	}
	if res := do(t, http.MethodPatch, fmt.Sprintf("%s/api/incidents/%d/claims/%d", ts.URL, quiet.ID, bakuID), "application/json",
		`{"text":"x"}`, bearer(token)); res.status != http.StatusNotFound {
		t.Errorf("PATCH a claim through another incident = %d, want 404", res.status)
	}

	// contested=true (and the CQL2 queryable) finds exactly the contested one.
	for _, q := range []string{"contested=true", "filter=contested%20%3D%20true"} {
		p := getItems(t, ts, "/api/collections/incidents/items?"+q)
		var titles []string
		for _, f := range p.fc.Features {
			titles = append(titles, f.Properties["title"].(string))
		}
		sort.Strings(titles)
		if strings.Join(titles, ",") != "accused" {
			t.Errorf("items?%s = %v, want [accused]", q, titles)
		}
	}
	// CSV: the filter, and with derived=true the derived column.
	body := getOK(t, ts.URL+"/api/collections/incidents/items?contested=true&f=csv&derived=true")
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if col := -1; err != nil || len(rows) != 2 {
		t.Errorf("contested CSV = %q (%v), want a header and one row", body, err)
	} else if col = slices.Index(rows[0], "contested"); col < 0 || rows[1][col] != "true" {
		t.Errorf("contested CSV = %q, want a contested column that is true", body)
	}
	p := getItems(t, ts, "/api/collections/incidents/items?contested=false")
	if len(p.fc.Features) != 1 || p.fc.Features[0].Properties["title"] != "quiet" {
		t.Errorf("items?contested=false = %d features, want only quiet", len(p.fc.Features))
	}
	if res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?contested=maybe", "", ""); res.status != http.StatusBadRequest {
		t.Errorf("contested=maybe = %d, want 400", res.status)
	}
	// Lists carry claims only on request.
	p = getItems(t, ts, "/api/collections/incidents/items?contested=true")
	if _, ok := p.fc.Features[0].Properties["claims"]; ok {
		t.Errorf("a list feature carries claims by default")
	}
	p = getItems(t, ts, "/api/collections/incidents/items?contested=true&properties=title,claims")
	if cs, _ := p.fc.Features[0].Properties["claims"].([]any); len(cs) != 2 {
		t.Errorf("properties=claims gives %v, want 2 claims", p.fc.Features[0].Properties["claims"])
	}

	// Moderators list claims with their versions.
	res = do(t, http.MethodGet, claimsURL, "", "", bearer(token))
	if res.status != http.StatusOK || res.json(t)["contested"] != true || len(res.json(t)["claims"].([]any)) != 2 {
		t.Errorf("GET claims = %d %s, want 2 claims, contested", res.status, res.body)
	}

	// Deleting the denial ends the contest; each change is in the audit log.
	if res := do(t, http.MethodDelete, claimURL, "", "", bearer(token), `If-Match: "v2"`); res.status != http.StatusNoContent {
		t.Fatalf("DELETE claim = %d %s, want 204", res.status, res.body)
	}
	if res := do(t, http.MethodDelete, claimURL, "", "", bearer(token)); res.status != http.StatusNotFound {
		t.Errorf("DELETE a deleted claim = %d, want 404", res.status)
	}
	if p := getItems(t, ts, "/api/collections/incidents/items?contested=true"); len(p.fc.Features) != 0 {
		t.Errorf("contested=true after the denial was deleted: %d features, want 0", len(p.fc.Features))
	}
	res = do(t, http.MethodGet, fmt.Sprintf("%s/api/incidents/%d/audit", ts.URL, accused.ID), "", "", bearer(token))
	for _, action := range []string{"claim.add", "claim.update", "claim.delete"} {
		if !strings.Contains(string(res.body), `"action":"`+action+`"`) {
			t.Errorf("incident audit lacks %s: %s", action, res.body)
		}
	}

	// A retracted incident's claims are not public.
	if _, err := ts.DB.SQL().Exec(`UPDATE incidents SET status = 'retracted' WHERE id = $1`, accused.ID); err != nil {
		t.Fatal(err)
	}
	feature = getOK(t, fmt.Sprintf("%s/api/collections/incidents/items/%d", ts.URL, accused.ID))
	if claims, _ := claimsOfFeature(t, feature); len(claims) != 0 {
		t.Errorf("retracted incident's public claims = %v, want none", claims)
	}
	p = getItems(t, ts, "/api/collections/incidents/items?status=retracted&properties=claims")
	if cs, _ := p.fc.Features[0].Properties["claims"].([]any); len(cs) != 0 {
		t.Errorf("retracted incident listed with claims %v, want none", cs)
	}
}
