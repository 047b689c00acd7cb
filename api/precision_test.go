package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"

	"github.com/incidentmap/incidentmap/geo"
)

// A reporter who says the location is approximate (geo_precision 2 or 3)
// is never published at the spot they clicked: the incident verified
// from the report sits at the centre of its 2 km (25 km) grid cell in
// every public output — items, the feature, CSV, the changes feed, the
// live stream, bbox filters — while moderators still see the exact point.
// An exact report is published as clicked (so the test can tell).
func TestReportPointCoarsened(t *testing.T) {
	ts := newTestServer(t)
	token := addUser(t, ts, "mod", geo.RoleModerator)
	events, stop := openEvents(t, ts.URL)
	defer stop()
	for _, tc := range []struct {
		prec  geo.GeoPrecision
		click orb.Point
	}{
		{geo.GeoNear, orb.Point{47.031234, 39.401234}},
		{geo.GeoRegion, orb.Point{46.987654, 39.456789}},
		{geo.GeoExact, orb.Point{47.112233, 39.332211}},
	} {
		t.Run(fmt.Sprintf("precision %d", tc.prec), func(t *testing.T) {
			lon, lat := fmt.Sprint(tc.click.Lon()), fmt.Sprint(tc.click.Lat())
			body := strings.Replace(reportBody(func(p map[string]any) { p["geo_precision"] = int(tc.prec) }),
				"[47.03,39.4]", "["+lon+","+lat+"]", 1)
			res := submit(t, ts, body)
			if res.status != http.StatusCreated {
				t.Fatalf("submit = %d %s", res.status, res.body)
			}
			reportID := int64(res.json(t)["id"].(float64))
			verify := do(t, http.MethodPost, fmt.Sprintf("%s/api/reports/%d/verify", ts.URL, reportID), "application/json", `{}`, bearer(token))
			if verify.status != http.StatusOK {
				t.Fatalf("verify = %d %s", verify.status, verify.body)
			}
			id := int64(verify.json(t)["incident_id"].(float64))
			want := geo.CoarsenPoint(tc.click, tc.prec)
			if tc.prec > geo.GeoExact {
				if d := orbgeo.Distance(want, tc.click); d == 0 || d > geo.GeoPrecisionRadius(tc.prec) {
					t.Fatalf("published point %v is %.0f m from the click; want moved, within %.0f m", want, d, geo.GeoPrecisionRadius(tc.prec))
				}
			}

			feature := getOK(t, fmt.Sprintf("%s/api/collections/incidents/items/%d", ts.URL, id))
			var f struct {
				Geometry   struct{ Coordinates []float64 }
				Properties map[string]any
			}
			if err := json.Unmarshal(feature, &f); err != nil {
				t.Fatal(err)
			}
			if got := (orb.Point{f.Geometry.Coordinates[0], f.Geometry.Coordinates[1]}); got != want {
				t.Errorf("public point %v, want %v", got, want)
			}
			if f.Properties["geo_precision"] != float64(tc.prec) {
				t.Errorf("geo_precision = %v, want %d", f.Properties["geo_precision"], tc.prec)
			}

			// Where the exact coordinates could show: they must not.
			box := fmt.Sprintf("%f,%f,%f,%f", tc.click.Lon()-0.0005, tc.click.Lat()-0.0005, tc.click.Lon()+0.0005, tc.click.Lat()+0.0005)
			outputs := map[string]string{
				"feature": string(feature),
				"items":   string(getOK(t, ts.URL+"/api/collections/incidents/items")),
				"csv":     string(getOK(t, ts.URL+"/api/collections/incidents/items?f=csv")),
				"changes": string(getOK(t, ts.URL+"/api/collections/incidents/changes?since=0")),
				"live":    waitEvent(t, events, id),
			}
			byBox := getItems(t, ts, "/api/collections/incidents/items?bbox="+box)
			for name, text := range outputs {
				if leaked := strings.Contains(text, lon) || strings.Contains(text, lat); leaked != (tc.prec == geo.GeoExact) {
					t.Errorf("%s: holds the clicked coordinates %s, %s: %v; want %v", name, lon, lat, leaked, tc.prec == geo.GeoExact)
				}
			}
			if found := len(byBox.fc.Features) > 0; found != (tc.prec == geo.GeoExact) {
				t.Errorf("a 100 m box around the click finds %d incidents; want found = %v", len(byBox.fc.Features), tc.prec == geo.GeoExact)
			}

			// Moderators still see where the reporter clicked.
			private := do(t, http.MethodGet, fmt.Sprintf("%s/api/reports/%d", ts.URL, reportID), "", "", bearer(token))
			if !strings.Contains(string(private.body), lon) {
				t.Errorf("the moderators' report view lacks the clicked point %s: %s", lon, private.body)
			}
		})
	}
}

// waitEvent returns the data of the live event of incident id.
func waitEvent(t *testing.T, events <-chan sseEvent, id int64) string {
	t.Helper()
	for {
		e := nextEvent(t, events, 10*time.Second)
		if strings.Contains(e.data, fmt.Sprintf(`"id" : %d,`, id)) || strings.Contains(e.data, fmt.Sprintf(`"id":%d,`, id)) {
			return e.data
		}
	}
}
