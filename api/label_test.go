package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestPlaceLabels(t *testing.T) {
	ts := newTestServer(t)
	loadTestPlaces(t, ts)
	get := func(query string) (int, []byte) {
		t.Helper()
		res, err := http.Get(ts.URL + "/api/places/labels?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	type label struct {
		lon, lat   float64
		name       string
		population float64
		capital    bool
	}
	labels := func(query string) []label {
		t.Helper()
		status, body := get(query)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, status, body)
		}
		var out struct{ Labels [][]any }
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: %v in %s", query, err, body)
		}
		ls := make([]label, len(out.Labels))
		for i, l := range out.Labels {
			ls[i] = label{l[0].(float64), l[1].(float64), l[2].(string), l[3].(float64), l[4].(bool)}
		}
		return ls
	}

	// North of Iran (Tabriz), the three capitals of the South Caucasus are its
	// largest places (GeoNames).
	got := labels("bbox=43,39.5,51,43&limit=3")
	var names []string
	for _, l := range got {
		names = append(names, l.name)
		if !l.capital {
			t.Errorf("%s: capital = false", l.name)
		}
	}
	if strings.Join(names, ",") != "Baku,Yerevan,Tbilisi" {
		t.Errorf("largest places = %v, want Baku, Yerevan, Tbilisi", names)
	}

	// Around Jabrayil: only places in the box, most populous first.
	got = labels("bbox=46.5,39,47.5,39.8")
	if len(got) < 5 || len(got) > 50 {
		t.Fatalf("%d labels around Jabrayil, want 5 to the default 50", len(got))
	}
	for i, l := range got {
		if l.lon < 46.5 || l.lon > 47.5 || l.lat < 39 || l.lat > 39.8 {
			t.Errorf("%s at %v,%v is outside the box", l.name, l.lon, l.lat)
		}
		if l.capital {
			t.Errorf("%s is labelled a capital", l.name)
		}
		if i > 0 && l.population > got[i-1].population {
			t.Errorf("%s (%v) after %s (%v): not most populous first", l.name, l.population, got[i-1].name, got[i-1].population)
		}
	}

	for _, tt := range []struct{ query, want string }{
		{"", "bbox"},
		{"bbox=1,2,3", "bbox"},
		{"bbox=43,37.5,51,43&limit=0", "limit"},
		{"bbox=43,37.5,51,43&limit=201", "limit"},
		{"bbox=43,37.5,51,43&limit=ten", "limit"},
	} {
		status, body := get(tt.query)
		if status != http.StatusBadRequest || !strings.Contains(string(body), tt.want) {
			t.Errorf("%q: %d %s, want 400 naming %s", tt.query, status, body, tt.want)
		}
	}
}
