package geo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// PhotoAgreeMetres is how near a photo's GPS position must be to the
// reported point to agree with it.
const PhotoAgreeMetres = 5000

// ReportSubmitter is what submitting a report needs of the store.
type ReportSubmitter interface {
	// ClientHash returns the keyed hash of a client address (the address
	// itself is never stored).
	ClientHash(ctx context.Context, addr string) ([]byte, error)
	// Allow takes a token from the bucket key under limit; when none is
	// left it returns false and how long until one is.
	Allow(ctx context.Context, key string, limit RateLimit) (bool, time.Duration, error)
	// CreateReport stores the submission, or replays an earlier one with
	// the same Idempotency-Key (replayed true, the report's id filled).
	// ErrIdempotencyMismatch when the key came with another request.
	CreateReport(ctx context.Context, s Submission) (replayed bool, err error)
	// ReplayReport fills the report of an earlier submission with the same
	// key; ErrNotFound when there is none.
	ReplayReport(ctx context.Context, s Submission) (bool, error)
}

// RateLimitError is a submission refused because its client is over the
// rate limit. It matches ErrRateLimited.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many reports from your address; retry in %d s", int(math.Ceil(e.RetryAfter.Seconds())))
}

// ErrRateLimited matches every RateLimitError.
var ErrRateLimited = errors.New("rate limited")

// Is makes errors.Is(e, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// SubmitReport is what happens when someone submits a report: the client
// is known only by a keyed hash of its address; a client over the rate
// limit is refused (*RateLimitError), except that a retry of a submission
// already accepted (same Idempotency-Key) gets its first answer even then;
// otherwise the report is stored once, committed before this returns.
// sub.ClientHash is filled here. replayed says an earlier submission was
// answered again.
func SubmitReport(ctx context.Context, store ReportSubmitter, sub Submission, clientAddr string, limit RateLimit) (replayed bool, err error) {
	if sub.ClientHash, err = store.ClientHash(ctx, clientAddr); err != nil {
		return false, err
	}
	ok, wait, err := store.Allow(ctx, fmt.Sprintf("report:%x", sub.ClientHash), limit)
	if err != nil {
		return false, err
	}
	if ok {
		return store.CreateReport(ctx, sub)
	}
	if sub.IdempotencyKey != "" {
		replayed, err := store.ReplayReport(ctx, sub)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return false, err
		}
		if replayed {
			return true, nil
		}
	}
	return false, &RateLimitError{RetryAfter: wait}
}

// NewPhotoHint is what a photo tells about a report: when it was taken,
// and where, with its distance from the reported point and whether it
// agrees (within PhotoAgreeMetres). Moderators see it; it changes nothing.
func NewPhotoHint(point orb.Point, p ReportPhoto) *PhotoHint {
	h := &PhotoHint{TakenAt: p.TakenAt, PhotoPosition: p.Position}
	if p.GPS != nil {
		lon, lat := p.GPS.Lon(), p.GPS.Lat()
		h.Lon, h.Lat = &lon, &lat
		d := math.Trunc(orbgeo.DistanceHaversine(*p.GPS, point))
		agrees := d <= PhotoAgreeMetres
		h.DistanceM, h.PointAgrees = &d, &agrees
	}
	return h
}
