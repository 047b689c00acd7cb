package postgis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// tilePoint is one synthetic incident.
type tilePoint struct {
	id         int64
	lon, lat   float64
	eventType  string
	fatalities int
	status     string
	precision  int // geo_precision
}

// seedTilePoints inserts n incidents round each centre (Gaussian, σ in
// degrees) with a mix of event types, fatalities, statuses and geo
// precisions.
func seedTilePoints(t *testing.T, db *postgis.DB, seed uint64, n int, sigma float64, centres ...orb.Point) []tilePoint {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	types := []string{"Battles", "Explosions/Remote violence", "Protests"}
	var pts []tilePoint
	for _, c := range centres {
		for range n {
			p := tilePoint{
				lon:        max(-180, min(180, c[0]+r.NormFloat64()*sigma)),
				lat:        max(-85, min(85, c[1]+r.NormFloat64()*sigma)),
				eventType:  types[r.IntN(len(types))],
				fatalities: r.IntN(5),
				status:     []string{"verified", "verified", "disputed", "retracted"}[r.IntN(4)],
				precision:  1 + r.IntN(3),
			}
			pts = append(pts, p)
		}
	}
	ctx := context.Background()
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SET LOCAL incidentmap.enrich = 'off'`); err != nil {
		t.Fatal(err)
	}
	for i := range pts {
		p := &pts[i]
		err := tx.QueryRow(`INSERT INTO incidents (occurred_at, event_type, title, geom, status, fatalities, sources, geo_precision)
			VALUES ('2024-05-01T12:00:00Z', $1, 'Tile test', ST_SetSRID(ST_MakePoint($2, $3), 4326), $4, $5, '[]', $6) RETURNING id`,
			p.eventType, p.lon, p.lat, p.status, p.fatalities, p.precision).Scan(&p.id)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return pts
}

// tileFeatures renders tile z/x/y with the default filter and decodes it.
func tileFeatures(t *testing.T, db *postgis.DB, z, x, y int) []*mvtFeature {
	t.Helper()
	q, err := geo.ParseIncidentTileQuery(url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.IncidentTile(context.Background(), geo.Tile{Z: z, X: x, Y: y}, q, 8)
	if err != nil {
		t.Fatalf("tile %d/%d/%d: %v", z, x, y, err)
	}
	if b == nil {
		return nil
	}
	layers, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("tile %d/%d/%d is not a vector tile: %v", z, x, y, err)
	}
	if len(layers) != 1 || layers[0].Name != "incidents" || layers[0].Extent != 4096 {
		t.Fatalf("tile %d/%d/%d layers = %+v, want one layer incidents of extent 4096", z, x, y, layers)
	}
	var out []*mvtFeature
	for _, f := range layers[0].Features {
		p, ok := f.Geometry.(orb.Point)
		if !ok {
			t.Fatalf("tile %d/%d/%d feature geometry %T, want a point", z, x, y, f.Geometry)
		}
		out = append(out, &mvtFeature{id: f.ID, p: p, props: f.Properties})
	}
	return out
}

type mvtFeature struct {
	id    any
	p     orb.Point
	props map[string]any
}

// pixel is the position of lon/lat in tile z/x/y's pixel space (4096 per
// tile, y down), computed independently of the server's SQL.
func pixel(z, x, y int, lon, lat float64) (float64, float64) {
	world := math.Exp2(float64(z)) * 4096
	px := (lon+180)/360*world - float64(x)*4096
	phi := lat * math.Pi / 180
	py := (0.5-math.Log(math.Tan(math.Pi/4+phi/2))/(2*math.Pi))*world - float64(y)*4096
	return px, py
}

// Point tiles put every public incident in the buffered tile where
// PostGIS's own ST_AsMVTGeom(ST_Transform(...)) puts it, with its
// attributes, and nothing else.
func TestIncidentTilePoints(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	pts := seedTilePoints(t, db, 7, 400, 0.05, orb.Point{47.03, 39.40}, orb.Point{179.98, 10}, orb.Point{-179.98, 10})
	tiles := [][3]int{{8, 161, 97}, {11, 1291, 779}, {14, 10332, 6238}, {14, 10331, 6238}, {12, 4095, 1933}, {12, 0, 1933}}
	for _, tl := range tiles {
		z, x, y := tl[0], tl[1], tl[2]
		t.Run(fmt.Sprintf("%d/%d/%d", z, x, y), func(t *testing.T) {
			// What PostGIS makes of every public incident here, by id.
			rows, err := db.SQL().QueryContext(ctx, `
				SELECT id, ST_X(g), ST_Y(g) FROM (
					SELECT id, ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS g
					FROM incidents WHERE status IN ('verified', 'disputed')
				) s WHERE g IS NOT NULL`, z, x, y)
			if err != nil {
				t.Fatal(err)
			}
			want := map[uint64]orb.Point{}
			for rows.Next() {
				var id int64
				var p orb.Point
				if err := rows.Scan(&id, &p[0], &p[1]); err != nil {
					t.Fatal(err)
				}
				want[uint64(id)] = p
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			byID := map[uint64]tilePoint{}
			for _, p := range pts {
				byID[uint64(p.id)] = p
			}
			// Within a pixel of the buffer's edge, in or out is rounding.
			nearEdge := func(id uint64) bool {
				p := byID[id]
				px, py := pixel(z, x, y, p.lon, p.lat)
				d := math.Min(math.Min(math.Abs(px+64), math.Abs(px-4160)), math.Min(math.Abs(py+64), math.Abs(py-4160)))
				return d < 1
			}
			got := tileFeatures(t, db, z, x, y)
			if len(want) < 5 {
				t.Fatalf("test data: only %d incidents in the tile", len(want))
			}
			seen := map[uint64]bool{}
			for _, f := range got {
				fid, _ := f.id.(float64) // orb decodes ids as float64
				id := uint64(fid)
				seen[id] = true
				w, ok := want[id]
				if !ok {
					if !nearEdge(id) {
						t.Errorf("feature %v at %v is not in the tile by PostGIS", f.id, f.p)
					}
					continue
				}
				if math.Abs(f.p[0]-w[0]) > 1 || math.Abs(f.p[1]-w[1]) > 1 {
					t.Errorf("feature %d at %v, PostGIS puts it at %v", id, f.p, w)
				}
				p := byID[id]
				if f.props["event_type"] != p.eventType || f.props["status"] != p.status ||
					f.props["fatalities"] != float64(p.fatalities) || f.props["title"] != "Tile test" || f.props["occurred_at"] != "2024-05-01" ||
					f.props["geo_precision"] != float64(p.precision) {
					t.Errorf("feature %d properties %v, want those of %+v", id, f.props, p)
				}
			}
			for id := range want {
				if !seen[id] && !nearEdge(id) {
					t.Errorf("incident %d (%+v) missing from the tile", id, byID[id])
				}
			}
			t.Logf("%d features", len(got))
		})
	}
}

// Cluster tiles hold one point per 64 px cell of the public incidents in
// the buffered tile, at their mean position, with their count, summed
// fatalities and most frequent event type (ties: alphabetical).
func TestIncidentTileClusters(t *testing.T) {
	db := openTestDB(t)
	pts := seedTilePoints(t, db, 11, 300, 0.8, orb.Point{47.03, 39.40}, orb.Point{44.5, 40.2}, orb.Point{179.5, 10}, orb.Point{-179.5, 10})
	tiles := [][3]int{{0, 0, 0}, {2, 2, 1}, {4, 10, 6}, {5, 20, 12}, {7, 80, 48}, {4, 15, 7}, {4, 0, 7}}
	for _, tl := range tiles {
		z, x, y := tl[0], tl[1], tl[2]
		t.Run(fmt.Sprintf("%d/%d/%d", z, x, y), func(t *testing.T) {
			type cell struct {
				n, fatalities int
				sx, sy        float64
				types         map[string]int
			}
			cells := map[[2]int]*cell{}
			for _, p := range pts {
				if p.status == "retracted" {
					continue
				}
				px, py := pixel(z, x, y, p.lon, p.lat)
				if px < -64 || px > 4160 || py < -64 || py > 4160 {
					continue
				}
				k := [2]int{int(math.Floor(px / 64)), int(math.Floor(py / 64))}
				c := cells[k]
				if c == nil {
					c = &cell{types: map[string]int{}}
					cells[k] = c
				}
				c.n++
				c.fatalities += p.fatalities
				c.sx += px
				c.sy += py
				c.types[p.eventType]++
			}
			var want []string
			for _, c := range cells {
				var types []string
				for et := range c.types {
					types = append(types, et)
				}
				sort.Slice(types, func(i, j int) bool {
					if c.types[types[i]] != c.types[types[j]] {
						return c.types[types[i]] > c.types[types[j]]
					}
					return types[i] < types[j]
				})
				cx, cy := math.Round(c.sx/float64(c.n)), math.Round(c.sy/float64(c.n))
				want = append(want, fmt.Sprintf("(%v %v) count=%d fatalities=%d type=%s types=%s", cx, cy, c.n, c.fatalities, types[0], typeCounts(c.types)))
			}
			var got []string
			for _, f := range tileFeatures(t, db, z, x, y) {
				var types map[string]int
				if s, _ := f.props["types"].(string); json.Unmarshal([]byte(s), &types) != nil {
					t.Errorf("cluster at (%v %v): types = %#v, want a JSON object of counts", f.p[0], f.p[1], f.props["types"])
				}
				got = append(got, fmt.Sprintf("(%v %v) count=%v fatalities=%v type=%v types=%s", f.p[0], f.p[1], f.props["count"], f.props["fatalities"], f.props["event_type"], typeCounts(types)))
			}
			slices.Sort(want)
			slices.Sort(got)
			if len(want) == 0 {
				t.Fatal("test data: no incidents in the tile")
			}
			if !slices.Equal(got, want) {
				t.Errorf("clusters:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
			t.Logf("%d clusters", len(got))
		})
	}
}

// typeCounts writes counts per event type in a stable order.
func typeCounts(m map[string]int) string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s:%d", k, v))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// A tile without incidents is nil, with or without clusters.
func TestIncidentTileEmpty(t *testing.T) {
	db := openTestDB(t)
	seedTilePoints(t, db, 3, 10, 0.01, orb.Point{47.03, 39.40})
	q, _ := geo.ParseIncidentTileQuery(url.Values{})
	for _, tl := range []geo.Tile{{Z: 3, X: 1, Y: 6}, {Z: 12, X: 1000, Y: 3000}} {
		b, err := db.IncidentTile(context.Background(), tl, q, 8)
		if err != nil || b != nil {
			t.Errorf("empty tile %+v = %d bytes, %v; want nil, nil", tl, len(b), err)
		}
	}
}

// Point tiles, over a window or all of time, read their incidents from
// incidents_tile_key_idx alone (migration 00025): an index-only scan, no
// table page per point. Cluster tiles, the sums' partial days and list
// pages keep their own indexes. Sequential scans are off: on a test table
// they would win over any index.
func TestIncidentPointTileIndex(t *testing.T) {
	db := openTestDB(t)
	seedTilePoints(t, db, 23, 3000, 0.5, orb.Point{44.5, 40.2})
	ctx := context.Background()
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `UPDATE incidents SET occurred_at = '2020-01-01T00:00:00Z'::timestamptz + (id % 1500) * interval '1 day'`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `VACUUM ANALYZE incidents`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	const index = "Index Only Scan using incidents_tile_key_idx"
	px, py := pixel(10, 0, 0, 44.5, 40.2)
	tile := geo.Tile{Z: 10, X: int(px) / 4096, Y: int(py) / 4096}
	month, err := geo.ParseIncidentTileQuery(url.Values{"datetime": {"2021-03-01/2021-03-31"}})
	if err != nil {
		t.Fatal(err)
	}
	allTime, err := geo.ParseIncidentTileQuery(url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	byActor, err := geo.ParseIncidentTileQuery(url.Values{"actor": {"army"}})
	if err != nil {
		t.Fatal(err)
	}
	partialDays, err := geo.ParseIncidentTileQuery(url.Values{"datetime": {"2021-03-01T12:00:00Z/2021-06-30T12:00:00Z"}})
	if err != nil {
		t.Fatal(err)
	}
	type statement struct {
		query string
		args  []any
	}
	tileSQL := func(tl geo.Tile, q geo.IncidentQuery, clusterBelow int) statement {
		t.Helper()
		query, args, err := postgis.IncidentTileSQL(tl, q, clusterBelow)
		if err != nil {
			t.Fatal(err)
		}
		return statement{query, args}
	}
	cells, cellArgs, ok, err := postgis.IncidentTileCellsSQL(geo.Tile{Z: 4, X: tile.X >> 6, Y: tile.Y >> 6}, partialDays)
	if err != nil || !ok {
		t.Fatalf("cells statement: ok %v, %v", ok, err)
	}
	month.BBox = &geo.BBox{MinLon: 44, MinLat: 39.8, MaxLon: 45, MaxLat: 40.6}
	list, listArgs, err := postgis.IncidentPageSQL(geo.IncidentQuery{BBox: month.BBox, Time: month.Time, Limit: 100, Sort: geo.SortKey{Field: "occurred_at"}})
	if err != nil {
		t.Fatal(err)
	}
	month.BBox = nil
	for _, c := range []struct {
		name string
		statement
		uses bool
	}{
		{"points over a month", tileSQL(tile, month, 8), true},
		{"points of all time", tileSQL(tile, allTime, 8), true},
		{"points of all time at zoom 18", tileSQL(geo.Tile{Z: 18, X: int(px) << 8 / 4096, Y: int(py) << 8 / 4096}, allTime, 8), true},
		{"points by an actor (not in the index)", tileSQL(tile, byActor, 8), false},
		{"clusters over a month from the points", tileSQL(tile, month, 12), false},
		{"the sums' partial days", statement{cells, cellArgs}, false},
		{"a list page over a month", statement{list, listArgs}, false},
	} {
		plan, err := pgtest.Explain(ctx, conn, c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan, index) != c.uses {
			t.Errorf("%s: reads %s %v, want %v:\n%s", c.name, index, !c.uses, c.uses, plan)
		}
	}
	// A window filters the index's time column: the tile over the month
	// holds the all-time tile's incidents of that month.
	ids := func(q geo.IncidentQuery, inMonth bool) []string {
		t.Helper()
		b, err := db.IncidentTile(ctx, tile, q, 8)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := mvt.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range layers[0].Features {
			if day, _ := f.Properties["occurred_at"].(string); !inMonth || strings.HasPrefix(day, "2021-03-") {
				out = append(out, fmt.Sprint(f.ID))
			}
		}
		slices.Sort(out)
		return out
	}
	got, want := ids(month, false), ids(allTime, true)
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("point tile over a month holds %d incidents, want the all-time tile's %d of that month", len(got), len(want))
	}
}
