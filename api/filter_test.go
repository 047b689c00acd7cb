package api_test

import (
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

// CQL2 filters (text and JSON) and property parameters select the right
// incidents; hostile ones answer 400 and name what is wrong.
func TestItemsFilter(t *testing.T) {
	ts := newTestServer(t)
	seed := func(title string, lon, lat float64, mod func(*geo.Incident)) {
		seedIncident(t, ts, lon, lat, func(i *geo.Incident) {
			i.Title = title
			if mod != nil {
				mod(i)
			}
		})
	}
	seed("Shelling of Jabrayil", 47.03, 39.40, func(i *geo.Incident) { i.Fatalities = 3 })
	seed("Clash near Fuzuli", 47.15, 39.60, func(i *geo.Incident) {
		i.EventType, i.SubEventType, i.OccurredAt = "Battles", "Armed clash", time.Date(2020, 10, 25, 6, 0, 0, 0, time.UTC)
	})
	seed("Rockets at Ganja", 46.36, 40.68, func(i *geo.Incident) { i.Fatalities = 13; i.OccurredAt = time.Date(2020, 10, 17, 1, 0, 0, 0, time.UTC) })
	seed("Protest in Yerevan", 44.51, 40.18, func(i *geo.Incident) {
		i.EventType, i.SubEventType, i.OccurredAt = "Protests", "Peaceful protest", time.Date(2020, 11, 10, 12, 0, 0, 0, time.UTC)
	})
	titles := func(query string) ([]string, response) {
		t.Helper()
		res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?"+query, "", "")
		if res.status != http.StatusOK {
			return nil, res
		}
		p := getItems(t, ts, "/api/collections/incidents/items?"+query)
		got := p.titles()
		slices.Sort(got)
		return got, res
	}
	tests := []struct {
		name, query string
		want        []string
	}{
		{"equality", "filter=" + url.QueryEscape("event_type = 'Battles'"), []string{"Clash near Fuzuli"}},
		{"comparison", "filter=" + url.QueryEscape("fatalities > 2"), []string{"Rockets at Ganja", "Shelling of Jabrayil"}},
		{"updated_at before 2021", "filter=" + url.QueryEscape("updated_at < TIMESTAMP('2021-01-01T00:00:00Z')"), nil},
		{"GDAL's quoted timestamp", "filter-lang=cql-text&filter=" + url.QueryEscape("updated_at < '2021-01-01T00:00:00Z'"), nil},
		{"LIKE", "filter=" + url.QueryEscape("title LIKE '%Ganja%'"), []string{"Rockets at Ganja"}},
		{"IN", "filter=" + url.QueryEscape("event_type IN ('Battles', 'Protests')"), []string{"Clash near Fuzuli", "Protest in Yerevan"}},
		{"BETWEEN", "filter=" + url.QueryEscape("fatalities BETWEEN 1 AND 5"), []string{"Shelling of Jabrayil"}},
		{"IS NULL", "filter=" + url.QueryEscape("report_id IS NULL AND event_type = 'Protests'"), []string{"Protest in Yerevan"}},
		{"S_INTERSECTS", "filter=" + url.QueryEscape("S_INTERSECTS(geometry, BBOX(46.9, 39.3, 47.2, 39.7))"), []string{"Clash near Fuzuli", "Shelling of Jabrayil"}},
		{"S_DWITHIN", "filter=" + url.QueryEscape("S_DWITHIN(geometry, POINT(46.36 40.68), 5000, meters)"), []string{"Rockets at Ganja"}},
		{"T_DURING", "filter=" + url.QueryEscape("T_DURING(occurred_at, INTERVAL('2020-10-20', '2020-10-31'))"), []string{"Clash near Fuzuli"}},
		{"CQL2 JSON", "filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op": "and", "args": [{"op": ">=", "args": [{"property": "fatalities"}, 3]}, {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [46, 40, 47, 41]}]}]}`), []string{"Rockets at Ganja"}},
		{"with the other filters", "event_type=Explosions%2FRemote%20violence&filter=" + url.QueryEscape("fatalities < 10"), []string{"Shelling of Jabrayil"}},
		{"property parameter", "title=" + url.QueryEscape("Protest in Yerevan"), []string{"Protest in Yerevan"}},
		{"injection is a value", "filter=" + url.QueryEscape("title = 'x'' OR ''1''=''1'"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, res := titles(tt.query)
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	bad := []struct{ name, query, mention string }{
		{"unknown property", "filter=" + url.QueryEscape("colour = 'red'"), "colour"},
		{"private column", "filter=" + url.QueryEscape("source_file = 'x.csv'"), "source_file"},
		{"type mismatch", "filter=" + url.QueryEscape("fatalities = 'many'"), "fatalities"},
		{"syntax", "filter=" + url.QueryEscape("title = "), "filter"},
		{"deep nesting", "filter=" + url.QueryEscape(strings.Repeat("NOT (", 30)+"demo = true"+strings.Repeat(")", 30)), "filter"},
		{"unknown language", "filter-lang=sql&filter=x", "filter-lang"},
		{"property parameter of the wrong type", "fatalities=many", "fatalities"},
	}
	for _, tt := range bad {
		res := do(t, http.MethodGet, ts.URL+"/api/collections/incidents/items?"+tt.query, "", "")
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), tt.mention) {
			t.Errorf("%s: %d %s, want 400 naming %s", tt.name, res.status, res.body, tt.mention)
		}
	}
	// The queryables say what may be named.
	var q struct {
		Properties map[string]map[string]any
	}
	getJSON(t, ts.URL+"/api/collections/incidents/queryables", &q)
	if q.Properties["updated_at"]["format"] != "date-time" || q.Properties["geometry"]["x-ogc-role"] != "primary-geometry" {
		t.Errorf("queryables = %v", q.Properties)
	}
	if res := do(t, http.MethodGet, ts.URL+"/api/collections/countries/queryables", "", ""); res.status != http.StatusNotFound {
		t.Errorf("queryables of a layer = %d, want 404", res.status)
	}
}

// GDAL sends an updated_at comparison to the server as CQL2 and gets the
// exact answer (before, it became datetime= on occurred_at: every row).
func TestGDALFiltersOnTimestamps(t *testing.T) {
	ogrinfo := ogrinfoPath(t)
	ts := newTestServer(t)
	for i := range 5 {
		seedIncident(t, ts, 46.5+float64(i)*0.01, 39.0, nil)
	}
	for _, tt := range []struct {
		where string
		want  int
	}{{"updated_at < '2021-01-01T00:00:00'", 0}, {"updated_at > '2021-01-01T00:00:00'", 5}} {
		cmd := exec.Command(ogrinfo, "-ro", "-al", "-q", "OAPIF:"+ts.URL+"/api", "incidents", "-where", tt.where)
		cmd.Env = append(cmd.Environ(), "CPL_DEBUG=ON")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo: %v\n%s", err, out)
		}
		if got := strings.Count(string(out), "OGRFeature(incidents)"); got != tt.want {
			t.Errorf("-where %s: %d features, want %d", tt.where, got, tt.want)
		}
		if !regexp.MustCompile(`Fetch\(\S+/items\?\S*filter=`).Match(out) {
			t.Errorf("-where %s: GDAL did not send a filter to the server", tt.where)
		}
	}
}
