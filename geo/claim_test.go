package geo

import (
	"strings"
	"testing"
	"time"
)

func validClaim() Claim {
	return Claim{Party: "Ministry of Defence of Armenia", Stance: StanceAsserts, Text: "shelling near Jabrayil",
		Source: ClaimSource{Name: "Global Research"}}
}

func TestClaimValidate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	future := now.Add(48 * time.Hour)
	old := time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		edit  func(*Claim)
		field string // "" means valid
		msg   string
	}{
		{"valid", func(*Claim) {}, "", ""},
		{"valid attributes_to", func(c *Claim) { c.Stance, c.AttributedTo = StanceAttributesTo, "Azerbaijan" }, "", ""},
		{"valid url only", func(c *Claim) { c.Source = ClaimSource{URL: "https://example.org/a"} }, "", ""},
		{"blank party", func(c *Claim) { c.Party = "  " }, "c.party", "required"},
		{"long party", func(c *Claim) { c.Party = strings.Repeat("ա", 201) }, "c.party", "longer than 200"},
		{"control in text", func(c *Claim) { c.Text = "a\x07b" }, "c.text", "control characters"},
		{"no text", func(c *Claim) { c.Text = "" }, "c.text", "required"},
		{"bad actor code", func(c *Claim) { c.ActorCode = "ARM MOD" }, "c.actor_code", "letters, digits"},
		{"no stance", func(c *Claim) { c.Stance = "" }, "c.stance", "required"},
		{"unknown stance", func(c *Claim) { c.Stance = "claims" }, "c.stance", `unknown stance "claims"`},
		{"attributes_to without whom", func(c *Claim) { c.Stance = StanceAttributesTo }, "c.attributed_to", "required"},
		{"attributed_to on asserts", func(c *Claim) { c.AttributedTo = "Azerbaijan" }, "c.attributed_to", "only a claim with stance attributes_to"},
		{"blames itself", func(c *Claim) { c.Stance, c.AttributedTo = StanceAttributesTo, " ministry of defence of armenia" }, "c.attributed_to", "to itself"},
		{"claimed in the future", func(c *Claim) { c.ClaimedAt = &future }, "c.claimed_at", "in the future"},
		{"claimed before 1900", func(c *Claim) { c.ClaimedAt = &old }, "c.claimed_at", "before 1900"},
		{"no source", func(c *Claim) { c.Source = ClaimSource{} }, "c.source", "required"},
		{"javascript url", func(c *Claim) { c.Source.URL = "javascript:alert(1)" }, "c.source.url", "http or https"},
		{"relative url", func(c *Claim) { c.Source.URL = "/a/b" }, "c.source.url", "http or https"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validClaim()
			tc.edit(&c)
			err := c.Validate(now, "c.")
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			ve, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("Validate() = %v, want a *ValidationError on %s", err, tc.field)
			}
			for _, fe := range ve.Errors {
				if fe.Field == tc.field && strings.Contains(fe.Message, tc.msg) {
					return
				}
			}
			t.Errorf("Validate() errors = %+v, want %s containing %q", ve.Errors, tc.field, tc.msg)
		})
	}
}

func TestContestedOf(t *testing.T) {
	claim := func(party, stance, blamed string) Claim {
		return Claim{Party: party, Stance: stance, AttributedTo: blamed}
	}
	coded := func(c Claim, code string) Claim { c.ActorCode = code; return c }
	tests := []struct {
		name   string
		claims []Claim
		want   bool
	}{
		{"none", nil, false},
		{"one assertion", []Claim{claim("Armenia MoD", StanceAsserts, "")}, false},
		{"blame left unanswered on record (the seed event)", []Claim{
			claim("Armenia MoD", StanceAttributesTo, "Azerbaijan MoD"), claim("Baku", StanceNoComment, "")}, true},
		{"bare assertion and silence", []Claim{claim("Iran MFA", StanceAsserts, ""), claim("Baku", StanceNoComment, "")}, false},
		{"blame and the blamer's own no-comment", []Claim{
			coded(claim("Armenia MoD", StanceAttributesTo, "AZE"), "ARM"), coded(claim("Armenian government", StanceNoComment, ""), "ARM")}, false},
		{"assertion and denial", []Claim{claim("Armenia MoD", StanceAsserts, ""), claim("Azerbaijan MoD", StanceDenies, "")}, true},
		{"blame and denial", []Claim{
			claim("Armenia MoD", StanceAttributesTo, "Azerbaijan MoD"), claim("Azerbaijan MoD", StanceDenies, "")}, true},
		{"denial alone", []Claim{claim("Azerbaijan MoD", StanceDenies, "")}, false},
		{"mutual blame", []Claim{
			claim("Armenia MoD", StanceAttributesTo, "Azerbaijan MoD"), claim("Azerbaijan MoD", StanceAttributesTo, "armenia mod")}, true},
		{"mutual blame by actor code", []Claim{
			coded(claim("Ministry of Defence of Armenia", StanceAttributesTo, "AZE"), "ARM"),
			coded(claim("Azerbaijani Defence Ministry", StanceAttributesTo, "arm"), "AZE")}, true},
		{"both blame a third party", []Claim{
			claim("Armenia MoD", StanceAttributesTo, "Militia X"), claim("Azerbaijan MoD", StanceAttributesTo, "Militia X")}, false},
		{"one-sided blame of a party that blames someone else", []Claim{
			claim("Armenia MoD", StanceAttributesTo, "Azerbaijan MoD"), claim("Azerbaijan MoD", StanceAttributesTo, "Militia X")}, false},
		{"same party twice", []Claim{
			coded(claim("Armenia MoD", StanceAttributesTo, "X"), "ARM"), coded(claim("X", StanceAttributesTo, "ARM"), "ARM")}, false},
	}
	for _, tc := range tests {
		if got := ContestedOf(tc.claims); got != tc.want {
			t.Errorf("%s: ContestedOf() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A feature's claims are read and validated; a bad claim is a row error
// naming it; a feature without claims leaves them alone (nil).
func TestGeoJSONClaims(t *testing.T) {
	with := func(claims string) string {
		return strings.Replace(geojsonFeatureOK, `"external_id":"AZE1000"`, `"external_id":"AZE1000","claims":`+claims, 1)
	}
	rows, err := readGeoJSON(t, `{"type":"FeatureCollection","features":[`+with(`[
		{"id":3,"party":"Ministry of Defence of Armenia","actor_code":null,"stance":"attributes_to","attributed_to":"Azerbaijan",
		 "text":"shelled Jabrayil","claimed_at":"2020-10-18T06:00:00+04:00","source":{"name":"Global Research","url":null}},
		{"party":"Baku","stance":"no_comment","text":"no immediate response","source":{"url":"https://example.org/a"}}]`)+
		`,`+with(`[]`)+`,`+geojsonFeatureOK+`]}`)
	if err != nil || len(rows) != 3 {
		t.Fatalf("rows %+v, err %v", rows, err)
	}
	got := rows[0].Incident.Claims
	if len(rows[0].Errors) > 0 || len(got) != 2 || got[0].AttributedTo != "Azerbaijan" || got[0].ClaimedAt == nil ||
		!got[0].ClaimedAt.Equal(time.Date(2020, 10, 18, 2, 0, 0, 0, time.UTC)) || got[1].Source.URL != "https://example.org/a" {
		t.Errorf("claims = %+v, errors %v", got, rows[0].Errors)
	}
	if c := rows[1].Incident.Claims; c == nil || len(c) != 0 {
		t.Errorf("claims [] = %#v, want an empty, non-nil list (replace with none)", c)
	}
	if c := rows[2].Incident.Claims; c != nil {
		t.Errorf("no claims member = %#v, want nil (leave alone)", c)
	}

	bad := map[string]string{
		`{"party":"x"}`: "properties.claims",
		`[{"party":"x","stance":"insists","text":"t","source":{"name":"n"}}]`:                           "properties.claims[0].stance",
		`[{"party":"x","stance":"asserts","text":"t"}]`:                                                 "properties.claims[0].source",
		`[{"party":"x","stance":"asserts","text":"t","source":{"name":"n"},"claimed_at":"soon"}]`:       "properties.claims[0].claimed_at",
		`[{"party":"x","stance":"asserts","text":"t","source":{"name":"n"},"mood":"angry"}]`:            "properties.claims",
		`[{"party":"x","stance":"asserts","text":"t","source":{"name":"n","url":"ftp://example.org"}}]`: "properties.claims[0].source.url",
	}
	for claims, column := range bad {
		rows, err := readGeoJSON(t, `{"type":"FeatureCollection","features":[`+with(claims)+`]}`)
		if err != nil || len(rows) != 1 || len(rows[0].Errors) != 1 || rows[0].Errors[0].Column != column ||
			rows[0].Errors[0].Kind != KindBadClaim {
			t.Errorf("claims %s: rows %+v, err %v, want one %q error on %s", claims, rows, err, KindBadClaim, column)
		}
	}
}
