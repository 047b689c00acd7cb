package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

type healthDoc struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// getHealth fetches path and returns the status, the decoded body and how
// long the answer took.
func getHealth(t *testing.T, base, path string) (int, healthDoc, time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	res, err := client.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	var doc healthDoc
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatalf("GET %s: decode body: %v", path, err)
	}
	return res.StatusCode, doc, time.Since(start)
}

func TestReadyzMigrated(t *testing.T) {
	ts := newTestServer(t)
	if code, doc, _ := getHealth(t, ts.URL, "/readyz"); code != http.StatusOK || doc.Status != "ready" {
		t.Errorf("/readyz = %d %+v, want 200 ready", code, doc)
	}
	if code, _, _ := getHealth(t, ts.URL, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
}

// The database goes away (stopped, then frozen) under a running server:
// /readyz must say 503 quickly, /healthz stays 200, and readiness comes
// back by itself when the database does.
func TestReadyzFollowsDatabase(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "incidentmap-readyz-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// As root the cluster runs as the postgres user, who must enter the dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cluster, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(dir, "pg"), Logger: quietLogger()})
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() { cluster.Thaw(); cluster.Stop(context.Background()) })
	db, err := postgis.Open(ctx, cluster.DSN("postgres"), postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.New(api.Config{Logger: quietLogger()}, api.Deps{Ready: db}).Handler())
	t.Cleanup(ts.Close)

	waitReady := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, doc, _ := getHealth(t, ts.URL, "/readyz")
			if code == http.StatusOK {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz still %d (%s) 20s after %s", code, doc.Reason, what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	expectUnavailable := func(what string) {
		t.Helper()
		code, doc, took := getHealth(t, ts.URL, "/readyz")
		if code != http.StatusServiceUnavailable || doc.Reason == "" {
			t.Errorf("/readyz with database %s = %d %+v, want 503 with a reason", what, code, doc)
		}
		if took > 2*time.Second {
			t.Errorf("/readyz with database %s took %v, want < 2s", what, took)
		}
		if code, _, _ := getHealth(t, ts.URL, "/healthz"); code != http.StatusOK {
			t.Errorf("/healthz with database %s = %d, want 200", what, code)
		}
	}

	waitReady("start")
	if err := cluster.Kill(ctx); err != nil {
		t.Fatalf("kill cluster: %v", err)
	}
	expectUnavailable("stopped")
	if err := cluster.Restart(ctx); err != nil {
		t.Fatalf("restart cluster: %v", err)
	}
	waitReady("restart")

	if err := cluster.Freeze(); err != nil {
		t.Fatalf("freeze cluster: %v", err)
	}
	expectUnavailable("frozen")
	if err := cluster.Thaw(); err != nil {
		t.Fatalf("thaw cluster: %v", err)
	}
	waitReady("thaw")
}
