package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

// Map reads go to a streaming replica (DATABASE_READ_URL) while reports
// stay on the primary: edits on the primary reach the map through
// replication with fresh ETags, and with the primary frozen the map still
// answers while submissions fail fast with 503. The server runs on the two
// least-privilege logins docs/security.md tells operators to create.
func TestServeWithReadReplica(t *testing.T) {
	ctx := context.Background()
	dir := traversableTempDir(t)
	quiet := map[string]string{"fsync": "off"} // durability is not the subject here
	primary, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(dir, "primary"), Settings: quiet})
	if err != nil {
		t.Fatalf("start primary: %v", err)
	}
	t.Cleanup(func() { primary.Thaw(); primary.Stop(context.Background()) })
	if err := primary.CreateDatabase(ctx, "incidentmap", ""); err != nil {
		t.Fatal(err)
	}
	ownerDSN := primary.DSN("incidentmap")
	if out, err := exec.Command(binary, "migrate", "up", "--database-url", ownerDSN).CombinedOutput(); err != nil {
		t.Fatalf("migrate as owner: %v\n%s", err, out)
	}
	owner, err := sql.Open("postgres", ownerDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	for _, stmt := range []string{
		`CREATE ROLE incidentmap_web LOGIN IN ROLE incidentmap_public`,
		`CREATE ROLE incidentmap_moderation LOGIN IN ROLE incidentmap_moderator`,
	} {
		if _, err := owner.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	replica, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(dir, "replica"), Settings: quiet, ReplicaOf: primary})
	if err != nil {
		t.Fatalf("start replica: %v", err)
	}
	t.Cleanup(func() { replica.Stop(context.Background()) })

	as := func(dsn, login string) string {
		s, err := postgis.WithUser(dsn, login)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	srv := startServer(t, []string{
		"DATABASE_URL=" + as(ownerDSN, postgis.LoginPublic),
		"DATABASE_MODERATION_URL=" + as(ownerDSN, postgis.LoginModerator),
		"DATABASE_READ_URL=" + as(replica.DSN("incidentmap"), postgis.LoginPublic),
	}, "--request-timeout", "2s")
	defer srv.stop(t)
	if strings.Contains(srv.logs.String(), "database privileges") {
		t.Errorf("least-privilege logins still draw a privilege warning:\n%s", srv.logs)
	}

	if _, err := owner.Exec(`INSERT INTO incidents (occurred_at, event_type, title, geom)
		VALUES ('2020-10-18T04:00:00Z', 'Explosions/Remote violence', 'replicated', ST_SetSRID(ST_MakePoint(47.03, 39.40), 4326))`); err != nil {
		t.Fatal(err)
	}
	items := srv.URL + "/api/collections/incidents/items"
	etag := waitForTitle(t, items, "replicated", "")
	if _, err := owner.Exec(`UPDATE incidents SET title = 'edited on the primary'`); err != nil {
		t.Fatal(err)
	}
	if etag2 := waitForTitle(t, items, "edited on the primary", etag); etag2 == etag {
		t.Errorf("ETag %s unchanged after the edit reached the replica", etag)
	}

	// The map is read from the replica: it keeps answering while the
	// primary is frozen; submissions need the primary and fail fast.
	if err := primary.Freeze(); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, items); code != http.StatusOK || !strings.Contains(body, "edited on the primary") {
		t.Errorf("items with the primary frozen = %d %s, want 200 from the replica", code, body)
	}
	start := time.Now()
	res, err := http.Post(srv.URL+"/api/reports", "application/geo+json", strings.NewReader(replicaTestReport))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || time.Since(start) > 5*time.Second {
		t.Errorf("report with the primary frozen = %d after %v, want 503 within the deadline", res.StatusCode, time.Since(start))
	}
	if code, _ := get(t, srv.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the primary frozen = %d, want 503", code)
	}
	if err := primary.Thaw(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := http.Post(srv.URL+"/api/reports", "application/geo+json", strings.NewReader(replicaTestReport))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusCreated {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no report accepted within 15s of thawing the primary (last: %v %v)", res.StatusCode, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const replicaTestReport = `{"type": "Feature", "geometry": {"type": "Point", "coordinates": [47.03, 39.40]},
	"properties": {"occurred_at": "2020-10-18T04:00:00Z", "event_type": "Explosions/Remote violence",
	"description": "Shelling heard near the river."}}`

// waitForTitle polls items until its only feature has title and an ETag
// other than notETag, and returns that ETag.
func waitForTitle(t *testing.T, url, title, notETag string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		var fc struct {
			Features []struct {
				Properties struct{ Title string }
			}
		}
		err = json.NewDecoder(res.Body).Decode(&fc)
		res.Body.Close()
		if err == nil && len(fc.Features) == 1 && fc.Features[0].Properties.Title == title && res.Header.Get("ETag") != notETag {
			return res.Header.Get("ETag")
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q did not reach the replica within 10s (status %d, features %+v)", title, res.StatusCode, fc.Features)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
