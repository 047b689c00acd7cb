package postgis_test

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// Live updates resume after the last event id a reader saw, so ids must
// rise in commit order. Here the first edit takes its event id and is
// then held up (a test trigger sleeps after the event is written, before
// the statement ends) while a second edit takes a later id and commits; a
// reader polls in between. After both commit the reader must have both
// events: a later-numbered event read first must not hide an earlier
// number committed after it.
func TestIncidentEventsInCommitOrder(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	slowID := createAt(t, db, orb.Point{47.03, 39.40}, "")
	fastID := createAt(t, db, orb.Point{46.99, 39.38}, "")
	if _, err := db.SQL().Exec(`
		CREATE FUNCTION test_pause() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.title = 'slow' THEN PERFORM pg_sleep(0.6); END IF;
			RETURN NULL;
		END $$;
		-- Row triggers fire by name: after incidents_event has written the event.
		CREATE TRIGGER zz_test_pause AFTER UPDATE ON incidents FOR EACH ROW EXECUTE FUNCTION test_pause();`); err != nil {
		t.Fatal(err)
	}
	after, err := db.LatestEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}

	slowDone := make(chan error, 1)
	go func() {
		_, err := db.SQL().Exec(`UPDATE incidents SET title = 'slow' WHERE id = $1`, slowID)
		slowDone <- err
	}()
	time.Sleep(200 * time.Millisecond) // the slow edit has its event id and sleeps
	fastDone := make(chan error, 1)
	go func() {
		_, err := db.SQL().Exec(`UPDATE incidents SET title = 'fast' WHERE id = $1`, fastID)
		fastDone <- err
	}()

	seen := map[int64]bool{}
	read := func() {
		events, err := db.IncidentEvents(ctx, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			seen[e.IncidentID] = true
			after = e.ID
		}
	}
	time.Sleep(200 * time.Millisecond)
	read() // while the slow edit is still open
	for _, done := range []chan error{slowDone, fastDone} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	read()
	if !seen[slowID] || !seen[fastID] {
		t.Errorf("the reader got events of incidents %v; want both %d and %d", seen, slowID, fastID)
	}
}
