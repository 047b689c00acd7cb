package cql2

import (
	"strings"
	"time"
)

// temporal compiles a temporal function. Both operands become closed
// ranges [start, end]: a property or an instant is a range of one instant
// (a date against a timestamp property is its whole UTC day), an interval
// is its two ends, and an open end '..' is -infinity or infinity. The
// functions then follow the W3C/OGC Time Ontology relations that CQL2
// cites, with instants as ranges of zero length.
func (c *compiler) temporal(e *Temporal) (string, error) {
	name := strings.ToUpper(e.Op)
	k, err := c.temporalKind(name, e.Left, e.Right)
	if err != nil {
		return "", err
	}
	a, err := c.temporalSpan(name, k, e.Left)
	if err != nil {
		return "", err
	}
	b, err := c.temporalSpan(name, k, e.Right)
	if err != nil {
		return "", err
	}
	s1, e1, s2, e2 := a.lo, a.hi, b.lo, b.hi
	cmp := func(x *endpoint, op string, y *endpoint) string { return c.render(x) + " " + op + " " + c.render(y) }
	and := func(parts ...string) string { return "(" + strings.Join(parts, " AND ") + ")" }
	switch e.Op {
	case "t_after":
		return and(cmp(s1, ">", e2)), nil
	case "t_before":
		return and(cmp(e1, "<", s2)), nil
	case "t_disjoint":
		return "(" + cmp(e1, "<", s2) + " OR " + cmp(s1, ">", e2) + ")", nil
	case "t_equals":
		return and(cmp(s1, "=", s2), cmp(e1, "=", e2)), nil
	case "t_intersects":
		return and(cmp(s1, "<=", e2), cmp(e1, ">=", s2)), nil
	case "t_contains":
		return and(cmp(s1, "<", s2), cmp(e1, ">", e2)), nil
	case "t_during":
		return and(cmp(s1, ">", s2), cmp(e1, "<", e2)), nil
	case "t_finishedby":
		return and(cmp(s1, "<", s2), cmp(e1, "=", e2)), nil
	case "t_finishes":
		return and(cmp(s1, ">", s2), cmp(e1, "=", e2)), nil
	case "t_meets":
		return and(cmp(e1, "=", s2)), nil
	case "t_metby":
		return and(cmp(s1, "=", e2)), nil
	case "t_overlappedby":
		return and(cmp(s2, "<", s1), cmp(e2, ">", s1), cmp(e2, "<", e1)), nil
	case "t_overlaps":
		return and(cmp(s1, "<", s2), cmp(e1, ">", s2), cmp(e1, "<", e2)), nil
	case "t_startedby":
		return and(cmp(s1, "=", s2), cmp(e1, ">", e2)), nil
	case "t_starts":
		return and(cmp(s1, "=", s2), cmp(e1, "<", e2)), nil
	}
	return "", errorf("temporal function %s is not supported", name)
}

// temporalKind finds the properties of both operands and checks that they
// are all timestamps or all dates.
func (c *compiler) temporalKind(fn string, ops ...Expr) (Kind, error) {
	var k Kind
	for _, op := range ops {
		var props []Expr
		switch op := op.(type) {
		case *Property:
			props = []Expr{op}
		case *IntervalLit:
			props = []Expr{op.Start, op.End}
		}
		for _, p := range props {
			name, q, err := c.property(p, "an argument of "+fn)
			if err != nil {
				if _, ok := p.(*Property); ok {
					return 0, err
				}
				continue // a literal end
			}
			if q.Type != Timestamp && q.Type != Date {
				return 0, propErrorf(name, "is a %v: %s applies to timestamps and dates only", q.Type, fn)
			}
			if k != 0 && q.Type != k {
				return 0, propErrorf(name, "is a %v, but another property of %s is a %v", q.Type, fn, k)
			}
			k = q.Type
		}
	}
	if k == 0 {
		return 0, errorf("%s needs a timestamp or date property as one of its arguments", fn)
	}
	return k, nil
}

// temporalSpan compiles one operand of a temporal function.
func (c *compiler) temporalSpan(fn string, k Kind, e Expr) (span, error) {
	switch e := e.(type) {
	case *Property:
		_, q, err := c.property(e, "an argument of "+fn)
		if err != nil {
			return span{}, err
		}
		p := &endpoint{sql: q.SQL}
		return span{p, p}, nil
	case *TimestampLit, *DateLit:
		return instant("", k, e)
	case *IntervalLit:
		if err := checkInterval(e); err != nil {
			return span{}, err
		}
		lo, err := c.intervalEnd(fn, k, e.Start, false)
		if err != nil {
			return span{}, err
		}
		hi, err := c.intervalEnd(fn, k, e.End, true)
		if err != nil {
			return span{}, err
		}
		return span{lo, hi}, nil
	case *StringLit:
		return span{}, errorf("%s takes TIMESTAMP('...'), DATE('...') or INTERVAL(...), not a plain string", fn)
	}
	return span{}, errorf("%s cannot take %s", fn, describe(e))
}

// intervalEnd compiles the start (end == false) or the end of an interval.
func (c *compiler) intervalEnd(fn string, k Kind, e Expr, end bool) (*endpoint, error) {
	cast := "timestamptz"
	if k == Date {
		cast = "date"
	}
	switch e.(type) {
	case *OpenEnd:
		if end {
			return &endpoint{sql: "'infinity'::" + cast}, nil
		}
		return &endpoint{sql: "'-infinity'::" + cast}, nil
	case *Property:
		_, q, err := c.property(e, "an interval end in "+fn)
		if err != nil {
			return nil, err
		}
		return &endpoint{sql: q.SQL}, nil
	}
	var t time.Time
	switch lit := e.(type) {
	case *TimestampLit:
		if k == Date {
			return nil, errorf("%s compares dates: use DATE('...') in the interval, not a timestamp", fn)
		}
		t = lit.Value
	case *DateLit:
		if k == Date {
			return literal(lit.Value.Format(dateLayout), "date"), nil
		}
		t = lit.Value
		if end {
			t = t.AddDate(0, 0, 1).Add(-time.Microsecond)
		}
	default:
		return nil, errorf("an interval end in %s must be '..', a date, a timestamp or a property", fn)
	}
	return literal(formatTimestamp(t), "timestamptz"), nil
}

// checkInterval rejects a literal interval that ends before it starts.
func checkInterval(iv *IntervalLit) error {
	start, ok1 := literalTime(iv.Start, false)
	end, ok2 := literalTime(iv.End, true)
	if ok1 && ok2 && end.Before(start) {
		return errorf("interval ends before it starts")
	}
	return nil
}

// literalTime is the first (end == false) or last instant of a literal.
func literalTime(e Expr, end bool) (time.Time, bool) {
	switch e := e.(type) {
	case *TimestampLit:
		return e.Value, true
	case *DateLit:
		if end {
			return e.Value.AddDate(0, 0, 1).Add(-time.Microsecond), true
		}
		return e.Value, true
	}
	return time.Time{}, false
}
