package cql2_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo/cql2"
)

// TestTextAndJSONCompileAlike checks that the two encodings of one filter
// compile to the same SQL and arguments, and pins that SQL.
func TestTextAndJSONCompileAlike(t *testing.T) {
	tests := []struct {
		text, json string
		sql        string
		args       []any
	}{
		{
			"kind = 'Battles'",
			`{"op":"=","args":[{"property":"kind"},"Battles"]}`,
			"(e.kind = $3)", []any{"Battles"},
		},
		{
			"n >= 3 and x < 2.5",
			`{"op":"and","args":[{"op":">=","args":[{"property":"n"},3]},{"op":"<","args":[{"property":"x"},2.5]}]}`,
			"((e.n >= $3::bigint) AND (e.x < $4::numeric))", []any{int64(3), 2.5},
		},
		{
			"NOT (ok = false OR name LIKE 'a%')",
			`{"op":"not","args":[{"op":"or","args":[{"op":"=","args":[{"property":"ok"},false]},{"op":"like","args":[{"property":"name"},"a%"]}]}]}`,
			"(NOT ((e.ok = $3::boolean) OR (e.name LIKE $4)))", []any{false, "a%"},
		},
		{
			"x BETWEEN 1 AND 2",
			`{"op":"between","args":[{"property":"x"},1,2]}`,
			"(e.x BETWEEN $3::numeric AND $4::numeric)", []any{int64(1), int64(2)},
		},
		{
			"kind IN ('a', 'b')",
			`{"op":"in","args":[{"property":"kind"},["a","b"]]}`,
			"(e.kind IN ($3, $4))", []any{"a", "b"},
		},
		{
			"n IS NULL",
			`{"op":"isNull","args":[{"property":"n"}]}`,
			"(e.n IS NULL)", nil,
		},
		{
			"at < TIMESTAMP('2020-10-18T02:00:00+02:00')",
			`{"op":"<","args":[{"property":"at"},{"timestamp":"2020-10-18T00:00:00Z"}]}`,
			"(e.at < $3::timestamptz)", []any{"2020-10-18T00:00:00Z"},
		},
		{
			"at = DATE('2020-10-18')",
			`{"op":"=","args":[{"property":"at"},{"date":"2020-10-18"}]}`,
			"(e.at >= $3::timestamptz AND e.at <= $4::timestamptz)", []any{"2020-10-18T00:00:00Z", "2020-10-18T23:59:59.999999Z"},
		},
		{
			"S_INTERSECTS(geometry, POINT(36.319836 32.288087))",
			`{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":[36.319836,32.288087]}]}`,
			"ST_Intersects(e.geom, ST_GeomFromText($3::text, 4326))", []any{"POINT(36.319836 32.288087)"},
		},
		{
			"S_WITHIN(geometry, BBOX(-10, -5, 10, 5))",
			`{"op":"s_within","args":[{"property":"geometry"},{"bbox":[-10,-5,10,5]}]}`,
			"ST_Within(e.geom, ST_GeomFromText($3::text, 4326))", []any{"POLYGON((-10 -5,10 -5,10 5,-10 5,-10 -5))"},
		},
		{
			"S_INTERSECTS(geometry, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2), (2.1 2.1, 2.2 2.1, 2.2 2.2, 2.1 2.1))))",
			`{"op":"s_intersects","args":[{"property":"geometry"},{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,2]],[[2.1,2.1],[2.2,2.1],[2.2,2.2],[2.1,2.1]]]]}]}`,
			"ST_Intersects(e.geom, ST_GeomFromText($3::text, 4326))", []any{"MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((2 2,3 2,3 3,2 2),(2.1 2.1,2.2 2.1,2.2 2.2,2.1 2.1)))"},
		},
		{
			"S_CROSSES(geometry, MULTILINESTRING((0 0, 1 1), (2 2, 3 3)))",
			`{"op":"s_crosses","args":[{"property":"geometry"},{"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[2,2],[3,3]]]}]}`,
			"ST_Crosses(e.geom, ST_GeomFromText($3::text, 4326))", []any{"MULTILINESTRING((0 0,1 1),(2 2,3 3))"},
		},
		{
			"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2), MULTIPOINT(1 2, 3 4), LINESTRING(0 0, 1 1)))",
			`{"op":"s_intersects","args":[{"property":"geometry"},{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"MultiPoint","coordinates":[[1,2],[3,4]]},{"type":"LineString","coordinates":[[0,0],[1,1]]}]}]}`,
			"ST_Intersects(e.geom, ST_GeomFromText($3::text, 4326))", []any{"GEOMETRYCOLLECTION(POINT(1 2),MULTIPOINT((1 2),(3 4)),LINESTRING(0 0,1 1))"},
		},
		{
			"S_DWITHIN(geometry, POINT(44.5 40.18), 1000, meters)",
			`{"op":"s_dwithin","args":[{"property":"geometry"},{"type":"Point","coordinates":[44.5,40.18]},1000,"meters"]}`,
			"(e.geom && ST_MakeEnvelope($5::float8, $6::float8, $7::float8, $8::float8, 4326) AND ST_DWithin(e.geom::geography, ST_GeomFromText($3::text, 4326)::geography, $4::float8))",
			[]any{"POINT(44.5 40.18)", 1000.0, 44.48808474671006, 40.170896492846, 44.51191525328994, 40.189103507154},
		},
		{
			"T_INTERSECTS(at, INTERVAL('2020-10-18', '..'))",
			`{"op":"t_intersects","args":[{"property":"at"},{"interval":["2020-10-18",".."]}]}`,
			"(e.at <= 'infinity'::timestamptz AND e.at >= $3::timestamptz)", []any{"2020-10-18T00:00:00Z"},
		},
		{
			"T_DURING(at, INTERVAL('2020-10-18T00:00:00Z', '2020-11-10T00:00:00Z'))",
			`{"op":"t_during","args":[{"property":"at"},{"interval":["2020-10-18T00:00:00Z","2020-11-10T00:00:00Z"]}]}`,
			"(e.at > $3::timestamptz AND e.at < $4::timestamptz)", []any{"2020-10-18T00:00:00Z", "2020-11-10T00:00:00Z"},
		},
		{
			"T_BEFORE(day, DATE('2020-10-18'))",
			`{"op":"t_before","args":[{"property":"day"},{"date":"2020-10-18"}]}`,
			"(e.day < $3::date)", []any{"2020-10-18"},
		},
		{
			"T_AFTER(INTERVAL(at, at), TIMESTAMP('2020-10-18T00:00:00Z'))",
			`{"op":"t_after","args":[{"interval":[{"property":"at"},{"property":"at"}]},{"timestamp":"2020-10-18T00:00:00Z"}]}`,
			"(e.at > $3::timestamptz)", []any{"2020-10-18T00:00:00Z"},
		},
		{
			"TRUE",
			`true`,
			"(TRUE)", nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			te, err := cql2.ParseText(tc.text)
			if err != nil {
				t.Fatalf("parse text: %v", err)
			}
			je, err := cql2.ParseJSON([]byte(tc.json))
			if err != nil {
				t.Fatalf("parse JSON: %v", err)
			}
			tsql, targs, err := cql2.Compile(te, eventQueryables(), 3)
			if err != nil {
				t.Fatalf("compile text: %v", err)
			}
			jsql, jargs, err := cql2.Compile(je, eventQueryables(), 3)
			if err != nil {
				t.Fatalf("compile JSON: %v", err)
			}
			if tsql != jsql || !reflect.DeepEqual(targs, jargs) {
				t.Errorf("text and JSON differ:\n text %s %#v\n json %s %#v", tsql, targs, jsql, jargs)
			}
			if tf, jf := cql2.Format(te), cql2.Format(je); tf != jf {
				t.Errorf("Format: text gives %s, JSON %s", tf, jf)
			}
			wantSQL := tc.sql
			if !strings.HasPrefix(wantSQL, "(") {
				wantSQL = "(" + wantSQL + ")"
			}
			if tsql != wantSQL || !reflect.DeepEqual(targs, tc.args) {
				t.Errorf("got %s %#v, want %s %#v", tsql, targs, wantSQL, tc.args)
			}
		})
	}
}

// TestKeywordsAndNames checks case-insensitive keywords, quoted property
// names and the spec's double-quoted interval ends.
func TestKeywordsAndNames(t *testing.T) {
	tests := []struct{ a, b string }{
		{"kind = 'x' AND n IS NOT NULL", "kind = 'x' and n is not null"},
		{"kind = 'x' AND n IS NOT NULL", `"kind" = 'x' AnD NOT n Is NuLl`},
		{"s_intersects(geometry, point(1 2))", "S_INTERSECTS(geometry,POINT(1 2))"},
		{"S_INTERSECTS(geometry, POINT(1 2))", "S_INTERSECTS(geometry, POINT Z (1 2 3))"},
		{"S_INTERSECTS(geometry, MULTIPOINT((1 2), (3 4)))", "S_INTERSECTS(geometry, MULTIPOINT(1 2, 3 4))"},
		{"t_intersects(at, interval('2020-01-01T00:00:00Z', '..'))", `T_INTERSECTS(at, INTERVAL("2020-01-01T00:00:00Z", ".."))`},
		{"at < TIMESTAMP('2021-01-01T00:00:00Z')", "at < '2021-01-01T00:00:00'"},
		{"at < TIMESTAMP('2021-01-01T00:00:00Z')", "at < '2021-01-01 00:00:00Z'"},
		{"name = 'it''s'", `name = 'it\'s'`},
		{"S_DWITHIN(geometry, POINT(1 2), 5)", "S_DWITHIN(geometry, POINT(1 2), 5, 'm')"},
		{"S_WITHIN(geometry, BBOX(0, 0, 1, 1))", "S_CONTAINS(BBOX(0, 0, 1, 1), geometry)"},
		{"S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))", "S_INTERSECTS(geometry, BBOX(0, 0, -5, 1, 1, 5))"},
	}
	for _, tc := range tests {
		t.Run(tc.b, func(t *testing.T) {
			asql, aargs := mustCompile(t, tc.a)
			bsql, bargs := mustCompile(t, tc.b)
			if asql != bsql || !reflect.DeepEqual(aargs, bargs) {
				t.Errorf("got %s %#v, want %s %#v", bsql, bargs, asql, aargs)
			}
		})
	}
}

func mustCompile(t *testing.T, text string) (string, []any) {
	t.Helper()
	e, err := cql2.ParseText(text)
	if err != nil {
		t.Fatalf("parse %s: %v", text, err)
	}
	sql, args, err := cql2.Compile(e, eventQueryables(), 1)
	if err != nil {
		t.Fatalf("compile %s: %v", text, err)
	}
	return sql, args
}

// TestHostileFilters checks that bad, hostile and oversized filters are
// errors of type *cql2.Error whose message says what is wrong.
func TestHostileFilters(t *testing.T) {
	deep := strings.Repeat("(", 21) + "n = 1" + strings.Repeat(")", 21)
	deepNot := strings.Repeat("NOT ", 21) + "n = 1"
	deepJSON := strings.Repeat(`{"op":"not","args":[`, 21) + `{"op":"=","args":[{"property":"n"},1]}` + strings.Repeat("]}", 21)
	manyOr := "n = 1" + strings.Repeat(" OR n = 1", 70)
	bigIn := "n IN (" + strings.Repeat("1, ", 100) + "1)"
	bigJSONIn := `{"op":"in","args":[{"property":"n"},[` + strings.Repeat("1,", 100) + `1]]}`
	var coords []string
	for i := range 1001 {
		coords = append(coords, "1 "+string(rune('0'+i%10)))
	}
	bigLine := "S_INTERSECTS(geometry, LINESTRING(" + strings.Join(coords, ", ") + "))"
	tests := []struct {
		lang, filter string
		property     string // wanted in Error.Property
		msg          string // wanted in the message
	}{
		{"text", "name = 'x'; DROP TABLE events; --", "", "unexpected character ';'"},
		{"text", "name = 'x' OR 1=1 --'", "", "unexpected"},
		{"text", `"name; DROP TABLE events" = 'x'`, "name; DROP TABLE events", "is not queryable"},
		{"text", `"e.name) OR (1=1" = 'x'`, "e.name) OR (1=1", "is not queryable"},
		{"json", `{"op":"=","args":[{"property":"id; DELETE FROM events"},1]}`, "id; DELETE FROM events", "is not queryable"},
		{"text", "secret = 'x'", "secret", "is not queryable (queryables: at, day, event type, geometry, kind, n, name, ok, x)"},
		{"text", "S_INTERSECTS(geom, POINT(1 2))", "geom", "is not queryable"},
		{"text", "T_AFTER(created, DATE('2020-01-01'))", "created", "is not queryable"},
		{"text", deep, "", "nests deeper than 20 levels"},
		{"text", deepNot, "", "nests deeper than 20 levels"},
		{"json", deepJSON, "", "nests deeper than 20 levels"},
		{"text", manyOr, "", "more than 200 nodes"},
		{"text", bigIn, "", "IN list has more than 100 items"},
		{"json", bigJSONIn, "", "IN list has 101 items"},
		{"text", bigLine, "", "more than 1000 coordinates"},
		{"text", "name = '" + strings.Repeat("a", 8192) + "'", "", "at most 8192 are allowed"},
		{"text", "name = 'unterminated", "", "unterminated string"},
		{"text", `"name = 'x'`, "", "unterminated property name"},
		{"text", "name = ", "", "expected a property or a literal, found end of filter"},
		{"text", "(name = 'x'", "", "expected ')'"},
		{"text", "name", "", "expected a comparison operator"},
		{"text", "name ILIKE 'x'", "", "ILIKE is not CQL2"},
		{"text", "S_INTERSECTS(geometry, POINT(1))", "", "a position needs 2 or 3 numbers"},
		{"text", "S_INTERSECTS(geometry, POINT(1 2, 3 4))", "", "a POINT has exactly one position"},
		{"text", "S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1)))", "", "must end where it starts"},
		{"text", "S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 0 0)))", "", "needs at least 4 positions"},
		{"text", "S_INTERSECTS(geometry, LINESTRING(0 0))", "", "needs at least 2 positions"},
		{"text", "S_INTERSECTS(geometry, POINT(200 10))", "", "outside longitude -180..180"},
		{"text", "S_INTERSECTS(geometry, POINT EMPTY)", "", "empty geometries are not supported"},
		{"text", "S_INTERSECTS(geometry, POINT(1 2)", "", "expected ',' or ')'"},
		{"text", "S_INTERSECTS(geometry, CIRCLE(1 2))", "", "is not supported"},
		{"text", "S_INTERSECTS(geometry, BBOX(0, 10, 1, 5))", "", "south edge 10 is north"},
		{"text", "S_INTERSECTS(geometry, BBOX(0, 1, 2))", "", "4 or 6 numbers"},
		{"json", `{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1]]]}]}`, "", "needs at least 4 positions"},
		{"json", `{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Curve","coordinates":[]}]}`, "", `geometry type "Curve" is not supported`},
		{"text", "S_DWITHIN(geometry, POINT(1 2), 5, feet)", "", "units must be meters"},
		{"text", "S_DWITHIN(geometry, POINT(1 2), -5)", "", "0 or more"},
		{"text", "S_BUFFER(geometry, POINT(1 2))", "", "spatial function S_BUFFER is not supported"},
		{"text", "S_INTERSECTS(name, POINT(1 2))", "name", "applies to geometries only"},
		{"text", "geometry = 'x'", "geometry", "is a geometry"},
		{"text", "n = 'five'", "n", "is a integer and cannot be compared with a string"},
		{"text", "name = 5", "name", "is a string and cannot be compared with a number"},
		{"text", "name LIKE 5", "name", "LIKE pattern must be a string"},
		{"text", "n LIKE '5%'", "n", "LIKE applies to strings only"},
		{"text", `name LIKE 'ab\'`, "", "unterminated string"},
		{"text", `name LIKE 'ab\\'`, "", ""},
		{"json", `{"op":"like","args":[{"property":"name"},"ab\\"]}`, "name", "ends with the escape character"},
		{"text", "ok < TRUE", "ok", "only = and <> apply"},
		{"text", "at < 'yesterday'", "at", `"yesterday" is not a date`},
		{"text", "at < 5", "at", "cannot be compared with a number"},
		{"text", "day = TIMESTAMP('2020-01-01T00:00:00Z')", "day", "is a date and cannot be compared with a timestamp"},
		{"text", "at = DATE('2020-13-01')", "", "is not a date like 2006-01-02"},
		{"text", "at = TIMESTAMP('2020-01-01')", "", "is not an RFC 3339 timestamp"},
		{"text", "at = DATE('0000-01-01')", "", "is not a date"},
		{"text", "T_DURING(at, INTERVAL('2020-02-01', '2020-01-01'))", "", "interval ends before it starts"},
		{"text", "T_DURING(at, INTERVAL('2020-02-01', 'soon'))", "", "is not '..', a date"},
		{"text", "T_DURING(at, '2020-01-01')", "", "not a plain string"},
		{"text", "T_DURING(name, DATE('2020-01-01'))", "name", "applies to timestamps and dates only"},
		{"text", "T_DURING(INTERVAL(at, day), DATE('2020-01-01'))", "day", "another property of T_DURING is a timestamp"},
		{"text", "T_DURING(DATE('2020-01-01'), DATE('2020-01-02'))", "", "needs a timestamp or date property"},
		{"text", "T_SOMETIME(at, DATE('2020-01-01'))", "", "temporal function T_SOMETIME is not supported"},
		{"text", "'x' = name", "", "the left side of = must be a property, found a string"},
		{"text", "name = kind", "name", "comparing two properties is not supported"},
		{"text", "CASEI(name) = CASEI('x')", "", "function CASEI is not supported"},
		{"text", "n = 1 + 2", "", "arithmetic is not supported"},
		{"text", "n = 1e999", "", "out of range"},
		{"text", "name = 'x' name = 'y'", "", "after the end of the expression"},
		{"text", "name = '\xff'", "", "not valid UTF-8"},
		{"text", "name = 'a\x00b'", "", "NUL character"},
		{"json", `{"op":"=","args":[{"property":"name"},"a\u0000b"]}`, "", "NUL character"},
		{"json", `{"op":"=","args":[{"property":"name"},null]}`, "", "null is not a value"},
		{"json", `{"op":"=","args":[{"property":"name"},"x"],"extra":1}`, "", `unexpected member "extra"`},
		{"json", `{"op":"=","args":[{"property":"name"}]}`, "", "takes 2 arguments, got 1"},
		{"json", `{"op":"casei","args":[{"property":"name"}]}`, "", `operation "casei" is not supported`},
		{"json", `{"op":"=","args":[{"op":"+","args":[1,2]},3]}`, "", "functions and arithmetic are not supported"},
		{"json", `{"op":"and","args":[{"op":"=","args":[{"property":"n"},1]}]}`, "", "takes 2 or more arguments"},
		{"json", `{"op":"=","args":[{"property":"n"},1]} {}`, "", "data after its JSON value"},
		{"json", `{"op":"=",`, "", "not valid JSON"},
		{"json", `"kind = 'x'"`, "", "expected an operation"},
		{"json", `{"op":"in","args":[{"property":"n"},[]]}`, "", "IN list is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.filter[:min(len(tc.filter), 60)], func(t *testing.T) {
			e, err := cql2.Parse(tc.filter, "cql2-"+tc.lang)
			if err == nil {
				_, _, err = cql2.Compile(e, eventQueryables(), 1)
			}
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				return
			}
			var ce *cql2.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got error %v (%T), want a *cql2.Error with %q", err, err, tc.msg)
			}
			if ce.Property != tc.property {
				t.Errorf("got Property %q, want %q", ce.Property, tc.property)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got message %q, want it to contain %q", err.Error(), tc.msg)
			}
		})
	}
}

func TestParseRejectsUnknownLanguage(t *testing.T) {
	_, err := cql2.Parse("n = 1", "cql-json")
	var ce *cql2.Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `filter-lang "cql-json" is not supported`) {
		t.Errorf("got %v, want a *cql2.Error naming the language", err)
	}
}

func TestErrorNamesOffsetAndProperty(t *testing.T) {
	_, err := cql2.ParseText("name = 'x' AND ! ")
	if got, want := err.Error(), "filter: at offset 15: unexpected character '!'"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e, _ := cql2.ParseText("secret = 1")
	_, _, err = cql2.Compile(e, map[string]cql2.Queryable{"n": {SQL: "n", Type: cql2.Integer}}, 1)
	if got, want := err.Error(), `filter: property "secret": is not queryable (queryables: n)`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCompileRejectsBadTrees(t *testing.T) {
	q := eventQueryables()
	var deep cql2.Expr = &cql2.BoolLit{Value: true}
	for range 25 {
		deep = &cql2.Not{Arg: deep}
	}
	for _, tc := range []struct {
		name string
		e    cql2.Expr
		msg  string
	}{
		{"nil", nil, "empty expression"},
		{"nil operand", &cql2.Logical{Op: "and", Args: []cql2.Expr{nil, nil}}, "empty expression"},
		{"deep", deep, "nests deeper"},
		{"literal as predicate", &cql2.StringLit{Value: "x"}, "a string is not a predicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := cql2.Compile(tc.e, q, 1)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %v, want an error containing %q", err, tc.msg)
			}
		})
	}
	if _, _, err := cql2.Compile(&cql2.BoolLit{Value: true}, q, 0); err == nil {
		t.Error("firstArg 0: got no error")
	}
}

// TestGDALFilters compiles the filters GDAL 3.6's OAPIF driver sent (seen
// with a stub server) for ogr2ogr/ogrinfo -where: it names the language
// cql-text, quotes timestamps as strings and turns BETWEEN into two
// comparisons.
func TestGDALFilters(t *testing.T) {
	q := eventQueryables()
	q["updated_at"] = cql2.Queryable{SQL: "e.updated_at", Type: cql2.Timestamp}
	q["event_type"] = cql2.Queryable{SQL: "e.kind", Type: cql2.String}
	q["fatalities"] = cql2.Queryable{SQL: "e.n", Type: cql2.Integer}
	tests := []struct {
		where, filter, sql string
		args               []any
	}{
		{"event_type = 'Battles' AND fatalities > 2", "(event_type = 'Battles') AND (fatalities > 2)",
			"((e.kind = $1) AND (e.n > $2::bigint))", []any{"Battles", int64(2)}},
		{"updated_at < '2021-01-01T00:00:00'", "updated_at < '2021-01-01T00:00:00Z'",
			"(e.updated_at < $1::timestamptz)", []any{"2021-01-01T00:00:00Z"}},
		{"updated_at >= '2020/01/01 12:00:00' AND NOT (fatalities BETWEEN 1 AND 5)",
			"(updated_at >= '2020-01-01T12:00:00Z') AND (NOT ((fatalities >= 1) AND (fatalities <= 5)))",
			"((e.updated_at >= $1::timestamptz) AND (NOT ((e.n >= $2::bigint) AND (e.n <= $3::bigint))))",
			[]any{"2020-01-01T12:00:00Z", int64(1), int64(5)}},
		{"event_type IS NULL OR event_type <> 'x'", "((event_type IS NULL)) OR (event_type <> 'x')",
			"((e.kind IS NULL) OR (e.kind <> $1))", []any{"x"}},
	}
	for _, tc := range tests {
		t.Run(tc.where, func(t *testing.T) {
			e, err := cql2.Parse(tc.filter, "cql-text")
			if err != nil {
				t.Fatalf("parse %s: %v", tc.filter, err)
			}
			sql, args, err := cql2.Compile(e, q, 1)
			if err != nil {
				t.Fatalf("compile %s: %v", tc.filter, err)
			}
			if sql != tc.sql || !reflect.DeepEqual(args, tc.args) {
				t.Errorf("got %s %#v, want %s %#v", sql, args, tc.sql, tc.args)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ in, want string }{
		{"kind = 'O''Brien' and not (n < -2.5 or x is null)", `("kind" = 'O''Brien' AND NOT ("n" < -2.5 OR "x" IS NULL))`},
		{"name NOT LIKE 'a%' AND n NOT IN (1, 2) AND x NOT BETWEEN 1e21 AND 2", `(NOT "name" LIKE 'a%' AND NOT "n" IN (1, 2) AND NOT "x" BETWEEN 1e+21 AND 2)`},
		{"s_dwithin(geometry, point(1 2), 10, meters)", `S_DWITHIN("geometry", POINT(1 2), 10)`},
		{"T_DURING(INTERVAL(at, '..'), INTERVAL('2020-01-01', '2020-01-02T03:04:05.5+01:00'))",
			`T_DURING(INTERVAL("at", '..'), INTERVAL(DATE('2020-01-01'), TIMESTAMP('2020-01-02T02:04:05.5Z')))`},
		{"S_INTERSECTS(geometry, BBOX(0, 0, 1, 1))", `S_INTERSECTS("geometry", POLYGON((0 0,1 0,1 1,0 1,0 0)))`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			e, err := cql2.ParseText(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got := cql2.Format(e)
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			back, err := cql2.ParseText(got)
			if err != nil || !reflect.DeepEqual(back, e) {
				t.Errorf("Format output %s reads back as %#v, %v; want the same tree", got, back, err)
			}
		})
	}
}
