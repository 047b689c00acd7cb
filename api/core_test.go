package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

func TestIncidentCore(t *testing.T) {
	ts := newTestServer(t)
	get := func(path string) (int, []byte) {
		t.Helper()
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	core := func(query string) ([]float64, int) {
		t.Helper()
		status, body := get("/api/collections/incidents/core?" + query)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, status, body)
		}
		var out struct {
			BBox       []float64
			NumberUsed int
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: %v in %s", query, err, body)
		}
		return out.BBox, out.NumberUsed
	}

	if box, n := core(""); box != nil || n != 0 {
		t.Errorf("no incidents: bbox %v from %d, want null from 0", box, n)
	}
	// 100 incidents spread over 46.5-47.49 E, 39.5-39.995 N, and one in Moscow.
	for i := range 100 {
		seedIncident(t, ts, 46.5+float64(i)/100, 39.5+float64(i%100)/200, func(inc *geo.Incident) {
			if i%2 == 0 {
				inc.EventType, inc.SubEventType = "Battles", "Armed clash"
			}
		})
	}
	seedIncident(t, ts, 37.62, 55.75, nil)

	box, n := core("")
	if n != 100 || len(box) != 4 {
		t.Fatalf("core = %v holding %d, want a box holding the 100 (not Moscow)", box, n)
	}
	for i, want := range []float64{46.5, 39.5, 47.49, 39.995} {
		if d := box[i] - want; d < -0.05 || d > 0.05 {
			t.Errorf("core[%d] = %v, want about %v (Moscow left out)", i, box[i], want)
		}
	}
	// Filters apply: the battles are the even ones.
	if _, n := core("event_type=Battles"); n != 50 {
		t.Errorf("core of the battles from %d incidents, want 50", n)
	}
	// A handful: four protests round Jabrayil and one in Moscow. (The 98th
	// percentile of five would lie most of the way to Moscow.)
	for _, p := range [][2]float64{{47.03, 39.40}, {46.75, 39.82}, {47.05, 39.15}, {47.0, 39.19}, {37.62, 55.75}} {
		seedIncident(t, ts, p[0], p[1], func(inc *geo.Incident) { inc.EventType, inc.SubEventType = "Protests", "Peaceful protest" })
	}
	if box, n := core("event_type=Protests"); n != 4 || box[0] != 46.75 || box[1] != 39.15 || box[2] != 47.05 || box[3] != 39.82 {
		t.Errorf("core of the protests = %v holding %d, want [46.75 39.15 47.05 39.82] holding 4", box, n)
	}
	if box, n := core("datetime=2030-01-01T00:00:00Z/.."); box != nil || n != 0 {
		t.Errorf("core of the future = %v from %d, want null", box, n)
	}

	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{"/api/collections/incidents/core?event_type=Picnics", http.StatusBadRequest, "event_type"},
		{"/api/collections/incidents/core?color=red", http.StatusBadRequest, "color"},
		{"/api/collections/places/core", http.StatusNotFound, "core"},
	} {
		status, body := get(tt.path)
		if status != tt.status || !strings.Contains(string(body), tt.want) {
			t.Errorf("GET %s = %d %s, want %d naming %s", tt.path, status, body, tt.status, tt.want)
		}
	}
}
