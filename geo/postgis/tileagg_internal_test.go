package postgis

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

// A window's split covers every instant of it exactly once, and nothing
// outside it: head and tail by instant, the days, months and years by
// the bucket the instant falls in.
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
			month := time.Date(x.Year(), x.Month(), 1, 0, 0, 0, 0, time.UTC)
			year := time.Date(x.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
			n := 0
			for _, hit := range []bool{in(tw.head, x), in(tw.tail, x), in(tw.days[0], day), in(tw.days[1], day),
				in(tw.months[0], month), in(tw.months[1], month), in(tw.years, year)} {
				if hit {
					n++
				}
			}
			if want && n != 1 || !want && n != 0 {
				t.Fatalf("window %v–%v split %+v: instant %v counted %d times, want %d", w.Start, w.End, tw, x, n, map[bool]int{true: 1}[want])
			}
		}
	}
}
