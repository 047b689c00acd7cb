package api_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo"
)

// TestSoak runs a steady mixed load (reads of small and 1,000-feature
// pages, single features and tiles; report submissions) for INCIDENTMAP_SOAK (e.g. 10m,
// `make soak`) and checks that the server keeps answering without 5xx and
// that its heap and goroutines stay flat: what a slow leak would break.
func TestSoak(t *testing.T) {
	length := os.Getenv("INCIDENTMAP_SOAK")
	if length == "" {
		t.Skip("soak: set INCIDENTMAP_SOAK=10m (make soak)")
	}
	duration, err := time.ParseDuration(length)
	if err != nil || duration < 30*time.Second {
		t.Fatalf("INCIDENTMAP_SOAK=%q: want a duration of at least 30s", length)
	}
	const rate = 200 // requests per second, open loop
	_, base, db := liveServer(t, api.Config{ReportRate: geo.RateLimit{Burst: 1e6, PerMinute: 1e6}})
	if _, err := db.SQL().Exec(`INSERT INTO incidents (occurred_at, event_type, title, notes, geom)
		SELECT '2020-10-18'::timestamptz + g * interval '1 minute', 'Battles', 'Soak ' || g, repeat('n', 200),
		       ST_SetSRID(ST_MakePoint(44 + (g % 200) * 0.02, 38 + (g / 200) * 0.02), 4326)
		FROM generate_series(1, 20000) g`); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	targets := []func(i int) (string, string, string){
		func(i int) (string, string, string) {
			x := 44 + float64(i%150)*0.02
			return "GET", fmt.Sprintf("/api/collections/incidents/items?bbox=%.2f,38,%.2f,38.5", x, x+0.5), ""
		},
		func(i int) (string, string, string) {
			return "GET", fmt.Sprintf("/api/collections/incidents/items/%d", 1+i%20000), ""
		},
		func(i int) (string, string, string) {
			return "GET", fmt.Sprintf("/api/collections/incidents/tiles/WebMercatorQuad/8/%d/%d", 95+i%3, 159+i%3), ""
		},
		func(i int) (string, string, string) { return "GET", "/api/collections/incidents/items?limit=1000", "" },
		func(i int) (string, string, string) {
			return "POST", "/api/reports", reportBody(func(p map[string]any) { p["description"] = fmt.Sprintf("Soak report %d", i) })
		},
	}
	var (
		sent, failed, serverErrors atomic.Int64
		wg                         sync.WaitGroup
	)
	type sample struct {
		at         time.Duration
		heap       uint64
		goroutines int
	}
	var samples []sample
	measure := func(at time.Duration) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		samples = append(samples, sample{at, ms.HeapInuse, runtime.NumGoroutine()})
	}
	start := time.Now()
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	nextSample := time.Duration(0)
	for i := 0; time.Since(start) < duration; i++ {
		<-tick.C
		if at := time.Since(start); at >= nextSample {
			measure(at)
			nextSample += duration / 20
		}
		method, path, body := targets[i%len(targets)](i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent.Add(1)
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			if body != "" {
				req.Header.Set("Content-Type", "application/geo+json")
			}
			res, err := client.Do(req)
			if err != nil {
				failed.Add(1)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode >= 500 {
				serverErrors.Add(1)
			}
		}()
	}
	wg.Wait()
	client.CloseIdleConnections()
	time.Sleep(time.Second)
	measure(time.Since(start))
	// Flat: after the first tenth (pools and caches filling), nothing grows
	// beyond a margin over the early plateau.
	warm := samples[len(samples)/10:]
	early, late := warm[:len(warm)/2], warm[len(warm)/2:]
	peak := func(ss []sample) (uint64, int) {
		var h uint64
		var g int
		for _, s := range ss {
			h, g = max(h, s.heap), max(g, s.goroutines)
		}
		return h, g
	}
	eh, eg := peak(early)
	lh, lg := peak(late)
	var heaps, gors []string
	for _, s := range samples {
		heaps = append(heaps, fmt.Sprintf("%.1f", float64(s.heap)/(1<<20)))
		gors = append(gors, fmt.Sprint(s.goroutines))
	}
	t.Logf("soak %v at %d req/s asked (%.0f achieved): %d requests, %d without answer, %d × 5xx", duration, rate,
		float64(sent.Load())/duration.Seconds(), sent.Load(), failed.Load(), serverErrors.Load())
	t.Logf("heap in use (MiB, after GC): %s", strings.Join(heaps, " "))
	t.Logf("goroutines: %s", strings.Join(gors, " "))
	if serverErrors.Load() > 0 || failed.Load() > 0 {
		t.Errorf("%d answers were 5xx and %d got no answer", serverErrors.Load(), failed.Load())
	}
	if lh > eh+eh/2+8<<20 {
		t.Errorf("heap grew from a peak of %d MiB to %d MiB", eh>>20, lh>>20)
	}
	if lg > eg+50 {
		t.Errorf("goroutines grew from a peak of %d to %d", eg, lg)
	}
}
