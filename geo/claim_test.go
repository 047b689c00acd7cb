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
		{"assertion and silence (the seed event)", []Claim{
			claim("Armenia MoD", StanceAttributesTo, "Azerbaijan MoD"), claim("Baku", StanceNoComment, "")}, false},
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
