package api_test

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// Pages and single incidents in another CRS are written by the database
// (ST_Transform, ST_FlipCoordinates in their statements): every feature of a page in
// EPSG:3857 is where PostGIS projects it, every feature in EPSG:4326 is the
// CRS84 one with its axes swapped, and a bbox in EPSG:3857 selects what
// PostGIS selects with that envelope reprojected.
func TestItemsCRSMatchPostGIS(t *testing.T) {
	ts := newTestServer(t)
	// Spread over both hemispheres and up to Web Mercator's high latitudes.
	for i := range 24 {
		lon := -179.5 + float64(i)*15.3
		lat := -80 + float64(i)*6.9
		seedIncident(t, ts, lon, lat, nil)
	}
	type page struct {
		Features []struct {
			ID       int64
			Geometry struct{ Coordinates []float64 }
		}
	}
	fetch := func(q url.Values) (page, http.Header) {
		t.Helper()
		q.Set("limit", "100")
		res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?"+q.Encode(), "", "")
		if res.status != http.StatusOK {
			t.Fatalf("items?%s = %d %s", q.Encode(), res.status, res.body)
		}
		var p page
		decodeJSON(t, res.body, &p)
		return p, res.header
	}
	crs84, _ := fetch(url.Values{})
	lonLat := map[int64][]float64{}
	for _, f := range crs84.Features {
		lonLat[f.ID] = f.Geometry.Coordinates
	}
	if len(lonLat) != 24 {
		t.Fatalf("%d features in CRS84, want 24", len(lonLat))
	}

	flipped, h := fetch(url.Values{"crs": {geo.CRSURI4326}})
	if got := h.Get("Content-Crs"); got != "<"+geo.CRSURI4326+">" {
		t.Errorf("EPSG:4326 page Content-Crs %q", got)
	}
	for _, f := range flipped.Features {
		c, want := f.Geometry.Coordinates, lonLat[f.ID]
		if len(c) != 2 || len(want) != 2 || c[0] != want[1] || c[1] != want[0] {
			t.Errorf("feature %d in EPSG:4326 = %v, want %v swapped", f.ID, c, want)
		}
	}

	mercator, h := fetch(url.Values{"crs": {geo.CRSURI3857}})
	if got := h.Get("Content-Crs"); got != "<"+geo.CRSURI3857+">" {
		t.Errorf("EPSG:3857 page Content-Crs %q", got)
	}
	if len(mercator.Features) != 24 {
		t.Fatalf("%d features in EPSG:3857, want 24", len(mercator.Features))
	}
	for _, f := range mercator.Features {
		var x, y float64
		if err := ts.DB.SQL().QueryRow(`SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(geom, 3857) AS p FROM incidents WHERE id = $1) s`,
			f.ID).Scan(&x, &y); err != nil {
			t.Fatal(err)
		}
		// The page keeps centimetres.
		if c := f.Geometry.Coordinates; len(c) != 2 || math.Abs(c[0]-x) > 0.006 || math.Abs(c[1]-y) > 0.006 {
			t.Errorf("feature %d in EPSG:3857 = %v, want PostGIS's [%.3f %.3f]", f.ID, c, x, y)
		}
		// The single feature is transformed by the same SQL.
		var one struct {
			Geometry struct{ Coordinates []float64 }
		}
		res := do(t, http.MethodGet, fmt.Sprintf("%s/api/collections/incidents/items/%d?crs=%s", ts.URL, f.ID, url.QueryEscape(geo.CRSURI3857)), "", "")
		if res.status != http.StatusOK || res.header.Get("Content-Crs") != "<"+geo.CRSURI3857+">" {
			t.Fatalf("feature %d in EPSG:3857 = %d, Content-Crs %q: %s", f.ID, res.status, res.header.Get("Content-Crs"), res.body)
		}
		decodeJSON(t, res.body, &one)
		if c := one.Geometry.Coordinates; len(c) != 2 || math.Abs(c[0]-x) > 0.01 || math.Abs(c[1]-y) > 0.01 {
			t.Errorf("single feature %d in EPSG:3857 = %v, want PostGIS's [%.3f %.3f] within 0.01 m", f.ID, c, x, y)
		}
		res = do(t, http.MethodGet, fmt.Sprintf("%s/api/collections/incidents/items/%d?crs=%s", ts.URL, f.ID, url.QueryEscape(geo.CRSURI4326)), "", "")
		decodeJSON(t, res.body, &one)
		if c, want := one.Geometry.Coordinates, lonLat[f.ID]; len(c) != 2 || len(want) != 2 || c[0] != want[1] || c[1] != want[0] {
			t.Errorf("single feature %d in EPSG:4326 = %v, want %v swapped", f.ID, c, want)
		}
	}

	// A box in Web Mercator metres, across the equator and the meridian.
	box := [4]float64{-8e6, -6e6, 9e6, 1.2e7}
	inBox, _ := fetch(url.Values{"bbox": {fmt.Sprintf("%g,%g,%g,%g", box[0], box[1], box[2], box[3])}, "bbox-crs": {geo.CRSURI3857}})
	var want int
	if err := ts.DB.SQL().QueryRow(`SELECT count(*) FROM incidents
		WHERE ST_Intersects(geom, ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 3857), 4326))`,
		box[0], box[1], box[2], box[3]).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if want == 0 || want == 24 {
		t.Fatalf("the test box holds %d of 24 incidents: choose one that tells", want)
	}
	if len(inBox.Features) != want {
		t.Errorf("bbox-crs=EPSG:3857 selects %d incidents, want %d (PostGIS)", len(inBox.Features), want)
	}
}
