package cql2

import (
	"math"
	"strconv"
	"strings"
)

// geomWriter builds canonical WKT from WKT or GeoJSON input, checking
// positions as it goes.
type geomWriter struct {
	b      strings.Builder
	coords int
}

// position writes "x y" after checking the range of longitude and latitude.
func (w *geomWriter) position(x, y float64) error {
	w.coords++
	if w.coords > MaxCoordinates {
		return errorf("geometry has more than %d coordinates", MaxCoordinates)
	}
	if math.IsNaN(x) || math.IsNaN(y) || x < -180 || x > 180 || y < -90 || y > 90 {
		return errorf("position (%g %g) is outside longitude -180..180, latitude -90..90", x, y)
	}
	w.b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	w.b.WriteByte(' ')
	w.b.WriteString(strconv.FormatFloat(y, 'f', -1, 64))
	return nil
}

// positions writes "(x y,x y,...)" and checks the count and, for rings,
// closure.
func (w *geomWriter) positions(pts [][2]float64, kind string) error {
	switch kind {
	case "linestring":
		if len(pts) < 2 {
			return errorf("a linestring needs at least 2 positions, got %d", len(pts))
		}
	case "ring":
		if len(pts) < 4 {
			return errorf("a polygon ring needs at least 4 positions, got %d", len(pts))
		}
		if pts[0] != pts[len(pts)-1] {
			return errorf("a polygon ring must end where it starts")
		}
	}
	w.b.WriteByte('(')
	for i, p := range pts {
		if i > 0 {
			w.b.WriteByte(',')
		}
		if err := w.position(p[0], p[1]); err != nil {
			return err
		}
	}
	w.b.WriteByte(')')
	return nil
}

// bbox writes a bounding box as a polygon, or as two when it crosses the
// antimeridian (west edge east of the east edge).
func (w *geomWriter) bbox(nums []float64) error {
	var minx, miny, maxx, maxy float64
	switch len(nums) {
	case 4:
		minx, miny, maxx, maxy = nums[0], nums[1], nums[2], nums[3]
	case 6:
		minx, miny, maxx, maxy = nums[0], nums[1], nums[3], nums[4]
	default:
		return errorf("a bbox needs 4 or 6 numbers, got %d", len(nums))
	}
	if miny > maxy {
		return errorf("bbox south edge %g is north of its north edge %g", miny, maxy)
	}
	box := func(x0, x1 float64) [][2]float64 {
		return [][2]float64{{x0, miny}, {x1, miny}, {x1, maxy}, {x0, maxy}, {x0, miny}}
	}
	if minx <= maxx {
		w.b.WriteString("POLYGON(")
		if err := w.positions(box(minx, maxx), "ring"); err != nil {
			return err
		}
		w.b.WriteByte(')')
		return nil
	}
	w.b.WriteString("MULTIPOLYGON((")
	if err := w.positions(box(minx, 180), "ring"); err != nil {
		return err
	}
	w.b.WriteString("),(")
	if err := w.positions(box(-180, maxx), "ring"); err != nil {
		return err
	}
	w.b.WriteString("))")
	return nil
}

// isGeometryKeyword tells whether an upper-case word starts a WKT literal.
func isGeometryKeyword(w string) bool {
	switch w {
	case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION":
		return true
	}
	return false
}
