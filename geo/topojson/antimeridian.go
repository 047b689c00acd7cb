package topojson

import (
	"math"

	"github.com/paulmach/orb"
)

// World-atlas is made for d3-geo, which joins positions by great-circle
// arcs on the sphere: a ring may step from 179.9° to -180° east, the
// short way across the antimeridian. Read as planar lon/lat (as PostGIS
// and orb read it) that step is an edge across the whole map, so Russia's
// Chukotka and Wrangel Island and Fiji's eastern islands become bands
// around the globe that swallow Lapland, Taymyr or Cairns. splitAntimeridian
// cuts such rings at the antimeridian into pieces that each stay on one
// side.

// antimeridianCrossings counts the steps of ring that cross the
// antimeridian (a jump of more than 180° of longitude).
func antimeridianCrossings(ring orb.Ring) int {
	n := 0
	for i := 1; i < len(ring); i++ {
		if math.Abs(ring[i][0]-ring[i-1][0]) > 180 {
			n++
		}
	}
	return n
}

// splitAntimeridian returns p as one or more polygons with no edge across
// the antimeridian. Only an outer ring that crosses it an even number of
// times is cut (an odd number means it circles a pole, as Antarctica's
// does, and is drawn along ±180° already); each hole goes with the piece
// whose longitudes hold its first position.
func splitAntimeridian(p orb.Polygon) []orb.Polygon {
	if len(p) == 0 {
		return []orb.Polygon{p}
	}
	outer := p[0]
	if c := antimeridianCrossings(outer); c == 0 || c%2 != 0 {
		return []orb.Polygon{p}
	}
	u := unwrapRing(outer)
	west := clipRing(u, 180, true)
	east := clipRing(u, 180, false)
	for i := range east {
		east[i][0] -= 360
	}
	var pieces []orb.Polygon
	for _, r := range []orb.Ring{west, east} {
		if len(r) >= 4 {
			pieces = append(pieces, orb.Polygon{r})
		}
	}
	for _, hole := range p[1:] {
		for i := range pieces {
			b := pieces[i][0].Bound()
			if b.Min[0] <= hole[0][0] && hole[0][0] <= b.Max[0] {
				pieces[i] = append(pieces[i], hole)
				break
			}
		}
	}
	return pieces
}

// unwrapRing returns ring with longitudes made continuous (each step of
// at most 180°) and then shifted by whole turns so that the ring crosses
// +180° rather than -180°: its longitudes lie between -180 and 540.
func unwrapRing(ring orb.Ring) orb.Ring {
	u := make(orb.Ring, len(ring))
	u[0] = ring[0]
	for i := 1; i < len(ring); i++ {
		lon := ring[i][0]
		for lon-u[i-1][0] > 180 {
			lon -= 360
		}
		for u[i-1][0]-lon > 180 {
			lon += 360
		}
		u[i] = orb.Point{lon, ring[i][1]}
	}
	if b := u.Bound(); b.Min[0] < -180 {
		for i := range u {
			u[i][0] += 360
		}
	}
	return u
}

// clipRing clips a closed ring to the half-plane lon <= x (west) or
// lon >= x (east), by Sutherland–Hodgman: where the clipped shape has
// several parts they are joined by edges along lon = x, which the
// store's ST_MakeValid removes. The result is closed, or empty.
func clipRing(ring orb.Ring, x float64, west bool) orb.Ring {
	inside := func(p orb.Point) bool {
		if west {
			return p[0] <= x
		}
		return p[0] >= x
	}
	cross := func(a, b orb.Point) orb.Point {
		t := (x - a[0]) / (b[0] - a[0])
		return orb.Point{x, a[1] + t*(b[1]-a[1])}
	}
	var out orb.Ring
	for i := 0; i+1 < len(ring); i++ {
		a, b := ring[i], ring[i+1]
		switch ina, inb := inside(a), inside(b); {
		case ina && inb:
			out = append(out, b)
		case ina && !inb:
			out = append(out, cross(a, b))
		case !ina && inb:
			out = append(out, cross(a, b), b)
		}
	}
	if len(out) == 0 {
		return nil
	}
	if out[0] != out[len(out)-1] {
		out = append(out, out[0])
	}
	return out
}
