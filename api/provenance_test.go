package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// The items endpoint shows what the source stated beside what was derived,
// flags where they disagree (and filters on it), filters country= on the
// stated country, and returns the source row only when asked for.
func TestItemsStatedAndDerived(t *testing.T) {
	ts := newTestServer(t)
	box := func(minLon, maxLon float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{minLon, 38}, {maxLon, 38}, {maxLon, 42}, {minLon, 42}, {minLon, 38}}}}
	}
	if _, err := ts.DB.LoadCountries(context.Background(), []geo.Country{
		{Code: "AM", Numeric: "051", Name: "Armenia", Geometry: box(43, 46.5)},
		{Code: "AZ", Numeric: "031", Name: "Azerbaijan", Geometry: box(46.5, 50)},
	}); err != nil {
		t.Fatal(err)
	}
	stated := func(title string) func(*geo.Incident) {
		return func(i *geo.Incident) {
			i.Title, i.StatedCountry, i.StatedISO, i.StatedCountryCode = title, "Azerbaijan", "31", "AZ"
			i.Admin1, i.Admin2, i.Admin3 = "Zangilan", "Zangilan district", "Mincivan"
			i.SourceDataset, i.SourceFile = "ACLED", "secret-local-name.csv"
			i.OriginalEventType = "Remote violence"
			i.SourceRecord = map[string]string{"inter1": "1", "gwno": "373"}
		}
	}
	seedIncident(t, ts, 46.4, 39.03, stated("across")) // the polygon says Armenia
	seedIncident(t, ts, 47.0, 39.40, stated("inside"))
	seedIncident(t, ts, 45.0, 40.0, func(i *geo.Incident) { i.Title = "unstated" })

	p := getItems(t, ts, "/api/collections/incidents/items?sortby=%2Boccurred_at&limit=10")
	byTitle := map[string]map[string]any{}
	for _, f := range p.fc.Features {
		byTitle[f.Properties["title"].(string)] = f.Properties
	}
	across := byTitle["across"]
	for _, tc := range []struct {
		prop string
		want any
	}{
		{"country", "Azerbaijan"}, {"iso", "31"}, {"stated_country_code", "AZ"}, {"country_code", "AM"},
		{"admin1", "Zangilan"}, {"admin2", "Zangilan district"}, {"admin3", "Mincivan"},
		{"source_dataset", "ACLED"}, {"original_event_type", "Remote violence"}, {"original_sub_event_type", nil},
	} {
		if got := across[tc.prop]; got != tc.want {
			t.Errorf("property %s = %v, want %v", tc.prop, got, tc.want)
		}
	}
	if got, _ := json.Marshal(across["geo_check"]); string(got) != `["country_mismatch"]` {
		t.Errorf("geo_check = %s, want [\"country_mismatch\"]", got)
	}
	if got, _ := json.Marshal(byTitle["inside"]["geo_check"]); string(got) != `[]` {
		t.Errorf("inside: geo_check = %s, want []", got)
	}
	for _, hidden := range []string{"source_record", "source_file"} {
		if _, ok := across[hidden]; ok {
			t.Errorf("property %s shown without being asked for", hidden)
		}
	}

	p = getItems(t, ts, "/api/collections/incidents/items?properties=title,source_record&geo_check=country_mismatch")
	if got := p.titles(); len(got) != 1 || got[0] != "across" {
		t.Fatalf("geo_check=country_mismatch: %v, want [across]", got)
	}
	if rec, _ := json.Marshal(p.fc.Features[0].Properties["source_record"]); string(rec) != `{"gwno":"373","inter1":"1"}` {
		t.Errorf("source_record = %s", rec)
	}
	if got := getItems(t, ts, "/api/collections/incidents/items?country=az&sortby=%2Boccurred_at").titles(); len(got) != 2 {
		t.Errorf("country=az: %v, want the two incidents stating Azerbaijan", got)
	}
	if got := getItems(t, ts, "/api/collections/incidents/items?country=AM").titles(); len(got) != 1 || got[0] != "unstated" {
		t.Errorf("country=AM: %v, want only the unstated incident in Armenia's polygon", got)
	}
	for _, bad := range []string{"properties=source_file", "geo_check=mismatch", "derived=yes"} {
		res, err := http.Get(ts.URL + "/api/collections/incidents/items?" + bad)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s = %d %s, want 400", bad, res.StatusCode, body)
		}
	}
	res, err := http.Get(ts.URL + "/api/collections/incidents/items?f=csv&derived=true")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "event_id_cnty") || strings.Contains(string(body), "secret-local-name") {
		t.Errorf("f=csv&derived=true = %d:\n%s", res.StatusCode, body)
	}
}
