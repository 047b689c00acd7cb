package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo"
)

func tileURL(ts *testServer, collection string, lon, lat float64, z maptile.Zoom) string {
	t := maptile.At(orb.Point{lon, lat}, z)
	return fmt.Sprintf("%s/api/collections/%s/tiles/WebMercatorQuad/%d/%d/%d", ts.URL, collection, t.Z, t.Y, t.X)
}

// decodeTile decodes an MVT response and returns its layer's features.
func decodeTile(t *testing.T, res response, layer string) []map[string]any {
	t.Helper()
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
		t.Fatalf("tile = %d %s", res.status, res.header.Get("Content-Type"))
	}
	layers, err := mvt.Unmarshal(res.body)
	if err != nil {
		t.Fatalf("not a vector tile: %v", err)
	}
	for _, l := range layers {
		if l.Name == layer {
			var props []map[string]any
			for _, f := range l.Features {
				props = append(props, f.Properties)
			}
			return props
		}
	}
	t.Fatalf("tile has no layer %q", layer)
	return nil
}

func TestIncidentTiles(t *testing.T) {
	ts := newTestServer(t)
	for i := range 5 {
		seedIncident(t, ts, 47.03+float64(i)*0.001, 39.40, func(inc *geo.Incident) {
			inc.Fatalities = 2
			if i == 0 {
				inc.EventType, inc.SubEventType = "Battles", "Armed clash"
			}
		})
	}
	// Street level: one point per incident, with attributes.
	points := decodeTile(t, do(t, "GET", tileURL(ts, "incidents", 47.03, 39.40, 14), "", ""), "incidents")
	if len(points) != 5 || points[0]["title"] == nil || points[0]["event_type"] == nil {
		t.Errorf("z14 tile features = %v, want 5 points with attributes", points)
	}
	// World view: one cluster with the count, dominant type and fatalities.
	clusters := decodeTile(t, do(t, "GET", tileURL(ts, "incidents", 47.03, 39.40, 2), "", ""), "incidents")
	if len(clusters) != 1 || clusters[0]["count"] != float64(5) || clusters[0]["fatalities"] != float64(10) ||
		clusters[0]["event_type"] != "Explosions/Remote violence" {
		t.Errorf("z2 tile = %v, want one cluster of 5, 10 fatalities, mostly explosions", clusters)
	}
	// Filters as on items.
	filtered := decodeTile(t, do(t, "GET", tileURL(ts, "incidents", 47.03, 39.40, 14)+"?event_type=Battles", "", ""), "incidents")
	if len(filtered) != 1 {
		t.Errorf("event_type=Battles tile has %d features, want 1", len(filtered))
	}
	// Empty tile: 204.
	if res := do(t, "GET", tileURL(ts, "incidents", -60, -30, 10), "", ""); res.status != http.StatusNoContent {
		t.Errorf("empty tile = %d, want 204", res.status)
	}
	// ETag invalidation: an edit changes the tile's ETag.
	url := tileURL(ts, "incidents", 47.03, 39.40, 14)
	etag := do(t, "GET", url, "", "").header.Get("ETag")
	if res := do(t, "GET", url, "", "", "If-None-Match: "+etag); res.status != http.StatusNotModified {
		t.Errorf("tile with its ETag = %d, want 304", res.status)
	}
	seedIncident(t, ts, 47.031, 39.401, nil)
	res := do(t, "GET", url, "", "", "If-None-Match: "+etag)
	for deadline := time.Now().Add(2 * time.Second); res.status == http.StatusNotModified && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // the version cache hears of the change by NOTIFY
		res = do(t, "GET", url, "", "", "If-None-Match: "+etag)
	}
	if res.status != http.StatusOK {
		t.Errorf("tile after an edit with the old ETag = %d, want 200 (no stale tile)", res.status)
	}
	// Bad coordinates and collections.
	for path, want := range map[string]int{
		"/api/collections/incidents/tiles/WebMercatorQuad/23/0/0":        400,
		"/api/collections/incidents/tiles/WebMercatorQuad/2/4/0":         400,
		"/api/collections/incidents/tiles/WebMercatorQuad/-1/0/0":        400,
		"/api/collections/incidents/tiles/WebMercatorQuad/a/b/c":         400,
		"/api/collections/incidents/tiles/WebMercatorQuad/2/1/1?bbox=1":  400,
		"/api/collections/incidents/tiles/WebMercatorQuad/2/1/1?limit=5": 400,
		"/api/collections/nope/tiles/WebMercatorQuad/2/1/1":              404,
		"/api/collections/nope/tiles":                                    404,
	} {
		if res := do(t, "GET", ts.URL+path, "", ""); res.status != want {
			t.Errorf("GET %s = %d, want %d", path, res.status, want)
		}
	}
	var tj struct {
		TileJSON string `json:"tilejson"`
		Tiles    []string
	}
	getJSON(t, ts.URL+"/api/collections/incidents/tiles/WebMercatorQuad", &tj)
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 {
		t.Errorf("TileJSON = %+v", tj)
	}
	var sets struct{ TileMatrixSets []struct{ ID string } }
	getJSON(t, ts.URL+"/api/tileMatrixSets", &sets)
	if len(sets.TileMatrixSets) != 1 || sets.TileMatrixSets[0].ID != "WebMercatorQuad" {
		t.Errorf("tileMatrixSets = %+v", sets)
	}
}

// Tiles at the world's edge columns (whose buffer reaches past ±180°)
// still hold their incidents.
func TestEdgeTiles(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 120, 10, nil)
	seedIncident(t, ts, -120, 10, nil)
	for _, lon := range []float64{120, -120} {
		for _, z := range []maptile.Zoom{1, 2, 8} {
			features := decodeTile(t, do(t, "GET", tileURL(ts, "incidents", lon, 10, z), "", ""), "incidents")
			if len(features) != 1 {
				t.Errorf("edge tile at lon %v z%d holds %d features, want 1", lon, z, len(features))
			}
		}
	}
}

// tileCacheMetric reads one of the tile cache's metrics from /metrics (0
// when absent): name with its labels, e.g. `..._total{result="hit"}`.
func tileCacheMetric(t *testing.T, ts *testServer, name string) float64 {
	t.Helper()
	res := do(t, http.MethodGet, ts.URL+"/metrics", "", "")
	for _, line := range strings.Split(string(res.body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s = %q", name, v)
			}
			return f
		}
	}
	return 0
}

// The tile cache never answers with a tile older than its ETag says: after
// an edit the tile changes (body and ETag) as soon as the ETag does, for
// point tiles (prepared statements) and cluster tiles alike; and one ETag
// always comes with one body.
func TestTileCacheNeverStale(t *testing.T) {
	ts := newTestServer(t)
	var ids []int64
	for i := range 3 {
		ids = append(ids, seedIncident(t, ts, 47.03+float64(i)*0.001, 39.40, nil).ID)
	}
	for _, z := range []maptile.Zoom{14, 2} {
		url := tileURL(ts, "incidents", 47.03, 39.40, z)
		bodies := map[string]string{} // ETag → body
		get := func() response {
			t.Helper()
			res := do(t, "GET", url, "", "")
			if res.status != http.StatusOK {
				t.Fatalf("z%d tile = %d", z, res.status)
			}
			etag := res.header.Get("ETag")
			if b, ok := bodies[etag]; ok && b != string(res.body) {
				t.Fatalf("z%d: ETag %s came with two different tiles", z, etag)
			}
			bodies[etag] = string(res.body)
			return res
		}
		first := get()
		hits := tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="hit"}`)
		if again := get(); again.header.Get("ETag") != first.header.Get("ETag") {
			t.Fatalf("z%d: ETag changed without an edit", z)
		}
		if h := tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="hit"}`); h != hits+1 {
			t.Errorf("z%d: cache hits %v → %v, want one more for a repeated tile", z, hits, h)
		}
		// An edit that changes what the tile shows: every incident becomes
		// a battle (for the cluster, its most frequent type changes too).
		if _, err := ts.DB.SQL().Exec(`UPDATE incidents SET event_type = 'Battles', sub_event_type = 'Armed clash', fatalities = fatalities + 7
			WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
			t.Fatal(err)
		}
		res := get()
		for deadline := time.Now().Add(2 * time.Second); res.header.Get("ETag") == first.header.Get("ETag") && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond) // the version cache hears of the edit by NOTIFY
			res = get()
		}
		if res.header.Get("ETag") == first.header.Get("ETag") {
			t.Fatalf("z%d: ETag unchanged 2 s after an edit", z)
		}
		for _, f := range decodeTile(t, res, "incidents") {
			if f["event_type"] != "Battles" {
				t.Errorf("z%d after the edit: feature %v, want event_type Battles", z, f)
			}
		}
		// A client holding the old tile gets the new one, not a 304.
		if res := do(t, "GET", url, "", "", "If-None-Match: "+first.header.Get("ETag")); res.status != http.StatusOK {
			t.Errorf("z%d: old ETag after the edit = %d, want 200", z, res.status)
		}
		if res := do(t, "GET", url, "", "", "If-None-Match: "+res.header.Get("ETag")); res.status != http.StatusNotModified {
			t.Errorf("z%d: current ETag = %d, want 304", z, res.status)
		}
	}
}

// Filters are part of the cache key: each filter has its own tile, and
// spellings of one filter share theirs.
func TestTileCacheFilters(t *testing.T) {
	ts := newTestServer(t)
	seedIncident(t, ts, 47.03, 39.40, func(inc *geo.Incident) { inc.EventType, inc.SubEventType = "Battles", "Armed clash" })
	seedIncident(t, ts, 47.031, 39.40, nil)
	seedIncident(t, ts, 47.032, 39.40, func(inc *geo.Incident) { inc.Status = geo.StatusDisputed })
	base := tileURL(ts, "incidents", 47.03, 39.40, 14)
	for _, c := range []struct {
		query string
		want  int
	}{
		{"", 3},
		{"?event_type=Battles", 1},
		{"?event_type=Explosions/Remote%20violence", 2},
		{"?status=disputed", 1},
		{"", 3},
		{"?event_type=battles", 1}, // the same filter as Battles
		{"?event_type=Battles", 1},
	} {
		if n := len(decodeTile(t, do(t, "GET", base+c.query, "", ""), "incidents")); n != c.want {
			t.Errorf("tile%s has %d features, want %d", c.query, n, c.want)
		}
	}
	if n := tileCacheMetric(t, ts, "incidentmap_tile_cache_entries"); n != 4 {
		t.Errorf("tile cache holds %v tiles, want 4 (no filter, two event types, one status)", n)
	}
	// Browsers send Cache-Control: no-cache when a page bypasses their
	// cache (the map does, to redraw after live updates); the server's
	// tile is never stale, so it still serves it.
	hits := tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="hit"}`)
	if res := do(t, "GET", base+"?event_type=Battles", "", "", "Cache-Control: no-cache"); len(decodeTile(t, res, "incidents")) != 1 {
		t.Errorf("no-cache tile with a filter lost it")
	}
	if h := tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="hit"}`); h != hits+1 {
		t.Errorf("a no-cache request was not served from the cache (hits %v → %v)", hits, h)
	}
}

// Concurrent requests for a tile nobody asked for yet render it once.
func TestTileCacheSingleFlight(t *testing.T) {
	ts := newTestServer(t)
	for i := range 50 {
		seedIncident(t, ts, 47+float64(i)*0.01, 39.40, nil)
	}
	url := tileURL(ts, "incidents", 47.03, 39.40, 3)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if res := do(t, "GET", url, "", ""); res.status != http.StatusOK {
				t.Errorf("tile = %d", res.status)
			}
		})
	}
	wg.Wait()
	metric := func(result string) float64 {
		return tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="`+result+`"}`)
	}
	if miss, shared, hit := metric("miss"), metric("shared"), metric("hit"); miss != 1 || miss+shared+hit != 16 {
		t.Errorf("16 concurrent requests: %v rendered, %v waited, %v hit; want 1 render", miss, shared, hit)
	}
}

// The cache keeps within its memory bound, evicting the least recently
// used tiles, and does not keep a tile larger than a sixteenth of it.
func TestTileCacheMemoryBound(t *testing.T) {
	ts := newTestServer(t)
	// One polygon over most of the world with 1.5 MB of properties: every
	// tile at zoom 4 between ±66° (rows 4 to 11) is that big.
	big := strings.Repeat("x", 1_500_000)
	fc := geojson.NewFeatureCollection()
	f := geojson.NewFeature(orb.Polygon{{{-170, -70}, {170, -70}, {170, 70}, {-170, 70}, {-170, -70}}})
	f.Properties = geojson.Properties{"note": big}
	fc.Append(f)
	if _, err := ts.DB.ImportLayer(context.Background(), geo.LayerMeta{ID: "big", Title: "Big"}, fc); err != nil {
		t.Fatal(err)
	}
	limit := tileCacheMetric(t, ts, "incidentmap_tile_cache_max_bytes")
	if limit <= 0 {
		t.Fatal("no incidentmap_tile_cache_max_bytes metric")
	}
	n := int(limit/1_500_000) + 10
	for i := range n {
		x, y := 1+i%14, 4+i/14
		res := do(t, "GET", fmt.Sprintf("%s/api/collections/big/tiles/WebMercatorQuad/4/%d/%d", ts.URL, y, x), "", "")
		if res.status != http.StatusOK || len(res.body) < 1_500_000 {
			t.Fatalf("tile 4/%d/%d = %d, %d bytes", x, y, res.status, len(res.body))
		}
		if size := tileCacheMetric(t, ts, "incidentmap_tile_cache_bytes"); size > limit {
			t.Fatalf("after %d tiles the cache holds %v bytes, over its bound %v", i+1, size, limit)
		}
	}
	if ev := tileCacheMetric(t, ts, "incidentmap_tile_cache_evictions_total"); ev < 10 {
		t.Errorf("%d tiles of 1.5 MB into %v bytes: %v evictions, want at least 10", n, limit, ev)
	}
	// The most recent tile is still there, the first one is gone.
	hits := tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="hit"}`)
	last := n - 1
	do(t, "GET", fmt.Sprintf("%s/api/collections/big/tiles/WebMercatorQuad/4/%d/%d", ts.URL, 4+last/14, 1+last%14), "", "")
	do(t, "GET", ts.URL+"/api/collections/big/tiles/WebMercatorQuad/4/4/1", "", "")
	if h := tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="hit"}`); h != hits+1 {
		t.Errorf("hits %v → %v: want the last tile cached and the first evicted", hits, h)
	}
	// A tile over a sixteenth of the bound is served, not kept.
	f.Properties["note"] = strings.Repeat("y", int(limit/16)+1)
	if _, err := ts.DB.ImportLayer(context.Background(), geo.LayerMeta{ID: "huge", Title: "Huge"}, fc); err != nil {
		t.Fatal(err)
	}
	entries := tileCacheMetric(t, ts, "incidentmap_tile_cache_entries")
	for range 2 {
		if res := do(t, "GET", ts.URL+"/api/collections/huge/tiles/WebMercatorQuad/4/5/5", "", ""); res.status != http.StatusOK {
			t.Fatalf("huge tile = %d", res.status)
		}
	}
	if e := tileCacheMetric(t, ts, "incidentmap_tile_cache_entries"); e != entries {
		t.Errorf("entries %v → %v after a tile over the entry bound", entries, e)
	}
}

// Clients that accept gzip get tiles compressed once, by the cache; small
// tiles go uncompressed.
func TestTileGzip(t *testing.T) {
	ts := newTestServer(t)
	for i := range 200 {
		seedIncident(t, ts, 47+float64(i)*0.001, 39.40, nil)
	}
	url := tileURL(ts, "incidents", 47.03, 39.40, 9)
	plain := do(t, "GET", url, "", "")
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	for range 2 {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.Header.Get("Content-Encoding") != "gzip" || len(body) >= len(plain.body) {
			t.Fatalf("gzip tile: Content-Encoding %q, %d bytes (plain %d)", res.Header.Get("Content-Encoding"), len(body), len(plain.body))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unzipped, plain.body) {
			t.Fatalf("gzip tile does not unzip to the tile (%v)", err)
		}
		if res.Header.Get("ETag") != plain.header.Get("ETag") || !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding") {
			t.Errorf("gzip tile headers %v", res.Header)
		}
	}
	small := tileURL(ts, "incidents", 47.0, 39.40, 16)
	req, _ := http.NewRequest("GET", small, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "" || len(body) == 0 || res.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("small tile: Content-Encoding %q, %d bytes, Content-Length %s", res.Header.Get("Content-Encoding"), len(body), res.Header.Get("Content-Length"))
	}
}

// With the cache off (serve --tile-cache-mb 0) every request renders its
// tile: an operator can rule the cache out.
func TestTileCacheOff(t *testing.T) {
	ts := newTestServerOn(t, pgtestNewDB(t), api.Config{TileCacheBytes: -1})
	seedIncident(t, ts, 47.03, 39.40, nil)
	url := tileURL(ts, "incidents", 47.03, 39.40, 10)
	for range 3 {
		if res := do(t, http.MethodGet, url, "", ""); res.status != http.StatusOK {
			t.Fatalf("tile = %d", res.status)
		}
	}
	hits := tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="hit"}`)
	misses := tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="miss"}`)
	if hits != 0 || misses != 3 {
		t.Errorf("cache off: %v hits, %v misses; want 0 and 3", hits, misses)
	}
}

// After an edit, the most requested unfiltered cluster tiles are rendered
// again in the background under the new version, so the next world view
// is served from the cache, with the edit in it. Filtered and point tiles
// are left to their requests.
func TestTileCacheRefreshAfterEdit(t *testing.T) {
	ts := newTestServer(t)
	var ids []int64
	for i := range 3 {
		ids = append(ids, seedIncident(t, ts, 47.03+float64(i)*0.001, 39.40, nil).ID)
	}
	world := tileURL(ts, "incidents", 47.03, 39.40, 2)
	for _, url := range []string{world, world, world, tileURL(ts, "incidents", 47.03, 39.40, 3),
		tileURL(ts, "incidents", 47.03, 39.40, 4) + "?event_type=Riots,Explosions%2FRemote%20violence",
		tileURL(ts, "incidents", 47.03, 39.40, 12)} {
		if res := do(t, "GET", url, "", ""); res.status != http.StatusOK {
			t.Fatalf("GET %s = %d", url, res.status)
		}
	}
	before := do(t, "GET", world, "", "")
	if _, err := ts.DB.SQL().Exec(`UPDATE incidents SET event_type = 'Battles', sub_event_type = 'Armed clash' WHERE id = ANY($1)`,
		pq.Array(ids)); err != nil {
		t.Fatal(err)
	}
	refreshed := func() float64 { return tileCacheMetric(t, ts, "incidentmap_tile_cache_refreshed_total") }
	for deadline := time.Now().Add(5 * time.Second); refreshed() < 2 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // nothing more is coming
	if n := refreshed(); n != 2 {
		t.Fatalf("%v tiles rendered ahead after the edit, want the 2 unfiltered cluster tiles", n)
	}
	misses := tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="miss"}`)
	after := do(t, "GET", world, "", "")
	if m := tileCacheMetric(t, ts, `incidentmap_tile_cache_requests_total{result="miss"}`); m != misses {
		t.Errorf("the world tile after the edit was rendered on request (misses %v → %v), not ahead", misses, m)
	}
	if after.header.Get("ETag") == before.header.Get("ETag") {
		t.Errorf("the world tile kept its ETag after the edit")
	}
	for _, f := range decodeTile(t, after, "incidents") {
		if f["event_type"] != "Battles" {
			t.Errorf("world tile after the edit: %v, want the edit (Battles)", f)
		}
	}
}

// Layer tiles carry each property as a typed attribute of its own, as
// vector-tile clients (QGIS, GDAL, MapLibre) expect, not one JSON string.
func TestLayerTileAttributesTyped(t *testing.T) {
	ts := newTestServer(t)
	fc := geojson.NewFeatureCollection()
	f := geojson.NewFeature(orb.Polygon{{{46, 39}, {47, 39}, {47, 40}, {46, 40}, {46, 39}}})
	f.Properties = geojson.Properties{"name": "Zone A", "level": 3, "active": true}
	fc.Append(f)
	if _, err := ts.DB.ImportLayer(context.Background(), geo.LayerMeta{ID: "zones", Title: "Zones"}, fc); err != nil {
		t.Fatal(err)
	}
	res := do(t, http.MethodGet, ts.URL+"/api/collections/zones/tiles/WebMercatorQuad/5/12/20", "", "")
	if res.status != http.StatusOK {
		t.Fatalf("tile = %d", res.status)
	}
	layers, err := mvt.Unmarshal(res.body)
	if err != nil || len(layers) != 1 || len(layers[0].Features) != 1 {
		t.Fatalf("tile: %v, %d layers", err, len(layers))
	}
	props := layers[0].Features[0].Properties
	if props["name"] != "Zone A" || props["level"] != float64(3) || props["active"] != true {
		t.Errorf("attributes = %#v, want name, level and active typed", props)
	}
	if _, packed := props["properties"]; packed {
		t.Errorf("attributes still packed into one properties string: %#v", props)
	}
}

// The gazetteer has tiles too: the largest places at low zoom, every
// village close in, each with its name and population.
func TestPlaceTiles(t *testing.T) {
	ts := newTestServer(t)
	loadTestPlaces(t, ts)
	names := func(z int, lon, lat float64) map[string]float64 {
		t.Helper()
		tile := maptile.At(orb.Point{lon, lat}, maptile.Zoom(z))
		res := do(t, http.MethodGet, fmt.Sprintf("%s/api/collections/places/tiles/WebMercatorQuad/%d/%d/%d", ts.URL, z, tile.Y, tile.X), "", "")
		if res.status == http.StatusNoContent {
			return nil
		}
		if res.status != http.StatusOK {
			t.Fatalf("z%d tile = %d %s", z, res.status, res.body)
		}
		layers, err := mvt.Unmarshal(res.body)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, f := range layers[0].Features {
			out[f.Properties["name"].(string)] = f.Properties["population"].(float64)
		}
		return out
	}
	world := names(2, 47, 40)
	if world["Baku"] < 1_000_000 || len(world) == 0 {
		t.Errorf("z2 tile: %v, want Baku", world)
	}
	for name, pop := range world {
		if pop < 1_000_000 {
			t.Errorf("z2 tile shows %s (population %v): want only cities of a million or more", name, pop)
		}
	}
	if near := names(11, 47.03, 39.40); !hasKey(near, "Jebrail") {
		t.Errorf("z11 tile at Jabrayil: %v, want Jebrail", near)
	}
}

func hasKey(m map[string]float64, k string) bool { _, ok := m[k]; return ok }
