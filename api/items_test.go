package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/incidentmap/incidentmap/geo"
)

// seedIncident stores an incident at lon, lat with sensible defaults that
// modify can change.
func seedIncident(t *testing.T, ts *testServer, lon, lat float64, modify func(*geo.Incident)) geo.Incident {
	t.Helper()
	inc := geo.Incident{
		OccurredAt:   time.Date(2020, 10, 18, 4, 0, 0, 0, time.UTC),
		EventType:    "Explosions/Remote violence",
		SubEventType: "Shelling/artillery/missile attack",
		Title:        "Shelling",
		Point:        orb.Point{lon, lat},
		Status:       geo.StatusVerified,
		Sources:      []geo.Source{{Publisher: "Armenian MoD", URL: "https://example.org/mod", PublishedAt: "2020-10-18"}},
	}
	if modify != nil {
		modify(&inc)
	}
	if err := ts.DB.CreateIncident(context.Background(), &inc); err != nil {
		t.Fatalf("seed incident %q: %v", inc.Title, err)
	}
	return inc
}

// itemsPage is a decoded items response.
type itemsPage struct {
	fc             *geojson.FeatureCollection
	raw            map[string]json.RawMessage
	numberReturned int
	numberMatched  *int
	next, prev     string
}

// getItems fetches an items URL (path+query relative to the server, or
// absolute) and decodes it as GeoJSON with orb, failing on anything else.
func getItems(t *testing.T, ts *testServer, target string) itemsPage {
	t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = ts.URL + target
	}
	res, err := http.Get(target)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s, want 200", target, res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/geo+json" {
		t.Errorf("Content-Type = %q, want application/geo+json", ct)
	}
	fc, err := geojson.UnmarshalFeatureCollection(body)
	if err != nil {
		t.Fatalf("GET %s: not a GeoJSON FeatureCollection: %v\n%s", target, err, body)
	}
	var p itemsPage
	p.fc = fc
	if err := json.Unmarshal(body, &p.raw); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(p.raw["numberReturned"], &p.numberReturned)
	if m, ok := p.raw["numberMatched"]; ok {
		var n int
		json.Unmarshal(m, &n)
		p.numberMatched = &n
	}
	var links []struct{ Href, Rel string }
	json.Unmarshal(p.raw["links"], &links)
	for _, l := range links {
		switch l.Rel {
		case "next":
			p.next = l.Href
		case "prev":
			p.prev = l.Href
		}
	}
	if p.numberReturned != len(fc.Features) {
		t.Errorf("numberReturned = %d, but %d features", p.numberReturned, len(fc.Features))
	}
	return p
}

// titles lists the features' titles in order.
func (p itemsPage) titles() []string {
	var out []string
	for _, f := range p.fc.Features {
		out = append(out, fmt.Sprint(f.Properties["title"]))
	}
	return out
}

func TestItemsGeoJSONIsLonLat(t *testing.T) {
	ts := newTestServer(t)
	// Jabrayil: lon 47.03, lat 39.40. A swap would put it in the Indian Ocean.
	inc := seedIncident(t, ts, 47.0312345678, 39.3998765432, func(i *geo.Incident) { i.Title = "Jabrayil" })
	p := getItems(t, ts, "/api/collections/incidents/items")
	if len(p.fc.Features) != 1 {
		t.Fatalf("got %d features, want 1", len(p.fc.Features))
	}
	f := p.fc.Features[0]
	pt, ok := f.Geometry.(orb.Point)
	if !ok {
		t.Fatalf("geometry is %T, want Point", f.Geometry)
	}
	if want := (orb.Point{47.031235, 39.399877}); pt != want {
		t.Errorf("coordinates = %v, want %v (lon, lat, 6 decimals)", pt, want)
	}
	if f.ID != float64(inc.ID) {
		t.Errorf("feature id = %v, want %d", f.ID, inc.ID)
	}
	for _, prop := range geo.IncidentProperties() {
		if _, ok := f.Properties[prop]; !ok {
			t.Errorf("property %q missing", prop)
		}
	}
	for _, private := range []string{"search", "version", "geom"} {
		if _, ok := f.Properties[private]; ok {
			t.Errorf("internal column %q exposed as a property", private)
		}
	}
	one := getOK(t, ts.URL+fmt.Sprintf("/api/collections/incidents/items/%d", inc.ID))
	feature, err := geojson.UnmarshalFeature(one)
	if err != nil {
		t.Fatalf("single feature is not GeoJSON: %v\n%s", err, one)
	}
	if feature.Properties["title"] != "Jabrayil" {
		t.Errorf("single feature title = %v, want Jabrayil", feature.Properties["title"])
	}
}

func getOK(t *testing.T, target string) []byte {
	t.Helper()
	res, err := http.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s, want 200", target, res.StatusCode, body)
	}
	return body
}

func TestItemsBBox(t *testing.T) {
	ts := newTestServer(t)
	place := func(title string, lon, lat float64) {
		seedIncident(t, ts, lon, lat, func(i *geo.Incident) { i.Title = title })
	}
	place("jabrayil", 47.03, 39.40)
	place("iran-border", 47.10, 38.95)
	place("fiji-east", 179.5, -17.0)
	place("fiji-west", -179.5, -17.0)
	place("greenwich", 0, 51.48)
	place("north-pole", 12, 89.9999)
	place("south-pole", -60, -90)

	tests := []struct {
		bbox string
		want []string
	}{
		{"46.5,38.5,47.5,39.5", []string{"iran-border", "jabrayil"}},
		{"47.0,39.0,47.1,39.5", []string{"jabrayil"}},
		{"179,-18,-179,-16", []string{"fiji-east", "fiji-west"}}, // crosses the antimeridian
		{"170,-18,179.9,-16", []string{"fiji-east"}},
		{"-180,89,180,90", []string{"north-pole"}},
		{"-180,-90,180,-89", []string{"south-pole"}},
		{"-1,51,1,52", []string{"greenwich"}},
		{"39.0,46.5,39.5,47.5", nil}, // lat/lon swapped finds nothing
		{"-180,-90,180,90", []string{"fiji-east", "fiji-west", "greenwich", "iran-border", "jabrayil", "north-pole", "south-pole"}},
	}
	for _, tt := range tests {
		p := getItems(t, ts, "/api/collections/incidents/items?bbox="+tt.bbox)
		got := p.titles()
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("bbox=%s: got %v, want %v", tt.bbox, got, tt.want)
		}
		if p.numberMatched == nil || *p.numberMatched != len(tt.want) {
			t.Errorf("bbox=%s: numberMatched = %v, want %d", tt.bbox, p.numberMatched, len(tt.want))
		}
	}
}

func TestItemsDatetime(t *testing.T) {
	ts := newTestServer(t)
	for day := 15; day <= 19; day++ {
		seedIncident(t, ts, 47, 39.4, func(i *geo.Incident) {
			i.Title = fmt.Sprintf("oct%d", day)
			i.OccurredAt = time.Date(2020, 10, day, 12, 0, 0, 0, time.UTC)
		})
	}
	tests := []struct {
		datetime string
		want     []string // newest first (default sort)
	}{
		{"2020-10-17T12:00:00Z", []string{"oct17"}},
		{"2020-10-16T00:00:00Z/2020-10-18T12:00:00Z", []string{"oct18", "oct17", "oct16"}},
		{"2020-10-18T00:00:00Z/..", []string{"oct19", "oct18"}},
		{"../2020-10-15T12:00:00Z", []string{"oct15"}},
		{"/2020-10-15T23:00:00Z", []string{"oct15"}},
		{"2020-10-17", []string{"oct17"}},
		{"2020-10-18T14:00:00+02:00", []string{"oct18"}},
	}
	for _, tt := range tests {
		p := getItems(t, ts, "/api/collections/incidents/items?datetime="+url.QueryEscape(tt.datetime))
		if got := p.titles(); !slices.Equal(got, tt.want) {
			t.Errorf("datetime=%s: got %v, want %v", tt.datetime, got, tt.want)
		}
	}
}

func TestItemsPropertyFilters(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 47.03, 39.40, func(i *geo.Incident) {
		i.Title = "a"
		i.Notes = "Mortar and artillery fire in the vicinity of Jabrayil"
		i.Actor1, i.Actor2 = "Military Forces of Azerbaijan (2003-)", "Military Forces of Armenia (2018-)"
		i.CountryCode = "AZ"
		i.Fatalities = 0
	})
	seedIncident(t, ts, 47.10, 38.95, func(i *geo.Incident) {
		i.Title = "b"
		i.Notes = "Rockets struck villages on the Iranian side of the Aras river"
		i.CountryCode = "IR"
		i.Fatalities = 2
	})
	seedIncident(t, ts, 46.75, 39.82, func(i *geo.Incident) {
		i.Title = "c"
		i.EventType, i.SubEventType = "Strategic developments", "Agreement"
		i.Status = geo.StatusDisputed
		i.Fatalities = 5
	})
	seedIncident(t, ts, 46.75, 39.82, func(i *geo.Incident) {
		i.Title = "d"
		i.Status = geo.StatusRetracted
		i.Actor1 = "Unknown 100%_sure"
	})
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"a", "b", "c"}}, // retracted hidden by default
		{"status=retracted", []string{"d"}},
		{"status=verified,disputed,retracted", []string{"a", "b", "c", "d"}},
		{"status=disputed", []string{"c"}},
		{"event_type=" + url.QueryEscape("Strategic developments"), []string{"c"}},
		{"event_type=" + url.QueryEscape("Explosions/Remote violence,Strategic developments"), []string{"a", "b", "c"}},
		{"sub_event_type=Agreement", []string{"c"}},
		{"country=AZ", []string{"a"}},
		{"country=az,ir", []string{"a", "b"}},
		{"actor=armenia", []string{"a"}},
		{"actor=" + url.QueryEscape("100%_"), nil}, // d is retracted
		{"actor=" + url.QueryEscape("100%_") + "&status=retracted", []string{"d"}},
		{"actor=%25", nil}, // a literal %, not a wildcard
		{"q=jabrayil", []string{"a"}},
		{"q=" + url.QueryEscape("aras river"), []string{"b"}},
		{"q=" + url.QueryEscape("rockets -aras"), nil},
		{"sortby=-fatalities", []string{"c", "b", "a"}},
		{"sortby=fatalities", []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		p := getItems(t, ts, "/api/collections/incidents/items?"+tt.query)
		got := p.titles()
		if !strings.HasPrefix(tt.query, "sortby") {
			slices.Sort(got)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestItemsPropertiesSubset(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 47, 39, nil)
	p := getItems(t, ts, "/api/collections/incidents/items?properties=title,fatalities")
	props := p.fc.Features[0].Properties
	if len(props) != 2 || props["title"] == nil || props["fatalities"] == nil {
		t.Errorf("properties = %v, want exactly title and fatalities", props)
	}
}

func TestItemsBadParameters(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct{ query, wantInDescription string }{
		{"bbox=1,2,3", "bbox"},
		{"bbox=0,95,1,96", "bbox"},
		{"bbox=a,b,c,d", "bbox"},
		{"datetime=yesterday", "datetime"},
		{"datetime=2020-10-19T00:00:00Z/2020-10-18T00:00:00Z", "datetime"},
		{"limit=0", "limit"},
		{"limit=-5", "limit"},
		{"sortby=title", "sortby"},
		{"properties=contact", "properties"},
		{"event_type=Skirmish", "event_type"},
		{"colour=red", "colour"},
		{"cursor=garbage", "cursor"},
		{"country=Azerbaijan", "country"},
		{"status=pending", "status"},
		{"f=xml", "f"},
	}
	for _, tt := range tests {
		res, err := http.Get(ts.URL + "/api/collections/incidents/items?" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Code, Description string }
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || body.Code != "InvalidParameterValue" || !strings.Contains(body.Description, tt.wantInDescription) {
			t.Errorf("%s: %d %+v, want 400 InvalidParameterValue naming %s", tt.query, res.StatusCode, body, tt.wantInDescription)
		}
	}
	for _, path := range []string{"/api/collections/nope", "/api/collections/nope/items", "/api/collections/incidents/items/999999", "/api/collections/incidents/items/abc"} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
	}
}

func TestItemsLimitClamped(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 47, 39, nil)
	res, err := http.Get(ts.URL + "/api/collections/incidents/items?limit=50000")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Limit int }
	json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != http.StatusOK || body.Limit != 10000 || !strings.Contains(res.Header.Get("Warning"), "10000") {
		t.Errorf("limit=50000: status %d, limit member %d, Warning %q; want 200, 10000 and a warning", res.StatusCode, body.Limit, res.Header.Get("Warning"))
	}
}

// Paging follows next links to the end, then prev links back to the
// start, while other rows are being inserted: no feature is lost or
// repeated among those that existed before paging started.
func TestItemsPagingUnderInserts(t *testing.T) {
	ts := newTestServer(t)
	const n = 95
	base := time.Date(2020, 10, 1, 0, 0, 0, 0, time.UTC)
	want := map[string]bool{}
	for i := range n {
		inc := seedIncident(t, ts, 47, 39, func(inc *geo.Incident) {
			inc.Title = fmt.Sprintf("old-%02d", i)
			inc.OccurredAt = base.Add(time.Duration(i/3) * time.Hour) // ties on occurred_at
		})
		want[inc.Title] = true
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // concurrent inserts, newer and older than every page
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			offset := time.Duration(i) * time.Minute
			if i%2 == 0 {
				offset = -offset - 24*time.Hour
			} else {
				offset += 30 * 24 * time.Hour
			}
			inc := geo.Incident{OccurredAt: base.Add(offset), EventType: "Battles", Title: fmt.Sprintf("new-%d", i), Point: orb.Point{47, 39}}
			if err := ts.DB.CreateIncident(context.Background(), &inc); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { stop.Store(true); wg.Wait() }()

	// Start below the newest concurrent inserts: only the old rows and
	// inserts older than them can appear.
	start := "/api/collections/incidents/items?limit=10&datetime=" + url.QueryEscape("../"+base.Add(40*time.Hour).Format(time.RFC3339))
	seen := map[string]int{}
	var pages []itemsPage
	for target := start; target != ""; {
		p := getItems(t, ts, target)
		pages = append(pages, p)
		for _, title := range p.titles() {
			seen[title]++
		}
		target = p.next
		if len(pages) > 200 {
			t.Fatal("too many pages")
		}
	}
	for title := range want {
		if seen[title] != 1 {
			t.Errorf("%s seen %d times walking forward, want 1", title, seen[title])
		}
	}
	for title, count := range seen {
		if count > 1 {
			t.Errorf("%s repeated %d times", title, count)
		}
	}
	// Walk back from the last page after the inserts stop: every old row
	// once more, none twice, ending on the same first page.
	stop.Store(true)
	wg.Wait()
	seenBack := map[string]int{}
	target := pages[len(pages)-1].prev
	var first itemsPage
	for i := 0; target != ""; i++ {
		first = getItems(t, ts, target)
		for _, title := range first.titles() {
			seenBack[title]++
		}
		target = first.prev
		if i > 200 {
			t.Fatal("too many pages walking back")
		}
	}
	for title := range want {
		if seenBack[title] != 1 && !slices.Contains(pages[len(pages)-1].titles(), title) {
			t.Errorf("%s seen %d times walking back, want 1", title, seenBack[title])
		}
	}
	if len(pages) > 1 && !slices.Equal(first.titles(), pages[0].titles()) {
		t.Errorf("first page walking back = %v, want %v", first.titles(), pages[0].titles())
	}
}

func TestItemsETag(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 47, 39, nil)
	target := ts.URL + "/api/collections/incidents/items?bbox=46,38,48,40"
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Origin", "https://example.org")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	etag := res.Header.Get("ETag")
	if etag == "" || res.Header.Get("Cache-Control") == "" || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("headers %v: want ETag, Cache-Control and CORS *", res.Header)
	}
	conditional := func() int {
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("If-None-Match", etag)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := conditional(); got != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag = %d, want 304", got)
	}
	seedIncident(t, ts, 47.5, 39.5, nil) // the data changes
	// The server caches versions and hears of changes by NOTIFY, which
	// arrives within milliseconds of the commit.
	got := conditional()
	for deadline := time.Now().Add(2 * time.Second); got == http.StatusNotModified && time.Now().Before(deadline); got = conditional() {
		time.Sleep(20 * time.Millisecond)
	}
	if got != http.StatusOK {
		t.Errorf("If-None-Match after a change = %d, want 200", got)
	}
}

func TestItemsGzip(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 47, 39, nil)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/collections/incidents/items", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("Content-Encoding = %q, want gzip", res.Header.Get("Content-Encoding"))
	}
}

// f=csv gives the same page as ACLED-style CSV, with formula-like text
// neutralised.
func TestItemsCSV(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, -70.6483, -33.4569, func(i *geo.Incident) { i.Title = "=HYPERLINK(\"http://evil\")" })
	res, err := http.Get(ts.URL + "/api/collections/incidents/items?f=csv")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("f=csv = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	text := string(body)
	if !strings.HasPrefix(text, "event_id_cnty,event_date") || !strings.Contains(text, "-70.6483") {
		t.Errorf("CSV lacks the ACLED header or the plain negative longitude:\n%s", text)
	}
	if strings.Contains(text, ",=HYPERLINK") || strings.Contains(text, "\"=HYPERLINK") {
		t.Errorf("formula cell not neutralised:\n%s", text)
	}
}

// numberMatched is cached per collection version: never stale after a
// change, whichever page asks.
func TestNumberMatchedFollowsChanges(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.DB.SQL().Exec(`INSERT INTO incidents (occurred_at, event_type, title, geom)
		SELECT '2020-10-18', 'Battles', 'Count ' || g, ST_SetSRID(ST_MakePoint(47, 39), 4326)
		FROM generate_series(1, 300) g`); err != nil {
		t.Fatal(err)
	}
	matched := func() int {
		t.Helper()
		p := getItems(t, ts, "/api/collections/incidents/items?limit=10")
		if p.numberMatched == nil {
			t.Fatal("no numberMatched")
		}
		return *p.numberMatched
	}
	for range 3 {
		if got := matched(); got != 300 {
			t.Fatalf("numberMatched = %d, want 300", got)
		}
	}
	if _, err := ts.DB.SQL().Exec(`UPDATE incidents SET status = 'retracted' WHERE title = 'Count 1'`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for matched() != 299 {
		if time.Now().After(deadline) {
			t.Fatalf("numberMatched = %d after a retraction, want 299", matched())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Another page of the same listing shares the count.
	p := getItems(t, ts, "/api/collections/incidents/items?limit=25")
	if p.numberMatched == nil || *p.numberMatched != 299 {
		t.Errorf("limit=25: numberMatched = %v, want 299", p.numberMatched)
	}
}
