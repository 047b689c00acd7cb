// Package geo is incidentmap's domain: incidents, reports, layers and places,
// their validation and the filters used to query them. It knows nothing of
// HTTP or SQL; geo/postgis stores it and api serves it.
package geo

import (
	"context"
	"encoding/json"
	"slices"
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

// Incident statuses: the verification state, apart from publication.
// Reported is published but not verified ("reportedly"). Verified,
// disputed and reported incidents are shown by default (DefaultStatuses()).
const (
	StatusVerified  = "verified"
	StatusDisputed  = "disputed"
	StatusRetracted = "retracted"
	StatusReported  = "reported"
)

// Geo checks: how the derived geography disagrees with what the source states.
const (
	// GeoCheckCountryMismatch: the stated country is not the country whose
	// polygon holds the point.
	GeoCheckCountryMismatch = "country_mismatch"
	// GeoCheckNoCountry: a country is stated but the point lies in no
	// country's polygon within 10 km (at sea, or an area without ISO code).
	GeoCheckNoCountry = "no_country"
)

// incidentStatuses lists every valid incident status.
var incidentStatuses = []string{StatusVerified, StatusDisputed, StatusRetracted, StatusReported}

// defaultStatuses are the statuses shown when a query names none: every
// published one but retracted.
var defaultStatuses = []string{StatusVerified, StatusDisputed, StatusReported}

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

	// Claims are what each party says about the incident (geo/claim.go);
	// Contested is derived from them (ContestedOf) by the store.
	Claims    []Claim
	Contested bool

	// DuplicateOf is the incident a retracted duplicate was merged into
	// (set by the store's merge, nil otherwise).
	DuplicateOf *int64

	// Provenance: which data set and file the record was imported from.
	SourceDataset string // e.g. "ACLED", "GeoJSON", "incidentmap" (its own export), "demo"; empty when entered here
	SourceFile    string // base name of the imported file, when imported from one
	// SourceRecord keeps what the fields of this struct do not reproduce
	// exactly of the source row: columns incidentmap has no field for
	// (assoc_actor_1, inter1, gwno, a spreadsheet's index column, ...) and
	// first-class values whose text differs from their canonical rendering
	// (a date written 9-May-20, a pre-2019 event type, fatalities written
	// 1.0, the source's own timestamp). Keys are lower-case column names.
	// With it an export gives back the file's columns and values. Never in
	// public output unless asked for with properties=source_record.
	SourceRecord map[string]string

	// Stated by the source and kept as given: enrichment never overwrites
	// them (a conflict map must not move a village across a front line).
	StatedCountry     string // as written (ACLED country)
	StatedISO         string // as written (ACLED iso: ISO 3166-1 numeric)
	StatedCountryCode string // ISO 3166-1 alpha-2 read from StatedISO or StatedCountry; empty when they name none
	Admin1            string // first-level administrative division as stated (ACLED admin1)
	Admin2            string // as stated (ACLED admin2)
	Admin3            string // as stated (ACLED admin3)
	// The source's own event type and sub-event type when they were mapped
	// from an older taxonomy (pre-2019 ACLED); empty when EventType is the
	// source's.
	OriginalEventType    string
	OriginalSubEventType string

	// Derived by the store from the gazetteer and borders; read-only.
	CountryCode          string   // country whose polygon holds Point (Natural Earth)
	GeoCheck             []string // disagreements of derived and stated values, e.g. GeoCheckCountryMismatch
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

// IncidentStatuses returns every valid incident status (a copy).
func IncidentStatuses() []string { return slices.Clone(incidentStatuses) }

// DefaultStatuses returns the statuses shown when a query names none (a copy).
func DefaultStatuses() []string { return slices.Clone(defaultStatuses) }
