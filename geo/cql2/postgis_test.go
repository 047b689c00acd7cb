package cql2_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo/cql2"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

func TestMain(m *testing.M) {
	// Fuzzing needs no database: do not start a cluster in every worker.
	flag.Parse()
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			os.Exit(m.Run())
		}
	}
	pgtest.Main(m, func(ctx context.Context, dsn string) error {
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			return fmt.Errorf("open template: %w", err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
			return fmt.Errorf("create postgis: %w", err)
		}
		return nil
	})
}

// events is a small table with every kind of queryable; row 3's name is
// an injection attempt stored as data.
const events = `
CREATE TABLE events (
	id integer PRIMARY KEY, name text, kind text, n integer, x double precision,
	ok boolean, at timestamptz, day date, geom geometry(Geometry, 4326));
INSERT INTO events VALUES
(1, 'Stepanakert shelling', 'Battles', 0, 1.5, true, '2020-10-01T10:00:00Z', '2020-10-01', 'SRID=4326;POINT(46.75 39.82)'),
(2, 'Martuni clash', 'Battles', 5, 2.5, false, '2020-10-18T00:00:00Z', '2020-10-18', 'SRID=4326;POINT(47.15 39.79)'),
(3, 'O''Brien''s report; DROP TABLE events;--', 'Protests', 12, NULL, true, '2020-10-18T23:59:59.999999Z', '2020-10-18', 'SRID=4326;POINT(44.51 40.18)'),
(4, 'Fuzuli 100% strike', 'Explosions/Remote violence', NULL, 10, NULL, '2020-11-10T00:00:00Z', '2020-11-10', 'SRID=4326;LINESTRING(47.1 39.5, 47.2 39.6)'),
(5, 'fuzuli lowercase', 'Explosions/Remote violence', 3, -1, true, NULL, NULL, 'SRID=4326;POLYGON((46 39, 47 39, 47 40, 46 40, 46 39))'),
(6, 'Antimeridian', 'Other', 1, 0, false, '2021-01-01T00:00:00Z', '2021-01-01', 'SRID=4326;POINT(179.5 -16.5)')`

// eventQueryables maps filter properties to the columns of events.
func eventQueryables() map[string]cql2.Queryable {
	return map[string]cql2.Queryable{
		"name":       {SQL: "e.name", Type: cql2.String},
		"kind":       {SQL: "e.kind", Type: cql2.String},
		"n":          {SQL: "e.n", Type: cql2.Integer},
		"x":          {SQL: "e.x", Type: cql2.Number},
		"ok":         {SQL: "e.ok", Type: cql2.Boolean},
		"at":         {SQL: "e.at", Type: cql2.Timestamp},
		"day":        {SQL: "e.day", Type: cql2.Date},
		"geometry":   {SQL: "e.geom", Type: cql2.Geometry},
		"event type": {SQL: "e.kind", Type: cql2.String},
	}
}

// selectionCase is a filter and the ids of events it selects.
type selectionCase struct {
	lang, filter string
	want         []int
}

// selectionCases are the filters of TestCompiledSQLSelectsTheRightRows;
// they also seed FuzzCQL2.
func selectionCases() []selectionCase {
	return []selectionCase{
		{"text", "kind = 'Battles'", []int{1, 2}},
		{"text", `"event type" <> 'Battles'`, []int{3, 4, 5, 6}},
		{"text", "n > 3", []int{2, 3}},
		{"text", "n >= 3 AND n <= 5", []int{2, 5}},
		{"text", "x < 2", []int{1, 5, 6}},
		{"text", "x BETWEEN 1.5 AND 2.5", []int{1, 2}},
		{"text", "n > 2.5", []int{2, 3, 5}},
		{"text", "n IN (0, 12)", []int{1, 3}},
		{"text", "n NOT IN (0, 12)", []int{2, 5, 6}},
		{"text", "n IS NULL", []int{4}},
		{"text", "x IS NOT NULL", []int{1, 2, 4, 5, 6}},
		{"text", "ok = TRUE", []int{1, 3, 5}},
		{"text", "name LIKE 'Fuzuli%'", []int{4}},
		{"text", `name LIKE '%100\%%'`, []int{4}},
		{"text", "name LIKE '_artuni%'", []int{2}},
		{"text", "name NOT LIKE '%a%'", []int{3, 4}},
		{"text", "name = 'O''Brien''s report; DROP TABLE events;--'", []int{3}},
		{"text", "NOT (kind = 'Battles' OR n > 3) AND ok = false", []int{6}},
		{"text", "at = DATE('2020-10-18')", []int{2, 3}},
		{"text", "at > DATE('2020-10-18')", []int{4, 6}},
		{"text", "at <= DATE('2020-10-18')", []int{1, 2, 3}},
		{"text", "at < TIMESTAMP('2020-10-18T00:00:00Z')", []int{1}},
		{"text", "at <= '2020-10-18T00:00:00'", []int{1, 2}},
		{"text", "at BETWEEN DATE('2020-10-02') AND DATE('2020-11-10')", []int{2, 3, 4}},
		{"text", "day = DATE('2020-10-18')", []int{2, 3}},
		{"text", "day IN (DATE('2020-10-01'), DATE('2021-01-01'))", []int{1, 6}},
		{"text", "T_BEFORE(at, TIMESTAMP('2020-10-18T00:00:00Z'))", []int{1}},
		{"text", "T_AFTER(at, DATE('2020-10-18'))", []int{4, 6}},
		{"text", "T_INTERSECTS(at, INTERVAL('2020-10-18', '..'))", []int{2, 3, 4, 6}},
		{"text", "T_INTERSECTS(at, INTERVAL('..', '2020-10-01'))", []int{1}},
		{"text", "T_DURING(at, INTERVAL('2020-10-18T00:00:00Z', '2020-11-10T00:00:00Z'))", []int{3}},
		{"text", "T_DURING(at, INTERVAL('..', '..'))", []int{1, 2, 3, 4, 6}},
		{"text", "T_DURING(day, INTERVAL('2020-10-01', '2020-11-10'))", []int{2, 3}},
		{"text", "T_EQUALS(at, TIMESTAMP('2020-11-10T00:00:00Z'))", []int{4}},
		{"text", "S_INTERSECTS(geometry, BBOX(46, 39, 48, 40))", []int{1, 2, 4, 5}},
		{"text", "S_INTERSECTS(geometry, BBOX(179, -17, -179, -16))", []int{6}},
		{"text", "S_WITHIN(geometry, POLYGON((46 39, 47 39, 47 40, 46 40, 46 39)))", []int{1, 5}},
		{"text", "S_CONTAINS(geometry, POINT(46.5 39.5))", []int{5}},
		{"text", "S_INTERSECTS(geometry, POINT(44.51 40.18))", []int{3}},
		{"text", "S_DWITHIN(geometry, POINT(44.5 40.18), 1000, meters)", []int{3}},
		{"text", "S_DWITHIN(geometry, POINT(44.5 40.18), 500)", nil},
		{"text", "S_DISJOINT(geometry, BBOX(40, 30, 50, 45))", []int{6}},
		{"json", `{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Polygon","coordinates":[[[46,39],[48,39],[48,40],[46,40],[46,39]]]}]}`, []int{1, 2, 4, 5}},
		{"json", `{"op":"and","args":[{"op":"=","args":[{"property":"kind"},"Battles"]},{"op":"t_after","args":[{"property":"at"},{"date":"2020-10-17"}]}]}`, []int{2}},
		{"json", `{"op":"not","args":[{"op":"isNull","args":[{"property":"at"}]}]}`, []int{1, 2, 3, 4, 6}},
		{"json", `{"op":"in","args":[{"property":"kind"},["Protests","Other"]]}`, []int{3, 6}},
		{"json", `{"op":"t_during","args":[{"property":"at"},{"interval":["2020-10-18","2020-11-10"]}]}`, []int{3, 4}}, // a date end is its whole day
	}
}

func TestCompiledSQLSelectsTheRightRows(t *testing.T) {
	db, err := sql.Open("postgres", pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, events); err != nil {
		t.Fatalf("create events: %v", err)
	}
	for _, tc := range selectionCases() {
		t.Run(tc.filter, func(t *testing.T) {
			e, err := cql2.Parse(tc.filter, "cql2-"+tc.lang)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			where, args, err := cql2.Compile(e, eventQueryables(), 1)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			rows, err := db.QueryContext(ctx, "SELECT e.id FROM events e WHERE "+where+" ORDER BY e.id", args...)
			if err != nil {
				t.Fatalf("query %s %v: %v", where, args, err)
			}
			defer rows.Close()
			var got []int
			for rows.Next() {
				var id int
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				got = append(got, id)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got ids %v, want %v (SQL %s, args %v)", got, tc.want, where, args)
			}
		})
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil || n != 6 {
		t.Errorf("events after the filters: got %d rows (%v), want 6", n, err)
	}
}

// TestEdgeFiltersNeverFailInTheDatabase runs filters that parse and compile
// but sit at the edges of what PostgreSQL accepts: none may make the query
// fail (that would be a 500 for the client's mistake).
func TestEdgeFiltersNeverFailInTheDatabase(t *testing.T) {
	db, err := sql.Open("postgres", pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, events); err != nil {
		t.Fatalf("create events: %v", err)
	}
	for _, f := range []string{
		"S_WITHIN(geometry, POLYGON((0 0, 10 10, 10 0, 0 10, 0 0)))",
		"S_INTERSECTS(geometry, POLYGON((0 0, 10 10, 10 0, 0 10, 0 0)))",
		"S_OVERLAPS(geometry, MULTIPOLYGON(((0 0, 10 10, 10 0, 0 10, 0 0)), ((0 0, 10 10, 10 0, 0 10, 0 0))))",
		"S_DWITHIN(geometry, POINT(180 90), 100000000, meters)",
		"S_DWITHIN(geometry, POLYGON((0 0, 10 10, 10 0, 0 10, 0 0)), 10)",
		"S_EQUALS(geometry, GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 0 0)))",
		"S_CROSSES(geometry, BBOX(1, 1, 1, 1))",
		"S_TOUCHES(geometry, POINT Z (1 2 3))",
		"n = 99999999999 OR n < -1e300 OR x > 1e308 OR x = 0.000000000000001",
		"at > TIMESTAMP('9999-12-31T23:59:59.999999999Z') OR at < DATE('0001-01-01')",
		"at = DATE('9999-12-31') OR day = DATE('9999-12-31')",
		"T_CONTAINS(at, INTERVAL('0001-01-01', '9999-12-31'))",
		"T_OVERLAPS(INTERVAL(at, '..'), INTERVAL('..', '2020-01-01T00:00:00+14:00'))",
		"T_METBY(INTERVAL(day, day), INTERVAL('..', '..'))",
		"name LIKE '\\\\' OR name LIKE '%\\_%' OR name = ''",
		"name = '\u00e9\u0301 \U0001F600'",
	} {
		e, err := cql2.ParseText(f)
		if err != nil {
			t.Errorf("parse %s: %v", f, err)
			continue
		}
		where, args, err := cql2.Compile(e, eventQueryables(), 1)
		if err != nil {
			t.Errorf("compile %s: %v", f, err)
			continue
		}
		rows, err := db.QueryContext(ctx, "SELECT e.id FROM events e WHERE "+where, args...)
		if err != nil {
			t.Errorf("%s: database error %v (SQL %s, args %v)", f, err, where, args)
			continue
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: database error %v (SQL %s, args %v)", f, err, where, args)
		}
		rows.Close()
	}
}

// TestFuzzCorpusRunsInPostGIS runs every checked-in fuzz input that
// compiles against the database: a compiled filter must never make the
// query fail.
func TestFuzzCorpusRunsInPostGIS(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzCQL2", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("fuzz corpus: %d files, %v", len(files), err)
	}
	db, err := sql.Open("postgres", pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, events); err != nil {
		t.Fatalf("create events: %v", err)
	}
	ran := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// go test fuzz v1, then string("...").
		_, line, _ := strings.Cut(string(b), "\n")
		line = strings.TrimSpace(line)
		input, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, parse := range []func(string) (cql2.Expr, error){
			cql2.ParseText,
			func(s string) (cql2.Expr, error) { return cql2.ParseJSON([]byte(s)) },
		} {
			e, err := parse(input)
			if err != nil {
				continue
			}
			where, args, err := cql2.Compile(e, eventQueryables(), 1)
			if err != nil {
				continue
			}
			ran++
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events e WHERE "+where, args...).Scan(&n); err != nil {
				t.Errorf("%s (%q): database error %v (SQL %s, args %v)", filepath.Base(f), input, err, where, args)
			}
		}
	}
	if ran == 0 {
		t.Error("no corpus input compiled: the test checked nothing")
	}
	t.Logf("%d of %d corpus inputs compiled and ran", ran, len(files))
}

// TestDWithinBoxLosesNoRow compares S_DWITHIN as compiled (an index-usable
// box test AND the geography distance) with the distance alone, on probe
// points placed just inside and just outside the distance around every
// vertex of the literal, at any bearing, and on points all over the globe.
func TestDWithinBoxLosesNoRow(t *testing.T) {
	db, err := sql.Open("postgres", pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	q := map[string]cql2.Queryable{"geometry": {SQL: "p.geom", Type: cql2.Geometry}}
	geoms := []string{
		"POINT(0 0)", "POINT(44.5 40.18)", "POINT(10 60)", "POINT(-120 75)", "POINT(170 -80)",
		"POINT(179.9 0)", "POINT(-179.5 10)", "LINESTRING(10 50, 20 55)", "MULTIPOINT((-60 -40), (60 40))",
		"POLYGON((30 30, 31 30, 31 31, 30 31, 30 30))",
	}
	boxed := 0
	for _, g := range geoms {
		for _, d := range []float64{10, 1000, 50000, 500000, 3000000} {
			f := fmt.Sprintf("S_DWITHIN(geometry, %s, %g)", g, d)
			e, err := cql2.ParseText(f)
			if err != nil {
				t.Fatalf("parse %s: %v", f, err)
			}
			where, args, err := cql2.Compile(e, q, 3)
			if err != nil {
				t.Fatalf("compile %s: %v", f, err)
			}
			if strings.Contains(where, "&&") {
				boxed++
			}
			probes := `
WITH lit AS (SELECT ST_GeomFromText($1, 4326) AS g),
probe AS (
	SELECT ST_Project(v.geom::geography, $2 * (0.99 + 0.02 * random()), 2 * pi() * random())::geometry AS geom
	FROM lit, ST_DumpPoints(lit.g) v, generate_series(1, 300)
	UNION ALL
	SELECT ST_SetSRID(ST_MakePoint(360 * random() - 180, 180 * random() - 90), 4326) FROM generate_series(1, 1000)
)`
			var exact, compiled, total int
			query := probes + `SELECT count(*) FILTER (WHERE ST_DWithin(p.geom::geography, lit.g::geography, $2)),
	count(*) FILTER (WHERE ` + where + `), count(*) FROM probe p, lit`
			// setseed holds for the session: use one connection.
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(ctx, "SELECT setseed(0.42)"); err != nil {
				t.Fatal(err)
			}
			err = conn.QueryRowContext(ctx, query, append([]any{g, d}, args...)...).Scan(&exact, &compiled, &total)
			conn.Close()
			if err != nil {
				t.Fatalf("%s: %v (SQL %s)", f, err, where)
			}
			if exact == 0 || exact == total || compiled != exact {
				t.Errorf("%s: compiled filter selects %d of %d probes, the distance alone %d (want equal, neither none nor all)", f, compiled, total, exact)
			}
		}
	}
	t.Logf("%d of %d filters got a box", boxed, len(geoms)*5)
	if boxed < 20 {
		t.Errorf("only %d of %d filters got a box; the test checks too little", boxed, len(geoms)*5)
	}
}

// TestDWithinUsesGeometryIndex checks that a compiled S_DWITHIN lets
// PostgreSQL use a GiST index on the geometry column.
func TestDWithinUsesGeometryIndex(t *testing.T) {
	db, err := sql.Open("postgres", pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	_, err = db.ExecContext(ctx, `
CREATE TABLE pts AS SELECT i AS id, ST_SetSRID(ST_MakePoint(360 * random() - 180, 170 * random() - 85), 4326) AS geom
	FROM generate_series(1, 50000) i;
CREATE INDEX pts_geom ON pts USING gist (geom);
ANALYZE pts`)
	if err != nil {
		t.Fatalf("create pts: %v", err)
	}
	e, err := cql2.ParseText("S_DWITHIN(geometry, POINT(44.5 40.18), 50000, meters)")
	if err != nil {
		t.Fatal(err)
	}
	where, args, err := cql2.Compile(e, map[string]cql2.Queryable{"geometry": {SQL: "p.geom", Type: cql2.Geometry}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgtest.Explain(ctx, db, "SELECT p.id FROM pts p WHERE "+where, args...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "pts_geom") {
		t.Errorf("got plan\n%s\nwant it to use index pts_geom", plan)
	}
}
