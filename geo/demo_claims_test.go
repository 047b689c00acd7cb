package geo_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

// The truce breach carries both sides as the article tells them: the
// Armenian charge, quoted word for word, and Baku's non-response: a charge
// left unanswered on record, so the incident is contested by the rule.
func TestDemoTruceBreachClaims(t *testing.T) {
	article := strings.ReplaceAll(seedArticle(t), "*", "")
	quoted := regexp.MustCompile(`"([^"]+)"`)
	var withClaims []string
	for _, d := range geo.DemoIncidents() {
		claims := d.Incident.Claims
		if len(claims) == 0 {
			continue
		}
		withClaims = append(withClaims, d.Incident.ExternalID)
		var stances []string
		for i, c := range claims {
			if err := c.Validate(time.Now(), ""); err != nil {
				t.Errorf("%s claim %d: %v", d.Incident.ExternalID, i, err)
			}
			if c.ClaimedAt != nil {
				t.Errorf("%s claim %d: claimed_at %v, but the article gives no time", d.Incident.ExternalID, i, c.ClaimedAt)
			}
			for _, m := range quoted.FindAllStringSubmatch(c.Text, -1) {
				if !strings.Contains(article, m[1]) {
					t.Errorf("%s claim %d quotes %q, which is not in the article", d.Incident.ExternalID, i, m[1])
				}
			}
			if c.Stance == geo.StanceNoComment && !strings.Contains(article, c.Text) {
				t.Errorf("%s: %q is not in the article", d.Incident.ExternalID, c.Text)
			}
			stances = append(stances, c.Party+":"+c.Stance)
		}
		if got, want := strings.Join(stances, ","),
			"Ministry of Defence of Armenia:attributes_to,Baku (Government of Azerbaijan):no_comment"; got != want {
			t.Errorf("%s claims %s, want %s", d.Incident.ExternalID, got, want)
		}
		if !geo.ContestedOf(claims) {
			t.Errorf("%s: not contested, but Armenia's charge stands against Baku's silence", d.Incident.ExternalID)
		}
	}
	if got, want := strings.Join(withClaims, ","), "demo-2020-10-18-jabrayil,demo-2020-10-18-aras-villages"; got != want {
		t.Errorf("demo incidents with claims: %s, want %s", got, want)
	}
}
