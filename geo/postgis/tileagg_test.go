package postgis_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// seedTileTimes inserts n incidents per centre (Gaussian, σ degrees) at
// random instants between 2022-11-20 and 2024-02-10, in statements of 500
// rows (the aggregates are kept per statement), and returns their ids.
func seedTileTimes(t *testing.T, db *sql.DB, seed uint64, n int, sigma float64, centres ...orb.Point) []int64 {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	types := []string{"Battles", "Explosions/Remote violence", "Protests", "Riots"}
	statuses := []string{"verified", "verified", "disputed", "retracted"}
	from := time.Date(2022, 11, 20, 0, 0, 0, 0, time.UTC)
	span := time.Date(2024, 2, 10, 0, 0, 0, 0, time.UTC).Sub(from)
	var lon, lat []float64
	var et, st, at []string
	var fat []int64
	for _, c := range centres {
		for range n {
			lon = append(lon, max(-180, min(180, c[0]+r.NormFloat64()*sigma)))
			lat = append(lat, max(-85, min(85, c[1]+r.NormFloat64()*sigma)))
			et = append(et, types[r.IntN(len(types))])
			st = append(st, statuses[r.IntN(len(statuses))])
			fat = append(fat, int64(r.IntN(6)))
			at = append(at, from.Add(time.Duration(r.Int64N(int64(span)))).Format(time.RFC3339Nano))
		}
	}
	var ids []int64
	for i := 0; i < len(lon); i += 500 {
		j := min(len(lon), i+500)
		rows, err := db.Query(`INSERT INTO incidents (occurred_at, event_type, title, geom, status, fatalities)
			SELECT a::timestamptz, e, 'Tile test', ST_SetSRID(ST_MakePoint(x, y), 4326), s, f
			FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::text[], $6::int8[]) u(a, e, x, y, s, f)
			RETURNING id`, pq.Array(at[i:j]), pq.Array(et[i:j]), pq.Array(lon[i:j]), pq.Array(lat[i:j]), pq.Array(st[i:j]), pq.Array(fat[i:j]))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// cluster is one decoded cluster of a tile.
type cluster struct {
	x, y  float64
	props string // count, type, fatalities, types
}

// decodeClusters decodes a cluster tile.
func decodeClusters(t *testing.T, b []byte) []cluster {
	t.Helper()
	if b == nil {
		return nil
	}
	layers, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("not a vector tile: %v", err)
	}
	var out []cluster
	for _, f := range layers[0].Features {
		p := f.Geometry.(orb.Point)
		out = append(out, cluster{p[0], p[1], fmt.Sprintf("count=%v type=%v fatalities=%v types=%v",
			f.Properties["count"], f.Properties["event_type"], f.Properties["fatalities"], f.Properties["types"])})
	}
	return out
}

// sameClusters reports how got differs from want: each cluster must have
// its twin with the same attributes within a pixel.
func sameClusters(got, want []cluster) string {
	used := make([]bool, len(want))
	var diff []string
next:
	for _, g := range got {
		for i, w := range want {
			if !used[i] && w.props == g.props && math.Abs(w.x-g.x) <= 1 && math.Abs(w.y-g.y) <= 1 {
				used[i] = true
				continue next
			}
		}
		diff = append(diff, fmt.Sprintf("extra (%v %v) %s", g.x, g.y, g.props))
	}
	for i, w := range want {
		if !used[i] {
			diff = append(diff, fmt.Sprintf("missing (%v %v) %s", w.x, w.y, w.props))
		}
	}
	slices.Sort(diff)
	if len(diff) > 10 {
		diff = append(diff[:10], fmt.Sprintf("... %d more", len(diff)-10))
	}
	return strings.Join(diff, "\n  ")
}

// pointScanTile renders tile t by the point scan (IncidentTileSQL).
func pointScanTile(t *testing.T, db *sql.DB, tl geo.Tile, q geo.IncidentQuery) []byte {
	t.Helper()
	query, args, err := postgis.IncidentTileSQL(tl, q, 8)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	if err := db.QueryRow(query, args...).Scan(&b); err != nil {
		t.Fatalf("point scan %+v: %v", tl, err)
	}
	if len(b) == 0 {
		return nil
	}
	return b
}

// tileQueries are the windows and filters the sums must answer exactly.
var tileQueries = []string{
	"",
	"datetime=2023-01-01/2023-12-31", // the map's day window: one whole year
	"datetime=2023-03-05/2023-03-11", // a week, as the timeline plays
	"datetime=2022-12-30/2024-01-02", // days, months, a year, months, days
	"datetime=2023-02-14T13:45:10.5Z/2023-09-02T07:00:00Z",      // partial first and last days
	"datetime=2023-06-10T03:00:00Z/2023-06-10T19:00:00Z",        // within a day
	"datetime=2023-06-10T03:00:00%2B05:00/2023-06-12T00:00:00Z", // offset, end at midnight
	"datetime=../2023-04-15T12:00:00Z",                          // open start
	"datetime=2023-07-31T23:59:59.999999Z/..",                   // open end
	"datetime=2023-05-05T00:00:00Z",                             // one instant
	"datetime=2023-02-01/2023-02-28&event_type=Battles,Riots",
	"event_type=Protests",                           // one type's columns, all time
	"event_type=Riots,Explosions/Remote%20violence", // two types' columns: their own centroid
	"datetime=2022-12-30T12:00:00Z/2024-01-02&event_type=Battles,Protests&status=disputed,retracted",
	"status=retracted",
	"status=verified,disputed,retracted&datetime=2023-01-15/2023-11-20T08:00:00Z",
}

// tilesToCheck are cluster tiles at every clustered zoom over the seeded
// centres, including the world and tiles at the antimeridian.
var tilesToCheck = []geo.Tile{
	{Z: 0, X: 0, Y: 0}, {Z: 1, X: 1, Y: 0}, {Z: 2, X: 2, Y: 1}, {Z: 3, X: 5, Y: 3}, {Z: 4, X: 10, Y: 6},
	{Z: 4, X: 15, Y: 7}, {Z: 4, X: 0, Y: 7}, {Z: 5, X: 20, Y: 12}, {Z: 6, X: 40, Y: 24}, {Z: 6, X: 41, Y: 24},
	{Z: 7, X: 80, Y: 48}, {Z: 7, X: 81, Y: 49},
}

// checkTilesMatch compares every tile of tilesToCheck under every query
// of tileQueries from the server (IncidentTile) with the point scan.
func checkTilesMatch(t *testing.T, db *postgis.DB) {
	t.Helper()
	ctx := context.Background()
	nonEmpty := 0
	for _, raw := range tileQueries {
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := geo.ParseIncidentTileQuery(v)
		if err != nil {
			t.Fatalf("query %q: %v", raw, err)
		}
		for _, tl := range tilesToCheck {
			got, err := db.IncidentTile(ctx, tl, q, 8)
			if err != nil {
				t.Fatalf("tile %+v ?%s: %v", tl, raw, err)
			}
			want := decodeClusters(t, pointScanTile(t, db.SQL(), tl, q))
			if len(want) > 0 {
				nonEmpty++
			}
			if d := sameClusters(decodeClusters(t, got), want); d != "" {
				t.Errorf("tile %d/%d/%d ?%s: sums differ from the point scan (%d clusters):\n  %s", tl.Z, tl.X, tl.Y, raw, len(want), d)
			}
		}
	}
	if nonEmpty < len(tileQueries)*len(tilesToCheck)/2 {
		t.Fatalf("test data: only %d of %d tiles hold clusters", nonEmpty, len(tileQueries)*len(tilesToCheck))
	}
}

var tileCentres = []orb.Point{{47.03, 39.40}, {44.5, 40.2}, {179.5, 10}, {-179.5, 10}, {2.35, 48.85}}

// Cluster tiles from the stored sums equal the point scan's at zooms 0-7,
// for windows of whole days, partial days, open ends and filters, after
// inserts, updates that move incidents in place, time, type, status and
// fatalities, and deletes.
func TestIncidentTileCellsMatchPointScan(t *testing.T) {
	db := openTestDB(t)
	ids := seedTileTimes(t, db.SQL(), 5, 400, 0.8, tileCentres...)
	for _, c := range []struct {
		zoom int
		sql  bool
	}{{0, true}, {2, true}, {3, true}, {6, true}, {7, true}, {8, false}} {
		_, _, ok, err := postgis.IncidentTileCellsSQL(geo.Tile{Z: c.zoom}, geo.IncidentQuery{})
		if err != nil || ok != c.sql {
			t.Errorf("zoom %d: from the sums %v (%v), want %v", c.zoom, ok, err, c.sql)
		}
	}
	t.Run("inserted", func(t *testing.T) { checkTilesMatch(t, db) })

	// Every kind of change, each statement touching many rows.
	changes := []string{
		`UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(least(180, ST_X(geom) + 0.7), greatest(-85, ST_Y(geom) - 0.4)), 4326) WHERE id % 7 = 0`,
		`UPDATE incidents SET occurred_at = occurred_at + interval '17 days 5 hours' WHERE id % 5 = 1`,
		`UPDATE incidents SET event_type = 'Battles' WHERE id % 6 = 2`,
		`UPDATE incidents SET status = CASE status WHEN 'retracted' THEN 'verified' ELSE 'retracted' END WHERE id % 4 = 3`,
		`UPDATE incidents SET fatalities = fatalities + 3 WHERE id % 9 = 4`,
		`UPDATE incidents SET title = 'Renamed' WHERE id % 3 = 0`, // changes no sum
		`DELETE FROM incidents WHERE id % 11 = 5`,
	}
	for _, stmt := range changes {
		if _, err := db.SQL().Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	// One row at a time too: the moderation path.
	if _, err := db.SQL().Exec(`UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(-179.9, 10.2), 4326), occurred_at = '2023-03-07T10:00:00Z' WHERE id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	t.Run("changed", func(t *testing.T) { checkTilesMatch(t, db) })
	checkSumsRebuilt(t, db.SQL())
}

// tileCellValues lists incident_tile_cells' columns per event type as
// rows of a VALUES list: (type, n, su, sv, fatalities).
func tileCellValues() string {
	var rows []string
	for _, et := range geo.EventTypes() {
		c := postgis.TileCellTypeColumns()[et]
		rows = append(rows, fmt.Sprintf("(%s, %s, %s, %s, %s)", pq.QuoteLiteral(et), c[0], c[1], c[2], c[3]))
	}
	return strings.Join(rows, ", ")
}

// checkSumsRebuilt compares incident_tile_cells with the sums computed
// afresh from incidents (what migration 00017 builds), at every level of
// postgis.TileCellLevels.
func checkSumsRebuilt(t *testing.T, db *sql.DB) {
	t.Helper()
	checkSumsRebuiltAt(t, db, postgis.TileCellLevels, 9)
}

// checkSumsRebuiltAt is checkSumsRebuilt for a schema that stores levels,
// every span up to level allSpans (8 before migration 00024), only days,
// months and years finer.
func checkSumsRebuiltAt(t *testing.T, db *sql.DB, levels []int, allSpans int) {
	t.Helper()
	var diff int
	var sample sql.NullString
	err := db.QueryRow(`
		WITH fresh AS (
			SELECT level, span, t, cx, cy, event_type, status, count(*) AS n, sum(u) AS su, sum(v) AS sv, sum(fatalities) AS f
			FROM (
				SELECT l.level, s.span,
				       CASE s.span WHEN 1 THEN d WHEN 2 THEN make_date(year, month, 1) WHEN 3 THEN make_date(year, 1, 1)
				            WHEN 4 THEN make_date(year, month, CASE WHEN day <= 10 THEN 1 WHEN day <= 20 THEN 11 ELSE 21 END)
				            WHEN 5 THEN make_date(year, (month - 1) / 3 * 3 + 1, 1) ELSE make_date(year / 10 * 10, 1, 1) END AS t,
				       floor(u * (1 << l.level))::int AS cx, floor(v * (1 << l.level))::int AS cy, event_type, status, u, v, fatalities
				FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS d, extract(year FROM occurred_at AT TIME ZONE 'UTC')::int AS year,
				             extract(month FROM occurred_at AT TIME ZONE 'UTC')::int AS month, extract(day FROM occurred_at AT TIME ZONE 'UTC')::int AS day,
				             (ST_X(geom) + 180) / 360 AS u,
				             0.5 - ln(tan(radians(ST_Y(geom)) / 2 + pi() / 4)) / (2 * pi()) AS v, event_type, status, fatalities
				      FROM incidents WHERE abs(ST_Y(geom)) <= 85.0511287798066) p
				CROSS JOIN unnest($1::int[]) l(level) CROSS JOIN (VALUES (1), (2), (3), (4), (5), (6)) s(span)
				WHERE s.span <= 3 OR l.level <= $2 -- dekads, quarters and decades at the coarse levels only
			) x GROUP BY level, span, t, cx, cy, event_type, status),
		kept AS (SELECT level, span, t, cx, cy, e.event_type, status, e.n, e.su, e.sv, e.fatalities
		         FROM incident_tile_cells CROSS JOIN LATERAL (VALUES `+tileCellValues()+`) e(event_type, n, su, sv, fatalities)
		         WHERE e.n <> 0)
		SELECT count(*), min(format('%s %s %s %s/%s %s %s: kept %s, fresh %s', level, span, t, cx, cy, event_type, status, k, f))
		FROM (SELECT coalesce(k.level, f.level) AS level, coalesce(k.span, f.span) AS span, coalesce(k.t, f.t) AS t,
		             coalesce(k.cx, f.cx) AS cx, coalesce(k.cy, f.cy) AS cy, coalesce(k.event_type, f.event_type) AS event_type,
		             coalesce(k.status, f.status) AS status, (k.n, k.fatalities)::text AS k, (f.n, f.f)::text AS f,
		             k.n IS DISTINCT FROM f.n OR k.fatalities IS DISTINCT FROM f.f
		             OR abs(k.su - f.su) > 1e-9 OR abs(k.sv - f.sv) > 1e-9 AS differs
		      FROM kept k FULL JOIN fresh f USING (level, span, t, cx, cy, event_type, status)) j
		WHERE differs`, pq.Array(levels), allSpans).Scan(&diff, &sample)
	if err != nil {
		t.Fatal(err)
	}
	if diff != 0 {
		t.Errorf("incident_tile_cells: %d rows differ from sums computed afresh, e.g. %s", diff, sample.String)
	}
	var stored []int64
	if err := db.QueryRow(`SELECT array_agg(DISTINCT level ORDER BY level) FROM incident_tile_cells`).Scan(pq.Array(&stored)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stored, levels64(levels)) {
		t.Errorf("levels stored %v, want %v", stored, levels)
	}
}

// Filters the sums cannot answer fall back to the point scan: the tile
// then honours them.
func TestIncidentTileCellsFallBack(t *testing.T) {
	db := openTestDB(t)
	seedTileTimes(t, db.SQL(), 9, 300, 0.8, tileCentres...)
	if _, err := db.SQL().Exec(`UPDATE incidents SET country_code = CASE WHEN id % 2 = 0 THEN 'AZ' ELSE 'AM' END,
		title = CASE WHEN id % 3 = 0 THEN 'Shelling of the bridge' ELSE title END, actor1 = 'Army'`); err != nil {
		t.Fatal(err)
	}
	// Windows of days read the sums at every zoom, levels 10, 12 and 13 (zooms
	// 4-7) included (before migration 00020 they scanned the points).
	for _, c := range []struct {
		z        int
		datetime string
		sums     bool
	}{{6, "2023-03-05/2023-03-11", true}, {6, "2023-03-05/2023-04-20", true}, {6, "2023-01-01/2023-12-31", true},
		{4, "2023-03-05/2023-03-11", true}, {3, "2023-03-05/2023-03-11", true}, {2, "2023-03-05/2023-03-11", true}, {7, "2023-03-05/2023-03-11", true}, {7, "2021-01-01/2023-12-31", true}} {
		q, err := geo.ParseIncidentTileQuery(url.Values{"datetime": {c.datetime}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok, err := postgis.IncidentTileCellsSQL(geo.Tile{Z: c.z}, q); ok != c.sums || err != nil {
			t.Errorf("zoom %d, datetime=%s: from the sums %v (%v), want %v", c.z, c.datetime, ok, err, c.sums)
		}
	}
	tl := geo.Tile{Z: 2, X: 2, Y: 1}
	all := decodeClusters(t, pointScanTile(t, db.SQL(), tl, geo.IncidentQuery{}))
	for _, raw := range []string{"country=AZ", "q=bridge", "sub_event_type=Armed%20clash", "actor=nobody",
		"filter=fatalities%3E2", "min_sources=1", "near_border_km=5", "geo_check=no_country", "updated_since=2100-01-01T00:00:00Z"} {
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := geo.ParseIncidentTileQuery(v)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if _, _, ok, err := postgis.IncidentTileCellsSQL(tl, q); ok || err != nil {
			t.Errorf("?%s: answered from the sums (%v), want the point scan", raw, err)
		}
		b, err := db.IncidentTile(context.Background(), tl, q, 8)
		if err != nil {
			t.Fatalf("?%s: %v", raw, err)
		}
		got, want := decodeClusters(t, b), decodeClusters(t, pointScanTile(t, db.SQL(), tl, q))
		if d := sameClusters(got, want); d != "" {
			t.Errorf("?%s: differs from the point scan:\n  %s", raw, d)
		}
		if raw == "country=AZ" || raw == "q=bridge" {
			if sameClusters(got, all) == "" {
				t.Errorf("?%s: tile equals the unfiltered one: filter ignored", raw)
			}
		}
	}
}

// The public role reads the sums; the moderator's writes to incidents
// keep them current through the triggers although neither role may
// write incident_tile_cells itself.
func TestIncidentTileCellsRoles(t *testing.T) {
	dsn := pgtest.NewDB(t)
	owner, err := postgis.Open(context.Background(), dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	seedTileTimes(t, owner.SQL(), 3, 100, 0.5, tileCentres[0])
	open := func(login, role string) *postgis.DB {
		d, err := postgis.WithUser(dsn, login)
		if err != nil {
			t.Fatal(err)
		}
		db, err := postgis.Open(context.Background(), d, postgis.Options{Role: role, MaxOpenConns: 1})
		if err != nil {
			t.Fatalf("open as %s: %v", login, err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	public := open(postgis.LoginPublic, postgis.RolePublic)
	moderator := open(postgis.LoginModerator, postgis.RoleModerator)
	for name, db := range map[string]*postgis.DB{"public": public, "moderator": moderator} {
		for _, stmt := range []string{`UPDATE incident_tile_cells SET n_battles = 0`, `DELETE FROM incident_tile_cells`,
			`INSERT INTO incident_tile_cells (level, span, t, cx, cy, status, n_battles) VALUES (8, 1, '2023-01-01', 1, 1, 'verified', 1)`} {
			if _, err := db.SQL().Exec(stmt); sqlState(err) != "42501" {
				t.Errorf("%s role: %s: err = %v, want permission denied (42501)", name, stmt, err)
			}
		}
	}
	if _, err := moderator.SQL().Exec(`INSERT INTO incidents (occurred_at, event_type, title, geom, fatalities)
		VALUES ('2023-05-05T05:00:00Z', 'Riots', 'New', ST_SetSRID(ST_MakePoint(47.1, 39.3), 4326), 2)`); err != nil {
		t.Fatalf("moderator insert: %v", err)
	}
	if _, err := moderator.SQL().Exec(`UPDATE incidents SET status = 'disputed', occurred_at = occurred_at - interval '40 days' WHERE id % 2 = 0`); err != nil {
		t.Fatalf("moderator update: %v", err)
	}
	q, _ := geo.ParseIncidentTileQuery(url.Values{"datetime": {"2023-01-01/2023-08-31"}})
	tl := geo.Tile{Z: 3, X: 5, Y: 3}
	b, err := public.IncidentTile(context.Background(), tl, q, 8)
	if err != nil {
		t.Fatalf("public tile: %v", err)
	}
	got, want := decodeClusters(t, b), decodeClusters(t, pointScanTile(t, owner.SQL(), tl, q))
	if len(want) == 0 {
		t.Fatal("test data: empty tile")
	}
	if d := sameClusters(got, want); d != "" {
		t.Errorf("public tile after the moderator's writes differs from the point scan:\n  %s", d)
	}
	checkSumsRebuilt(t, owner.SQL())
}

// Concurrent writers of different incidents in the same cells neither
// deadlock nor lose a sum: each statement upserts its cells in key order.
// (Each writer has rows of its own: two statements updating the same
// incidents in opposite orders may deadlock on the incidents themselves.)
func TestIncidentTileCellsConcurrentWriters(t *testing.T) {
	db := openTestDB(t)
	ids := seedTileTimes(t, db.SQL(), 21, 200, 0.3, tileCentres[0], tileCentres[1])
	errs := make(chan error, 8)
	for w := range 8 {
		go func() {
			var err error
			for i := 0; i < 15 && err == nil; i++ {
				// Opposite orders of the same rows, many cells per statement.
				order := "ASC"
				if (w+i)%2 == 1 {
					order = "DESC"
				}
				switch i % 3 {
				case 0:
					_, err = db.SQL().Exec(`UPDATE incidents SET fatalities = fatalities + 1, occurred_at = occurred_at + interval '1 day'
						WHERE id IN (SELECT id FROM incidents WHERE id % 8 = $1 ORDER BY id `+order+`)`, w)
				case 1:
					_, err = db.SQL().Exec(`INSERT INTO incidents (occurred_at, event_type, title, geom, status, fatalities)
						SELECT occurred_at, event_type, 'Copy', geom, status, fatalities FROM incidents WHERE id = ANY($1) ORDER BY id `+order,
						pq.Array(ids[w*10:w*10+40]))
				case 2:
					_, err = db.SQL().Exec(`DELETE FROM incidents WHERE title = 'Copy' AND id % 8 = $1`, w)
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent writer: %v", err)
		}
	}
	checkSumsRebuilt(t, db.SQL())
}

// incident_tile_cells holds one set of columns per event type of
// geo.EventTypes() (which the incidents' CHECK constraint lists), and an
// incident of each type lands in its own columns.
func TestIncidentTileCellsColumns(t *testing.T) {
	db := openTestDB(t)
	cols := postgis.TileCellTypeColumns()
	want := []string{"level", "span", "t", "cx", "cy", "status"}
	for _, et := range geo.EventTypes() {
		c, ok := cols[et]
		if !ok {
			t.Fatalf("event type %q has no columns in postgis.TileCellTypeColumns", et)
		}
		want = append(want, c[:]...)
	}
	if len(cols) != len(geo.EventTypes()) {
		t.Errorf("postgis.TileCellTypeColumns has %d types, want geo.EventTypes()' %d", len(cols), len(geo.EventTypes()))
	}
	var got []string
	if err := db.SQL().QueryRow(`SELECT array_agg(column_name::text ORDER BY ordinal_position) FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'incident_tile_cells'`).Scan(pq.Array(&got)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("incident_tile_cells columns\n got %v\nwant %v", got, want)
	}
	for i, et := range geo.EventTypes() {
		if _, err := db.SQL().Exec(`INSERT INTO incidents (occurred_at, event_type, title, geom, fatalities)
			VALUES ('2023-05-05T05:00:00Z', $1, 'Typed', ST_SetSRID(ST_MakePoint($2, 10), 4326), $3)`, et, -170+20*i, i+1); err != nil {
			t.Fatalf("insert %s: %v", et, err)
		}
	}
	for i, et := range geo.EventTypes() {
		c := cols[et]
		var n, f, total int64
		// Column names from the package's list, not input.
		err := db.SQL().QueryRow(fmt.Sprintf(`SELECT coalesce(sum(%s), 0), coalesce(sum(%s), 0), coalesce(sum(%s), 0)
			FROM incident_tile_cells WHERE level = 6 AND span = 3`, c[0], c[3], strings.Join(firstOf(cols), " + "))).Scan(&n, &f, &total)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 || f != int64(i+1) || total != int64(len(cols)) {
			t.Errorf("%s: %s = %d, %s = %d, all types' n %d; want 1, %d, %d", et, c[0], n, c[3], f, total, i+1, len(cols))
		}
	}
	// Each incident has a level-6 cell of its own (20° apart): its row
	// stores its type's four sums and NULL for the other types, which is
	// what keeps a row small (migration 00020).
	var all []string
	for _, c := range cols {
		all = append(all, c[:]...)
	}
	var rows, stored, wrong int
	if err := db.SQL().QueryRow(fmt.Sprintf(`SELECT count(*), coalesce(sum(num_nonnulls(%[1]s)), 0), count(*) FILTER (WHERE num_nonnulls(%[1]s) <> 4)
		FROM incident_tile_cells WHERE level = 6`, strings.Join(all, ", "))).Scan(&rows, &stored, &wrong); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || wrong != 0 {
		t.Errorf("level 6: %d of %d rows store other than one type's 4 sums (%d sums stored in all), want each row only its incident's type, the rest NULL", wrong, rows, stored)
	}
}

// firstOf returns the count of every type, 0 where the row lacks it.
func firstOf(cols map[string][4]string) []string {
	var out []string
	for _, c := range cols {
		out = append(out, "coalesce("+c[0]+", 0)")
	}
	return out
}

// The sums are stored one partition per grid level (migration 00019), the
// levels tiles read (postgis.TileCellLevels), and the triggers write every
// one of them: an incident lands once in each level's partition, and a
// level the triggers wrote without a partition would fail the insert.
func TestIncidentTileCellsPartitionPerLevel(t *testing.T) {
	db := openTestDB(t)
	var got []int64
	if err := db.SQL().QueryRow(`SELECT array_agg(substring(pg_get_expr(c.relpartbound, c.oid) FROM '(\d+)')::int ORDER BY 1)
		FROM pg_partition_tree('incident_tile_cells') p JOIN pg_class c ON c.oid = p.relid WHERE p.isleaf`).Scan(pq.Array(&got)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, levels64(postgis.TileCellLevels)) {
		t.Errorf("partitions of incident_tile_cells hold levels %v, want postgis.TileCellLevels %v", got, postgis.TileCellLevels)
	}
	if _, err := db.SQL().Exec(`INSERT INTO incidents (occurred_at, event_type, title, geom)
		VALUES ('2022-02-02T02:00:00Z', 'Battles', 'Partitioned', ST_SetSRID(ST_MakePoint(44.5, 40.2), 4326))`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().Query(`SELECT tableoid::regclass::text, level, count(*), sum(n_battles) FROM incident_tile_cells
		WHERE span = 3 AND t = '2022-01-01' GROUP BY 1, 2 ORDER BY 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var levels []int
	for rows.Next() {
		var table string
		var level, n, battles int
		if err := rows.Scan(&table, &level, &n, &battles); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("incident_tile_cells_%d", level); table != want || n != 1 || battles != 1 {
			t.Errorf("level %d: %d rows with %d battles in %s, want 1 row with 1 in %s", level, n, battles, table, want)
		}
		levels = append(levels, level)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(levels, postgis.TileCellLevels) {
		t.Errorf("the insert reached levels %v, want %v", levels, postgis.TileCellLevels)
	}
}

func levels64(levels []int) []int64 {
	out := make([]int64, len(levels))
	for i, l := range levels {
		out[i] = int64(l)
	}
	return out
}

// Upgrading a database that holds incidents: migration 00019 adds up its
// new levels and spans from 00017's stored sums, without reading the
// incidents again. The result must be what the triggers would have kept,
// and tiles must still match the point scan.
func TestIncidentTileCellsMigrationAddsUp(t *testing.T) {
	ctx := context.Background()
	db := openEmptyDB(t)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	migrateDownTo(t, db, 18) // 00017's table
	seedTileTimes(t, db.SQL(), 9, 300, 0.8, tileCentres...)
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate up to 00020 over stored sums: %v", err)
	}
	checkSumsRebuilt(t, db.SQL())
	checkTilesMatch(t, db)
}

// Migration 00020 stores a type a row lacks as NULL. Rolled back, the
// sums are whole again with zeros; upgraded over stored sums (with types
// that fell back to zero after deletes), they equal a fresh count, no type
// is kept as four zeros, and writes after it still add up. The same
// upgrade runs 00022 over stored incidents (level 13 is built from them)
// and 00024 over stored sums (level 9's dekads, quarters and decades added
// up from its days, months and years); the triggers then keep both.
func TestIncidentTileCellsPresentTypesMigration(t *testing.T) {
	ctx := context.Background()
	db := openEmptyDB(t)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ids := seedTileTimes(t, db.SQL(), 11, 300, 0.8, tileCentres...)
	if _, err := db.SQL().Exec(`DELETE FROM incidents WHERE id = ANY($1)`, pq.Array(ids[:100])); err != nil {
		t.Fatal(err)
	}
	zeroTypes := func() int {
		t.Helper()
		var conds []string
		for _, c := range postgis.TileCellTypeColumns() {
			conds = append(conds, fmt.Sprintf("(%s = 0 AND %s = 0 AND %s = 0 AND %s = 0)", c[0], c[1], c[2], c[3]))
		}
		var n int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM incident_tile_cells WHERE ` + strings.Join(conds, " OR ")).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if zeroTypes() == 0 {
		t.Fatal("the deletes left no type at zero: the test does not reach the upgrade's case")
	}
	migrateDownTo(t, db, 19)
	checkSumsRebuiltAt(t, db.SQL(), postgis.TileCellLevels[:len(postgis.TileCellLevels)-1], 8) // level 13 came with 00022, level 9's other spans with 00024
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate up to 00020 over stored sums: %v", err)
	}
	checkSumsRebuilt(t, db.SQL())
	if n := zeroTypes(); n != 0 {
		t.Errorf("after the upgrade %d rows keep a type as four zeros, want them NULL", n)
	}
	seedTileTimes(t, db.SQL(), 12, 100, 0.8, tileCentres...)
	if _, err := db.SQL().Exec(`UPDATE incidents SET event_type = 'Riots', fatalities = fatalities + 1 WHERE id = ANY($1)`, pq.Array(ids[100:150])); err != nil {
		t.Fatal(err)
	}
	checkSumsRebuilt(t, db.SQL())
	checkTilesMatch(t, db)
}

// migrateDownTo rolls db back one migration at a time to version.
func migrateDownTo(t *testing.T, db *postgis.DB, version int) {
	t.Helper()
	for {
		var at int
		if err := db.SQL().QueryRow(`SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&at); err != nil {
			t.Fatal(err)
		}
		if at <= version {
			return
		}
		if err := db.MigrateDown(context.Background()); err != nil {
			t.Fatalf("migrate down from %d: %v", at, err)
		}
	}
}

// The partial first and last day of a window come from
// incidents_tile_days_idx alone (migration 00021), one range scan each:
// an OR of the two ranges would be a bitmap scan, which reads a table page
// per incident. Sequential and bitmap scans are off: on a big table,
// where they lose, the planner takes the index-only scans (seen on 10M
// incidents), but on a test table they win; VACUUM marks the pages
// all-visible, as it does there.
func TestIncidentTileCellsPartialDaysFromIndex(t *testing.T) {
	db := openTestDB(t)
	seedTileTimes(t, db.SQL(), 31, 400, 0.8, tileCentres...)
	ctx := context.Background()
	if _, err := db.SQL().ExecContext(ctx, `VACUUM ANALYZE incidents`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off; SET enable_bitmapscan = off`); err != nil {
		t.Fatal(err)
	}
	q, err := geo.ParseIncidentTileQuery(url.Values{"datetime": {"2023-01-10T06:00:00Z/2023-09-20T18:00:00Z"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tile := range []geo.Tile{{Z: 0}, {Z: 3, X: 5, Y: 3}} {
		query, args, ok, err := postgis.IncidentTileCellsSQL(tile, q)
		if err != nil || !ok {
			t.Fatalf("z%d: cells statement: ok %v, %v", tile.Z, ok, err)
		}
		plan, err := pgtest.Explain(ctx, conn, query, args...)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(plan, "Index Only Scan using incidents_tile_days_idx"); n != 2 {
			t.Errorf("z%d: %d index-only scans of incidents_tile_days_idx, want 2 (first and last day):\n%s", tile.Z, n, plan)
		}
	}
}

// ClusterTileSums rewrites every level's partition in key order and
// changes no sum: each partition is marked clustered on its primary key,
// and the sums still equal a fresh count.
func TestClusterTileSums(t *testing.T) {
	db := openTestDB(t)
	seedTilePoints(t, db, 31, 500, 0.5, orb.Point{44.5, 40.2}, orb.Point{-70, -30})
	var levels []int
	if err := db.ClusterTileSums(context.Background(), func(level int, took time.Duration) { levels = append(levels, level) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(levels, postgis.TileCellLevels) {
		t.Errorf("clustered levels %v, want %v", levels, postgis.TileCellLevels)
	}
	var clustered string
	if err := db.SQL().QueryRow(`SELECT coalesce(string_agg(c.relname, ',' ORDER BY c.relname), '') FROM pg_index i
		JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class x ON x.oid = i.indexrelid
		WHERE i.indisclustered AND x.relname = c.relname || '_pkey' AND c.relname LIKE 'incident\_tile\_cells\_%'`).Scan(&clustered); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, level := range postgis.TileCellLevels {
		want = append(want, fmt.Sprintf("incident_tile_cells_%d", level))
	}
	slices.Sort(want)
	if clustered != strings.Join(want, ",") {
		t.Errorf("partitions clustered on their primary key: %q, want %q", clustered, strings.Join(want, ","))
	}
	checkSumsRebuilt(t, db.SQL())
}
