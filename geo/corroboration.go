package geo

import (
	"math"
	"time"

	"github.com/paulmach/orb"
)

// Corroboration limits: the default window within which two items may
// describe the same event, and the largest a moderator may ask for (a
// wider one would list half a front line and could not use the index well).
const (
	DefaultCorroborationKm    = 5.0
	DefaultCorroborationHours = 24.0
	MaxCorroborationKm        = 100.0
	MaxCorroborationHours     = 24.0 * 30
	// MaxCandidates bounds one candidate list; the nearest come first.
	MaxCandidates = 50
)

// Kinds of corroboration candidate.
const (
	CandidateReport   = "report"
	CandidateIncident = "incident"
)

// CorroborationWindow is how near in space and time another report or
// incident must be to be proposed as corroborating or duplicating one.
type CorroborationWindow struct {
	Km    float64
	Hours float64
}

// DefaultCorroborationWindow is 5 km and 24 hours either side.
func DefaultCorroborationWindow() CorroborationWindow {
	return CorroborationWindow{Km: DefaultCorroborationKm, Hours: DefaultCorroborationHours}
}

// OrDefault fills unset (zero or negative) parts with the defaults.
func (w CorroborationWindow) OrDefault() CorroborationWindow {
	if w.Km <= 0 {
		w.Km = DefaultCorroborationKm
	}
	if w.Hours <= 0 {
		w.Hours = DefaultCorroborationHours
	}
	return w
}

// Validate checks the window against the bounds; field names are km and hours.
func (w CorroborationWindow) Validate() error {
	v := &ValidationError{}
	if math.IsNaN(w.Km) || w.Km <= 0 || w.Km > MaxCorroborationKm {
		v.Add("km", "want a distance in kilometres above 0 and at most %g", MaxCorroborationKm)
	}
	if math.IsNaN(w.Hours) || w.Hours <= 0 || w.Hours > MaxCorroborationHours {
		v.Add("hours", "want a number of hours above 0 and at most %g", MaxCorroborationHours)
	}
	return v.Err()
}

// Metres is the window's distance in metres.
func (w CorroborationWindow) Metres() float64 { return w.Km * 1000 }

// Span is the window's time either side.
func (w CorroborationWindow) Span() time.Duration { return time.Duration(w.Hours * float64(time.Hour)) }

// Candidate is a pending report or a published incident near another in
// space and time: it may corroborate it or be its duplicate.
type Candidate struct {
	Kind       string // CandidateReport or CandidateIncident
	ID         int64
	Title      string // an incident's title; for a report, its type and place
	Status     string
	OccurredAt time.Time
	Point      orb.Point
	DistanceM  float64 // from the item the candidates are for
	HoursApart float64 // absolute difference of occurred_at
	Version    int     // an incident's version, to send back when merging; 0 for reports
}

// ReportMerge attaches a pending report to an existing incident as
// corroboration. Version is the incident's version as the moderator saw it.
type ReportMerge struct {
	IncidentID int64
	Version    int
	Note       string
}

// Validate checks the ids and the note.
func (m ReportMerge) Validate() error {
	v := &ValidationError{}
	if m.IncidentID <= 0 {
		v.Add("incident_id", "want the id of the incident to merge into")
	}
	if m.Version <= 0 {
		v.Add("version", "want the incident's version as you read it (its ETag without \"v\")")
	}
	if len(m.Note) > MaxNoteLen {
		v.Add("note", "at most %d characters", MaxNoteLen)
	}
	return v.Err()
}

// IncidentMerge folds a duplicate incident into another: the duplicate is
// retracted as a duplicate of it and its sources are added to it. Version,
// when set, is the surviving incident's version as the moderator saw it.
type IncidentMerge struct {
	DuplicateID int64
	Version     int
	Note        string
}

// Validate checks the duplicate is another incident than into.
func (m IncidentMerge) Validate(into int64) error {
	v := &ValidationError{}
	switch {
	case m.DuplicateID <= 0:
		v.Add("duplicate_id", "want the id of the duplicate incident")
	case m.DuplicateID == into:
		v.Add("duplicate_id", "an incident cannot be a duplicate of itself")
	}
	if m.Version < 0 {
		v.Add("version", "want a positive version")
	}
	if len(m.Note) > MaxNoteLen {
		v.Add("note", "at most %d characters", MaxNoteLen)
	}
	return v.Err()
}

// MergeConflict is why a merge cannot happen as asked (the report is no
// longer pending, the incident changed or is retracted), in words fit for
// the moderator. It matches ErrConflict with errors.Is.
type MergeConflict struct{ Reason string }

func (e *MergeConflict) Error() string { return e.Reason }

// Is makes errors.Is(e, ErrConflict) true.
func (e *MergeConflict) Is(target error) bool { return target == ErrConflict }
