package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// Location precision on the map and in public output: an incident of
// geo_precision 2 (near) is known to within about 2 km, one of 3
// (region) to within about 25 km. The map draws those radii; a report's
// point is published no finer than its reporter stated.

// metresPerDegree is the length of a degree of latitude (and of
// longitude at the equator), close enough for coarsening.
const metresPerDegree = 111_320.0

// GeoPrecisionRadius returns the radius in metres within which a point of
// precision p is known: 0 for exact, 2,000 for near, 25,000 for region.
func GeoPrecisionRadius(p GeoPrecision) float64 {
	switch p {
	case GeoNear:
		return 2_000
	case GeoRegion:
		return 25_000
	}
	return 0
}

// CoarsenPoint snaps p to the centre of its cell in a grid whose cells are
// GeoPrecisionRadius(prec) on a side (rows of equal latitude height,
// cells of equal width in metres along each row): every point of a cell
// is published as the same centre, which lies within the radius of the
// true point (half a cell diagonal, 0.71 of it), and the true point is
// inside the circle the map draws. Exact points are returned unchanged.
// The result is rounded to 6 decimals, as the API writes coordinates.
func CoarsenPoint(p orb.Point, prec GeoPrecision) orb.Point {
	r := GeoPrecisionRadius(prec)
	if r == 0 {
		return p
	}
	dLat := r / metresPerDegree
	row := math.Floor((p.Lat() + 90) / dLat)
	lat := min(-90+(row+0.5)*dLat, 90)
	cos := math.Cos(lat * math.Pi / 180)
	if cos < 1e-9 {
		return orb.Point{0, round6(lat)}
	}
	dLon := r / (metresPerDegree * cos)
	col := math.Floor((p.Lon() + 180) / dLon)
	lon := min(-180+(col+0.5)*dLon, 180)
	return orb.Point{round6(lon), round6(lat)}
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// PublicLocation returns where an incident verified from report r is
// published, and at what precision, given the moderator's corrected point
// (nil: none) and the incident's precision. The reporter's own point is
// never published finer than the reporter stated (a reporter who said
// "approximately" is not pinned to the spot they clicked, which stays
// visible to moderators only); a point the moderator placed elsewhere is
// published at the incident's precision.
func (r Report) PublicLocation(corrected *orb.Point, prec GeoPrecision) (orb.Point, GeoPrecision) {
	point := r.Point
	if corrected != nil && *corrected != r.Point {
		point = *corrected
	} else {
		prec = max(prec, r.GeoPrecision)
	}
	return CoarsenPoint(point, prec), prec
}
