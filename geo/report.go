package geo

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// Report statuses.
const (
	ReportPending  = "pending"
	ReportVerified = "verified"
	ReportRejected = "rejected"
)

// Limits on report fields, shared by validation and the schema.
const (
	MaxDescriptionLen  = 5000
	MaxLocationNameLen = 300
	MaxContactLen      = 300
	MaxSourceURLs      = 10
	MaxURLLen          = 2000
	MaxNoteLen         = 2000
	MaxPhotos          = 5
	// MaxFutureSkew is how far in the future a report's time may lie
	// (clocks and time zones are often a little off).
	MaxFutureSkew = time.Hour
)

// Report is what a member of the public submits. It is never public until a
// moderator verifies it into an incident. Contact is private.
type Report struct {
	ID             int64
	Point          orb.Point
	OccurredAt     time.Time
	EventType      string
	SubEventType   string
	Description    string
	LocationName   string
	GeoPrecision   GeoPrecision
	Fatalities     *int
	SourceURLs     []string
	Contact        string // PRIVATE
	Status         string
	ModerationNote string
	IncidentID     *int64
	PhotoHint      *PhotoHint
	Photos         []ReportPhoto
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// PhotoHint is what a report's photos say about where and when, from
// their EXIF data.
type PhotoHint struct {
	Lon           *float64   `json:"lon,omitempty"`
	Lat           *float64   `json:"lat,omitempty"`
	TakenAt       *time.Time `json:"taken_at,omitempty"`
	DistanceM     *float64   `json:"distance_m,omitempty"` // from the report's point
	PointAgrees   *bool      `json:"point_agrees,omitempty"`
	PhotoPosition int        `json:"photo,omitempty"` // which photo (1-based) gave the hint
}

// ReportPhoto is one photo of a report.
type ReportPhoto struct {
	Position     int
	MediaType    string // of Stripped
	Stripped     []byte // metadata removed; fit for public use
	Original     []byte // PRIVATE: as uploaded
	OriginalType string
	Width        int
	Height       int
	GPS          *orb.Point
	TakenAt      *time.Time
}

// Validate checks r as submitted at now and returns a *ValidationError
// naming each bad field by its path in the GeoJSON input.
func (r *Report) Validate(now time.Time) error {
	v := &ValidationError{}
	validatePoint(v, "geometry.coordinates", r.Point)
	switch {
	case r.OccurredAt.IsZero():
		v.Add("properties.occurred_at", "required (RFC 3339 time)")
	case r.OccurredAt.Year() < 1900:
		v.Add("properties.occurred_at", "%s is before 1900", r.OccurredAt.Format(time.RFC3339))
	case r.OccurredAt.After(now.Add(MaxFutureSkew)):
		v.Add("properties.occurred_at", "%s is in the future", r.OccurredAt.Format(time.RFC3339))
	}
	switch {
	case r.EventType == "":
		v.Add("properties.event_type", "required: one of %s", strings.Join(eventTypes, ", "))
	case !ValidEventType(r.EventType):
		v.Add("properties.event_type", "unknown event type: want one of %s", strings.Join(eventTypes, ", "))
	case !ValidSubEventType(r.EventType, r.SubEventType):
		v.Add("properties.sub_event_type", "not a sub-event type of %q: want one of %s",
			r.EventType, strings.Join(eventTaxonomy[r.EventType], ", "))
	}
	validateText(v, "properties.description", r.Description, 1, MaxDescriptionLen)
	validateText(v, "properties.location_name", r.LocationName, 0, MaxLocationNameLen)
	validateText(v, "properties.contact", r.Contact, 0, MaxContactLen)
	if r.GeoPrecision == 0 {
		r.GeoPrecision = GeoExact
	}
	if r.GeoPrecision < GeoExact || r.GeoPrecision > GeoRegion {
		v.Add("properties.geo_precision", "%d out of range [1, 3]", r.GeoPrecision)
	}
	if r.Fatalities != nil && (*r.Fatalities < 0 || *r.Fatalities > 1_000_000) {
		v.Add("properties.fatalities", "%d out of range [0, 1000000]", *r.Fatalities)
	}
	if len(r.SourceURLs) > MaxSourceURLs {
		v.Add("properties.source_urls", "at most %d URLs", MaxSourceURLs)
	}
	for i, u := range r.SourceURLs {
		if msg := checkURL(u); msg != "" {
			v.Add("properties.source_urls["+strconv.Itoa(i)+"]", "%s", msg)
		}
	}
	return v.Err()
}

// validatePoint checks a lon/lat point.
func validatePoint(v *ValidationError, field string, p orb.Point) {
	lon, lat := p[0], p[1]
	switch {
	case math.IsNaN(lon) || math.IsInf(lon, 0) || math.IsNaN(lat) || math.IsInf(lat, 0):
		v.Add(field, "coordinates must be finite numbers")
	case lon < -180 || lon > 180:
		v.Add(field, "longitude %g out of range [-180, 180]", lon)
	case lat < -90 || lat > 90:
		v.Add(field, "latitude %g out of range [-90, 90]", lat)
	}
}

// validateText checks length (in characters) and that s is clean text:
// valid UTF-8 without NUL or other control characters except newline and tab.
func validateText(v *ValidationError, field, s string, minLen, maxLen int) {
	if !utf8.ValidString(s) {
		v.Add(field, "not valid UTF-8")
		return
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < minLen && minLen == 1:
		v.Add(field, "required")
		return
	case n > maxLen:
		v.Add(field, "%d characters, at most %d allowed", n, maxLen)
		return
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f {
			v.Add(field, "contains control characters")
			return
		}
	}
}

// checkURL returns why u is not an acceptable public source link, or "".
func checkURL(u string) string {
	if len(u) > MaxURLLen {
		return "URL too long"
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" {
		return "not an absolute URL"
	}
	if parsed.Scheme != "http" && parsed.Scheme != "https" {
		return "only http and https URLs are allowed"
	}
	if parsed.User != nil {
		return "URLs with credentials are not allowed"
	}
	for _, r := range u {
		if r < 0x21 || r == 0x7f {
			return "URL contains spaces or control characters"
		}
	}
	return ""
}

// ReportFilter selects reports for the moderation queue.
type ReportFilter struct {
	Status string // "" for all
	Limit  int
	After  int64 // keyset: reports with id > After
}

// Submission is a report plus what makes its submission idempotent and
// attributable without storing the client's address.
type Submission struct {
	Report         *Report
	IdempotencyKey string // "" when the client sent none
	RequestHash    []byte // SHA-256 of the request body
	ClientHash     []byte // keyed hash of the client address
}

// ErrIdempotencyMismatch is returned when an Idempotency-Key is reused
// with a different request. It matches ErrConflict.
var ErrIdempotencyMismatch = fmt.Errorf("%w: idempotency key was used for a different request", ErrConflict)

// RateLimit is a token bucket: Burst tokens, refilled at PerMinute.
type RateLimit struct {
	Burst     float64
	PerMinute float64
}
