package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

func TestIncidentHistogram(t *testing.T) {
	ts := newTestServer(t)
	histogram := func(query string, want int) (days []struct {
		Date  string
		Count int
	}, total int) {
		t.Helper()
		res, err := http.Get(ts.URL + "/api/collections/incidents/histogram?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s: status %d (%s), want %d", query, res.StatusCode, body, want)
		}
		if want != http.StatusOK {
			return nil, 0
		}
		var out struct {
			Days []struct {
				Date  string
				Count int
			}
			NumberMatched int
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s: %v in %s", query, err, body)
		}
		return out.Days, out.NumberMatched
	}

	if days, n := histogram("", http.StatusOK); len(days) != 0 || n != 0 {
		t.Errorf("no incidents: %v (%d), want none", days, n)
	}
	// 3 on 10 Oct (one at 23:30 UTC, still the 10th), 1 on 12 Oct in view;
	// 2 on 11 Oct outside the bbox; one battle on 12 Oct.
	at := func(day, hour, min int) time.Time { return time.Date(2020, 10, day, hour, min, 0, 0, time.UTC) }
	for _, c := range []struct {
		lon  float64
		when time.Time
		typ  string
	}{{47, at(10, 1, 0), ""}, {47.1, at(10, 12, 0), ""}, {47.2, at(10, 23, 30), ""}, {47.3, at(12, 6, 0), "Battles"}, {30, at(11, 6, 0), ""}, {30.1, at(11, 7, 0), ""}} {
		seedIncident(t, ts, c.lon, 39.5, func(inc *geo.Incident) {
			inc.OccurredAt = c.when
			if c.typ != "" {
				inc.EventType, inc.SubEventType = c.typ, "Armed clash"
			}
		})
	}
	days, n := histogram("bbox=46,39,48,40", http.StatusOK)
	if got := len(days); n != 4 || got != 2 || days[0].Date != "2020-10-10" || days[0].Count != 3 || days[1].Date != "2020-10-12" || days[1].Count != 1 {
		t.Errorf("histogram in the bbox = %+v (%d), want 3 on 2020-10-10 and 1 on 2020-10-12 (4)", days, n)
	}
	if _, n := histogram("", http.StatusOK); n != 6 {
		t.Errorf("histogram of all = %d incidents, want 6", n)
	}
	if days, n := histogram("event_type=Battles", http.StatusOK); n != 1 || len(days) != 1 || days[0].Date != "2020-10-12" {
		t.Errorf("histogram of battles = %+v (%d), want 1 on 2020-10-12", days, n)
	}
	histogram("bbox=1,2", http.StatusBadRequest)
	histogram("event_type=Nonsense", http.StatusBadRequest) // as items answers it
	res, err := http.Get(ts.URL + "/api/collections/places/histogram")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("places histogram: status %d, want 404", res.StatusCode)
	}
}
