package main

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestInlineTime(t *testing.T) {
	at := time.Date(1970, 1, 1, 0, 0, 0, 500, time.UTC)
	got := inline("SELECT 1 WHERE occurred_at >= $1 AND fatalities > $2 AND x = $10", []any{at, 3, 1, 2, 3, 4, 5, 6, 7, 0.5})
	want := "SELECT 1 WHERE occurred_at >= '1970-01-01T00:00:00.0000005Z' AND fatalities > 3 AND x = 0.5"
	if got != want {
		t.Errorf("inline:\n got %s\nwant %s", got, want)
	}
}

// TestColdTiles checks that cold requests never repeat a datetime start,
// within a wrk run, across runs (as measureHTTP's warm-up and measurement
// are) and against fetch, and that every start precedes the data.
func TestColdTiles(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk not installed")
	}
	var (
		mu     sync.Mutex
		starts = map[string]int{}
		bad    []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dt := r.URL.Query().Get("datetime")
		start, ok := strings.CutSuffix(dt, "/..")
		ts, err := time.Parse(time.RFC3339, start)
		mu.Lock()
		starts[dt]++
		if r.URL.Path != "/tile/1/2/3" || !ok || err != nil || ts.Year() < 1960 || !ts.Before(time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)) {
			bad = append(bad, r.URL.String())
		}
		mu.Unlock()
	}))
	defer srv.Close()
	cold, err := newColdTiles()
	if err != nil {
		t.Fatal(err)
	}
	defer cold.remove()
	target := srv.URL + "/tile/1/2/3"
	if _, err := cold.fetch(target); err != nil {
		t.Fatal(err)
	}
	cfg := config{conns: 4}
	for range 2 {
		m, err := runWrk(cfg, target, time.Second, "-s", cold.script)
		if err != nil {
			t.Fatal(err)
		}
		if m.count == 0 || m.errors != "" {
			t.Fatalf("wrk: %d requests, errors %q", m.count, m.errors)
		}
	}
	if _, err := cold.fetch(target); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("%d bad requests, e.g. %s", len(bad), bad[0])
	}
	for dt, n := range starts {
		if n > 1 {
			t.Errorf("datetime=%s requested %d times", dt, n)
		}
	}
	if len(starts) < 100 {
		t.Errorf("only %d requests", len(starts))
	}
}
