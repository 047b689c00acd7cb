package cql2

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseJSON parses a filter in CQL2 JSON (filter-lang=cql2-json).
func ParseJSON(b []byte) (Expr, error) {
	if err := checkSize(len(b)); err != nil {
		return nil, err
	}
	if !utf8.Valid(b) {
		return nil, errorf("filter is not valid UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, errorf("filter is not valid JSON: %v", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errorf("filter has data after its JSON value")
	}
	p := &jsonParser{}
	e, err := p.boolean(v)
	if err != nil {
		return nil, err
	}
	if err := checkLimits(e); err != nil {
		return nil, err
	}
	return e, nil
}

// jsonParser turns decoded JSON into an Expr.
type jsonParser struct {
	depth int
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return errorf("filter nests deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *jsonParser) leave() { p.depth-- }

// boolean reads a boolean expression: an operation object or true/false.
func (p *jsonParser) boolean(v any) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	switch v := v.(type) {
	case bool:
		return &BoolLit{Value: v}, nil
	case map[string]any:
		if _, ok := v["op"]; ok {
			return p.operation(v)
		}
	}
	return nil, errorf("expected an operation {\"op\": ..., \"args\": [...]} or a boolean, found %s", describeJSON(v))
}

// operation reads {"op": ..., "args": [...]}.
func (p *jsonParser) operation(m map[string]any) (Expr, error) {
	if err := onlyKeys(m, "op", "args"); err != nil {
		return nil, err
	}
	op, ok := m["op"].(string)
	if !ok {
		return nil, errorf("\"op\" must be a string")
	}
	args, ok := m["args"].([]any)
	if !ok {
		return nil, errorf("operation %q needs an \"args\" array", op)
	}
	op = strings.ToLower(op)
	switch op {
	case "and", "or":
		return p.logical(op, args)
	case "not":
		if err := argCount(op, len(args), 1); err != nil {
			return nil, err
		}
		e, err := p.boolean(args[0])
		if err != nil {
			return nil, err
		}
		return &Not{Arg: e}, nil
	case "isnull":
		if err := argCount(op, len(args), 1); err != nil {
			return nil, err
		}
		e, err := p.operand(args[0])
		if err != nil {
			return nil, err
		}
		return &IsNull{Arg: e}, nil
	case "in":
		return p.in(op, args)
	}
	if len(args) > 4 {
		return nil, errorf("operation %q has too many arguments", op)
	}
	ops := make([]Expr, len(args))
	for i, a := range args {
		e, err := p.operand(a)
		if err != nil {
			return nil, err
		}
		ops[i] = e
	}
	return operandOperation(op, ops)
}

// argCount checks that operation op got the number of arguments it takes.
func argCount(op string, got, want int) error {
	if got != want {
		return errorf("operation %q takes %d arguments, got %d", op, want, got)
	}
	return nil
}

// logical reads the arguments of "and" or "or": two or more conditions.
func (p *jsonParser) logical(op string, args []any) (Expr, error) {
	if len(args) < 2 {
		return nil, errorf("operation %q takes 2 or more arguments, got %d", op, len(args))
	}
	if len(args) > MaxNodes {
		return nil, errorf("filter has more than %d nodes", MaxNodes)
	}
	l := &Logical{Op: op}
	for _, a := range args {
		e, err := p.boolean(a)
		if err != nil {
			return nil, err
		}
		l.Args = append(l.Args, e)
	}
	return l, nil
}

// in reads the arguments of "in": an operand and a non-empty array of them.
func (p *jsonParser) in(op string, args []any) (Expr, error) {
	if err := argCount(op, len(args), 2); err != nil {
		return nil, err
	}
	left, err := p.operand(args[0])
	if err != nil {
		return nil, err
	}
	items, ok := args[1].([]any)
	if !ok {
		return nil, errorf("the second argument of \"in\" must be an array")
	}
	if len(items) > MaxInItems {
		return nil, errorf("IN list has %d items; at most %d are allowed", len(items), MaxInItems)
	}
	if len(items) == 0 {
		return nil, errorf("IN list is empty")
	}
	in := &In{Left: left}
	for _, it := range items {
		e, err := p.operand(it)
		if err != nil {
			return nil, err
		}
		in.List = append(in.List, e)
	}
	return in, nil
}

// operandOperation builds an operation whose arguments are all operands
// (already read): comparison, like, between, spatial and temporal ones.
func operandOperation(op string, ops []Expr) (Expr, error) {
	switch op {
	case "=", "<>", "<", "<=", ">", ">=":
		if err := argCount(op, len(ops), 2); err != nil {
			return nil, err
		}
		return &Comparison{Op: op, Left: ops[0], Right: ops[1]}, nil
	case "like":
		if err := argCount(op, len(ops), 2); err != nil {
			return nil, err
		}
		return &Like{Left: ops[0], Pattern: ops[1]}, nil
	case "between":
		if err := argCount(op, len(ops), 3); err != nil {
			return nil, err
		}
		return &Between{Left: ops[0], Low: ops[1], High: ops[2]}, nil
	}
	if isSpatialOp(op) {
		return spatialExpr(op, ops)
	}
	if isTemporalOp(op) {
		if err := argCount(op, len(ops), 2); err != nil {
			return nil, err
		}
		return &Temporal{Op: op, Left: ops[0], Right: ops[1]}, nil
	}
	return nil, errorf("operation %q is not supported", op)
}

// operand reads a property, a literal, an interval or a geometry.
func (p *jsonParser) operand(v any) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	switch v := v.(type) {
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			// PostgreSQL text cannot hold it: the query would fail.
			return nil, errorf("a string holds a NUL character")
		}
		return &StringLit{Value: v}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, errorf("number %s is out of range", v)
		}
		return &NumberLit{Value: f}, nil
	case bool:
		return &BoolLit{Value: v}, nil
	case map[string]any:
		return p.object(v)
	case nil:
		return nil, errorf("null is not a value; use {\"op\": \"isNull\", ...}")
	}
	return nil, errorf("expected a property or a literal, found %s", describeJSON(v))
}

// object reads an operand written as a JSON object.
func (p *jsonParser) object(m map[string]any) (Expr, error) {
	switch {
	case has(m, "property"):
		if err := onlyKeys(m, "property"); err != nil {
			return nil, err
		}
		name, ok := m["property"].(string)
		if !ok || name == "" || strings.IndexByte(name, 0) >= 0 {
			return nil, errorf("\"property\" must be a non-empty string without NUL")
		}
		return &Property{Name: name}, nil
	case has(m, "date"), has(m, "timestamp"):
		kw := "date"
		if has(m, "timestamp") {
			kw = "timestamp"
		}
		if err := onlyKeys(m, kw); err != nil {
			return nil, err
		}
		s, ok := m[kw].(string)
		if !ok {
			return nil, errorf("%q must be a string", kw)
		}
		return instantLiteral(strings.ToUpper(kw), s, -1)
	case has(m, "interval"):
		if err := onlyKeys(m, "interval"); err != nil {
			return nil, err
		}
		ends, ok := m["interval"].([]any)
		if !ok || len(ends) != 2 {
			return nil, errorf("\"interval\" must be an array of 2 ends")
		}
		var iv [2]Expr
		for i, end := range ends {
			e, err := p.intervalEnd(end)
			if err != nil {
				return nil, err
			}
			iv[i] = e
		}
		return &IntervalLit{Start: iv[0], End: iv[1]}, nil
	case has(m, "bbox"):
		if err := onlyKeys(m, "bbox"); err != nil {
			return nil, err
		}
		nums, err := numbers(m["bbox"], "bbox")
		if err != nil {
			return nil, err
		}
		w := &geomWriter{}
		if err := w.bbox(nums); err != nil {
			return nil, err
		}
		return &GeometryLit{WKT: w.b.String()}, nil
	case has(m, "type"):
		w := &geomWriter{}
		if err := p.geoJSON(w, m); err != nil {
			return nil, err
		}
		return &GeometryLit{WKT: w.b.String()}, nil
	case has(m, "op"):
		return nil, errorf("an operation cannot stand where a value is expected (functions and arithmetic are not supported)")
	}
	return nil, errorf("unknown operand object with members %s", strings.Join(keys(m), ", "))
}

// intervalEnd reads one end of {"interval": [...]}.
func (p *jsonParser) intervalEnd(v any) (Expr, error) {
	if s, ok := v.(string); ok {
		return intervalEnd(s)
	}
	e, err := p.operand(v)
	if err != nil {
		return nil, err
	}
	switch e.(type) {
	case *Property, *DateLit, *TimestampLit:
		return e, nil
	}
	return nil, errorf("an interval end must be \"..\", a date, a timestamp or a property")
}

// geoJSON writes a GeoJSON geometry object as WKT.
func (p *jsonParser) geoJSON(w *geomWriter, m map[string]any) error {
	typ, _ := m["type"].(string)
	if typ == "GeometryCollection" {
		if err := onlyKeys(m, "type", "geometries", "bbox"); err != nil {
			return err
		}
		if err := p.enter(); err != nil {
			return err
		}
		defer p.leave()
		geoms, ok := m["geometries"].([]any)
		if !ok || len(geoms) == 0 {
			return errorf("a GeometryCollection needs a non-empty \"geometries\" array")
		}
		w.b.WriteString("GEOMETRYCOLLECTION(")
		for i, g := range geoms {
			if i > 0 {
				w.b.WriteByte(',')
			}
			gm, ok := g.(map[string]any)
			if !ok {
				return errorf("a member of \"geometries\" must be a geometry object")
			}
			if err := p.geoJSON(w, gm); err != nil {
				return err
			}
		}
		w.b.WriteByte(')')
		return nil
	}
	if err := onlyKeys(m, "type", "coordinates", "bbox"); err != nil {
		return err
	}
	c := m["coordinates"]
	switch typ {
	case "Point":
		w.b.WriteString("POINT")
		pt, err := position(c)
		if err != nil {
			return err
		}
		return w.positions([][2]float64{pt}, "point")
	case "LineString":
		w.b.WriteString("LINESTRING")
		return writeList(w, c, "linestring")
	case "Polygon":
		w.b.WriteString("POLYGON")
		return writeNested(w, c, func(v any) error { return writeList(w, v, "ring") })
	case "MultiPoint":
		w.b.WriteString("MULTIPOINT")
		return writeNested(w, c, func(v any) error {
			pt, err := position(v)
			if err != nil {
				return err
			}
			return w.positions([][2]float64{pt}, "point")
		})
	case "MultiLineString":
		w.b.WriteString("MULTILINESTRING")
		return writeNested(w, c, func(v any) error { return writeList(w, v, "linestring") })
	case "MultiPolygon":
		w.b.WriteString("MULTIPOLYGON")
		return writeNested(w, c, func(v any) error {
			return writeNested(w, v, func(v any) error { return writeList(w, v, "ring") })
		})
	}
	return errorf("geometry type %q is not supported (Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon, GeometryCollection)", typ)
}

// writeNested writes "(" part { "," part } ")" for a non-empty array.
func writeNested(w *geomWriter, v any, part func(any) error) error {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return errorf("\"coordinates\" must be a non-empty array")
	}
	w.b.WriteByte('(')
	for i, a := range arr {
		if i > 0 {
			w.b.WriteByte(',')
		}
		if err := part(a); err != nil {
			return err
		}
	}
	w.b.WriteByte(')')
	return nil
}

// writeList writes an array of positions.
func writeList(w *geomWriter, v any, kind string) error {
	arr, ok := v.([]any)
	if !ok {
		return errorf("\"coordinates\" must be an array of positions")
	}
	if len(arr) > MaxCoordinates {
		return errorf("geometry has more than %d coordinates", MaxCoordinates)
	}
	pts := make([][2]float64, 0, len(arr))
	for _, a := range arr {
		pt, err := position(a)
		if err != nil {
			return err
		}
		pts = append(pts, pt)
	}
	return w.positions(pts, kind)
}

// position reads [x, y] or [x, y, z] (z is dropped).
func position(v any) ([2]float64, error) {
	nums, err := numbers(v, "position")
	if err != nil {
		return [2]float64{}, err
	}
	if len(nums) != 2 && len(nums) != 3 {
		return [2]float64{}, errorf("a position needs 2 or 3 numbers, got %d", len(nums))
	}
	return [2]float64{nums[0], nums[1]}, nil
}

// numbers reads a short array of numbers.
func numbers(v any, what string) ([]float64, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) > 6 {
		return nil, errorf("%s must be an array of numbers", what)
	}
	nums := make([]float64, len(arr))
	for i, a := range arr {
		n, ok := a.(json.Number)
		if !ok {
			return nil, errorf("%s must be an array of numbers", what)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return nil, errorf("number %s is out of range", n)
		}
		nums[i] = f
	}
	return nums, nil
}

func has(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// onlyKeys fails on members other than allowed: a typo must not be ignored.
func onlyKeys(m map[string]any, allowed ...string) error {
	for k := range m {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return errorf("unexpected member %q (allowed: %s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, strconv.Quote(k))
	}
	sort.Strings(ks)
	return ks
}

// describeJSON names a JSON value's kind in error messages.
func describeJSON(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	}
	return "an object"
}
