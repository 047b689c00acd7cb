package geo_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// demoWant is what the article (DemoSource) says of each demo incident.
type demoWant struct {
	at             time.Time // UTC
	precision      geo.TimePrecision
	place          int64     // GeoNames id, or 0 with point
	point          orb.Point // when place is 0
	geoPrecision   geo.GeoPrecision
	actor1, actor2 string
	status         string
	statedCountry  string // alpha-2 stated by the source, "" when it states none
	notesHave      []string
	notesLack      []string
}

// DemoWants are the demo incidents as the article tells them: the truce
// at 00:00 local time (UTC+4) on 18 October, Armenia accusing Azerbaijan,
// calm early Sunday, two Iranian villages struck with at least one injury
// ("reportedly", so reported), the Aras villages on the river rather than on
// Jabrayil town.
var demoWants = map[string]demoWant{
	"demo-2020-10-18-truce": {
		at: time.Date(2020, 10, 17, 20, 0, 0, 0, time.UTC), precision: geo.TimeDay,
		place: geo.DemoPlaceXankandi, geoPrecision: geo.GeoRegion,
		actor1: "Government of Azerbaijan", actor2: "Government of Armenia", status: geo.StatusVerified,
		notesHave: []string{"00:00 local time", "20:00 UTC on 17 October", "Armenia accused Azerbaijan of breaching it"},
		notesLack: []string{"both sides", "Both sides", "each other"},
	},
	"demo-2020-10-18-jabrayil": {
		at: time.Date(2020, 10, 18, 0, 0, 0, 0, time.UTC), precision: geo.TimeDay,
		place: geo.DemoPlaceJebrail, geoPrecision: geo.GeoNear,
		actor1: "Military Forces of Azerbaijan", actor2: "Military Forces of Armenia", status: geo.StatusDisputed,
		notesHave: []string{"Shusan Stepanyan", "before dawn on Sunday", "mortar and artillery fire in the vicinity of Jabrayil", "no casualties", "no immediate response"},
	},
	"demo-2020-10-18-aras-villages": {
		at: time.Date(2020, 10, 18, 0, 0, 0, 0, time.UTC), precision: geo.TimeDay,
		point: orb.Point{47.0, 39.19}, geoPrecision: geo.GeoRegion,
		actor1: "Military Forces of Azerbaijan", actor2: "Military Forces of Armenia", status: geo.StatusDisputed,
		notesHave: []string{"the liberated villages on the Aras River", "stretch of the river south of Jabrayil", "Azerbaijani bank"},
	},
	"demo-2020-10-18-calm-line-of-contact": {
		at: time.Date(2020, 10, 18, 4, 0, 0, 0, time.UTC), precision: geo.TimeDay,
		place: geo.DemoPlaceXankandi, geoPrecision: geo.GeoRegion,
		status:    geo.StatusDisputed,
		notesHave: []string{"Early on Sunday", "the line of contact", "Vagram Pogosyan"},
		notesLack: []string{"Later"},
	},
	"demo-2020-10-10-moscow-statement": {
		at: time.Date(2020, 10, 10, 9, 0, 0, 0, time.UTC), precision: geo.TimeDay,
		place: geo.DemoPlaceMoscow, geoPrecision: geo.GeoExact,
		actor1: "Government of Azerbaijan", actor2: "Government of Armenia", status: geo.StatusVerified,
		notesHave: []string{"Russia-brokered ceasefire", "failed to take hold", "Moscow statement of 10 October 2020"},
		notesLack: []string{"bodies", "Lavrov"},
	},
	"demo-2020-10-iran-border-villages": {
		at: time.Date(2020, 10, 12, 8, 30, 0, 0, time.UTC), precision: geo.TimeWeek,
		place: geo.DemoPlaceKhomarlu, geoPrecision: geo.GeoRegion,
		status: geo.StatusReported, statedCountry: "IR",
		notesHave: []string{"struck two Iranian villages", "at least one injury", "Khatibzadeh", "not named"},
		notesLack: []string{"Khoda Afarin", "shells"},
	},
}

func TestDemoIncidentsTellTheArticle(t *testing.T) {
	demo := geo.DemoIncidents()
	if len(demo) != len(demoWants) {
		t.Errorf("%d demo incidents, want %d", len(demo), len(demoWants))
	}
	for _, d := range demo {
		inc := d.Incident
		want, ok := demoWants[inc.ExternalID]
		if !ok {
			t.Errorf("unexpected demo incident %s", inc.ExternalID)
			continue
		}
		t.Run(inc.ExternalID, func(t *testing.T) {
			if !inc.OccurredAt.Equal(want.at) || inc.TimePrecision != want.precision {
				t.Errorf("time %v (precision %d), want %v (%d)", inc.OccurredAt.UTC(), inc.TimePrecision, want.at, want.precision)
			}
			if d.GeoNamesID != want.place || (want.place == 0 && inc.Point != want.point) || (want.place != 0 && !inc.Point.Equal(orb.Point{})) {
				t.Errorf("place: GeoNames %d, point %v; want GeoNames %d, point %v", d.GeoNamesID, inc.Point, want.place, want.point)
			}
			if inc.GeoPrecision != want.geoPrecision {
				t.Errorf("geo precision %d, want %d", inc.GeoPrecision, want.geoPrecision)
			}
			if inc.Actor1 != want.actor1 || inc.Actor2 != want.actor2 {
				t.Errorf("actors %q, %q; want %q, %q", inc.Actor1, inc.Actor2, want.actor1, want.actor2)
			}
			if inc.Status != want.status {
				t.Errorf("status %q, want %q", inc.Status, want.status)
			}
			if inc.StatedCountryCode != want.statedCountry {
				t.Errorf("stated country %q, want %q", inc.StatedCountryCode, want.statedCountry)
			}
			if !reflect.DeepEqual(inc.Sources, []geo.Source{geo.DemoSource()}) {
				t.Errorf("sources %+v, want only the article", inc.Sources)
			}
			for _, s := range want.notesHave {
				if !strings.Contains(inc.Notes, s) {
					t.Errorf("notes %q lack %q", inc.Notes, s)
				}
			}
			for _, s := range want.notesLack {
				if strings.Contains(inc.Notes+inc.Title+inc.LocationName, s) {
					t.Errorf("notes, title or location say %q, which the article does not", s)
				}
			}
			if len(d.Evidence) == 0 {
				t.Error("no evidence: every statement must rest on a sentence of the source")
			}
			if inc.Title == "" || inc.LocationName == "" || inc.Demo {
				t.Errorf("title %q, location %q, demo %v: want both set, demo set by the loader", inc.Title, inc.LocationName, inc.Demo)
			}
		})
	}
}

// seedArticle finds the seed article the project started from
// (shared/seed next to the repository's checkout, as the project lays it
// out), or skips: the article's text is not copied into the repository.
func seedArticle(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		b, err := os.ReadFile(filepath.Join(dir, "shared", "seed", "nagorno-karabakh-ceasefire-2020-10-19.md"))
		if err == nil {
			return string(b)
		}
	}
	t.Skip("seed article shared/seed/nagorno-karabakh-ceasefire-2020-10-19.md not found above the checkout")
	return ""
}

// Every sentence a demo incident rests on is in the article, word for
// word (the seed copy's Markdown emphasis aside).
func TestDemoEvidenceIsInTheArticle(t *testing.T) {
	article := strings.ReplaceAll(seedArticle(t), "*", "")
	for _, d := range geo.DemoIncidents() {
		for _, sentence := range d.Evidence {
			if !strings.Contains(article, sentence) {
				t.Errorf("%s: %q is not in the article", d.Incident.ExternalID, sentence)
			}
		}
	}
}
