package api_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo"
)

// A query string that does not parse whole must be refused: handlers would
// otherwise see only the parameters Go could read and answer with the
// unfiltered collection.
func TestMalformedQueryRefused(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 47.03, 39.40, nil)
	mod := addUser(t, ts, "mod", geo.RoleModerator)
	many := strings.Repeat("&x=1", 10_000)
	tests := []struct {
		name, path string
		headers    []string
	}{
		{"semicolon after a filter", "/api/collections/incidents/items?event_type=Nope;x=1", nil},
		{"semicolon in bbox", "/api/collections/incidents/items?bbox=200,0,1,1;x=1", nil},
		{"10,001 parameters", "/api/collections/incidents/items?bbox=200,0,1,1" + many, nil},
		{"properties 10,001 times", "/api/collections/incidents/items?" + strings.Repeat("properties=title&", 10_001), nil},
		{"places", "/api/places?q=Jabrayil;x=1", nil},
		{"tiles", "/api/collections/incidents/tiles/WebMercatorQuad/5/12/20?event_type=Battles;x=1", nil},
		{"layer items", "/api/collections/countries/items?bbox=46,38,48,40;x=1", nil},
		{"moderation list", "/api/reports?status=pending;x=1", []string{bearer(mod)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, http.MethodGet, ts.URL+tt.path, "", "", tt.headers...)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400 (%.200s)", res.status, res.body)
			}
			if got := res.json(t)["description"]; !strings.Contains(got.(string), "malformed query string") {
				t.Errorf("description = %q, want it to name the malformed query string", got)
			}
		})
	}
	// A percent-encoded semicolon is data, not a separator.
	if res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?q=a%3Bb", "", ""); res.status != http.StatusOK {
		t.Errorf("q=a%%3Bb: status %d, want 200", res.status)
	}
}

// Text is stored exactly as sent: a surrogate pair written as escapes is
// the character it encodes, and an explicit UTF-8 charset is accepted.
func TestReportTextStoredExactly(t *testing.T) {
	ts := newTestServer(t)
	mod := addUser(t, ts, "mod", geo.RoleModerator)
	body := strings.Replace(reportBody(nil), "Mortar", `Mortar \ud83d\udca5 \"quoted\" \\ud800`, 1)
	res := do(t, http.MethodPost, ts.URL+"/api/reports", "application/geo+json; charset=UTF-8", body)
	if res.status != http.StatusCreated {
		t.Fatalf("submit = %d %s", res.status, res.body)
	}
	id := res.json(t)["id"].(float64)
	got := do(t, http.MethodGet, ts.URL+"/api/reports/"+strconv.FormatInt(int64(id), 10), "", "", bearer(mod)).json(t)
	desc, _ := got["properties"].(map[string]any)["description"].(string)
	if want := `Mortar 💥 "quoted" \ud800 fire`; !strings.HasPrefix(desc, want) {
		t.Errorf("description = %q, want prefix %q", desc, want)
	}
}

// A body announced too large is refused from its Content-Length alone,
// before the client sends it.
func TestEarly413(t *testing.T) {
	ts := newTestServer(t)
	mod := addUser(t, ts, "mod", geo.RoleModerator)
	for _, tt := range []struct{ ctype, path string }{
		{"application/json", "/api/reports"},
		{"multipart/form-data; boundary=x", "/api/reports"},
		{"application/json", "/api/reports/1/verify"},
	} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 100000000\r\n\r\n{", tt.path, tt.ctype, mod)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s %s: no answer before the body was sent: %v", tt.path, tt.ctype, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s %s: status %d, want 413", tt.path, tt.ctype, res.StatusCode)
		}
	}
}

// One client address may not take every live-update slot: past its cap it
// gets 429 with Retry-After while other clients still connect, and a
// closed stream frees its slot.
func TestLiveStreamsCappedPerClient(t *testing.T) {
	ts := newTestServerOn(t, pgtestNewDB(t), api.Config{MaxSSEPerClient: 3, MaxSSEClients: 10,
		TrustedProxies: []string{"127.0.0.0/8", "::1/128"}})
	from := func(addr string) string { return "X-Forwarded-For: " + addr }
	var stops []func()
	for range 3 {
		_, stop := openEvents(t, ts.URL, from("203.0.113.7"))
		stops = append(stops, stop)
	}
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	res := do(t, http.MethodGet, ts.URL+"/api/events", "", "", from("203.0.113.7"))
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("4th stream from one address = %d (Retry-After %q), want 429 with Retry-After", res.status, res.header.Get("Retry-After"))
	}
	_, stop := openEvents(t, ts.URL, from("198.51.100.9")) // another client still gets in
	stops = append(stops, stop)
	stops[0]()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/events", nil)
		req.Header.Set("X-Forwarded-For", "203.0.113.7")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		status := r.StatusCode
		r.Body.Close()
		cancel()
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after closing a stream: status %d, want 200", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
