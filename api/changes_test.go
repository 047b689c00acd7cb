package api_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

// changesDoc is a decoded changes page.
type changesDoc struct {
	Type           string                       `json:"type"`
	Cursor         string                       `json:"cursor"`
	More           bool                         `json:"more"`
	NumberReturned int                          `json:"numberReturned"`
	Links          []struct{ Href, Rel string } `json:"links"`
	Features       []json.RawMessage            `json:"features"`
}

// change is one feature of the feed, its event split off.
type change struct {
	ID    int64
	Event struct {
		ID   int64
		Type string
		At   time.Time
	}
	Feature map[string]any // without event: what a mirror stores
}

func (d changesDoc) next(t *testing.T) string {
	t.Helper()
	for _, l := range d.Links {
		if l.Rel == "next" {
			return l.Href
		}
	}
	t.Fatalf("changes page without a next link: %+v", d.Links)
	return ""
}

func (d changesDoc) changes(t *testing.T) []change {
	t.Helper()
	var out []change
	for _, raw := range d.Features {
		var f map[string]any
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("feature is not JSON: %v %s", err, raw)
		}
		var c change
		ev, _ := json.Marshal(f["event"])
		if err := json.Unmarshal(ev, &c.Event); err != nil || c.Event.ID == 0 {
			t.Fatalf("feature without a valid event member: %s", raw)
		}
		delete(f, "event")
		c.ID = int64(f["id"].(float64))
		c.Feature = f
		out = append(out, c)
	}
	return out
}

// getChanges GETs a changes URL (absolute, or a query for the feed) and
// decodes a 200.
func getChanges(t *testing.T, ts *testServer, target string) changesDoc {
	t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = ts.URL + "/api/collections/incidents/changes?" + target
	}
	res := do(t, http.MethodGet, target, "", "")
	if res.status != http.StatusOK {
		t.Fatalf("GET %s = %d %s, want 200", target, res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/geo+json" {
		t.Errorf("Content-Type = %q, want application/geo+json", ct)
	}
	var d changesDoc
	if err := json.Unmarshal(res.body, &d); err != nil {
		t.Fatalf("changes page is not JSON: %v %s", err, res.body)
	}
	if d.Type != "FeatureCollection" || d.NumberReturned != len(d.Features) {
		t.Fatalf("changes page: type %q, numberReturned %d of %d features", d.Type, d.NumberReturned, len(d.Features))
	}
	return d
}

// latestCursor is the feed's current cursor (since=latest).
func latestCursor(t *testing.T, ts *testServer) int64 {
	t.Helper()
	d := getChanges(t, ts, "since=latest")
	n, err := strconv.ParseInt(d.Cursor, 10, 64)
	if err != nil || len(d.Features) != 0 {
		t.Fatalf("since=latest: cursor %q, %d features; want a number and none", d.Cursor, len(d.Features))
	}
	return n
}

// mirror is a copy kept in sync by the feed: incident id → feature.
type mirror map[int64]map[string]any

// follow applies the feed from since with pages of limit until no more
// are waiting, and returns the cursor reached. Event ids must rise.
func (m mirror) follow(t *testing.T, ts *testServer, since int64, limit int) int64 {
	t.Helper()
	target := fmt.Sprintf("since=%d&limit=%d", since, limit)
	last := since
	for {
		d := getChanges(t, ts, target)
		for _, c := range d.changes(t) {
			if c.Event.ID <= last {
				t.Fatalf("event %d after %d: ids must rise", c.Event.ID, last)
			}
			last = c.Event.ID
			if c.Event.Type == geo.EventRetracted {
				if c.Feature["geometry"] != nil || c.Feature["properties"].(map[string]any)["status"] != "retracted" {
					t.Fatalf("tombstone %v: want geometry null and status retracted", c.Feature)
				}
				delete(m, c.ID)
			} else {
				m[c.ID] = c.Feature
			}
		}
		cursor, _ := strconv.ParseInt(d.Cursor, 10, 64)
		if cursor < last || cursor < since {
			t.Fatalf("cursor %d behind the events read (%d) or the request (%d)", cursor, last, since)
		}
		if !d.More {
			return cursor
		}
		target = d.next(t)
	}
}

// publicItems is the table's public incidents, as items serves them.
func publicItems(t *testing.T, ts *testServer) mirror {
	t.Helper()
	var doc struct{ Features []map[string]any }
	if err := json.Unmarshal(getOK(t, ts.URL+"/api/collections/incidents/items?limit=10000"), &doc); err != nil {
		t.Fatal(err)
	}
	out := mirror{}
	for _, f := range doc.Features {
		out[int64(f["id"].(float64))] = f
	}
	return out
}

func assertMirror(t *testing.T, got, want mirror) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("mirror holds %d incidents, the table %d public ones", len(got), len(want))
	}
	for id, f := range want {
		if !reflect.DeepEqual(got[id], f) {
			t.Errorf("incident %d: mirror has %v\nwant %v", id, got[id], f)
		}
	}
}

// sqlExec runs a statement as the owner (the incidents trigger writes the
// events, as for any write).
func sqlExec(t *testing.T, ts *testServer, query string, args ...any) {
	t.Helper()
	if _, err := ts.DB.SQL().Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Create, update, retract and re-publish incidents, noting the cursor
// after each step; the feed from each cursor must return exactly the
// tail after it, one entry per incident (its latest event), with the
// incident's state now.
func TestChangesFeedTails(t *testing.T) {
	ts := newTestServer(t)
	type step struct {
		name     string
		incident *int64
		do       func()
	}
	var a, b, c int64
	retitle := func(id *int64, title string) func() {
		return func() {
			sqlExec(t, ts, `UPDATE incidents SET title = $2, version = version + 1, updated_at = now() WHERE id = $1`, *id, title)
		}
	}
	status := func(id *int64, s string) func() {
		return func() {
			sqlExec(t, ts, `UPDATE incidents SET status = $2, version = version + 1, updated_at = now() WHERE id = $1`, *id, s)
		}
	}
	create := func(id *int64, title string) func() {
		return func() { *id = seedIncident(t, ts, 47.03, 39.40, func(i *geo.Incident) { i.Title = title }).ID }
	}
	steps := []step{
		{"create A", &a, create(&a, "A")},
		{"create B", &b, create(&b, "B")},
		{"update A", &a, retitle(&a, "A, corrected")},
		{"retract B", &b, status(&b, geo.StatusRetracted)},
		{"create C", &c, create(&c, "C")},
		{"re-publish B", &b, status(&b, geo.StatusDisputed)},
		{"retract C", &c, status(&c, geo.StatusRetracted)},
		{"update A again", &a, retitle(&a, "A, final")},
	}
	cursors := []int64{latestCursor(t, ts)}
	for _, s := range steps {
		s.do()
		cur := latestCursor(t, ts)
		if cur <= cursors[len(cursors)-1] {
			t.Fatalf("%s: cursor %d did not advance from %d", s.name, cur, cursors[len(cursors)-1])
		}
		cursors = append(cursors, cur)
	}
	// The state now: A public, B public (disputed), C retracted.
	wantType := map[int64]string{a: geo.EventUpdated, b: geo.EventCreated, c: geo.EventRetracted}
	for k, since := range cursors {
		// Expected: each incident changed after step k, at its latest step.
		var wantIDs []int64
		var wantEvents []int64
		latest := map[int64]int{}
		for i := k; i < len(steps); i++ {
			latest[*steps[i].incident] = i
		}
		for i := k; i < len(steps); i++ {
			if id := *steps[i].incident; latest[id] == i {
				wantIDs = append(wantIDs, id)
				wantEvents = append(wantEvents, cursors[i+1])
			}
		}
		d := getChanges(t, ts, fmt.Sprintf("since=%d", since))
		got := d.changes(t)
		var gotIDs, gotEvents []int64
		for _, ch := range got {
			gotIDs = append(gotIDs, ch.ID)
			gotEvents = append(gotEvents, ch.Event.ID)
			// A's latest event is always an update; B's re-publication
			// creates it anew; C ends retracted.
			if want := wantType[ch.ID]; ch.Event.Type != want {
				t.Errorf("since step %d: incident %d type %s, want %s", k, ch.ID, ch.Event.Type, want)
			}
		}
		if !reflect.DeepEqual(gotIDs, wantIDs) || !reflect.DeepEqual(gotEvents, wantEvents) {
			t.Errorf("since=%d (after %d steps): incidents %v at events %v; want %v at %v", since, k, gotIDs, gotEvents, wantIDs, wantEvents)
		}
		if d.Cursor != strconv.FormatInt(cursors[len(cursors)-1], 10) || d.More {
			t.Errorf("since=%d: cursor %s more %v; want %d, false", since, d.Cursor, d.More, cursors[len(cursors)-1])
		}
		if want := fmt.Sprintf("since=%d", cursors[len(cursors)-1]); !strings.HasSuffix(d.next(t), want) {
			t.Errorf("since=%d: next %s, want it to end in %s", since, d.next(t), want)
		}
	}
	// The retracted incident's tombstone carries when it was retracted.
	d := getChanges(t, ts, fmt.Sprintf("since=%d", cursors[len(cursors)-2]-1))
	for _, ch := range d.changes(t) {
		if ch.ID == c {
			props := ch.Feature["properties"].(map[string]any)
			if _, err := time.Parse(time.RFC3339, fmt.Sprint(props["retracted_at"])); err != nil {
				t.Errorf("tombstone retracted_at = %v, want an RFC 3339 time", props["retracted_at"])
			}
		}
	}

	// A mirror built from the feed, one event per page or many, equals
	// the public items.
	for _, limit := range []int{1, 2, 1000} {
		m := mirror{}
		m.follow(t, ts, 0, limit)
		assertMirror(t, m, publicItems(t, ts))
	}
}

// Bad cursors: 400 for one that cannot be read, 410 for one the history
// no longer (or never) covered, with a message saying what to do.
func TestChangesBadCursor(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 47.03, 39.40, nil)
	latest := latestCursor(t, ts)
	for _, tc := range []struct {
		query  string
		status int
		says   string
	}{
		{"", 400, "since"},
		{"since=abc", 400, "since"},
		{"since=-1", 400, "since"},
		{"since=1&limit=0", 400, "limit"},
		{"since=1&bbox=1,2,3,4", 400, "bbox"},
		{fmt.Sprintf("since=%d", latest+1000), 410, "ahead of the newest event"},
	} {
		res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/changes?"+tc.query, "", "")
		if res.status != tc.status || !strings.Contains(string(res.body), tc.says) {
			t.Errorf("?%s = %d %s; want %d naming %q", tc.query, res.status, res.body, tc.status, tc.says)
		}
	}
	sqlExec(t, ts, `SELECT prune_incident_events('0 seconds')`)
	res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/changes?since=0", "", "")
	if res.status != http.StatusGone || !strings.Contains(string(res.body), "older than the retained history") {
		t.Errorf("since=0 after pruning = %d %s; want 410 saying the history was pruned", res.status, res.body)
	}
	if got := latestCursor(t, ts); got != latest {
		t.Errorf("since=latest after pruning = %d, want %d", got, latest)
	}
}

// Writers keep changing incidents while a mirror pages through the feed:
// no change may be lost, so once the writers stop and the mirror has
// caught up it equals the table.
func TestChangesConcurrentWrites(t *testing.T) {
	ts := newTestServer(t)
	var ids []int64
	for i := range 6 {
		ids = append(ids, seedIncident(t, ts, 47+float64(i)/100, 39.4, nil).ID)
	}
	m := mirror{}
	cursor := m.follow(t, ts, 0, 3)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range 40 {
				id := ids[rng.IntN(len(ids))]
				var err error
				switch rng.IntN(4) {
				case 0:
					_, err = ts.DB.SQL().Exec(`UPDATE incidents SET status = 'retracted', updated_at = now() WHERE id = $1`, id)
				case 1:
					_, err = ts.DB.SQL().Exec(`UPDATE incidents SET status = 'verified', updated_at = now() WHERE id = $1`, id)
				default:
					_, err = ts.DB.SQL().Exec(`UPDATE incidents SET title = $2, fatalities = fatalities + 1, updated_at = now() WHERE id = $1`,
						id, fmt.Sprintf("writer %d edit %d", w, i))
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	for polling := true; polling; {
		select {
		case <-done:
			polling = false
		default:
		}
		cursor = m.follow(t, ts, cursor, 3)
	}
	m.follow(t, ts, cursor, 3)
	assertMirror(t, m, publicItems(t, ts))
}

// items?updated_since= returns the incidents changed at or after a time.
func TestItemsUpdatedSince(t *testing.T) {
	ts := newTestServer(t)
	old := seedIncident(t, ts, 47.03, 39.40, func(i *geo.Incident) { i.Title = "old" })
	sqlExec(t, ts, `UPDATE incidents SET updated_at = '2020-10-18T00:00:00Z' WHERE id = $1`, old.ID)
	seedIncident(t, ts, 47.04, 39.41, func(i *geo.Incident) { i.Title = "new" })
	p := getItems(t, ts, "/api/collections/incidents/items?updated_since=2021-01-01T00:00:00Z")
	if got := p.titles(); !reflect.DeepEqual(got, []string{"new"}) {
		t.Errorf("updated_since=2021: titles %v, want [new]", got)
	}
	p = getItems(t, ts, "/api/collections/incidents/items?updated_since=2020-10-18T00:00:00Z")
	if len(p.fc.Features) != 2 {
		t.Errorf("updated_since equal to an incident's updated_at: %d features, want 2 (the bound is inclusive)", len(p.fc.Features))
	}
	res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?updated_since=yesterday", "", "")
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "updated_since") {
		t.Errorf("updated_since=yesterday = %d %s, want 400 naming updated_since", res.status, res.body)
	}
}

// Events are kept for days now, so a live stream resuming with an old
// Last-Event-ID may have more than one backlog page to catch up on: it
// gets every event, in order, with none skipped between the pages.
func TestEventsResumeLongBacklog(t *testing.T) {
	ts := newTestServer(t)
	start := latestCursor(t, ts)
	const n = 1500 // more than one backlog page (1,000)
	sqlExec(t, ts, `INSERT INTO incidents (occurred_at, event_type, title, geom)
		SELECT '2020-10-18', 'Battles', 'Clash ' || g, ST_SetSRID(ST_MakePoint(47, 39.4), 4326) FROM generate_series(1, $1) g`, n)
	last := latestCursor(t, ts)
	// A first stream sees the last event: the server's hub has read them all.
	first, stopFirst := openEvents(t, ts.URL, fmt.Sprintf("Last-Event-ID: %d", last-1))
	for nextEvent(t, first, 10*time.Second).id != strconv.FormatInt(last, 10) {
	}
	stopFirst()
	events, stop := openEvents(t, ts.URL, fmt.Sprintf("Last-Event-ID: %d", start))
	defer stop()
	for want := start + 1; want <= last; want++ {
		if e := nextEvent(t, events, 10*time.Second); e.id != strconv.FormatInt(want, 10) {
			t.Fatalf("resumed stream: event %s, want %d", e.id, want)
		}
	}
}
