package cql2

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a queryable.
type Kind int

// Kinds of queryables.
const (
	String    Kind = iota + 1 // text (cast enums to text in Queryable.SQL)
	Number                    // any numeric column
	Integer                   // smallint, integer or bigint
	Boolean                   // boolean
	Timestamp                 // timestamp with time zone
	Date                      // date
	Geometry                  // geometry in EPSG:4326
)

// String names a kind in error messages.
func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Number:
		return "number"
	case Integer:
		return "integer"
	case Boolean:
		return "boolean"
	case Timestamp:
		return "timestamp"
	case Date:
		return "date"
	case Geometry:
		return "geometry"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Queryable is a property a filter may use.
type Queryable struct {
	// SQL is the trusted column expression written for the property.
	SQL string
	// Type is the kind of value SQL yields.
	Type Kind
}

// Compile turns a filter into a parenthesised SQL boolean expression for
// PostgreSQL/PostGIS. Only the SQL of queryables is written into it; every
// literal becomes a placeholder, numbered from firstArg, whose value is in
// args. A property missing from queryables, or used against a literal of
// the wrong type, is an *Error.
func Compile(e Expr, queryables map[string]Queryable, firstArg int) (sql string, args []any, err error) {
	if firstArg < 1 {
		return "", nil, errors.New("cql2: compile: firstArg must be 1 or more")
	}
	if err := checkLimits(e); err != nil {
		return "", nil, err
	}
	c := &compiler{q: queryables, next: firstArg}
	s, err := c.boolean(e)
	if err != nil {
		return "", nil, err
	}
	if !strings.HasPrefix(s, "(") || !strings.HasSuffix(s, ")") {
		s = "(" + s + ")"
	}
	return s, c.args, nil
}

// compiler collects the arguments of one Compile call.
type compiler struct {
	q    map[string]Queryable
	next int
	args []any
}

// arg adds a placeholder for v, with a cast when cast is not empty.
func (c *compiler) arg(v any, cast string) string {
	c.args = append(c.args, v)
	s := "$" + strconv.Itoa(c.next)
	c.next++
	if cast != "" {
		s += "::" + cast
	}
	return s
}

// property resolves a property operand against the allow-list.
func (c *compiler) property(e Expr, role string) (string, Queryable, error) {
	p, ok := e.(*Property)
	if !ok {
		return "", Queryable{}, errorf("%s must be a property, found %s", role, describe(e))
	}
	q, ok := c.q[p.Name]
	if !ok {
		names := make([]string, 0, len(c.q))
		for n := range c.q {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", Queryable{}, propErrorf(p.Name, "is not queryable (queryables: %s)", strings.Join(names, ", "))
	}
	return p.Name, q, nil
}

// boolean compiles an expression that yields true or false.
func (c *compiler) boolean(e Expr) (string, error) {
	switch e := e.(type) {
	case *Logical:
		parts := make([]string, len(e.Args))
		for i, a := range e.Args {
			s, err := c.boolean(a)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "(" + strings.Join(parts, " "+strings.ToUpper(e.Op)+" ") + ")", nil
	case *Not:
		s, err := c.boolean(e.Arg)
		if err != nil {
			return "", err
		}
		return "(NOT " + s + ")", nil
	case *BoolLit:
		if e.Value {
			return "TRUE", nil
		}
		return "FALSE", nil
	case *Comparison:
		return c.comparison(e)
	case *Like:
		return c.like(e)
	case *Between:
		return c.between(e)
	case *In:
		return c.in(e)
	case *IsNull:
		_, q, err := c.property(e.Arg, "the operand of IS NULL")
		if err != nil {
			return "", err
		}
		return "(" + q.SQL + " IS NULL)", nil
	case *Spatial:
		return c.spatial(e)
	case *Temporal:
		return c.temporal(e)
	}
	return "", errorf("%s is not a predicate", describe(e))
}

// scalar compiles the literal lit for comparison with a property of kind
// q.Type: a placeholder with the cast the kind needs.
func (c *compiler) scalar(name string, q Queryable, lit Expr) (string, error) {
	switch q.Type {
	case String:
		if s, ok := lit.(*StringLit); ok {
			return c.arg(s.Value, ""), nil
		}
	case Number, Integer:
		if n, ok := lit.(*NumberLit); ok {
			return c.number(n.Value, q.Type), nil
		}
	case Boolean:
		if b, ok := lit.(*BoolLit); ok {
			return c.arg(b.Value, "boolean"), nil
		}
	case Geometry:
		return "", propErrorf(name, "is a geometry: use a spatial function such as S_INTERSECTS")
	default:
		return "", propErrorf(name, "has unknown type %v", q.Type)
	}
	if _, ok := lit.(*Property); ok {
		return "", propErrorf(name, "comparing two properties is not supported; compare with a literal")
	}
	return "", propErrorf(name, "is a %v and cannot be compared with %s", q.Type, describe(lit))
}

// number passes a numeric literal: integral values as bigint (so an index
// on an integer column still serves), others as numeric.
func (c *compiler) number(v float64, k Kind) string {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		if k == Integer {
			return c.arg(int64(v), "bigint")
		}
		return c.arg(int64(v), "numeric")
	}
	return c.arg(v, "numeric")
}

func (c *compiler) comparison(e *Comparison) (string, error) {
	name, q, err := c.property(e.Left, "the left side of "+e.Op)
	if err != nil {
		return "", err
	}
	if q.Type == Timestamp || q.Type == Date {
		lit, err := c.instantSpan(name, q, e.Right)
		if err != nil {
			return "", err
		}
		return c.compareSpan(q.SQL, e.Op, lit), nil
	}
	if q.Type == Boolean && e.Op != "=" && e.Op != "<>" {
		return "", propErrorf(name, "is a boolean: only = and <> apply")
	}
	r, err := c.scalar(name, q, e.Right)
	if err != nil {
		return "", err
	}
	return "(" + q.SQL + " " + e.Op + " " + r + ")", nil
}

func (c *compiler) like(e *Like) (string, error) {
	name, q, err := c.property(e.Left, "the left side of LIKE")
	if err != nil {
		return "", err
	}
	if q.Type != String {
		return "", propErrorf(name, "is a %v: LIKE applies to strings only", q.Type)
	}
	pat, ok := e.Pattern.(*StringLit)
	if !ok {
		return "", propErrorf(name, "the LIKE pattern must be a string, found %s", describe(e.Pattern))
	}
	if trailingEscape(pat.Value) {
		return "", propErrorf(name, "LIKE pattern %q ends with the escape character \\", pat.Value)
	}
	return "(" + q.SQL + " LIKE " + c.arg(pat.Value, "") + ")", nil
}

// trailingEscape tells whether s ends in an unpaired backslash, which
// PostgreSQL rejects in a LIKE pattern.
func trailingEscape(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func (c *compiler) between(e *Between) (string, error) {
	name, q, err := c.property(e.Left, "the left side of BETWEEN")
	if err != nil {
		return "", err
	}
	switch q.Type {
	case Timestamp, Date:
		low, err := c.instantSpan(name, q, e.Low)
		if err != nil {
			return "", err
		}
		high, err := c.instantSpan(name, q, e.High)
		if err != nil {
			return "", err
		}
		return "(" + c.compareSpan(q.SQL, ">=", low) + " AND " + c.compareSpan(q.SQL, "<=", high) + ")", nil
	case Number, Integer, String:
	default:
		return "", propErrorf(name, "is a %v: BETWEEN applies to numbers, strings and times", q.Type)
	}
	low, err := c.scalar(name, q, e.Low)
	if err != nil {
		return "", err
	}
	high, err := c.scalar(name, q, e.High)
	if err != nil {
		return "", err
	}
	return "(" + q.SQL + " BETWEEN " + low + " AND " + high + ")", nil
}

func (c *compiler) in(e *In) (string, error) {
	name, q, err := c.property(e.Left, "the left side of IN")
	if err != nil {
		return "", err
	}
	if len(e.List) == 0 {
		return "", propErrorf(name, "IN list is empty")
	}
	parts := make([]string, len(e.List))
	for i, item := range e.List {
		if q.Type == Timestamp || q.Type == Date {
			lit, err := c.instantSpan(name, q, item)
			if err != nil {
				return "", err
			}
			parts[i] = c.compareSpan(q.SQL, "=", lit)
			continue
		}
		s, err := c.scalar(name, q, item)
		if err != nil {
			return "", err
		}
		parts[i] = s
	}
	if q.Type == Timestamp || q.Type == Date {
		return "(" + strings.Join(parts, " OR ") + ")", nil
	}
	return "(" + q.SQL + " IN (" + strings.Join(parts, ", ") + "))", nil
}

// spatialSQL maps spatial functions to PostGIS; s_dwithin is separate.
func spatialSQL(op string) string {
	switch op {
	case "s_intersects":
		return "ST_Intersects"
	case "s_within":
		return "ST_Within"
	case "s_contains":
		return "ST_Contains"
	case "s_disjoint":
		return "ST_Disjoint"
	case "s_equals":
		return "ST_Equals"
	case "s_touches":
		return "ST_Touches"
	case "s_overlaps":
		return "ST_Overlaps"
	case "s_crosses":
		return "ST_Crosses"
	}
	return ""
}

func (c *compiler) spatial(e *Spatial) (string, error) {
	left, right, op := e.Left, e.Right, e.Op
	if _, ok := left.(*GeometryLit); ok {
		// A literal first: swap, turning within into contains and back.
		left, right = right, left
		switch op {
		case "s_within":
			op = "s_contains"
		case "s_contains":
			op = "s_within"
		}
	}
	name, q, err := c.property(left, "one argument of "+strings.ToUpper(e.Op))
	if err != nil {
		return "", err
	}
	if q.Type != Geometry {
		return "", propErrorf(name, "is a %v: %s applies to geometries only", q.Type, strings.ToUpper(e.Op))
	}
	g, ok := right.(*GeometryLit)
	if !ok {
		return "", propErrorf(name, "%s needs a geometry literal (WKT, GeoJSON or BBOX), found %s", strings.ToUpper(e.Op), describe(right))
	}
	geom := "ST_GeomFromText(" + c.arg(g.WKT, "text") + ", 4326)"
	if op == "s_dwithin" {
		within := "ST_DWithin(" + q.SQL + "::geography, " + geom + "::geography, " + c.arg(e.Distance, "float8") + ")"
		box, ok := dwithinBox(g.WKT, e.Distance)
		if !ok {
			return within, nil
		}
		// The box holds every point within the distance, so the && test
		// only lets a geometry index skip rows that cannot match.
		return "(" + q.SQL + " && ST_MakeEnvelope(" + c.arg(box[0], "float8") + ", " + c.arg(box[1], "float8") + ", " +
			c.arg(box[2], "float8") + ", " + c.arg(box[3], "float8") + ", 4326) AND " + within + ")", nil
	}
	return spatialSQL(op) + "(" + q.SQL + ", " + geom + ")", nil
}

// endpoint is one end of a time range: trusted SQL, or a literal that
// becomes a placeholder the first time it is written (so a literal that
// the SQL never uses adds no argument).
type endpoint struct {
	sql  string
	val  any
	cast string
}

// render writes an endpoint, adding its argument on first use.
func (c *compiler) render(p *endpoint) string {
	if p.sql == "" {
		p.sql = c.arg(p.val, p.cast)
	}
	return p.sql
}

// literal makes an endpoint for a literal value.
func literal(v any, cast string) *endpoint { return &endpoint{val: v, cast: cast} }

// span is a closed time range [lo, hi]; an instant has lo == hi.
type span struct {
	lo, hi *endpoint
}

// instantSpan compiles a literal compared with a temporal property: a
// TIMESTAMP, a DATE, or a string holding either. A date against a
// timestamp property stands for the whole UTC day.
func (c *compiler) instantSpan(name string, q Queryable, lit Expr) (span, error) {
	if s, ok := lit.(*StringLit); ok {
		e, ok := parseInstant(s.Value)
		if !ok {
			return span{}, propErrorf(name, "is a %v: %q is not a date (2006-01-02) or an RFC 3339 timestamp (2006-01-02T15:04:05Z)", q.Type, s.Value)
		}
		lit = e
	}
	switch lit.(type) {
	case *TimestampLit, *DateLit:
		return instant(name, q.Type, lit)
	case *Property:
		return span{}, propErrorf(name, "comparing two properties is not supported; compare with a literal")
	}
	return span{}, propErrorf(name, "is a %v and cannot be compared with %s", q.Type, describe(lit))
}

// instant makes the range of a TIMESTAMP or DATE literal in a context of
// kind k.
func instant(name string, k Kind, lit Expr) (span, error) {
	switch lit := lit.(type) {
	case *TimestampLit:
		if k == Date {
			return span{}, propErrorf(name, "is a date and cannot be compared with a timestamp; use DATE('...')")
		}
		p := literal(formatTimestamp(lit.Value), "timestamptz")
		return span{p, p}, nil
	case *DateLit:
		if k == Date {
			p := literal(lit.Value.Format(dateLayout), "date")
			return span{p, p}, nil
		}
		// The whole day, in UTC; PostgreSQL keeps microseconds, so the
		// closed end is the day's last microsecond.
		end := lit.Value.AddDate(0, 0, 1).Add(-time.Microsecond)
		return span{literal(formatTimestamp(lit.Value), "timestamptz"), literal(formatTimestamp(end), "timestamptz")}, nil
	}
	return span{}, propErrorf(name, "cannot be compared with %s", describe(lit))
}

// compareSpan compares the instant col with the range lit: col < lit when
// col is before all of it, col = lit when col falls within it, and so on.
func (c *compiler) compareSpan(col, op string, lit span) string {
	point := lit.lo == lit.hi
	switch {
	case point:
		return "(" + col + " " + op + " " + c.render(lit.lo) + ")"
	case op == "<" || op == ">=":
		return "(" + col + " " + op + " " + c.render(lit.lo) + ")"
	case op == "<=" || op == ">":
		return "(" + col + " " + op + " " + c.render(lit.hi) + ")"
	case op == "=":
		return "(" + col + " >= " + c.render(lit.lo) + " AND " + col + " <= " + c.render(lit.hi) + ")"
	}
	// <>
	return "(" + col + " < " + c.render(lit.lo) + " OR " + col + " > " + c.render(lit.hi) + ")"
}

// describe names an operand in error messages without echoing long input.
func describe(e Expr) string {
	switch e := e.(type) {
	case *Property:
		return "property " + strconv.Quote(e.Name)
	case *StringLit:
		return "a string"
	case *NumberLit:
		return "a number"
	case *BoolLit:
		return "a boolean"
	case *TimestampLit:
		return "a timestamp"
	case *DateLit:
		return "a date"
	case *IntervalLit:
		return "an interval"
	case *OpenEnd:
		return "an open interval end '..'"
	case *GeometryLit:
		return "a geometry"
	case nil:
		return "nothing"
	}
	return "a predicate"
}
