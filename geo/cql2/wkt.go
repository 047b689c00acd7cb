package cql2

import "strings"

// geometry parses a WKT literal or BBOX(...) into canonical WKT.
func (p *textParser) geometry() (Expr, error) {
	w := &geomWriter{}
	t := p.peek()
	if t.upper() == "BBOX" {
		p.i++
		nums, err := p.numberList("BBOX")
		if err != nil {
			return nil, err
		}
		if err := w.bbox(nums); err != nil {
			err.(*Error).Offset = t.pos
			return nil, err
		}
		return &GeometryLit{WKT: w.b.String()}, nil
	}
	if err := p.wkt(w); err != nil {
		if e, ok := err.(*Error); ok && e.Offset < 0 {
			e.Offset = t.pos
		}
		return nil, err
	}
	return &GeometryLit{WKT: w.b.String()}, nil
}

// numberList parses "(" number { "," number } ")".
func (p *textParser) numberList(name string) ([]float64, error) {
	if _, err := p.expect(tokLParen, "'(' after "+name); err != nil {
		return nil, err
	}
	var nums []float64
	for {
		t, err := p.expect(tokNumber, "a number in "+name)
		if err != nil {
			return nil, err
		}
		nums = append(nums, t.num)
		if len(nums) > 6 {
			return nil, p.errAt(t, "%s takes 4 or 6 numbers", name)
		}
		t = p.next()
		if t.kind == tokRParen {
			return nums, nil
		}
		if t.kind != tokComma {
			return nil, p.errAt(t, "expected ',' or ')' in %s, found %s", name, t.describe())
		}
	}
}

// wkt = keyword [ "Z" ] body
func (p *textParser) wkt(w *geomWriter) error {
	t := p.next()
	kw := t.upper()
	if !isGeometryKeyword(kw) {
		return p.errAt(t, "expected a WKT geometry (POINT, LINESTRING, POLYGON, MULTI..., GEOMETRYCOLLECTION), found %s", t.describe())
	}
	hasZ := p.keyword("Z")
	if p.peek().upper() == "EMPTY" {
		return p.errAt(p.peek(), "empty geometries are not supported")
	}
	if p.peek().upper() == "M" || p.peek().upper() == "ZM" {
		return p.errAt(p.peek(), "M coordinates are not supported")
	}
	w.b.WriteString(kw)
	switch kw {
	case "POINT":
		pts, err := p.positionList(hasZ)
		if err != nil {
			return err
		}
		if len(pts) != 1 {
			return p.errAt(t, "a POINT has exactly one position, got %d", len(pts))
		}
		return w.positions(pts, "point")
	case "LINESTRING":
		pts, err := p.positionList(hasZ)
		if err != nil {
			return err
		}
		return w.positions(pts, "linestring")
	case "POLYGON":
		return p.rings(w, hasZ)
	case "MULTIPOINT":
		return p.multiPoint(w, hasZ)
	case "MULTILINESTRING":
		return p.parts(w, func() error {
			pts, err := p.positionList(hasZ)
			if err != nil {
				return err
			}
			return w.positions(pts, "linestring")
		})
	case "MULTIPOLYGON":
		return p.parts(w, func() error { return p.rings(w, hasZ) })
	}
	// GEOMETRYCOLLECTION
	if err := p.enter(t); err != nil {
		return err
	}
	defer p.leave()
	return p.parts(w, func() error { return p.wkt(w) })
}

// parts = "(" part { "," part } ")", written the same way.
func (p *textParser) parts(w *geomWriter, part func() error) error {
	if _, err := p.expect(tokLParen, "'('"); err != nil {
		return err
	}
	w.b.WriteByte('(')
	for {
		if err := part(); err != nil {
			return err
		}
		t := p.next()
		if t.kind == tokRParen {
			w.b.WriteByte(')')
			return nil
		}
		if t.kind != tokComma {
			return p.errAt(t, "expected ',' or ')' in the geometry, found %s", t.describe())
		}
		w.b.WriteByte(',')
	}
}

// rings = "(" positionList { "," positionList } ")"
func (p *textParser) rings(w *geomWriter, hasZ bool) error {
	return p.parts(w, func() error {
		pts, err := p.positionList(hasZ)
		if err != nil {
			return err
		}
		return w.positions(pts, "ring")
	})
}

// multiPoint accepts both MULTIPOINT((1 2),(3 4)) and MULTIPOINT(1 2,3 4).
func (p *textParser) multiPoint(w *geomWriter, hasZ bool) error {
	if p.peekAt(1).kind == tokLParen {
		return p.parts(w, func() error {
			pts, err := p.positionList(hasZ)
			if err != nil {
				return err
			}
			if len(pts) != 1 {
				return errorf("a point of a MULTIPOINT has one position, got %d", len(pts))
			}
			return w.positions(pts, "point")
		})
	}
	pts, err := p.positionList(hasZ)
	if err != nil {
		return err
	}
	w.b.WriteByte('(')
	for i, pt := range pts {
		if i > 0 {
			w.b.WriteByte(',')
		}
		if err := w.positions([][2]float64{pt}, "point"); err != nil {
			return err
		}
	}
	w.b.WriteByte(')')
	return nil
}

// positionList = "(" position { "," position } ")" where a position is two
// numbers, or three (the third, a height, is dropped).
func (p *textParser) positionList(hasZ bool) ([][2]float64, error) {
	if _, err := p.expect(tokLParen, "'(' to open a list of positions"); err != nil {
		return nil, err
	}
	var pts [][2]float64
	for {
		var nums []float64
		for p.peek().kind == tokNumber {
			nums = append(nums, p.next().num)
			if len(nums) > 3 {
				break
			}
		}
		t := p.peek()
		if len(nums) < 2 || len(nums) > 3 || hasZ && len(nums) != 3 {
			want := "2 or 3"
			if hasZ {
				want = "3"
			}
			return nil, p.errAt(t, "a position needs %s numbers separated by spaces, got %d", want, len(nums))
		}
		pts = append(pts, [2]float64{nums[0], nums[1]})
		if len(pts) > MaxCoordinates {
			return nil, p.errAt(t, "geometry has more than %d coordinates", MaxCoordinates)
		}
		t = p.next()
		if t.kind == tokRParen {
			return pts, nil
		}
		if t.kind != tokComma {
			return nil, p.errAt(t, "expected ',' or ')' between positions, found %s", t.describe())
		}
	}
}

// isSpatialOp tells whether op (lower case) is a supported spatial function.
func isSpatialOp(op string) bool {
	switch op {
	case "s_intersects", "s_within", "s_contains", "s_disjoint", "s_equals",
		"s_touches", "s_overlaps", "s_crosses", "s_dwithin":
		return true
	}
	return false
}

// isTemporalOp tells whether op (lower case) is a supported temporal function.
func isTemporalOp(op string) bool {
	switch op {
	case "t_after", "t_before", "t_contains", "t_disjoint", "t_during", "t_equals",
		"t_finishedby", "t_finishes", "t_intersects", "t_meets", "t_metby",
		"t_overlappedby", "t_overlaps", "t_startedby", "t_starts":
		return true
	}
	return false
}

// spatialExpr builds a Spatial from its arguments: two geometries, and for
// s_dwithin a distance and optionally its units (metres).
func spatialExpr(op string, args []Expr) (Expr, error) {
	name := strings.ToUpper(op)
	if op != "s_dwithin" {
		if len(args) != 2 {
			return nil, errorf("%s takes 2 arguments, got %d", name, len(args))
		}
		return &Spatial{Op: op, Left: args[0], Right: args[1]}, nil
	}
	if len(args) != 3 && len(args) != 4 {
		return nil, errorf("S_DWITHIN takes a property, a geometry, a distance and optionally its units (meters), got %d arguments", len(args))
	}
	d, ok := args[2].(*NumberLit)
	if !ok || d.Value < 0 {
		return nil, errorf("S_DWITHIN distance must be a number of metres, 0 or more")
	}
	if len(args) == 4 {
		var unit string
		switch u := args[3].(type) {
		case *Property:
			unit = u.Name
		case *StringLit:
			unit = u.Value
		}
		switch strings.ToLower(unit) {
		case "m", "meters", "metres", "meter", "metre":
		default:
			return nil, errorf("S_DWITHIN distance units must be meters")
		}
	}
	return &Spatial{Op: op, Left: args[0], Right: args[1], Distance: d.Value}, nil
}
