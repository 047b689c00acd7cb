package cql2_test

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo/cql2"
)

// sqlToken matches every token compiled SQL may hold: placeholders,
// keywords, PostGIS names, the SRID and the infinities. A literal of the
// input (a quote, a number other than the SRID, a word) cannot match.
var sqlToken = regexp.MustCompile(`^(\$\d+(::(bigint|numeric|boolean|text|float8|timestamptz|date))?|'-?infinity'::(timestamptz|date)|::geography|4326|&&|<>|<=|>=|[=<>(),]|\s+|[A-Za-z_.]+)`)

// backslashRun matches backslashes before a quote or the end.
var backslashRun = regexp.MustCompile(`\\+('|$)`)

// sqlWord tells whether a word may appear in compiled SQL.
func sqlWord(w string) bool {
	switch w {
	case "AND", "OR", "NOT", "TRUE", "FALSE", "IS", "NULL", "IN", "BETWEEN", "LIKE",
		"ST_Intersects", "ST_Within", "ST_Contains", "ST_Disjoint", "ST_Equals",
		"ST_Touches", "ST_Overlaps", "ST_Crosses", "ST_DWithin", "ST_GeomFromText", "ST_MakeEnvelope":
		return true
	}
	_, ok := eventQueryableSQL()[w]
	return ok
}

func eventQueryableSQL() map[string]bool {
	m := map[string]bool{}
	for _, q := range eventQueryables() {
		m[q.SQL] = true
	}
	return m
}

// checkSQL fails when sql holds anything but trusted tokens, or when its
// placeholders do not match args one to one.
func checkSQL(t *testing.T, input, sql string, args []any, first int) {
	seen := map[int]bool{}
	for rest := sql; rest != ""; {
		m := sqlToken.FindString(rest)
		if m == "" {
			t.Fatalf("input %q: compiled SQL %q has an untrusted token at %q", input, sql, rest)
		}
		switch {
		case m[0] == '$':
			digits, _, _ := strings.Cut(m[1:], "::")
			n, _ := strconv.Atoi(digits)
			seen[n] = true
		case m[0] >= 'A' && m[0] <= 'z' && !sqlWord(m):
			t.Fatalf("input %q: compiled SQL %q has an untrusted word %q", input, sql, m)
		}
		rest = rest[len(m):]
	}
	if len(seen) != len(args) {
		t.Fatalf("input %q: SQL %q uses %d placeholders for %d args", input, sql, len(seen), len(args))
	}
	for i := range args {
		if !seen[first+i] {
			t.Fatalf("input %q: SQL %q never uses $%d", input, sql, first+i)
		}
	}
}

// FuzzCQL2 parses any input as CQL2 text and as CQL2 JSON and compiles what
// parses: nothing may panic, and the SQL may hold no literal of the input.
func FuzzCQL2(f *testing.F) {
	for _, s := range []string{
		"kind = 'Battles' AND n >= 3",
		`"event type" <> 'x' OR NOT (x BETWEEN 1 AND 2.5)`,
		"name LIKE 'O''Brien%' AND kind IN ('a', 'b', 'c')",
		"at IS NOT NULL AND at > DATE('2020-10-18')",
		"T_DURING(at, INTERVAL('2020-10-18T00:00:00Z', '..'))",
		"T_INTERSECTS(INTERVAL(day, day), INTERVAL('..', '2020-01-01'))",
		"S_INTERSECTS(geometry, BBOX(170, -10, -170, 10))",
		"S_DWITHIN(geometry, POINT(44.5 40.18), 1000, meters)",
		"S_WITHIN(geometry, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0))))",
		"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1)))",
		"name = 'x'; DROP TABLE events; --",
		`{"op":"and","args":[{"op":"=","args":[{"property":"kind"},"Battles"]},{"op":"t_after","args":[{"property":"at"},{"date":"2020-10-17"}]}]}`,
		`{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[46,39],[48,39],[48,40],[46,40],[46,39]]]}]}`,
		`{"op":"in","args":[{"property":"n"},[1,2,3]]}`,
	} {
		f.Add(s)
	}
	for _, c := range selectionCases() {
		f.Add(c.filter)
	}
	q := eventQueryables()
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (cql2.Expr, error){
			cql2.ParseText,
			func(s string) (cql2.Expr, error) { return cql2.ParseJSON([]byte(s)) },
		} {
			e, err := parse(s)
			if err != nil {
				if _, ok := err.(*cql2.Error); !ok {
					t.Fatalf("input %q: error %v is a %T, want *cql2.Error", s, err, err)
				}
				continue
			}
			checkRoundTrip(t, s, e)
			sql, args, err := cql2.Compile(e, q, 4)
			if err != nil {
				if _, ok := err.(*cql2.Error); !ok {
					t.Fatalf("input %q: compile error %v is a %T, want *cql2.Error", s, err, err)
				}
				continue
			}
			checkSQL(t, s, sql, args, 4)
		}
	})
}

// checkRoundTrip fails when Format(e) does not read back as e (where CQL2
// text can spell e at all).
func checkRoundTrip(t *testing.T, input string, e cql2.Expr) {
	text := cql2.Format(e)
	if len(text) > cql2.MaxInputBytes || !spellable(e) {
		return
	}
	back, err := cql2.ParseText(text)
	if err != nil {
		t.Fatalf("input %q: Format gave %q, which does not parse: %v", input, text, err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("input %q: Format gave %q, which reads back as a different tree", input, text)
	}
}

// spellable tells whether CQL2 text can spell every value of e (see
// Format).
func spellable(e cql2.Expr) bool {
	ok := true
	var walk func(e cql2.Expr)
	walk = func(e cql2.Expr) {
		switch e := e.(type) {
		case *cql2.Logical:
			for _, a := range e.Args {
				walk(a)
			}
		case *cql2.Not:
			walk(e.Arg)
		case *cql2.Comparison:
			walk(e.Left)
			walk(e.Right)
		case *cql2.Like:
			walk(e.Left)
			walk(e.Pattern)
		case *cql2.Between:
			walk(e.Left)
			walk(e.Low)
			walk(e.High)
		case *cql2.In:
			walk(e.Left)
			for _, a := range e.List {
				walk(a)
			}
		case *cql2.IsNull:
			walk(e.Arg)
		case *cql2.Spatial:
			walk(e.Left)
			walk(e.Right)
		case *cql2.Temporal:
			walk(e.Left)
			walk(e.Right)
		case *cql2.IntervalLit:
			for _, end := range []cql2.Expr{e.Start, e.End} {
				if p, isProp := end.(*cql2.Property); isProp {
					if _, err := cql2.ParseText("T_AFTER(x, INTERVAL('" + strings.ReplaceAll(p.Name, "'", "''") + "', '..'))"); err == nil {
						ok = false // the name reads as a literal end
					}
				}
			}
		case *cql2.StringLit:
			runs := backslashRun.FindAllString(e.Value, -1)
			for _, r := range runs {
				if strings.Count(r, `\`)%2 == 1 {
					ok = false
				}
			}
		}
	}
	walk(e)
	return ok
}
