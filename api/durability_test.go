package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

// ownCluster starts a private cluster (with fsync on: this test is about
// durability) that the test may kill, and a migrated database on it.
func ownCluster(t *testing.T) (*localpg.Cluster, *postgis.DB) {
	t.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "incidentmap-fault-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // the postgres user must enter it
		t.Fatal(err)
	}
	cluster, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(dir, "pg"), Logger: quietLogger()})
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() { cluster.Thaw(); cluster.Stop(context.Background()) })
	db, err := postgis.Open(ctx, cluster.DSN("postgres"), postgis.Options{StatementTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return cluster, db
}

// Every report that got a 201 survives the database being killed and
// restarted mid-load; while it is down the server answers 503 quickly,
// and it recovers without a restart.
func TestReportsSurviveDatabaseCrash(t *testing.T) {
	cluster, db := ownCluster(t)
	srv := api.New(api.Config{Logger: quietLogger(), RequestTimeout: 3 * time.Second,
		ReportRate: geo.RateLimit{Burst: 1e6, PerMinute: 1e6}},
		api.Deps{Ready: db, Features: db, Reports: db, Moderation: db, Events: db})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	client := &http.Client{Timeout: 10 * time.Second}

	var (
		mu          sync.Mutex
		acked       []int64
		unavailable int
		slowest     time.Duration
		other       []string
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				res, err := client.Post(ts.URL+"/api/reports", "application/json", strings.NewReader(reportBody(nil)))
				took := time.Since(start)
				mu.Lock()
				slowest = max(slowest, took)
				switch {
				case err != nil:
					other = append(other, err.Error())
				case res.StatusCode == http.StatusCreated:
					var body struct{ ID int64 }
					json.NewDecoder(res.Body).Decode(&body)
					acked = append(acked, body.ID)
				case res.StatusCode == http.StatusServiceUnavailable:
					unavailable++
					if res.Header.Get("Retry-After") == "" {
						other = append(other, "503 without Retry-After")
					}
				default:
					other = append(other, res.Status)
				}
				mu.Unlock()
				if res != nil {
					res.Body.Close()
				}
				if err != nil || res.StatusCode != http.StatusCreated {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	ctx := context.Background()
	for cycle := 0; cycle < 2; cycle++ {
		time.Sleep(700 * time.Millisecond)
		if err := cluster.Kill(ctx); err != nil {
			t.Fatalf("kill: %v", err)
		}
		time.Sleep(700 * time.Millisecond)
		if err := cluster.Restart(ctx); err != nil {
			t.Fatalf("restart: %v", err)
		}
	}
	time.Sleep(1500 * time.Millisecond) // recovered: more reports go through
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	if len(acked) == before {
		t.Errorf("no report accepted after the database came back: the server did not recover")
	}
	if unavailable == 0 {
		t.Errorf("no 503 while the database was down")
	}
	if len(other) > 0 {
		t.Errorf("unexpected answers while faulting: %v", other[:min(len(other), 10)])
	}
	if slowest > 5*time.Second {
		t.Errorf("slowest answer took %v; requests must fail fast while the database is down", slowest)
	}
	var stored int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM reports WHERE id = ANY($1)`, int64Array(acked)).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	t.Logf("acknowledged %d reports, %d answers 503 during 2 crash cycles, slowest %v", len(acked), unavailable, slowest)
	if stored != len(acked) {
		t.Errorf("%d of %d acknowledged reports are stored: %d lost", stored, len(acked), len(acked)-stored)
	}
}

// int64Array formats ids as a PostgreSQL array literal.
func int64Array(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// A frozen database (SIGSTOP: connections accepted, nothing answered) must
// not hang requests: they get 503 within the request deadline, and the
// server recovers when the database thaws.
func TestFrozenDatabaseAnswers503(t *testing.T) {
	cluster, _ := ownCluster(t)
	// As serve does: statements and stalled reads end with the request deadline.
	db, err := postgis.Open(context.Background(), cluster.DSN("postgres"),
		postgis.Options{StatementTimeout: 2 * time.Second, ReadStall: 2500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := api.New(api.Config{Logger: quietLogger(), RequestTimeout: 2 * time.Second},
		api.Deps{Ready: db, Features: db, Reports: db, Moderation: db, Events: db})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	client := &http.Client{Timeout: 20 * time.Second}
	post := func() (int, time.Duration) {
		start := time.Now()
		res, err := client.Post(ts.URL+"/api/reports", "application/json", strings.NewReader(reportBody(nil)))
		if err != nil {
			t.Fatalf("POST during freeze: %v", err)
		}
		res.Body.Close()
		return res.StatusCode, time.Since(start)
	}
	get := func(path string) (int, time.Duration) {
		start := time.Now()
		res, err := client.Get(ts.URL + path)
		if err != nil {
			t.Fatalf("GET %s during freeze: %v", path, err)
		}
		res.Body.Close()
		return res.StatusCode, time.Since(start)
	}
	if code, _ := post(); code != http.StatusCreated {
		t.Fatalf("before freezing: %d", code)
	}
	if err := cluster.Freeze(); err != nil {
		t.Fatal(err)
	}
	for _, check := range []func() (int, time.Duration){
		post,
		func() (int, time.Duration) { return get("/api/collections/incidents/items?bbox=46,38,48,40") },
		func() (int, time.Duration) { return get("/api/collections") },
	} {
		code, took := check()
		if code != http.StatusServiceUnavailable || took > 4*time.Second {
			t.Errorf("during freeze: %d after %v, want 503 within the 2s deadline (plus the stall margin)", code, took)
		}
	}
	if err := cluster.Thaw(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _ := post()
		if code == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery 60s after thawing: %d", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
