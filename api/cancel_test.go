package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// A client that gives up takes its query with it: PostgreSQL stops
// working on a request nobody waits for, instead of finishing it and
// holding a connection (and locks) meanwhile.
func TestClientCancelStopsQuery(t *testing.T) {
	ts := newTestServer(t)
	owner := ts.DB.SQL()
	// The owner holds a lock that makes the items query wait in
	// PostgreSQL, where the test can see it.
	lock, err := owner.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec(`LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/collections/incidents/items?limit=10", nil)
	done := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()

	waiting := func() int {
		var n int
		if err := owner.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND usename = 'incidentmap_web'
			  AND state = 'active' AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for waiting() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the items query never reached PostgreSQL")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	deadline = time.Now().Add(3 * time.Second)
	for waiting() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the query still runs in PostgreSQL 3s after its client went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
