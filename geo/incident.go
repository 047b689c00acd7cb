// Package geo is incidentmap's domain: incidents, reports, layers and places,
// their validation and the filters used to query them. It knows nothing of
// HTTP or SQL; geo/postgis stores it and api serves it.
package geo

import (
	"context"
	"encoding/json"
	"time"

	"github.com/paulmach/orb"
)

// TimePrecision says how exactly an incident's time is known (ACLED codes).
type TimePrecision int

// Time precisions, as ACLED's time_precision column.
const (
	TimeDay   TimePrecision = 1
	TimeWeek  TimePrecision = 2
	TimeMonth TimePrecision = 3
)

// GeoPrecision says how exactly an incident's location is known (ACLED codes).
type GeoPrecision int

// Location precisions, as ACLED's geo_precision column.
const (
	GeoExact  GeoPrecision = 1
	GeoNear   GeoPrecision = 2
	GeoRegion GeoPrecision = 3
)

// Incident statuses. Only verified and disputed incidents are shown by default.
const (
	StatusVerified  = "verified"
	StatusDisputed  = "disputed"
	StatusRetracted = "retracted"
)

// IncidentStatuses lists every valid incident status.
var IncidentStatuses = []string{StatusVerified, StatusDisputed, StatusRetracted}

// Source is one piece of public reporting an incident rests on.
type Source struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url,omitempty"`
	Date string `json:"date,omitempty"` // YYYY-MM-DD when known
}

// Incident is a public record of one event at one place and time.
// Field names follow ACLED's where ACLED has one.
type Incident struct {
	ID            int64
	ExternalID    string // e.g. ACLED event_id_cnty; unique when set
	OccurredAt    time.Time
	TimePrecision TimePrecision
	EventType     string
	SubEventType  string
	Actor1        string
	Actor2        string
	Fatalities    int
	Title         string
	Notes         string
	LocationName  string
	Point         orb.Point // lon, lat (WGS 84)
	GeoPrecision  GeoPrecision
	Status        string
	Sources       []Source
	ReportID      *int64
	Demo          bool

	// Derived by the store from the gazetteer and borders; read-only.
	CountryCode          string
	Admin1               string
	NearestPlaceID       *int64
	NearestPlaceName     string
	NearestPlaceDistance *float64 // metres
	BorderDistance       *float64 // metres to the nearest international land border

	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// IncidentService reads incident collections. The store streams GeoJSON
// produced by PostgreSQL so that memory does not grow with the response.
type IncidentService interface {
	// CreateIncident validates and stores inc, filling ID, Version and the
	// derived fields. Returns ErrInvalid (as *ValidationError) or ErrConflict
	// when ExternalID is taken.
	CreateIncident(ctx context.Context, inc *Incident) error
}

// RawFeature is one GeoJSON feature as produced by the database.
type RawFeature = json.RawMessage

// IncidentEvent is one change of a public incident, for live updates.
type IncidentEvent struct {
	ID         int64
	Type       string // incident.created, incident.updated or incident.retracted
	IncidentID int64
	At         time.Time
	Feature    json.RawMessage // the incident now; nil if it was deleted
}
