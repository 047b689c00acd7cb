package main

import (
	"database/sql"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb/encoding/mvt"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// Cold cluster tiles (issue #17): every request with a datetime window
// no request had before, as each step of the timeline's Play is, so the
// server's tile cache never answers. Each request runs both ways on one
// connection, in alternating order: the point scan (postgis.IncidentTileSQL,
// the server's statement before migration 00017) and the statement the
// server runs now (postgis.IncidentTileCellsSQL where the stored sums can
// answer, else the point scan). Latency is the database round trip of the
// statement, as the server's tile handler waits for it; the HTTP path
// adds the same small constant to both.

// coldZooms are the zooms measured: every cluster zoom and the first
// point zoom.
var coldZooms = []int{0, 1, 2, 3, 4, 5, 6, 7, 8}

// coldTarget is the goal of #17 for cold tiles: p99 under 50 ms on 1M
// incidents, under 100 ms on 10M.
func coldTarget(rows int) time.Duration {
	if rows >= 10_000_000 {
		return 100 * time.Millisecond
	}
	return 50 * time.Millisecond
}

// tileStatement is one way of rendering a tile: SQL and arguments.
type tileStatement struct {
	query string
	args  []any
}

// coldStatements returns the point scan and the server's statement for
// tile t under the query parameters v.
func coldStatements(t geo.Tile, v url.Values) (point, server tileStatement) {
	q, err := geo.ParseIncidentTileQuery(v)
	if err != nil {
		panic(err) // the bench's own queries are valid
	}
	s, a, err := postgis.IncidentTileSQL(t, q, clusterBelowZoom)
	if err != nil {
		panic(err)
	}
	point = tileStatement{s, a}
	server = point
	if t.Z < clusterBelowZoom {
		if s, a, ok, err := postgis.IncidentTileCellsSQL(t, q); err != nil {
			panic(err)
		} else if ok {
			server = tileStatement{s, a}
		}
	}
	return point, server
}

// runTile runs st and returns its latency and the sum of the tile's
// feature counts (clusters: their count; points: 1 each).
func runTile(db *sql.DB, st tileStatement) (time.Duration, int, error) {
	t0 := time.Now()
	var b []byte
	if err := db.QueryRow(st.query, st.args...).Scan(&b); err != nil {
		return 0, 0, err
	}
	d := time.Since(t0)
	if len(b) == 0 {
		return d, 0, nil
	}
	layers, err := mvt.Unmarshal(b)
	if err != nil {
		return d, 0, err
	}
	n := 0
	for _, l := range layers {
		for _, f := range l.Features {
			if c, ok := f.Properties["count"].(float64); ok {
				n += int(c)
			} else {
				n++
			}
		}
	}
	return d, n, nil
}

// latencies collects one side's samples.
type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(len(s)-1, i))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// pair runs a request both ways, the order alternating with i, and adds
// the latencies; it counts a mismatch when the tiles' incident totals
// differ.
func (c *coldRun) pair(i int, label string, point, server tileStatement) error {
	if c.sumsOnly {
		d, _, err := runTile(c.db, server)
		c.after = append(c.after, d)
		c.noteSlowest(d, label)
		return err
	}
	order := []int{0, 1}
	if i%2 == 1 {
		order = []int{1, 0}
	}
	var n [2]int
	for _, k := range order {
		st := point
		if k == 1 {
			st = server
		}
		d, cnt, err := runTile(c.db, st)
		if err != nil {
			return err
		}
		n[k] = cnt
		if k == 0 {
			c.before = append(c.before, d)
		} else {
			c.after = append(c.after, d)
			c.noteSlowest(d, label)
		}
	}
	if n[0] != n[1] {
		c.mismatches++
	}
	return nil
}

type coldRun struct {
	db            *sql.DB
	before, after latencies
	mismatches    int
	// sumsOnly runs the server's statement alone (-cold-sums-only): on
	// 10M incidents a low-zoom point scan takes seconds per request.
	sumsOnly bool
	// slowest is the server statement's slowest request, for the report:
	// which tile and window a p99 comes from.
	slowest      time.Duration
	slowestLabel string
}

func (c *coldRun) noteSlowest(d time.Duration, label string) {
	if d > c.slowest {
		c.slowest, c.slowestLabel = d, label
	}
}

// dataSpan is the first and last day of the public incidents.
func dataSpan(db *sql.DB) (time.Time, time.Time, error) {
	var lo, hi time.Time
	err := db.QueryRow(`SELECT min(occurred_at), max(occurred_at) FROM incidents WHERE status IN ('verified', 'disputed')`).Scan(&lo, &hi)
	day := func(t time.Time) time.Time {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return day(lo), day(hi), err
}

// hotspotCentres are the centres of up to n hotspots other than the
// densest, spread over the ranking of their counts.
func hotspotCentres(db *sql.DB, n int) ([][2]float64, error) {
	rows, err := db.Query(`
		SELECT lon, lat FROM (
			SELECT avg(ST_X(geom)) AS lon, avg(ST_Y(geom)) AS lat, count(*) AS c FROM incidents
			WHERE location_name LIKE 'Hotspot %' GROUP BY location_name HAVING stddev(ST_X(geom)) < 2
		) h ORDER BY c DESC, lon OFFSET 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all [][2]float64
	for rows.Next() {
		var c [2]float64
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			return nil, err
		}
		all = append(all, c)
	}
	var out [][2]float64
	for i := 0; i < n && len(all) > 0; i++ {
		out = append(out, all[i*len(all)/n])
	}
	return out, rows.Err()
}

// windowKinds are the kinds of never-seen windows each tile gets.
var windowKinds = []string{"all from a new start", "a year", "a month", "a week", "arbitrary instants"}

// coldWindow returns a datetime value of kind k, new (the serial i makes
// it unique).
func coldWindow(k string, i int, lo, hi time.Time, r *rand.Rand) string {
	days := int(hi.Sub(lo).Hours() / 24)
	dayWindow := func(width int) string {
		s := lo.AddDate(0, 0, r.IntN(max(1, days-width)))
		return s.Format(time.DateOnly) + "/" + s.AddDate(0, 0, width-1).Format(time.DateOnly)
	}
	switch k {
	case "all from a new start":
		return time.Unix(int64(i)*1000+int64(r.IntN(1000)), 0).UTC().Format(time.RFC3339) + "/.."
	case "a year":
		return dayWindow(365)
	case "a month":
		return dayWindow(30)
	case "a week":
		return dayWindow(7)
	}
	s := lo.Add(time.Duration(r.Int64N(int64(hi.Sub(lo)))))
	e := s.Add(time.Duration(r.Int64N(int64(1000 * 24 * time.Hour))))
	return s.Format(time.RFC3339Nano) + "/" + e.Format(time.RFC3339Nano)
}

// playStepDays mirrors frontend/src/timeline.js playStep at speed 1:
// the days a Play step moves over a timeline of n days.
func playStepDays(n int) int {
	total := 20000.0
	every := math.Round(math.Min(1400, math.Max(150, total/float64(max(n, 1)))))
	return max(1, int(math.Round(float64(n)*every/total)))
}

// viewportTiles are the tiles a 1280×800 map (256 px tiles) centred on c
// requests at zoom z.
func viewportTiles(z int, c [2]float64) []geo.Tile {
	n := 1 << z
	cx, cy := tileAt(z, c[0], c[1])
	var out []geo.Tile
	for dy := -2; dy <= 1; dy++ {
		for dx := -2; dx <= 2; dx++ {
			x, y := cx+dx, cy+dy
			if y < 0 || y >= n {
				continue
			}
			x = ((x % n) + n) % n
			t := geo.Tile{Z: z, X: x, Y: y}
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// coldTilesSuite measures cold cluster tiles per zoom and the timeline's
// Play sequence, point scan against the stored sums, then what the sums'
// triggers cost writes.
func coldTilesSuite(cfg config, ds *dataset) (string, error) {
	db := ds.db
	db.SetMaxOpenConns(1) // one connection: the pair shares it, no pool effects
	defer db.SetMaxOpenConns(4)
	// A run stopped during the write cost leaves the triggers disabled
	// (and the sums stale for later writes): on again first.
	if err := setTileTriggers(db, true); err != nil {
		return "", err
	}
	lo, hi, err := dataSpan(db)
	if err != nil {
		return "", err
	}
	others, err := hotspotCentres(db, 2)
	if err != nil {
		return "", err
	}
	var cells, cellBytes int64
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM incident_tile_cells),
		(SELECT sum(pg_total_relation_size(relid))::bigint FROM pg_partition_tree('incident_tile_cells'))`).Scan(&cells, &cellBytes); err != nil {
		return "", err
	}
	var tableBytes int64
	if err := db.QueryRow(`SELECT pg_total_relation_size('incidents')`).Scan(&tableBytes); err != nil {
		return "", err
	}
	r := rand.New(rand.NewPCG(17, uint64(ds.rows)))
	var b strings.Builder
	fmt.Fprintf(&b, "Cold incident tiles: each request has a `datetime` window no request had before (the tile cache cannot answer), "+
		"run as SQL on one connection, both ways per request in alternating order: **before** = the point scan "+
		"(`postgis.IncidentTileSQL`), **after** = the server's statement now (`postgis.IncidentTileCellsSQL`: sums per cell "+
		"at grid levels %v by UTC day, month and year, at levels 6-9 also dekad, quarter and decade, plus the partial "+
		"edge days from the points; zoom 8 scans points, by place and time over a window). Latency = the statement's round trip, the tile handler's wait. Data: %d incidents from %s to %s; "+
		"`incident_tile_cells` holds %d rows, %d MB with its index (incidents: %d MB). Load average at the start: %s.\n\n",
		postgis.TileCellLevels, ds.rows, lo.Format(time.DateOnly), hi.Format(time.DateOnly), cells, cellBytes>>20, tableBytes>>20, loadAvg())
	fmt.Fprintf(&b, "Per zoom: tiles = the world at z0, else the tile of the densest hotspot, of two other hotspots and one of the "+
		"uniform background; each tile gets 3 windows of each kind (%s). *mismatch* counts requests whose tiles hold different "+
		"incident totals (must be 0).\n\n", strings.Join(windowKinds, "; "))
	fmt.Fprintf(&b, "| zoom | requests | before p50 ms | before p99 ms | after p50 ms | after p99 ms | p99 before ÷ after | after p99 < %d ms | mismatch | slowest after |\n|---:|---:|---:|---:|---:|---:|---:|---|---:|---|\n", coldTarget(cfg.rows).Milliseconds())
	serial := 0
	for _, z := range coldZooms {
		var tiles []geo.Tile
		if z == 0 {
			tiles = []geo.Tile{{}}
		} else {
			centres := append([][2]float64{ds.center}, others...)
			centres = append(centres, [2]float64{-150, -40}) // Pacific: the uniform 20% only
			for _, c := range centres {
				x, y := tileAt(z, c[0], c[1])
				t := geo.Tile{Z: z, X: x, Y: y}
				if !slices.Contains(tiles, t) {
					tiles = append(tiles, t)
				}
			}
		}
		run := &coldRun{db: db, sumsOnly: cfg.coldSumsOnly}
		for _, t := range tiles {
			for _, k := range windowKinds {
				for range 3 {
					serial++
					window := coldWindow(k, serial, lo, hi, r)
					point, server := coldStatements(t, url.Values{"datetime": {window}})
					label := fmt.Sprintf("%d/%d/%d, %s (`%s`)", t.Z, t.X, t.Y, k, window)
					if err := run.pair(serial, label, point, server); err != nil {
						return b.String(), fmt.Errorf("tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
					}
				}
			}
		}
		p99b, p99a := run.before.pct(0.99), run.after.pct(0.99)
		met := "yes"
		if p99a >= coldTarget(cfg.rows) {
			met = "**no**"
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s | %s | %.1f | %s | %d | %s ms: %s |\n", z, len(run.after), ms(run.before.pct(0.5)), ms(p99b),
			ms(run.after.pct(0.5)), ms(p99a), float64(p99b)/float64(max(p99a, 1)), met, run.mismatches, ms(run.slowest), run.slowestLabel)
		log.Printf("coldtiles z%d: before p99 %v, after p99 %v", z, p99b, p99a)
	}

	// The timeline's Play: consecutive windows as frontend/src/timeline.js
	// sends them, over the whole data span at speed 1.
	days := int(hi.Sub(lo).Hours()/24) + 1
	step := playStepDays(days)
	fmt.Fprintf(&b, "\nThe timeline's Play over the whole span (%d days, speed 1: %d days per step, as `playStep` in "+
		"frontend/src/timeline.js), every 8th step measured, each step requesting the tiles of a 1280×800 view "+
		"(256 px tiles) centred on the densest hotspot. *Sliding*: a 7-day window (`PLAY_WIDTH_DAYS`); *cumulative*: from "+
		"the first day to the step's day. Per step = the sum of its tiles' latencies (one connection; a browser spreads them "+
		"over 6).\n\n", days, step)
	b.WriteString("| mode | zoom | steps × tiles | tile p99 before ms | tile p99 after ms | step p50 before ms | step p50 after ms | step p99 before ms | step p99 after ms | mismatch |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, mode := range []string{"sliding", "cumulative"} {
		for _, z := range []int{3, 6} {
			tiles := viewportTiles(z, ds.center)
			run := &coldRun{db: db, sumsOnly: cfg.coldSumsOnly}
			var stepBefore, stepAfter latencies
			nSteps := 0
			for k := 0; ; k += 8 {
				end := lo.AddDate(0, 0, 6+k*step)
				if end.After(hi) {
					break
				}
				start := end.AddDate(0, 0, -6)
				if mode == "cumulative" {
					start = lo
				}
				win := start.Format(time.DateOnly) + "/" + end.Format(time.DateOnly)
				nb, na := len(run.before), len(run.after)
				for _, t := range tiles {
					serial++
					point, server := coldStatements(t, url.Values{"datetime": {win}})
					if err := run.pair(serial, fmt.Sprintf("%d/%d/%d %s", t.Z, t.X, t.Y, win), point, server); err != nil {
						return b.String(), err
					}
				}
				var sb, sa time.Duration
				for _, d := range run.before[nb:] {
					sb += d
				}
				for _, d := range run.after[na:] {
					sa += d
				}
				stepBefore, stepAfter = append(stepBefore, sb), append(stepAfter, sa)
				nSteps++
			}
			fmt.Fprintf(&b, "| %s | %d | %d × %d | %s | %s | %s | %s | %s | %s | %d |\n", mode, z, nSteps, len(tiles),
				ms(run.before.pct(0.99)), ms(run.after.pct(0.99)), ms(stepBefore.pct(0.5)), ms(stepAfter.pct(0.5)),
				ms(stepBefore.pct(0.99)), ms(stepAfter.pct(0.99)), run.mismatches)
			log.Printf("coldtiles play %s z%d: step p99 %v -> %v", mode, z, stepBefore.pct(0.99), stepAfter.pct(0.99))
		}
	}
	if cfg.coldSumsOnly {
		b.WriteString("\nRun with `-cold-sums-only`: the server's statements alone, no point-scan baseline (*before* columns 0, mismatches not checked) and no write cost.\n")
		return b.String(), nil
	}
	w, err := tileWriteCost(cfg, ds)
	b.WriteString(w)
	return b.String(), err
}

// tileTriggers are migration 00017's triggers that write the sums.
var tileTriggers = []string{"incidents_tile_cells_insert", "incidents_tile_cells_update", "incidents_tile_cells_delete"}

// setTileTriggers switches the sums' triggers on or off (the bench's
// write-cost baseline: what a write cost before migration 00017).
func setTileTriggers(db *sql.DB, on bool) error {
	verb := "DISABLE"
	if on {
		verb = "ENABLE"
	}
	for _, tr := range tileTriggers {
		// Identifiers are this file's constants.
		if _, err := db.Exec(fmt.Sprintf("ALTER TABLE incidents %s TRIGGER %s", verb, tr)); err != nil {
			return err
		}
	}
	return nil
}

// tileWriteCost measures what the triggers add to writes: single-row
// inserts and moves (as a moderator's verify and edit write them) and a
// 100,000-row insert in one statement, with the triggers on and off,
// interleaved. Every write is rolled back, so the sums stay equal to the
// table.
func tileWriteCost(cfg config, ds *dataset) (out string, err error) {
	db := ds.db
	defer func() {
		if e := setTileTriggers(db, true); e != nil && err == nil {
			err = e
		}
	}()
	var b strings.Builder
	fmt.Fprintf(&b, "\nWrite cost of the sums' triggers (on = migration 00017's statement triggers, off = the same statements with "+
		"them disabled, i.e. before). Load average: %s.\n\n", loadAvg())
	b.WriteString("| write | runs on / off | on p50 ms | off p50 ms | on p99 ms | off p99 ms | on ÷ off (p50) |\n|---|---:|---:|---:|---:|---:|---:|\n")
	var ids []int64
	rows, err := db.Query(`SELECT id FROM incidents TABLESAMPLE SYSTEM (1) LIMIT 400`)
	if err != nil {
		return b.String(), err
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var insOn, insOff, movOn, movOff, bulkOn, bulkOff latencies
	// Each write runs in a transaction rolled back afterwards (deleting
	// an incident costs a scan of the table at a million rows: no index
	// on duplicate_of), so the commit itself is not timed; the statement
	// triggers run at the end of the statement and are.
	timed := func(stmts []string, args ...any) (time.Duration, error) {
		tx, err := db.Begin()
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		for _, s := range stmts[:len(stmts)-1] {
			if _, err := tx.Exec(s); err != nil {
				return 0, err
			}
		}
		t0 := time.Now()
		if _, err := tx.Exec(stmts[len(stmts)-1], args...); err != nil {
			return 0, err
		}
		return time.Since(t0), nil
	}
	for block := range 20 {
		on := block%2 == 0
		if err := setTileTriggers(db, on); err != nil {
			return b.String(), err
		}
		for i := range 10 {
			// A verified report becomes an incident: one row, enriched.
			d, err := timed([]string{`INSERT INTO incidents (occurred_at, event_type, title, geom, fatalities, sources)
				VALUES (now() - interval '3 days', 'Battles', 'Bench write', ST_SetSRID(ST_MakePoint($1, $2), 4326), 1, '[]')`},
				30+float64(i), 10+float64(block)/10)
			if err != nil {
				return b.String(), err
			}
			// A moderator's edit moves an incident in place and time.
			dm, err := timed([]string{`UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(ST_X(geom) + 0.01, ST_Y(geom)), 4326),
				occurred_at = occurred_at + interval '1 day', version = version + 1 WHERE id = $1`}, ids[(block*10+i)%len(ids)])
			if err != nil {
				return b.String(), err
			}
			if on {
				insOn, movOn = append(insOn, d), append(movOn, dm)
			} else {
				insOff, movOff = append(insOff, d), append(movOff, dm)
			}
		}
	}
	line := func(name string, on, off latencies) {
		fmt.Fprintf(&b, "| %s | %d / %d | %s | %s | %s | %s | %.2f |\n", name, len(on), len(off), ms(on.pct(0.5)), ms(off.pct(0.5)),
			ms(on.pct(0.99)), ms(off.pct(0.99)), float64(on.pct(0.5))/float64(max(off.pct(0.5), 1)))
	}
	line("insert one incident (enrichment on)", insOn, insOff)
	line("move one incident in place and time (UPDATE)", movOn, movOff)

	// 100,000 rows in one statement, as the bench's generator and an
	// import's merge write them (the same statement trigger fires once).
	bulk := []string{`SET LOCAL incidentmap.bulk = 'on'`, `SET LOCAL incidentmap.enrich = 'off'`, `SELECT setseed(0.17)`,
		`CREATE TEMP TABLE hotspots ON COMMIT DROP AS
		   SELECT g AS id, -20 + random() * 160 AS lon, -35 + random() * 90 AS lat FROM generate_series(0, 499) g`,
		strings.Replace(incidentsSQL(wideRows, 1, 100_000), "'SYN' || g", "'SYNW' || g", 1)}
	for round := range 4 {
		on := round%2 == 0
		if err := setTileTriggers(db, on); err != nil {
			return b.String(), err
		}
		d, err := timed(bulk)
		if err != nil {
			return b.String(), err
		}
		log.Printf("coldtiles bulk insert (triggers on %v): %v", on, d)
		if on {
			bulkOn = append(bulkOn, d)
		} else {
			bulkOff = append(bulkOff, d)
		}
	}
	line("insert 100,000 wide rows in one statement (bench generator; 2 runs each)", bulkOn, bulkOff)
	b.WriteString("\nEach write is timed inside a transaction that is rolled back (commit not included; the triggers run at the end of the statement and are).\n")
	return b.String(), nil
}
