package geo

import (
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// IncidentPatch is a partial change of an incident: nil fields stay as
// they are. Used by moderators to edit incidents and to correct a report
// while verifying it.
type IncidentPatch struct {
	Title         *string        `json:"title,omitempty"`
	Notes         *string        `json:"notes,omitempty"`
	OccurredAt    *time.Time     `json:"occurred_at,omitempty"`
	TimePrecision *TimePrecision `json:"time_precision,omitempty"`
	EventType     *string        `json:"event_type,omitempty"`
	SubEventType  *string        `json:"sub_event_type,omitempty"`
	Actor1        *string        `json:"actor1,omitempty"`
	Actor2        *string        `json:"actor2,omitempty"`
	Fatalities    *int           `json:"fatalities,omitempty"`
	LocationName  *string        `json:"location_name,omitempty"`
	Point         *orb.Point     `json:"-"`
	GeoPrecision  *GeoPrecision  `json:"geo_precision,omitempty"`
	Status        *string        `json:"status,omitempty"`
	Sources       *[]Source      `json:"sources,omitempty"` // replaces the whole list
}

// Validate checks the fields that are set; prefix is prepended to field
// names in errors (e.g. "properties.").
func (p *IncidentPatch) Validate(now time.Time, prefix string) error {
	v := &ValidationError{}
	if p.Title != nil {
		validateText(v, prefix+"title", *p.Title, 1, 300)
	}
	if p.Notes != nil {
		validateText(v, prefix+"notes", *p.Notes, 0, 20000)
	}
	for field, s := range map[string]*string{"actor1": p.Actor1, "actor2": p.Actor2, "location_name": p.LocationName} {
		if s != nil {
			validateText(v, prefix+field, *s, 0, 300)
		}
	}
	if p.OccurredAt != nil && (p.OccurredAt.Year() < 1900 || p.OccurredAt.After(now.Add(MaxFutureSkew))) {
		v.Add(prefix+"occurred_at", "must lie between 1900 and now")
	}
	if p.TimePrecision != nil && (*p.TimePrecision < TimeDay || *p.TimePrecision > TimeMonth) {
		v.Add(prefix+"time_precision", "%d out of range [1, 3]", *p.TimePrecision)
	}
	if p.GeoPrecision != nil && (*p.GeoPrecision < GeoExact || *p.GeoPrecision > GeoRegion) {
		v.Add(prefix+"geo_precision", "%d out of range [1, 3]", *p.GeoPrecision)
	}
	if p.Fatalities != nil && (*p.Fatalities < 0 || *p.Fatalities > 1_000_000) {
		v.Add(prefix+"fatalities", "%d out of range [0, 1000000]", *p.Fatalities)
	}
	if p.EventType != nil && !ValidEventType(*p.EventType) {
		v.Add(prefix+"event_type", "unknown event type: want one of %s", strings.Join(eventTypes, ", "))
	}
	if p.SubEventType != nil && *p.SubEventType != "" {
		found := false
		for _, s := range SubEventTypes() {
			found = found || s == *p.SubEventType
		}
		if !found {
			v.Add(prefix+"sub_event_type", "unknown sub-event type")
		}
	}
	if p.Status != nil && !slices.Contains(incidentStatuses, *p.Status) {
		v.Add(prefix+"status", "want one of %s", strings.Join(incidentStatuses, ", "))
	}
	if p.Sources != nil {
		ValidateSources(v, prefix+"sources", *p.Sources, now)
	}
	if p.Point != nil {
		validatePoint(v, "location", *p.Point)
	}
	return v.Err()
}

// Verification is a moderator's decision to publish a report: as a new
// incident (with optional corrections), or merged into an existing one.
type Verification struct {
	Patch     IncidentPatch
	MergeInto *int64 // existing incident to add this report's sources to
	Note      string
}
