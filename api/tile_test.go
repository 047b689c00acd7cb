package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

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
