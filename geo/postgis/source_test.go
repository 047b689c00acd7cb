package postgis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// sourceIncident is a valid incident with the given sources and report.
func sourceIncident(key string, sources []geo.Source, reportID *int64) geo.Incident {
	return geo.Incident{
		ExternalID: key, OccurredAt: time.Date(2020, 10, 18, 0, 0, 0, 0, time.UTC), TimePrecision: geo.TimeDay,
		EventType: "Explosions/Remote violence", SubEventType: "Shelling/artillery/missile attack",
		Title: "Shelling " + key, Point: orb.Point{47.03, 39.40}, GeoPrecision: geo.GeoExact,
		Status: geo.StatusVerified, Sources: sources, ReportID: reportID,
	}
}

// independentSources reads the stored count of incident id.
func independentSources(t *testing.T, db *postgis.DB, id int64) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT independent_sources FROM incidents WHERE id = $1`, id).Scan(&n); err != nil {
		t.Fatalf("read independent_sources of %d: %v", id, err)
	}
	return n
}

// The generated column and geo.IndependentSources count alike, on every
// kind of publisher spelling: case (Latin, Cyrillic, Armenian, Greek,
// Azerbaijani dotted İ), every white space Go knows (no-break spaces
// included), hosts of URLs without publisher, and the report.
func TestIndependentSourcesSQLMatchesGo(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	publishers := []string{
		"Reuters", "REUTERS", " reuters ", "Reu ters", "Armenian Ministry of Defence", "armenian\u00a0ministry  of\tdefence",
		"ministry\u2007of\u202fdefence", "ideographic\u3000space", "line\u2028sep", "nel\u0085x", "ogham\u1680space",
		"Азатутюн", "АЗАТУТЮН", "Ազատություն", "ԱԶԱՏՈՒԹՅՈՒՆ", "ΣΚΑΪ", "σκαϊ", "İTV", "itv", "ıtv", "Straße", "STRASSE",
		"Ǆ dz", "ǅ", "mid\u200bzero-width", "", "   ",
	}
	urls := []string{"", "https://www.Example.org/a", "http://example.org:8080/b", "https://user@example.com/c?x=1#y",
		"https://t.me/s/channel/1", "HTTPS://EXAMPLE.NET/Z", "https://пример.рф/путь"}
	// Publisher keys one by one.
	for _, p := range publishers {
		for _, u := range urls {
			src := geo.Source{Publisher: p, URL: u}
			b, _ := json.Marshal(src)
			var got *string
			if err := db.SQL().QueryRow(`SELECT im_publisher_key($1::jsonb)`, string(b)).Scan(&got); err != nil {
				t.Fatalf("im_publisher_key(%s): %v", b, err)
			}
			want := src.PublisherKey()
			if (got == nil) != (want == "") || got != nil && *got != want {
				t.Errorf("im_publisher_key(%s) = %v, PublisherKey = %q", b, deref(got), want)
			}
		}
	}
	// Whole lists, stored: the column equals the Go count.
	report := insertReport(t, db)
	lists := [][]geo.Source{nil, {{Publisher: "Reuters"}, {Publisher: " REUTERS"}}}
	for i := 0; i+3 <= len(publishers); i += 3 {
		lists = append(lists, []geo.Source{{Publisher: publishers[i]}, {Publisher: publishers[i+1], URL: urls[i%len(urls)]},
			{Publisher: publishers[i+2]}, {URL: urls[(i+1)%len(urls)]}})
	}
	lists = append(lists, []geo.Source{{Publisher: geo.ReportSourcePublisher(report)}, {Publisher: "Reuters"}},
		[]geo.Source{{Publisher: "Reuters", URL: "https://www.reuters.com/a"}, {URL: "https://reuters.com/b"}, {URL: "https://apnews.com/c"},
			{URL: "https://apnews.com/d"}, {URL: "ftp://x.example/e"}, {Publisher: "Medium author", URL: "https://medium.com/x"},
			{Publisher: "Other author", URL: "https://medium.com/y"}, {URL: "https://medium.com/z"}})
	for i, list := range lists {
		for _, rid := range []*int64{nil, &report} {
			inc := sourceIncident(fmt.Sprintf("count-%d-%v", i, rid != nil), list, rid)
			if err := db.CreateIncident(ctx, &inc); err != nil {
				t.Fatalf("create %s: %v", inc.ExternalID, err)
			}
			if got, want := independentSources(t, db, inc.ID), geo.IndependentSources(list, rid); got != want {
				t.Errorf("%s %+v: column %d, Go %d", inc.ExternalID, list, got, want)
			}
		}
	}
}

// insertReport adds a pending report and returns its id.
func insertReport(t *testing.T, db *postgis.DB) int64 {
	t.Helper()
	var id int64
	err := db.SQL().QueryRow(`INSERT INTO reports (geom, occurred_at, event_type, description)
		VALUES (ST_SetSRID(ST_MakePoint(47, 39), 4326), '2020-10-18', 'Battles', 'seen') RETURNING id`).Scan(&id)
	if err != nil {
		t.Fatalf("insert report: %v", err)
	}
	return id
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// min_sources= returns exactly the incidents with that many independent
// sources; the column follows every write (a patch of the sources, a
// merged report) and is public.
func TestMinSourcesFilter(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	report := insertReport(t, db)
	seed := map[string]struct {
		sources  []geo.Source
		reportID *int64
	}{
		"none":       {},
		"one":        {sources: []geo.Source{{Publisher: "Reuters", URL: "https://reuters.com/a"}}},
		"wire":       {sources: []geo.Source{{Publisher: "Reuters", URL: "https://reuters.com/a"}, {Publisher: "reuters", URL: "https://reuters.com/b"}}},
		"two":        {sources: []geo.Source{{Publisher: "Reuters"}, {Publisher: "Azatutyun"}}},
		"report+one": {sources: []geo.Source{{Publisher: "Reuters"}}, reportID: &report},
		"three":      {sources: []geo.Source{{Publisher: "Reuters"}, {Publisher: "Azatutyun"}, {URL: "https://www.bbc.co.uk/news/1"}}},
	}
	ids := map[string]int64{}
	for key, s := range seed {
		inc := sourceIncident(key, s.sources, s.reportID)
		if err := db.CreateIncident(ctx, &inc); err != nil {
			t.Fatalf("create %s: %v", key, err)
		}
		ids[key] = inc.ID
	}
	keysWith := func(min int) []string {
		t.Helper()
		q, err := geo.ParseIncidentQuery(url.Values{"min_sources": {fmt.Sprint(min)}, "limit": {"100"}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		_, err = db.StreamIncidents(ctx, q, func(b []byte) error {
			var f struct {
				Properties struct {
					ExternalID         string `json:"external_id"`
					IndependentSources int    `json:"independent_sources"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(b, &f); err != nil {
				return err
			}
			if f.Properties.IndependentSources < min {
				t.Errorf("%s: independent_sources %d under min_sources=%d", f.Properties.ExternalID, f.Properties.IndependentSources, min)
			}
			got = append(got, f.Properties.ExternalID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	for min, want := range map[int][]string{
		0: {"none", "one", "report+one", "three", "two", "wire"},
		1: {"one", "report+one", "three", "two", "wire"},
		2: {"report+one", "three", "two"},
		3: {"three"},
		4: nil,
	} {
		if got := keysWith(min); !slices.Equal(got, want) {
			t.Errorf("min_sources=%d: got %v, want %v", min, got, want)
		}
	}

	// A moderator's patch of the sources recounts.
	mod := moderator(t, db)
	list := []geo.Source{{Publisher: "Reuters"}, {Publisher: "AP"}, {Publisher: "AFP"}, {Publisher: "ap "}}
	if _, err := db.PatchIncident(ctx, ids["one"], 0, geo.IncidentPatch{Sources: &list}, mod); err != nil {
		t.Fatalf("patch sources: %v", err)
	}
	if got := independentSources(t, db, ids["one"]); got != 3 {
		t.Errorf("after patching 4 sources of 3 publishers: got %d, want 3", got)
	}
}

// moderator adds a moderator to act as.
func moderator(t *testing.T, db *postgis.DB) *geo.User {
	t.Helper()
	u, _, err := db.CreateUser(context.Background(), "mod-evidence", geo.RoleModerator, nil)
	if err != nil {
		t.Fatalf("create moderator: %v", err)
	}
	return &u
}

// Sources stored in the first shape {name, url, date} are rewritten by
// migration 00013 as publisher and published_at and counted; a row still
// written in that shape (by hand, by an old binary) counts and reads.
func TestOldShapeSources(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	// Back to the schema before 00013 (whatever came after it too).
	for {
		var has bool
		if err := db.SQL().QueryRow(`SELECT to_regproc('im_publisher_key') IS NOT NULL`).Scan(&has); err != nil {
			t.Fatal(err)
		}
		if !has {
			break
		}
		if err := db.MigrateDown(ctx); err != nil {
			t.Fatalf("migrate down: %v", err)
		}
	}
	insert := func(key, sources string) {
		t.Helper()
		_, err := db.SQL().Exec(`INSERT INTO incidents (external_id, occurred_at, event_type, title, geom, sources)
			VALUES ($1, '2020-10-18', 'Battles', 'Old ' || $1, ST_SetSRID(ST_MakePoint(47, 39), 4326), $2::jsonb)`, key, sources)
		if err != nil {
			t.Fatalf("insert %s: %v", key, err)
		}
	}
	insert("old", `[{"name":"Reuters","url":"https://reuters.com/a","date":"2020-10-18"},{"name":"REUTERS"},{"url":"https://example.org/x"}]`)
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	insert("written-old", `[{"name":"Azatutyun","date":"2020-10-19"},{"name":" azatutyun"},{"name":"Reuters"}]`)

	var stored string
	if err := db.SQL().QueryRow(`SELECT sources::text FROM incidents WHERE external_id = 'old'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	want := `[{"url": "https://reuters.com/a", "publisher": "Reuters", "published_at": "2020-10-18"}, {"publisher": "REUTERS"}, {"url": "https://example.org/x"}]`
	if stored != want {
		t.Errorf("migrated sources:\n got %s\nwant %s", stored, want)
	}
	q, err := geo.ParseIncidentQuery(url.Values{"sortby": {"+occurred_at"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*geo.Incident{}
	if _, err := db.ExportIncidents(ctx, q, func(inc *geo.Incident) error {
		c := *inc // the record is reused for the next row
		got[inc.ExternalID] = &c
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for key, tt := range map[string]struct {
		first geo.Source
		count int
	}{
		"old":         {geo.Source{Publisher: "Reuters", URL: "https://reuters.com/a", PublishedAt: "2020-10-18"}, 2},
		"written-old": {geo.Source{Publisher: "Azatutyun", PublishedAt: "2020-10-19"}, 2},
	} {
		inc := got[key]
		if inc == nil || len(inc.Sources) != 3 || inc.Sources[0] != tt.first {
			t.Errorf("%s: read %+v, want 3 sources, the first %+v", key, inc, tt.first)
			continue
		}
		if n := independentSources(t, db, inc.ID); n != tt.count || geo.IndependentSources(inc.Sources, inc.ReportID) != tt.count {
			t.Errorf("%s: independent_sources %d (Go %d), want %d", key, n, geo.IndependentSources(inc.Sources, inc.ReportID), tt.count)
		}
	}
	// reported is a status the table takes now.
	if _, err := db.SQL().Exec(`UPDATE incidents SET status = 'reported' WHERE external_id = 'old'`); err != nil {
		t.Errorf("set status reported: %v", err)
	}
}
