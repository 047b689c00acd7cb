package geo

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// A coarsened point lies within the precision's radius of the true one
// (the circle the map draws around it holds the true point), every point
// of a cell publishes the same centre, and exact points stay as they are.
func TestCoarsenPoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, prec := range []GeoPrecision{GeoNear, GeoRegion} {
		radius := GeoPrecisionRadius(prec)
		moved := 0
		for range 20_000 {
			p := orb.Point{rng.Float64()*360 - 180, rng.Float64()*160 - 80}
			c := CoarsenPoint(p, prec)
			if d := orbgeo.Distance(p, c); d > radius {
				t.Fatalf("precision %d: %v published at %v, %.0f m away; want within %.0f m", prec, p, c, d, radius)
			}
			if c != p {
				moved++
			}
			if again := CoarsenPoint(c, prec); again != c {
				t.Fatalf("precision %d: centre %v coarsens to %v; want itself", prec, c, again)
			}
		}
		if moved == 0 {
			t.Errorf("precision %d moved no point", prec)
		}
	}
	// Clicks a few hundred metres around a cell's centre publish that centre.
	c := CoarsenPoint(orb.Point{47.0312, 39.4012}, GeoNear)
	for _, d := range [][2]float64{{0.003, 0.003}, {-0.003, 0.003}, {0.003, -0.003}, {-0.003, -0.003}} {
		if got := CoarsenPoint(orb.Point{c.Lon() + d[0], c.Lat() + d[1]}, GeoNear); got != c {
			t.Errorf("a click %v from the centre %v published at %v; want the centre", d, c, got)
		}
	}
	if p := (orb.Point{47.031234, 39.401234}); CoarsenPoint(p, GeoExact) != p {
		t.Errorf("an exact point was moved")
	}
	for _, p := range []orb.Point{{180, 0}, {-180, 0}, {10, 90}, {10, -90}, {179.9999, 89.9999}} {
		c := CoarsenPoint(p, GeoRegion)
		if c.Lon() < -180 || c.Lon() > 180 || c.Lat() < -90 || c.Lat() > 90 {
			t.Errorf("CoarsenPoint(%v) = %v, outside WGS 84", p, c)
		}
	}
}

// A report's own point is published no finer than its reporter said; a
// point the moderator placed elsewhere at the incident's precision.
func TestReportPublicLocation(t *testing.T) {
	exact := orb.Point{47.031234, 39.401234}
	moved := orb.Point{47.05, 39.41}
	for _, tc := range []struct {
		name      string
		stated    GeoPrecision
		corrected *orb.Point
		prec      GeoPrecision
		wantPrec  GeoPrecision
		wantPoint orb.Point
	}{
		{"exact report", GeoExact, nil, GeoExact, GeoExact, exact},
		{"near report", GeoNear, nil, GeoNear, GeoNear, CoarsenPoint(exact, GeoNear)},
		{"region report", GeoRegion, nil, GeoRegion, GeoRegion, CoarsenPoint(exact, GeoRegion)},
		{"near report, moderator says exact", GeoNear, nil, GeoExact, GeoNear, CoarsenPoint(exact, GeoNear)},
		{"near report, point sent back unchanged", GeoNear, &exact, GeoExact, GeoNear, CoarsenPoint(exact, GeoNear)},
		{"near report, moderator placed it", GeoNear, &moved, GeoExact, GeoExact, moved},
		{"exact report, moderator says region", GeoExact, nil, GeoRegion, GeoRegion, CoarsenPoint(exact, GeoRegion)},
	} {
		r := Report{Point: exact, GeoPrecision: tc.stated}
		p, prec := r.PublicLocation(tc.corrected, tc.prec)
		if p != tc.wantPoint || prec != tc.wantPrec {
			t.Errorf("%s: published %v at precision %d; want %v at %d", tc.name, p, prec, tc.wantPoint, tc.wantPrec)
		}
	}
}
