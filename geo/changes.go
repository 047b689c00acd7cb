package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// The changes feed (GET /api/collections/incidents/changes) lets a mirror
// follow the incidents without downloading them again: every create,
// update and retraction in commit order, each with the event id the live
// stream uses as its cursor.

// Event types of the changes feed and the live stream.
const (
	EventCreated   = "incident.created"
	EventUpdated   = "incident.updated"
	EventRetracted = "incident.retracted"
)

// Changes feed paging.
const (
	ChangesDefaultLimit = 1000  // events per page when limit is not given
	ChangesMaxLimit     = 10000 // larger limits are clamped to this
)

// ErrCursorExpired means a changes cursor points before the retained
// history (events were pruned since) or past its end (another
// database's cursor): the mirror must download the collection again.
var ErrCursorExpired = errors.New("changes cursor expired")

// CursorExpiredError says why a changes cursor cannot be followed. It
// matches ErrCursorExpired.
type CursorExpiredError struct {
	Since         int64 // the cursor asked for
	PrunedThrough int64 // events up to this id are gone
	Latest        int64 // the newest event id
}

func (e *CursorExpiredError) Error() string {
	if e.Since > e.Latest {
		return fmt.Sprintf("cursor %d is ahead of the newest event %d: it belongs to another database "+
			"(restored from a backup?); download the collection again and follow changes from since=latest", e.Since, e.Latest)
	}
	return fmt.Sprintf("cursor %d is older than the retained history (events up to %d were pruned): "+
		"download the collection again and follow changes from since=latest", e.Since, e.PrunedThrough)
}

// Is makes errors.Is(err, ErrCursorExpired) true.
func (e *CursorExpiredError) Is(target error) bool { return target == ErrCursorExpired }

// ChangesQuery is a validated changes feed request.
type ChangesQuery struct {
	Since  int64 // events after this id; meaningful only when !Latest
	Latest bool  // since=latest: no events, only the current cursor
	Limit  int   // events read (a page holds at most this many changes)
}

// ParseChangesQuery validates the parameters of the changes feed: since
// (required: an event id, 0 for the whole retained history, or latest)
// and limit (1 to ChangesMaxLimit events; larger is clamped). Errors are
// *ParamError.
func ParseChangesQuery(v url.Values) (ChangesQuery, error) {
	if err := checkQueryParams(v, []string{"since", "limit"}); err != nil {
		return ChangesQuery{}, err
	}
	q := ChangesQuery{}
	switch s := queryValue(v, "since"); {
	case s == "":
		return q, Invalidf("since", "required: an event id from a previous page's next link, 0 for the whole retained history, or latest")
	case s == "latest":
		q.Latest = true
	default:
		n, err := strconv.ParseInt(s, 10, 64)
		if !isASCIIDigits(s) || err != nil {
			return q, Invalidf("since", "want an event id (a non-negative integer) or latest, got %s", quoteShort(s))
		}
		q.Since = n
	}
	var err error
	if q.Limit, _, err = ParseLimit(queryValue(v, "limit"), ChangesDefaultLimit, ChangesMaxLimit); err != nil {
		return ChangesQuery{}, err
	}
	return q, nil
}

// Change is what a mirror applies for one incident: its current public
// state (Feature), or a tombstone (Feature nil) when it is no longer
// public. Several events of one incident within a page collapse into
// its latest.
type Change struct {
	EventID    int64     // the incident's latest event in the page
	Type       string    // EventCreated or EventUpdated with a Feature, EventRetracted without
	IncidentID int64     // the incident
	At         time.Time // when the event was written
	// Feature is the incident's public GeoJSON Feature as it is now (not
	// as it was at the event: replaying a page is idempotent); nil for a
	// tombstone.
	Feature json.RawMessage
	// RetractedAt is when a tombstone's incident was retracted (its last
	// change), set only for tombstones.
	RetractedAt *time.Time
	// DuplicateOf is the incident a tombstone's incident was merged into
	// as its duplicate (nil otherwise), so a mirror can follow it there.
	DuplicateOf *int64
}

// ChangePage is one page of the changes feed.
type ChangePage struct {
	Changes []Change
	// Next is the cursor to continue from: the last event id the page
	// covers (the request's since when it covers none).
	Next int64
	// More is true when events after Next already exist.
	More bool
}

// EffectiveChangeType is the type a mirror acts on for an incident whose
// latest event in the page has type event and whose current state is
// public or not: a tombstone for anything not public, and a re-published
// incident (retracted in the page, public again since) is created anew.
func EffectiveChangeType(event string, public bool) string {
	switch {
	case !public:
		return EventRetracted
	case event == EventRetracted:
		return EventCreated
	}
	return event
}
