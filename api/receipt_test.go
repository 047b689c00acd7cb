package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// TestReceiptStatus: a report's receipt carries a status link that answers
// pending, then published or not published, to whoever holds it; the same
// link comes back on a replay; a wrong or missing token tells nothing (the
// same 404 as a report that does not exist), so ids cannot be enumerated.
func TestReceiptStatus(t *testing.T) {
	ts := newTestServer(t)
	mod := addUser(t, ts, "mod", geo.RoleModerator)
	status := func(link string, want int) string {
		t.Helper()
		res := do(t, http.MethodGet, ts.URL+link, "", "")
		if res.status != want {
			t.Fatalf("GET %s = %d %s, want %d", link, res.status, res.body, want)
		}
		if want != http.StatusOK {
			return ""
		}
		if cc := res.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", link, cc)
		}
		body := res.json(t)
		if len(body) != 2 {
			t.Errorf("GET %s = %v, want only id and status (public status only)", link, body)
		}
		s, _ := body["status"].(string)
		return s
	}
	submitOne := func(key string) (int64, string) {
		t.Helper()
		res := submit(t, ts, reportBody(func(p map[string]any) { p["description"] = "Shelling reported by " + key }), "Idempotency-Key: "+key)
		if res.status != http.StatusCreated {
			t.Fatalf("submit = %d %s", res.status, res.body)
		}
		body := res.json(t)
		id := int64(body["id"].(float64))
		link, _ := body["status_url"].(string)
		if !regexp.MustCompile(fmt.Sprintf(`^/api/reports/%d/status\?token=[0-9a-f]{32}$`, id)).MatchString(link) {
			t.Fatalf("status_url = %q, want /api/reports/%d/status?token=<32 hex digits>", link, id)
		}
		return id, link
	}

	a, linkA := submitOne("receipt-a")
	if got := status(linkA, http.StatusOK); got != "pending" {
		t.Errorf("a new report's status = %q, want pending", got)
	}
	// Retried with its Idempotency-Key: the same receipt, the same link.
	if _, again := submitOne("receipt-a"); again != linkA {
		t.Errorf("replayed submission's status_url = %q, want the first one %q", again, linkA)
	}
	b, linkB := submitOne("receipt-b")
	if linkB == linkA {
		t.Fatal("two reports share a status link")
	}

	// Another report's token, a made-up token, a report that does not exist: all the same 404.
	tokenA := linkA[strings.Index(linkA, "token=")+6:]
	tokenB := linkB[strings.Index(linkB, "token=")+6:]
	status(fmt.Sprintf("/api/reports/%d/status?token=%s", b, tokenA), http.StatusNotFound)
	status(fmt.Sprintf("/api/reports/%d/status?token=%s", a, strings.Repeat("0", 32)), http.StatusNotFound)
	status(fmt.Sprintf("/api/reports/%d/status?token=%s", b+1000, tokenB), http.StatusNotFound)
	// No token or a malformed one: 400 naming the token.
	res := do(t, http.MethodGet, fmt.Sprintf("%s/api/reports/%d/status", ts.URL, a), "", "")
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "token") {
		t.Errorf("no token = %d %s, want 400 naming the token", res.status, res.body)
	}
	status(fmt.Sprintf("/api/reports/%d/status?token=%s", a, "not-hex"), http.StatusBadRequest)
	status("/api/reports/abc/status?token="+tokenA, http.StatusNotFound)

	// Published once verified, not published once rejected.
	if v := do(t, http.MethodPost, fmt.Sprintf("%s/api/reports/%d/verify", ts.URL, a), "application/json",
		`{"title": "Shelling near Jabrayil"}`, bearer(mod)); v.status != http.StatusOK {
		t.Fatalf("verify = %d %s", v.status, v.body)
	}
	if r := do(t, http.MethodPost, fmt.Sprintf("%s/api/reports/%d/reject", ts.URL, b), "application/json",
		`{"reason": "duplicate of another report"}`, bearer(mod)); r.status != http.StatusOK {
		t.Fatalf("reject = %d %s", r.status, r.body)
	}
	if got := status(linkA, http.StatusOK); got != "published" {
		t.Errorf("verified report's status = %q, want published", got)
	}
	if got := status(linkB, http.StatusOK); got != "not_published" {
		t.Errorf("rejected report's status = %q, want not_published", got)
	}
}
