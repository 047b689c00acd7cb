package postgis

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

// A window's split covers every instant of it exactly once, and nothing
// outside it: head and tail by instant, the buckets (days, dekads, months,
// quarters and years) by the bucket the instant falls in; and it takes
// few buckets.
func TestTileWindowPartitions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC)
	at := func() time.Time {
		d := base.Add(time.Duration(r.Int64N(int64(6 * 365 * 24 * time.Hour))))
		switch r.IntN(4) {
		case 0:
			return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC) // midnight
		case 1:
			return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC) // a month's start
		case 2:
			return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 999999999, time.UTC) // a day's end, as the map sends it
		}
		return d.Add(time.Duration(r.Int64N(int64(time.Second)))) // anywhere
	}
	in := func(r dayRange, x time.Time) bool { return !x.Before(r.from) && x.Before(r.to) }
	for i := range 2000 {
		var w geo.TimeInterval
		s, e := at(), at()
		if s.After(e) && i%5 != 0 { // a fifth stay empty (start after end)
			s, e = e, s
		}
		switch i % 7 {
		case 0:
			w.End = &e
		case 1:
			w.Start = &s
		default:
			w.Start, w.End = &s, &e
		}
		tw := newTileWindow(&w)
		for range 200 {
			x := at().Truncate(time.Microsecond)
			want := (w.Start == nil || !x.Before(*w.Start)) && (w.End == nil || !x.After(*w.End))
			day := time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC)
			n := 0
			for _, hit := range []bool{in(tw.head, x), in(tw.tail, x)} {
				if hit {
					n++
				}
			}
			for _, b := range tw.buckets {
				if in(b.r, b.unit.floor(day)) {
					n++
				}
			}
			if want && n != 1 || !want && n != 0 {
				t.Fatalf("window %v–%v split %+v: instant %v counted %d times, want %d", w.Start, w.End, tw, x, n, map[bool]int{true: 1}[want])
			}
		}
		// Few buckets: at each edge at most 10 days (the third dekad has up
		// to 11), 2 dekads, 2 months, 3 quarters and 9 years, and the
		// decades between.
		perUnit := map[int]int{}
		for _, b := range tw.buckets {
			for d := b.r.from; d.Before(b.r.to); d = b.unit.next(d) {
				perUnit[b.unit.span]++
			}
		}
		if perUnit[1] > 20 || perUnit[4] > 4 || perUnit[2] > 4 || perUnit[5] > 6 || perUnit[3] > 18 {
			t.Fatalf("window %v–%v split into %v buckets per span, want at most 20 days, 4 dekads, 4 months, 6 quarters, 18 years", w.Start, w.End, perUnit)
		}
	}
}

// A level reads each unit from the span it stores: levels 10 to 13 keep
// no dekads, quarters or decades and read their days, months and years
// instead.
func TestStoredSpan(t *testing.T) {
	want := map[int][6]int{6: {1, 4, 2, 5, 3, 6}, 7: {1, 4, 2, 5, 3, 6}, 8: {1, 4, 2, 5, 3, 6},
		9: {1, 4, 2, 5, 3, 6}, 10: {1, 1, 2, 2, 3, 3}, 12: {1, 1, 2, 2, 3, 3}, 13: {1, 1, 2, 2, 3, 3}}
	for _, level := range TileCellLevels {
		var got [6]int
		for i, u := range calendarUnits {
			got[i] = storedSpan(level, u)
		}
		if got != want[level] {
			t.Errorf("level %d reads day, dekad, month, quarter, year, decade from spans %v, want %v", level, got, want[level])
		}
	}
}

// A level reads each day of a window once, and touching ranges of one
// stored span as one: at levels 10-13 a window from mid-month to mid-month
// a year later is a range of days at each edge and one of months between
// (days and dekads, months and quarters joined); levels 6-9 read 6 ranges.
func TestSpanRanges(t *testing.T) {
	s, e := time.Date(2021, 3, 14, 0, 0, 0, 0, time.UTC), time.Date(2022, 3, 24, 23, 0, 0, 0, time.UTC)
	tw := newTileWindow(&geo.TimeInterval{Start: &s, End: &e})
	for _, level := range TileCellLevels {
		days := map[time.Time]int{}
		ranges := tw.spanRanges(level)
		for _, r := range ranges {
			for d := r.r.from; d.Before(r.r.to); d = d.AddDate(0, 0, 1) {
				days[d]++
			}
		}
		for d := time.Date(2021, 3, 14, 0, 0, 0, 0, time.UTC); d.Before(time.Date(2022, 3, 24, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
			if days[d] != 1 {
				t.Fatalf("level %d: day %s read %d times, want once", level, d.Format(time.DateOnly), days[d])
			}
		}
		if len(days) != 375 {
			t.Errorf("level %d reads %d days, want 375", level, len(days))
		}
		if want := map[bool]int{true: 6, false: 3}[level <= 9]; len(ranges) != want {
			t.Errorf("level %d reads %d ranges %v, want %d", level, len(ranges), ranges, want)
		}
	}
}
