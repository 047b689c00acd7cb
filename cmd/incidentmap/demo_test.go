package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// demoFeature is an exported demo incident, as GeoJSON.
type demoFeature struct {
	Geometry struct {
		Coordinates [2]float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties struct {
		ExternalID string    `json:"external_id"`
		OccurredAt time.Time `json:"occurred_at"`
		Actor1     string    `json:"actor1"`
		Actor2     string    `json:"actor2"`
		Status     string    `json:"status"`
		Notes      string    `json:"notes"`
		Demo       bool      `json:"demo"`
		Sources    []struct {
			Publisher   string `json:"publisher"`
			Title       string `json:"title"`
			PublishedAt string `json:"published_at"`
			Kind        string `json:"kind"`
		}
		BorderDistanceM  *float64 `json:"border_distance_m"`
		NearestPlaceName string   `json:"nearest_place_name"`
	} `json:"properties"`
}

// The demo loads onto its GeoNames places (no aliases added), each
// incident at its time and place with its actors, status and the article
// as source; with borders loaded, "within 5 km of a border" finds both
// border events: the Aras villages and the Iranian villages.
func TestDemoLoad(t *testing.T) {
	dataDir := filepath.Join(layerTestDir(t), "data")
	run := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runLayerCmd(t, append(args, "--data-dir", dataDir)...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v: exit %d, stderr:\n%s", args, code, stderr)
		}
		return stdout
	}
	code, _, stderr := runLayerCmd(t, "demo", "load", "--data-dir", dataDir)
	if line := oneErrorLine(t, stderr); code != 1 || !strings.Contains(line, "GeoNames place") || !strings.Contains(line, "places load") {
		t.Errorf("demo load without places: exit %d, %q; want an error pointing to places load", code, line)
	}
	run("places", "load", "--cities", caucasusGeoNames(t), "--reenrich=false")
	run("borders", "load", "--reenrich=false", "--countries", filepath.Join(npmData, "world-atlas", "countries-10m.json"),
		"--codes", filepath.Join(npmData, "i18n-iso-countries", "codes.json"))
	// The demo adds no names: what a search finds is the same before and after.
	searches := func() string { return run("places", "search", "Stepanakert") + run("places", "search", "Khoda Afarin") }
	before := searches()
	if out := run("demo", "load"); out != "demo data: 6 incidents added, 0 already present\n" {
		t.Errorf("demo load: %q", out)
	}
	if after := searches(); after != before {
		t.Errorf("the demo changed the gazetteer: searches gave\n%s\nbefore and\n%s\nafter", before, after)
	}

	export := func(query string) map[string]demoFeature {
		t.Helper()
		code, stdout, stderr := runLayerCmd(t, "export", "--format", "geojson", "--query", query, "--data-dir", dataDir)
		if code != 0 {
			t.Fatalf("export %q: exit %d, stderr:\n%s", query, code, stderr)
		}
		var fc struct{ Features []demoFeature }
		if err := json.Unmarshal([]byte(stdout), &fc); err != nil {
			t.Fatal(err)
		}
		out := map[string]demoFeature{}
		for _, f := range fc.Features {
			out[f.Properties.ExternalID] = f
		}
		return out
	}
	all := export("") // only the demo is loaded
	tests := []struct {
		id             string
		at             string
		near           orb.Point // lon, lat
		withinM        float64
		actor1, actor2 string
		status         string
		nearestPlace   string
	}{
		{"demo-2020-10-18-truce", "2020-10-17T20:00:00Z", orb.Point{46.7528, 39.8177}, 100, "Government of Azerbaijan", "Government of Armenia", "verified", "Xankandi"},
		{"demo-2020-10-18-jabrayil", "2020-10-18T00:00:00Z", orb.Point{47.02835, 39.39917}, 100, "Military Forces of Azerbaijan", "Military Forces of Armenia", "disputed", "Jebrail"},
		{"demo-2020-10-18-aras-villages", "2020-10-18T00:00:00Z", orb.Point{47.0, 39.19}, 100, "Military Forces of Azerbaijan", "Military Forces of Armenia", "disputed", ""},
		{"demo-2020-10-18-calm-line-of-contact", "2020-10-18T04:00:00Z", orb.Point{46.7528, 39.8177}, 100, "", "", "disputed", "Xankandi"},
		{"demo-2020-10-10-moscow-statement", "2020-10-10T09:00:00Z", orb.Point{37.61556, 55.75222}, 100, "Government of Azerbaijan", "Government of Armenia", "verified", "Moscow"},
		{"demo-2020-10-iran-border-villages", "2020-10-12T08:30:00Z", orb.Point{47.0347, 39.1489}, 100, "", "", "reported", "Khomārlū"},
	}
	for _, tt := range tests {
		f, ok := all[tt.id]
		if !ok {
			t.Errorf("%s not exported", tt.id)
			continue
		}
		p := f.Properties
		pt := orb.Point(f.Geometry.Coordinates)
		if got := p.OccurredAt.UTC().Format(time.RFC3339); got != tt.at {
			t.Errorf("%s: occurred_at %s, want %s", tt.id, got, tt.at)
		}
		if d := orbgeo.DistanceHaversine(pt, tt.near); d > tt.withinM {
			t.Errorf("%s: at %v, %.0f m from %v; want within %.0f m", tt.id, pt, d, tt.near, tt.withinM)
		}
		if p.Actor1 != tt.actor1 || p.Actor2 != tt.actor2 || p.Status != tt.status || !p.Demo {
			t.Errorf("%s: actors %q, %q, status %q, demo %v; want %q, %q, %q, true", tt.id, p.Actor1, p.Actor2, p.Status, p.Demo, tt.actor1, tt.actor2, tt.status)
		}
		if len(p.Sources) != 1 || p.Sources[0].Publisher != "Global Research" || p.Sources[0].Title != "Nagorno-Karabakh Ceasefire 2.0?" ||
			p.Sources[0].PublishedAt != "2020-10-19" || p.Sources[0].Kind != "media" {
			t.Errorf("%s: sources %+v, want only the Global Research article of 2020-10-19", tt.id, p.Sources)
		}
		if tt.nearestPlace != "" && p.NearestPlaceName != tt.nearestPlace {
			t.Errorf("%s: nearest place %q, want %q", tt.id, p.NearestPlaceName, tt.nearestPlace)
		}
	}
	// The Aras villages sit on the river, under 5 km from the border, not
	// on Jabrayil town (11.8 km from it).
	var nearBorder []string
	for id := range export("near_border_km=5") {
		nearBorder = append(nearBorder, id)
	}
	slices.Sort(nearBorder)
	if want := []string{"demo-2020-10-18-aras-villages", "demo-2020-10-iran-border-villages"}; !slices.Equal(nearBorder, want) {
		t.Errorf("demo incidents within 5 km of a border = %v, want %v", nearBorder, want)
	}

	// The truce breach carries both sides; silence is no denial, so no
	// demo incident is contested. Loading again adds no claim twice.
	claimsOf := func() map[string]string {
		t.Helper()
		code, stdout, stderr := runLayerCmd(t, "export", "--format", "geojson", "--query",
			"properties=external_id,contested,claims", "--data-dir", dataDir)
		if code != 0 {
			t.Fatalf("export claims: exit %d, stderr:\n%s", code, stderr)
		}
		var fc struct {
			Features []struct {
				Properties struct {
					ExternalID string `json:"external_id"`
					Contested  bool   `json:"contested"`
					Claims     []struct{ Party, Stance string }
				} `json:"properties"`
			}
		}
		if err := json.Unmarshal([]byte(stdout), &fc); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, f := range fc.Features {
			p := f.Properties
			var parts []string
			for _, c := range p.Claims {
				parts = append(parts, c.Party+":"+c.Stance)
			}
			if len(parts) > 0 || p.Contested {
				out[p.ExternalID] = fmt.Sprintf("%s contested=%v", strings.Join(parts, ","), p.Contested)
			}
		}
		return out
	}
	both := "Ministry of Defence of Armenia:attributes_to,Baku (Government of Azerbaijan):no_comment contested=true"
	want := map[string]string{"demo-2020-10-18-jabrayil": both, "demo-2020-10-18-aras-villages": both}
	if got := claimsOf(); !maps.Equal(got, want) {
		t.Errorf("demo claims = %v, want %v", got, want)
	}
	if out := run("demo", "load"); out != "demo data: 0 incidents added, 6 already present\n" {
		t.Errorf("second demo load: %q", out)
	}
	if got := claimsOf(); !maps.Equal(got, want) {
		t.Errorf("demo claims after a second load = %v, want %v", got, want)
	}
}
