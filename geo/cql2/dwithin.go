package cql2

import (
	"math"
	"strconv"
	"strings"
)

// minEarthRadius is the WGS 84 polar radius in metres: the smallest radius
// gives the widest angle for a distance, so boxes err on the large side.
const minEarthRadius = 6356752.0

// dwithinBox returns a longitude/latitude box [minx, miny, maxx, maxy]
// that holds every point within dist metres of the geometry wkt, or false
// when no useful box exists (a pole or the antimeridian within reach,
// unreadable WKT). For a point Q of the geometry, every point within
// angular distance r lies within latitude Q ± r and, away from the poles,
// within longitude Q ± asin(sin r / cos lat(Q)) (J. P. Matuschek,
// "Finding Points Within a Distance of a Latitude/Longitude Using Bounding
// Coordinates"); taking the geometry's box and its largest |latitude|
// bounds that for every Q. r has a 1% margin for the ellipsoid.
func dwithinBox(wkt string, dist float64) ([4]float64, bool) {
	minx, miny, maxx, maxy, ok := wktBounds(wkt)
	if !ok {
		return [4]float64{}, false
	}
	r := dist / minEarthRadius * 1.01 // radians
	if r >= math.Pi/2 {
		return [4]float64{}, false
	}
	rDeg := r * 180 / math.Pi
	lat0, lat1 := miny-rDeg, maxy+rDeg
	if lat0 <= -90 || lat1 >= 90 {
		return [4]float64{}, false // a pole is within reach: every longitude is
	}
	phi := math.Max(math.Abs(miny), math.Abs(maxy)) * math.Pi / 180
	dLon := math.Asin(math.Sin(r)/math.Cos(phi)) * 180 / math.Pi
	lon0, lon1 := minx-dLon, maxx+dLon
	if math.IsNaN(dLon) || lon0 < -180 || lon1 > 180 {
		return [4]float64{}, false
	}
	return [4]float64{lon0, lat0, lon1, lat1}, true
}

// wktBounds reads the box of canonical WKT, where every position is two
// numbers between parentheses or commas.
func wktBounds(wkt string) (minx, miny, maxx, maxy float64, ok bool) {
	minx, miny, maxx, maxy = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	parts := strings.FieldsFunc(wkt, func(r rune) bool { return r == '(' || r == ')' || r == ',' })
	n := 0
	for _, part := range parts {
		f := strings.Fields(part)
		if len(f) == 1 && strings.Trim(f[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
			continue // a keyword
		}
		if len(f) != 2 {
			return 0, 0, 0, 0, false
		}
		x, err1 := strconv.ParseFloat(f[0], 64)
		y, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil || math.IsNaN(x) || math.IsNaN(y) {
			return 0, 0, 0, 0, false
		}
		minx, maxx = math.Min(minx, x), math.Max(maxx, x)
		miny, maxy = math.Min(miny, y), math.Max(maxy, y)
		n++
	}
	return minx, miny, maxx, maxy, n > 0 && minx >= -180 && maxx <= 180 && miny >= -90 && maxy <= 90
}
