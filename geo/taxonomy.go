package geo

import "slices"

// eventTaxonomy maps each ACLED event type to its sub-event types, in ACLED's
// order. Source: ACLED Codebook (2023); facts, not code. The schema's CHECK
// constraints and frontend/src/taxonomy.js repeat it; tests tie them
// (geo/postgis/vocabulary_test.go, frontend/vocabulary_test.go).
var eventTaxonomy = map[string][]string{
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

// eventTypes lists ACLED's event types in a stable order.
var eventTypes = []string{
	"Battles",
	"Explosions/Remote violence",
	"Violence against civilians",
	"Protests",
	"Riots",
	"Strategic developments",
}

// ValidEventType reports whether t is an ACLED event type.
func ValidEventType(t string) bool {
	_, ok := eventTaxonomy[t]
	return ok
}

// ValidSubEventType reports whether sub belongs to event type t.
// An empty sub-event type is valid for any event type.
func ValidSubEventType(t, sub string) bool {
	if sub == "" {
		return ValidEventType(t)
	}
	return slices.Contains(eventTaxonomy[t], sub)
}

// SubEventTypes lists every ACLED sub-event type.
func SubEventTypes() []string {
	var all []string
	for _, t := range eventTypes {
		all = append(all, eventTaxonomy[t]...)
	}
	return all
}

// EventTypes returns ACLED's event types in a stable order (a copy).
func EventTypes() []string { return slices.Clone(eventTypes) }

// EventTaxonomy returns a copy of the event taxonomy: each event type with its
// sub-event types.
func EventTaxonomy() map[string][]string {
	m := make(map[string][]string, len(eventTaxonomy))
	for k, v := range eventTaxonomy {
		m[k] = slices.Clone(v)
	}
	return m
}
