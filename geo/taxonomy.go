package geo

import "slices"

// EventTaxonomy maps each ACLED event type to its sub-event types, in ACLED's
// order. Source: ACLED Codebook (2023); facts, not code.
var EventTaxonomy = map[string][]string{
	"Battles": {
		"Armed clash",
		"Government regains territory",
		"Non-state actor overtakes territory",
	},
	"Explosions/Remote violence": {
		"Chemical weapon",
		"Air/drone strike",
		"Suicide bomb",
		"Shelling/artillery/missile attack",
		"Remote explosive/landmine/IED",
		"Grenade",
	},
	"Violence against civilians": {
		"Sexual violence",
		"Attack",
		"Abduction/forced disappearance",
	},
	"Protests": {
		"Peaceful protest",
		"Protest with intervention",
		"Excessive force against protesters",
	},
	"Riots": {
		"Violent demonstration",
		"Mob violence",
	},
	"Strategic developments": {
		"Agreement",
		"Arrests",
		"Change to group/activity",
		"Disrupted weapons use",
		"Headquarters or base established",
		"Looting/property destruction",
		"Non-violent transfer of territory",
		"Other",
	},
}

// EventTypes lists ACLED's event types in a stable order.
var EventTypes = []string{
	"Battles",
	"Explosions/Remote violence",
	"Violence against civilians",
	"Protests",
	"Riots",
	"Strategic developments",
}

// ValidEventType reports whether t is an ACLED event type.
func ValidEventType(t string) bool {
	_, ok := EventTaxonomy[t]
	return ok
}

// ValidSubEventType reports whether sub belongs to event type t.
// An empty sub-event type is valid for any event type.
func ValidSubEventType(t, sub string) bool {
	if sub == "" {
		return ValidEventType(t)
	}
	return slices.Contains(EventTaxonomy[t], sub)
}

// SubEventTypes lists every ACLED sub-event type.
func SubEventTypes() []string {
	var all []string
	for _, t := range EventTypes {
		all = append(all, EventTaxonomy[t]...)
	}
	return all
}
