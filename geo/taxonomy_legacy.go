package geo

import (
	"slices"
	"strings"
	"unicode"
)

// legacyEventType is where a pre-2019 ACLED event type goes in the current
// taxonomy. Source: ACLED, "ACLED introduces new event types and
// sub-event types" (14 March 2019) and the ACLED Codebooks of 2017 (old
// types) and 2019 (new types); see docs/acled.md for the table and
// reasoning.
type legacyEventType struct {
	eventType, subEventType string
	// byActors: Riots/Protests, told apart by the actors' inter codes
	// (5 rioters, 6 protesters), as the old codebooks did.
	byActors bool
}

// legacyEventTypes maps the key of each pre-2019 event type (legacyKey).
var legacyEventTypes = map[string]legacyEventType{
	legacyKey("Battle-No change of territory"):              {"Battles", "Armed clash", false},
	legacyKey("Battle-Government regains territory"):        {"Battles", "Government regains territory", false},
	legacyKey("Battle-Non-state actor overtakes territory"): {"Battles", "Non-state actor overtakes territory", false},
	legacyKey("Remote violence"):                            {"Explosions/Remote violence", "", false},
	legacyKey("Riots/Protests"):                             {"", "", true},
	legacyKey("Violence against civilians"):                 {"Violence against civilians", "", false},
	legacyKey("Strategic development"):                      {"Strategic developments", "", false},
	legacyKey("Headquarters or base established"):           {"Strategic developments", "Headquarters or base established", false},
	legacyKey("Non-violent transfer of territory"):          {"Strategic developments", "Non-violent transfer of territory", false},
	legacyKey("Non-violent activity by a conflict actor"):   {"Strategic developments", "", false},
}

// legacyKey folds case and drops spaces, so "Battle - No change of
// territory" and "BATTLE-NO CHANGE OF TERRITORY" match.
func legacyKey(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// interRioters is the inter code of rioters, which makes a
// Riots/Protests event Riots (protesters are 6).
const interRioters = 5

// MapLegacyEventType maps a pre-2019 ACLED event type (any case and
// spacing) to the current event type and sub-event type. inter lists the
// event's actor type codes (inter1, inter2, and the digits of
// interaction), which decide Riots/Protests: rioters (5) make it Riots,
// else protesters (6) make it Protests, else the default is Protests (a
// demonstration not recorded as violent). ok is false when t is not a
// pre-2019 type. The sub-event type is empty where the old type does not
// determine one.
func MapLegacyEventType(t string, inter []int) (eventType, subEventType string, ok bool) {
	m, ok := legacyEventTypes[legacyKey(t)]
	if !ok {
		return "", "", false
	}
	if !m.byActors {
		return m.eventType, m.subEventType, true
	}
	// Protesters (6) or no actor code at all: Protests, the documented
	// default (docs/acled.md).
	if slices.Contains(inter, interRioters) {
		return "Riots", "", true
	}
	return "Protests", "", true
}

// interCodes reads ACLED's inter1, inter2 and interaction (two digits,
// e.g. "56": rioters and protesters) into actor type codes; spreadsheet
// forms such as "5.0" are read too.
func interCodes(inter1, inter2, interaction string) []int {
	var out []int
	for _, s := range []string{inter1, inter2} {
		if n, ok := parseWholeNumber(s); ok {
			out = append(out, n)
		}
	}
	if n, ok := parseWholeNumber(interaction); ok && n >= 10 && n <= 99 {
		out = append(out, n/10, n%10)
	} else if ok && n < 10 {
		out = append(out, n)
	}
	return out
}
