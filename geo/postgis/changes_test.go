package postgis_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// importFile imports the ACLED CSV at path.
func importFile(t *testing.T, db *postgis.DB, path string) postgis.ImportResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := geo.NewACLEDReader(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.ImportIncidents(context.Background(), r, postgis.ImportOptions{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

// allChanges follows the changes feed from since to its end.
func allChanges(t *testing.T, db *postgis.DB, since int64, limit int) ([]geo.Change, int64) {
	t.Helper()
	var out []geo.Change
	for {
		page, err := db.IncidentChanges(context.Background(), geo.ChangesQuery{Since: since, Limit: limit})
		if err != nil {
			t.Fatalf("changes since %d: %v", since, err)
		}
		out = append(out, page.Changes...)
		if page.Next < since {
			t.Fatalf("cursor went back from %d to %d", since, page.Next)
		}
		since = page.Next
		if !page.More {
			return out, since
		}
	}
}

// A bulk import writes no per-row live events (browsers would be
// flooded), but a mirror must learn of every row it wrote: one
// feed-only event each, and none for a re-import that changes nothing.
func TestBulkImportReachesChangesFeed(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	before := createAt(t, db, orb.Point{47.03, 39.40}, "")
	start, err := db.LatestEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1200 // above the bulk threshold
	path := writeGeneratedACLED(t, n)
	res := importFile(t, db, path)
	if !res.Bulk || res.Inserted != n || res.Events != n {
		t.Fatalf("import: bulk %v, inserted %d, events %d; want bulk, %d, %d", res.Bulk, res.Inserted, res.Events, n, n)
	}
	live, err := db.IncidentEvents(ctx, start, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 0 {
		t.Errorf("live events after a bulk import = %d, want 0 (the live stream skips bulk writes)", len(live))
	}
	changes, cursor := allChanges(t, db, start, 500)
	if len(changes) != n {
		t.Fatalf("changes after the import = %d, want %d", len(changes), n)
	}
	seen := map[int64]bool{before: true}
	for _, c := range changes {
		if c.Type != geo.EventCreated || c.Feature == nil || seen[c.IncidentID] {
			t.Fatalf("change %+v: want one incident.created with its feature per new incident", c)
		}
		seen[c.IncidentID] = true
	}
	var public int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM incidents WHERE status <> 'retracted'`).Scan(&public); err != nil {
		t.Fatal(err)
	}
	if len(seen) != public {
		t.Errorf("incidents known to a mirror = %d, want every public one (%d)", len(seen), public)
	}

	// The same file again changes nothing: no event.
	if res := importFile(t, db, path); res.Updated != 0 || res.Events != 0 {
		t.Errorf("re-import: updated %d, events %d; want 0, 0", res.Updated, res.Events)
	}
	if again, _ := allChanges(t, db, cursor, 500); len(again) != 0 {
		t.Errorf("changes after an unchanged re-import = %d, want 0", len(again))
	}
}

// A cursor older than the pruned history, or ahead of the newest event,
// is refused with ErrCursorExpired; the pruned-through cursor itself and
// since=latest still work.
func TestChangesCursorAfterPrune(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	createAt(t, db, orb.Point{47.03, 39.40}, "")
	createAt(t, db, orb.Point{47.04, 39.41}, "")
	last, err := db.LatestEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.IncidentChanges(ctx, geo.ChangesQuery{Since: 0, Limit: 10}); err != nil {
		t.Fatalf("since=0 before any prune: %v", err)
	}
	if _, err := db.SQL().Exec(`SELECT prune_incident_events('0 seconds')`); err != nil {
		t.Fatal(err)
	}
	for _, since := range []int64{0, last - 1, last + 1} {
		_, err := db.IncidentChanges(ctx, geo.ChangesQuery{Since: since, Limit: 10})
		var expired *geo.CursorExpiredError
		if !errors.Is(err, geo.ErrCursorExpired) || !errors.As(err, &expired) {
			t.Errorf("since=%d after pruning through %d: err %v, want ErrCursorExpired", since, last, err)
		}
	}
	page, err := db.IncidentChanges(ctx, geo.ChangesQuery{Since: last, Limit: 10})
	if err != nil || len(page.Changes) != 0 || page.Next != last || page.More {
		t.Errorf("since=%d (the pruned-through id) = %+v, %v; want an empty page at the same cursor", last, page, err)
	}
	latest, err := db.IncidentChanges(ctx, geo.ChangesQuery{Latest: true})
	if err != nil || latest.Next != last {
		t.Errorf("since=latest = %+v, %v; want cursor %d", latest, err, last)
	}
}

// Re-enrichment after loading borders changes public derived fields
// (country by polygon, border distance): mirrors get a feed-only event
// per changed incident, browsers none; a second run changes nothing and
// writes no event.
func TestReEnrichReachesChangesFeed(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	a := createAt(t, db, realPlace(t, idMincivan).Point, "")
	b := createAt(t, db, orb.Point{-30, 0}, "")
	start, err := db.LatestEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	loadRealBorders(t, db)
	if _, err := db.ReEnrich(ctx); err != nil {
		t.Fatal(err)
	}
	if live, err := db.IncidentEvents(ctx, start, 100); err != nil || len(live) != 0 {
		t.Errorf("live events after re-enrichment = %d, %v; want none", len(live), err)
	}
	changes, cursor := allChanges(t, db, start, 100)
	var got []int64
	for _, c := range changes {
		got = append(got, c.IncidentID)
		if c.Type != geo.EventUpdated || strings.Contains(string(c.Feature), `"border_distance_m" : null`) {
			t.Errorf("change of incident %d: type %s, feature %s; want incident.updated with a border distance", c.IncidentID, c.Type, c.Feature)
		}
	}
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("incidents changed by re-enrichment = %v, want [%d %d]", got, a, b)
	}
	if _, err := db.ReEnrich(ctx); err != nil {
		t.Fatal(err)
	}
	if again, _ := allChanges(t, db, cursor, 100); len(again) != 0 {
		t.Errorf("a second re-enrichment wrote %d changes, want 0", len(again))
	}
}
