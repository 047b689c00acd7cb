package api_test

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// Features in CRS84 (the default), EPSG:4326 (latitude first) and Web
// Mercator, with the bbox in any of them and Content-Crs naming the CRS.
func TestItemsCRS(t *testing.T) {
	ts := newTestServer(t)
	inc := seedIncident(t, ts, 47.03, 39.40, nil)
	seedIncident(t, ts, 10, 10, nil)
	type fc struct {
		Features []struct {
			Geometry struct{ Coordinates []float64 }
		}
	}
	for _, tt := range []struct {
		name, crs, bbox, bboxCRS string
		want                     [2]float64
		tol                      float64
	}{
		{"CRS84", "", "46,39,48,40", "", [2]float64{47.03, 39.40}, 1e-9},
		{"EPSG:4326, lat first", geo.CRSURI4326, "39,46,40,48", geo.CRSURI4326, [2]float64{39.40, 47.03}, 1e-9},
		{"Web Mercator", geo.CRSURI3857, "5120736,4721672,5343376,4865942", geo.CRSURI3857, [2]float64{5235355.65, 4779131.18}, 0.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"bbox": {tt.bbox}}
			if tt.crs != "" {
				q.Set("crs", tt.crs)
			}
			if tt.bboxCRS != "" {
				q.Set("bbox-crs", tt.bboxCRS)
			}
			res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?"+q.Encode(), "", "")
			if res.status != http.StatusOK {
				t.Fatalf("status %d %s", res.status, res.body)
			}
			want := "<" + geo.CRSURI84 + ">"
			if tt.crs != "" {
				want = "<" + tt.crs + ">"
			}
			if got := res.header.Get("Content-Crs"); got != want {
				t.Errorf("Content-Crs %q, want %q", got, want)
			}
			var got fc
			decodeJSON(t, res.body, &got)
			if len(got.Features) != 1 {
				t.Fatalf("%d features in the bbox, want 1", len(got.Features))
			}
			c := got.Features[0].Geometry.Coordinates
			if math.Abs(c[0]-tt.want[0]) > tt.tol || math.Abs(c[1]-tt.want[1]) > tt.tol {
				t.Errorf("coordinates %v, want %v", c, tt.want)
			}
			// One feature, the same way.
			one := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items/"+itoa64(inc.ID)+"?"+url.Values{"crs": {tt.crs}}.Encode(), "", "")
			var f struct {
				Geometry struct{ Coordinates []float64 }
			}
			decodeJSON(t, one.body, &f)
			if c := f.Geometry.Coordinates; len(c) != 2 || math.Abs(c[0]-tt.want[0]) > tt.tol || math.Abs(c[1]-tt.want[1]) > tt.tol {
				t.Errorf("one feature: %d %v, want %v", one.status, c, tt.want)
			}
		})
	}
	if res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?crs=EPSG:32638", "", ""); res.status != http.StatusBadRequest {
		t.Errorf("unknown crs = %d, want 400", res.status)
	}
}

func decodeJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %.200s: %v", body, err)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
