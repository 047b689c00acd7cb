package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Claim stances: what a party says about an incident.
const (
	// StanceAsserts: the party says the event happened as stated.
	StanceAsserts = "asserts"
	// StanceDenies: the party says it did not happen (or not so).
	StanceDenies = "denies"
	// StanceNoComment: the party declined to comment or did not respond.
	StanceNoComment = "no_comment"
	// StanceAttributesTo: the party says it happened and blames
	// Claim.AttributedTo for it.
	StanceAttributesTo = "attributes_to"
)

// claimStances lists every valid stance.
var claimStances = []string{StanceAsserts, StanceDenies, StanceNoComment, StanceAttributesTo}

// Bounds of a claim's text fields, in characters (the schema's checks).
const (
	MaxClaimParty      = 200
	MaxClaimText       = 2000
	MaxClaimSourceName = 300
	MaxClaimSourceURL  = 2000
)

var actorCodePattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,50}$`)

// ClaimSource is where a claim is reported: a URL, a name, or both.
type ClaimSource struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Claim is what one party says about an incident. Claims are stated, kept
// as given; whether an incident's claims conflict is derived (ContestedOf).
type Claim struct {
	ID         int64  `json:"id,omitempty"`
	IncidentID int64  `json:"-"`
	Party      string `json:"party"`                // who says it, e.g. "Ministry of Defence of Armenia"
	ActorCode  string `json:"actor_code,omitempty"` // optional short code of the party
	Stance     string `json:"stance"`
	// AttributedTo is the party blamed, for StanceAttributesTo only.
	AttributedTo string `json:"attributed_to,omitempty"`
	Text         string `json:"text"`
	// ClaimedAt is when the party said it, only when the source says so.
	ClaimedAt *time.Time  `json:"claimed_at,omitempty"`
	Source    ClaimSource `json:"source"`
	Version   int         `json:"version,omitempty"`
}

// Validate checks c, naming fields under prefix (e.g. "claims[0]."); now
// bounds claimed_at. Returns a *ValidationError or nil.
func (c *Claim) Validate(now time.Time, prefix string) error {
	v := &ValidationError{}
	checkClaimText(v, prefix+"party", c.Party, MaxClaimParty, true)
	if c.ActorCode != "" && !actorCodePattern.MatchString(c.ActorCode) {
		v.Add(prefix+"actor_code", "want 1 to 50 letters, digits or . _ : -")
	}
	switch c.Stance {
	case StanceAsserts, StanceDenies, StanceNoComment:
		if c.AttributedTo != "" {
			v.Add(prefix+"attributed_to", "only a claim with stance attributes_to names whom it blames")
		}
	case StanceAttributesTo:
		checkClaimText(v, prefix+"attributed_to", c.AttributedTo, MaxClaimParty, true)
		if c.AttributedTo != "" && samePartyName(c.AttributedTo, c.Party, c.ActorCode) {
			v.Add(prefix+"attributed_to", "a party does not attribute an event to itself: use stance asserts")
		}
	case "":
		v.Add(prefix+"stance", "required: one of %s", strings.Join(claimStances, ", "))
	default:
		v.Add(prefix+"stance", "unknown stance %s: want one of %s", quoteShort(c.Stance), strings.Join(claimStances, ", "))
	}
	checkClaimText(v, prefix+"text", c.Text, MaxClaimText, true)
	if c.ClaimedAt != nil {
		if c.ClaimedAt.Year() < 1900 {
			v.Add(prefix+"claimed_at", "before 1900")
		} else if c.ClaimedAt.After(now.Add(24 * time.Hour)) {
			v.Add(prefix+"claimed_at", "in the future")
		}
	}
	checkClaimText(v, prefix+"source.name", c.Source.Name, MaxClaimSourceName, false)
	if c.Source.URL != "" {
		if msg := checkHTTPURL(c.Source.URL); msg != "" {
			v.Add(prefix+"source.url", "%s", msg)
		}
	} else if strings.TrimSpace(c.Source.Name) == "" {
		v.Add(prefix+"source", "required: the url or name of where the claim is reported")
	}
	return v.Err()
}

// checkClaimText checks one text field: length in characters, no control
// characters, and (when required) not blank.
func checkClaimText(v *ValidationError, field, s string, maxLen int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "required")
	case !utf8.ValidString(s):
		v.Add(field, "not valid UTF-8")
	case utf8.RuneCountInString(s) > maxLen:
		v.Add(field, "longer than %d characters", maxLen)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		v.Add(field, "control characters are not allowed")
	}
}

// checkHTTPURL says what is wrong with an absolute http(s) URL, or "".
func checkHTTPURL(s string) string {
	if len(s) > MaxClaimSourceURL {
		return fmt.Sprintf("longer than %d characters", MaxClaimSourceURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "want an absolute http or https URL"
	}
	return ""
}

// claimKey is the party a claim speaks for: its actor code when it has
// one, else its party text, compared case-insensitively.
func claimKey(c Claim) string {
	if c.ActorCode != "" {
		return strings.ToLower(strings.TrimSpace(c.ActorCode))
	}
	return strings.ToLower(strings.TrimSpace(c.Party))
}

// samePartyName reports whether name (an attributed_to) names the party
// of a claim with this party text and actor code.
func samePartyName(name, party, actorCode string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	return n == strings.ToLower(strings.TrimSpace(party)) ||
		actorCode != "" && n == strings.ToLower(strings.TrimSpace(actorCode))
}

// ContestedOf says whether an incident's claims conflict: one asserts the
// event (asserts, or attributes_to, which asserts it and blames someone)
// and another denies it; two parties blame each other (A attributes it to
// B and B to A); or one party blames another and a different party is on
// record declining to confirm (no_comment): a charge put to the other side
// and left unanswered is one side's account against the other's silence,
// which a reader must not take as settled ("Baku had no immediate response
// to the charge"). A bare assertion beside a no-comment is not a contest:
// nobody was blamed. The schema computes the same
// (incident_claims_contested, migration 00012).
func ContestedOf(claims []Claim) bool {
	var asserted, denied bool
	for _, c := range claims {
		switch c.Stance {
		case StanceAsserts, StanceAttributesTo:
			asserted = true
		case StanceDenies:
			denied = true
		}
	}
	if asserted && denied {
		return true
	}
	for _, a := range claims {
		for _, b := range claims {
			if a.Stance == StanceAttributesTo && b.Stance == StanceNoComment && claimKey(a) != claimKey(b) {
				return true
			}
		}
	}
	for i, a := range claims {
		for _, b := range claims[i+1:] {
			if a.Stance == StanceAttributesTo && b.Stance == StanceAttributesTo && claimKey(a) != claimKey(b) &&
				samePartyName(a.AttributedTo, b.Party, b.ActorCode) && samePartyName(b.AttributedTo, a.Party, a.ActorCode) {
				return true
			}
		}
	}
	return false
}

// KindBadClaim is the row error kind of an imported claim that is not
// valid.
const KindBadClaim = "invalid claim"

// claimJSON is one claim of an imported GeoJSON feature's claims list;
// id, as an export writes it, is ignored.
type claimJSON struct {
	ID           json.RawMessage `json:"id"`
	Party        string          `json:"party"`
	ActorCode    *string         `json:"actor_code"`
	Stance       string          `json:"stance"`
	AttributedTo *string         `json:"attributed_to"`
	Text         string          `json:"text"`
	ClaimedAt    *string         `json:"claimed_at"`
	Source       *struct {
		Name *string `json:"name"`
		URL  *string `json:"url"`
	} `json:"source"`
}

// readFeatureClaims reads a feature's claims member: nil when there is
// none (an import then leaves the incident's claims alone), else every
// claim, each validated; a bad claim is a row error naming it. ACLED rows
// have no claims: their notes are never split into claims by guessing.
func readFeatureClaims(b *rowBuilder, raw json.RawMessage) []Claim {
	now := time.Now()
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var in []claimJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		b.fail("properties.claims", KindBadClaim, "want a list of claims {party, stance, text, source, ...}: %s",
			strings.TrimPrefix(err.Error(), "json: "))
		return nil
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	claims := make([]Claim, 0, len(in))
	for i, j := range in {
		prefix := fmt.Sprintf("properties.claims[%d].", i)
		c := Claim{Party: j.Party, ActorCode: str(j.ActorCode), Stance: j.Stance, AttributedTo: str(j.AttributedTo), Text: j.Text}
		if j.Source != nil {
			c.Source = ClaimSource{Name: str(j.Source.Name), URL: str(j.Source.URL)}
		}
		if s := str(j.ClaimedAt); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				b.fail(prefix+"claimed_at", KindBadClaim, "want an RFC 3339 time, got %s", quoteShort(s))
				continue
			}
			t = t.UTC()
			c.ClaimedAt = &t
		}
		if err := c.Validate(now, prefix); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, fe := range ve.Errors {
					b.fail(fe.Field, KindBadClaim, "%s", fe.Message)
				}
			}
			continue
		}
		claims = append(claims, c)
	}
	return claims
}

// ClaimStances returns a copy of claimStances (see there).
func ClaimStances() []string { return slices.Clone(claimStances) }
