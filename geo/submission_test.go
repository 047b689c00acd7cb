package geo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// fakeSubmitter records what SubmitReport asked of the store.
type fakeSubmitter struct {
	allow          bool
	replayExists   bool
	created, asked []string
}

func (f *fakeSubmitter) ClientHash(context.Context, string) ([]byte, error) { return []byte{1, 2}, nil }
func (f *fakeSubmitter) Allow(_ context.Context, key string, _ RateLimit) (bool, time.Duration, error) {
	f.asked = append(f.asked, key)
	return f.allow, 7 * time.Second, nil
}
func (f *fakeSubmitter) CreateReport(_ context.Context, s Submission) (bool, error) {
	f.created = append(f.created, s.IdempotencyKey)
	return false, nil
}
func (f *fakeSubmitter) ReplayReport(context.Context, Submission) (bool, error) {
	if !f.replayExists {
		return false, ErrNotFound
	}
	return true, nil
}

func TestSubmitReport(t *testing.T) {
	tests := []struct {
		name                 string
		allow, replayExists  bool
		key                  string
		wantReplayed         bool
		wantLimited, created bool
	}{
		{"within the limit", true, false, "", false, false, true},
		{"over the limit", false, false, "", false, true, false},
		{"over the limit, a retry of an accepted report", false, true, "k1", true, false, false},
		{"over the limit, a key never seen", false, false, "k2", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakeSubmitter{allow: tt.allow, replayExists: tt.replayExists}
			replayed, err := SubmitReport(context.Background(), store, Submission{Report: &Report{}, IdempotencyKey: tt.key}, "198.51.100.7", RateLimit{Burst: 1, PerMinute: 1})
			var limited *RateLimitError
			if got := errors.As(err, &limited); got != tt.wantLimited || (err != nil && !tt.wantLimited) {
				t.Fatalf("err = %v, want rate limited %v", err, tt.wantLimited)
			}
			if tt.wantLimited && (limited.RetryAfter != 7*time.Second || !errors.Is(err, ErrRateLimited)) {
				t.Errorf("rate limit error %+v", limited)
			}
			if replayed != tt.wantReplayed || (len(store.created) == 1) != tt.created {
				t.Errorf("replayed %v, created %v; want %v, %v", replayed, store.created, tt.wantReplayed, tt.created)
			}
			if len(store.asked) != 1 || store.asked[0] != "report:0102" {
				t.Errorf("rate limit keys %q, want the client hash's", store.asked)
			}
		})
	}
}

func TestNewPhotoHint(t *testing.T) {
	point := orb.Point{47.03, 39.40}
	for _, tt := range []struct {
		name  string
		gps   orb.Point
		agree bool
	}{
		{"4.9 km north", orb.Point{47.03, 39.40 + 4900.0/111195}, true},
		{"5.1 km north", orb.Point{47.03, 39.40 + 5100.0/111195}, false},
	} {
		h := NewPhotoHint(point, ReportPhoto{Position: 2, GPS: &tt.gps})
		if h.PointAgrees == nil || *h.PointAgrees != tt.agree || h.PhotoPosition != 2 {
			t.Errorf("%s: hint %+v, want agrees %v", tt.name, h, tt.agree)
		}
	}
}
