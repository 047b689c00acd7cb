package main

import (
	"database/sql"
	"fmt"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	_ "github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

// dataset is one data directory with its incidentmap server running and n
// synthetic incidents loaded.
type dataset struct {
	rows    int
	dir     string
	srv     *server
	dsn     string
	db      *sql.DB
	center  [2]float64    // lon, lat of the densest hotspot
	genTime time.Duration // 0 when the data was reused
	startup time.Duration // server start (initdb and migrations on a cold dir)
	cold    *coldTiles    // requests its server's tile cache cannot answer; see coldTiles
}

// openDataset starts a server on dir and makes it hold n incidents.
func openDataset(cfg config, dir string, n int) (*dataset, error) {
	if cfg.lean {
		return openShaped(cfg, dir, n, leanRows)
	}
	return openShaped(cfg, dir, n, wideRows)
}

// openShaped is openDataset with rows of the given shape.
func openShaped(cfg config, dir string, n int, shape rowShape) (*dataset, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755)
	t0 := time.Now()
	srv, err := startServer(cfg.binary, dir)
	if err != nil {
		return nil, err
	}
	ds := &dataset{rows: n, dir: dir, srv: srv, startup: time.Since(t0)}
	fail := func(err error) (*dataset, error) {
		ds.close()
		return nil, err
	}
	if ds.dsn, err = localpg.RunningDSN(filepath.Join(dir, "postgres"), "incidentmap"); err != nil {
		return fail(err)
	}
	// JIT off, as in the server's sessions (geo/postgis/conn.go): the
	// statements the bench times directly are the server's, and with JIT
	// a point tile's pessimistic cost estimate cost 100 ms of compiling.
	if ds.db, err = sql.Open("postgres", ds.dsn+" jit=off"); err != nil {
		return fail(err)
	}
	ds.db.SetMaxOpenConns(4)
	if ds.genTime, err = ensureData(ds.db, n, shape); err != nil {
		return fail(err)
	}
	if ds.genTime > 0 {
		// A generated set is a bulk load of history: its tile sums lie
		// scattered until clustered, as the README asks after an import.
		t0 := time.Now()
		if out, err := exec.Command(cfg.binary, "tiles", "cluster", "--data-dir", dir).CombinedOutput(); err != nil {
			return fail(fmt.Errorf("tiles cluster: %w\n%s", err, out))
		}
		log.Printf("%s: tile sums clustered in %s", dir, time.Since(t0).Round(time.Second))
	}
	if ds.center, err = densestCenter(ds.db); err != nil {
		return fail(fmt.Errorf("densest hotspot: %w", err))
	}
	log.Printf("%s: %d incidents, densest hotspot at %.4f,%.4f", dir, n, ds.center[0], ds.center[1])
	return ds, nil
}

// coldTiles returns the maker of cold tile requests to ds's server (one per
// server, so that no two requests share a start).
func (ds *dataset) coldTiles() (*coldTiles, error) {
	if ds.cold == nil {
		c, err := newColdTiles()
		if err != nil {
			return nil, err
		}
		ds.cold = c
	}
	return ds.cold, nil
}

func (ds *dataset) close() {
	if ds.cold != nil {
		ds.cold.remove()
	}
	if ds.db != nil {
		ds.db.Close()
	}
	if ds.srv != nil {
		ds.srv.stop()
	}
}

// server is the incidentmap process under test.
type server struct {
	cmd  *exec.Cmd
	url  string
	log  string // its stderr
	done chan struct{}
	// pg is the server whose process runs the PostgreSQL this one uses,
	// when it attached to another's (see startAttached); nil: its own.
	pg *server
}

// pgPid is the process whose children are srv's PostgreSQL.
func (s *server) pgPid() int {
	if s.pg != nil {
		return s.pg.cmd.Process.Pid
	}
	return s.cmd.Process.Pid
}

// running holds the servers started, so that an interrupt stops them
// (and their embedded PostgreSQL) before the bench exits.
var running struct {
	sync.Mutex
	servers map[*server]bool
}

func init() {
	running.servers = map[*server]bool{}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-sigs
		log.Printf("%v: stopping the servers", sig)
		running.Lock()
		for s := range running.servers {
			s.cmd.Process.Signal(syscall.SIGTERM)
		}
		for s := range running.servers {
			select {
			case <-s.done:
			case <-time.After(30 * time.Second):
			}
		}
		os.Exit(1)
	}()
}

// startServer runs `incidentmap serve` on a free loopback port with
// request logging off (warn level) and no raster basemap (nothing leaves
// the machine), and waits until it is ready.
func startServer(binary, dir string) (*server, error) {
	return startServerLog(binary, dir, "bench-server.log")
}

// startAttached starts binary on the data dir of main, whose PostgreSQL it
// attaches to (incidentmap serve uses an embedded cluster another process
// runs), so that two builds answer the same database side by side.
func startAttached(binary string, main *server, dir string) (*server, error) {
	s, err := startServerLog(binary, dir, "bench-server-base.log")
	if err != nil {
		return nil, err
	}
	s.pg = main
	return s, nil
}

// startServerLog is startServer writing the server's stderr to logName
// in dir.
func startServerLog(binary, dir, logName string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	// All load comes from one address: lift the per-client page cap,
	// which is for many clients, above the bench's concurrency.
	cmd := exec.Command(binary, "serve", "--data-dir", dir, "--addr", addr, "--log-level", "warn", "--tile-url", "",
		"--big-pages-per-client", "1000")
	// The server's warnings go to a file: requests that wrk leaves in
	// flight when it stops are cancelled and logged as errors.
	logPath := filepath.Join(dir, logName)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	// Its own process group: a ^C in the terminal reaches the bench, which
	// stops the server in order (the server stops its PostgreSQL).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, log: logPath, done: make(chan struct{})}
	running.Lock()
	running.servers[s] = true
	running.Unlock()
	go func() {
		cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return nil, fmt.Errorf("server exited at start (see %s)", logPath)
		default:
		}
		if res, err := http.Get(s.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("server did not become ready (see %s)", logPath)
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	running.Lock()
	delete(running.servers, s)
	running.Unlock()
}

// rowShape is how much text each synthetic incident carries.
type rowShape int

const (
	// wideRows fill every public column as imported ACLED rows do:
	// ~350-character notes and one to three sources (the items suite).
	wideRows rowShape = iota
	// leanRows fill the same public columns (the same keys in every
	// feature) with a ~100-character note and one source: about half the
	// disk of wideRows, so that 10,000,000 of them fit the bench machine
	// (the growth suite).
	leanRows
)

// dataset is the source_dataset that marks a table's shape.
func (s rowShape) dataset() string {
	if s == leanRows {
		return "synthetic growth set"
	}
	return "ACLED 2024-10 export"
}

func (s rowShape) String() string {
	if s == leanRows {
		return "lean"
	}
	return "wide"
}

// genChunk is how many rows one transaction of a large generation writes:
// a stopped generation keeps its committed chunks and resumes after them.
const genChunk = 1_000_000

// ensureData makes the incidents table hold exactly n deterministic
// synthetic incidents of the given shape: 80% clustered round 500 hotspots
// (Gaussian, σ ≈ 0.3°), 20% spread over land-ish latitudes, every public
// column filled (see incidentsSQL). Generated inside PostgreSQL with live
// events and per-row enrichment off (bulk mode), into the table with all
// its indexes, as an import would: up to genChunk rows in one transaction,
// more in transactions of genChunk rows each, resumed after the last
// whole chunk when a generation was stopped. A table of another shape
// (or of narrow rows, older benches) is generated again. Returns how long
// generation took, 0 when the data was already there.
func ensureData(db *sql.DB, n int, shape rowShape) (time.Duration, error) {
	var have int
	if err := db.QueryRow(`SELECT count(*) FROM incidents`).Scan(&have); err != nil {
		return 0, err
	}
	var same bool
	if err := db.QueryRow(`SELECT coalesce((SELECT sources <> '[]' AND actor2 <> '' AND source_dataset = $1 FROM incidents ORDER BY id LIMIT 1), false)`,
		shape.dataset()).Scan(&same); err != nil {
		return 0, err
	}
	if have == n && same {
		log.Printf("reusing %d %s incidents", n, shape)
		return 0, nil
	}
	from := 0
	if same && n > genChunk && have < n && have%genChunk == 0 {
		from = have
		log.Printf("resuming the generation of %d %s incidents after %d", n, shape, have)
	} else {
		log.Printf("generating %d %s incidents (have %d, same shape %v)", n, shape, have, same)
	}
	start := time.Now()
	for lo := from; lo < n; lo += genChunk {
		hi := min(n, lo+genChunk)
		t0 := time.Now()
		if err := generateRows(db, lo, hi, shape); err != nil {
			return 0, err
		}
		log.Printf("generated incidents %d-%d in %v", lo+1, hi, time.Since(t0).Round(time.Second))
	}
	if _, err := db.Exec(`VACUUM ANALYZE incidents`); err != nil {
		return 0, err
	}
	d := time.Since(start)
	log.Printf("generated %d incidents in %v", n-from, d.Round(time.Second))
	return d, nil
}

// generateRows inserts the incidents numbered lo+1..hi in one transaction,
// emptying the table first when lo is 0. The hotspots are the same for
// every chunk (the same seed); each chunk then has a seed of its own.
func generateRows(db *sql.DB, lo, hi int, shape rowShape) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := []string{
		`SET LOCAL incidentmap.bulk = 'on'`,
		`SET LOCAL incidentmap.enrich = 'off'`,      // synthetic points need no gazetteer; derived columns are written below
		`SET LOCAL gin_pending_list_limit = '64MB'`, // fewer, larger merges into the search index
	}
	if lo == 0 {
		stmts = append(stmts, `TRUNCATE incidents CASCADE`)
	}
	stmts = append(stmts, `SELECT setseed(0.42)`,
		`CREATE TEMP TABLE hotspots ON COMMIT DROP AS
		   SELECT g AS id, -20 + random() * 160 AS lon, -35 + random() * 90 AS lat FROM generate_series(0, 499) g`)
	if lo > 0 {
		stmts = append(stmts, fmt.Sprintf(`SELECT setseed(%f)`, float64(lo/genChunk%1000)/1000))
	}
	stmts = append(stmts, incidentsSQL(shape, lo+1, hi))
	for _, s := range stmts {
		if _, err := tx.Exec(s); err != nil {
			return fmt.Errorf("generate %d-%d: %w", lo+1, hi, err)
		}
	}
	return tx.Commit()
}

// incidentsSQL inserts the synthetic incidents numbered from..to round the
// hotspots table with every public column filled. location_name stays
// 'Hotspot <id>' (densestCenter groups by it).
func incidentsSQL(shape rowShape, from, to int) string {
	notes, sources := wideNotesSQL, wideSourcesSQL
	if shape == leanRows {
		notes, sources = leanNotesSQL, leanSourcesSQL
	}
	return fmt.Sprintf(incidentsTemplateSQL, notes, sources, shape.dataset(), from, to)
}

const (
	wideNotesSQL = `format('On %s, %s attacked positions held by %s in and around %s (%s district, %s). '
	       'Local sources reported %s fatalities and damage to several residential buildings, a school and the water '
	       'supply; the figures could not be independently confirmed. Fighting in the area had intensified over the '
	       'preceding week, according to monitors on the ground.',
	       to_char(occurred_at, 'FMDD Month YYYY'), actor1, actor2, place, admin2, admin1, fatalities)`
	wideSourcesSQL = `(SELECT jsonb_agg(jsonb_build_object('name', (ARRAY['Reuters', 'Local monitoring network', 'Regional news agency',
	        'Humanitarian situation report', 'Official statement'])[1 + (g + k) % 5],
	        'url', 'https://news.example.org/' || to_char(occurred_at, 'YYYY/MM/DD') || '/report-' || g || '-' || k,
	        'date', to_char(occurred_at + k * interval '1 day', 'YYYY-MM-DD')))
	 FROM generate_series(1, 1 + g % 3) k)`
	leanNotesSQL   = `format('%s attacked %s near %s; %s fatalities reported.', actor1, actor2, place, fatalities)`
	leanSourcesSQL = `jsonb_build_array(jsonb_build_object('name', (ARRAY['Reuters', 'Local monitoring network', 'Regional news agency',
	        'Humanitarian situation report', 'Official statement'])[1 + g % 5],
	        'url', 'https://news.example.org/report-' || g, 'date', to_char(occurred_at, 'YYYY-MM-DD')))`
)

// incidentsTemplateSQL takes the notes and sources expressions, the
// source_dataset and the range of row numbers.
const incidentsTemplateSQL = `
INSERT INTO incidents (external_id, occurred_at, time_precision, event_type, sub_event_type, actor1, actor2,
	fatalities, title, notes, location_name, geom, geo_precision, status, sources, country_code, admin1,
	nearest_place_id, nearest_place_name, nearest_place_distance_m, border_distance_m,
	stated_country, stated_iso, stated_country_code, admin2, admin3, original_event_type,
	original_sub_event_type, source_dataset, source_file, geo_check)
SELECT 'SYN' || g, occurred_at, 1 + (g %% 7 = 0)::int, t, s, actor1, actor2,
	fatalities, s || ' in ' || admin2 || ', ' || admin1,
	%[1]s,
	'Hotspot ' || hid, geom, 1 + (g %% 3), CASE WHEN g %% 10 = 0 THEN 'disputed' ELSE 'verified' END,
	%[2]s,
	cc, admin1, 1 + g %% 199000, place, round((random() * 5000)::numeric, 1), round((random() * 80000)::numeric, 1),
	'Country ' || cc, (100 + hid %% 800)::text, cc, admin2, 'Commune ' || (g %% 50), t, s,
	'%[3]s', 'acled-2024-10.csv',
	CASE WHEN g %% 50 = 0 THEN '{country_mismatch}'::text[] ELSE '{}' END
FROM (
	SELECT g, h.id AS hid, e.t, e.s,
	       timestamptz '2018-01-01' + (random() * 2500) * interval '1 day' AS occurred_at,
	       'Military Forces of Country ' || (g %% 40) || ' (2018-)' AS actor1,
	       'Armed group ' || (g %% 97) || ' of the ' || (ARRAY['northern', 'southern', 'eastern', 'western'])[1 + g %% 4] || ' front' AS actor2,
	       (random() * random() * 20)::int AS fatalities,
	       (ARRAY['UA', 'SY', 'SD', 'MM', 'YE', 'ML', 'BF', 'CD', 'SO', 'NG'])[1 + h.id %% 10] AS cc,
	       'Province ' || (h.id %% 30) AS admin1, 'District ' || (h.id %% 200) AS admin2,
	       'Village ' || (g %% 5000) AS place,
	       ST_SetSRID(ST_MakePoint(
	           greatest(-180, least(180, CASE WHEN g %% 5 = 0 THEN -180 + random() * 360 ELSE h.lon + 0.3 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) END)),
	           greatest(-85, least(85, CASE WHEN g %% 5 = 0 THEN -60 + random() * 130 ELSE h.lat + 0.3 * sqrt(-2 * ln(1 - random())) * sin(2 * pi() * random()) END))), 4326) AS geom
	FROM generate_series(%[4]d, %[5]d) g
	JOIN hotspots h ON h.id = (g::bigint * 7919) %% 500
	JOIN (VALUES (0, 'Battles', 'Armed clash'), (1, 'Explosions/Remote violence', 'Shelling/artillery/missile attack'),
	             (2, 'Explosions/Remote violence', 'Air/drone strike'), (3, 'Violence against civilians', 'Attack'),
	             (4, 'Protests', 'Peaceful protest'), (5, 'Strategic developments', 'Agreement')) e(k, t, s) ON e.k = g %% 6
) base`

// densestCenter is the centre of the hotspot with the most public
// incidents within ±0.5° of it (hotspots overlap, so this is the densest
// place, not just the hotspot with most points of its own). A hotspot's
// centre is the mean of its points; hotspots whose points are spread over
// the world (the 20% uniform share lands on 100 of them) are left out.
func densestCenter(db *sql.DB) ([2]float64, error) {
	var c [2]float64
	err := db.QueryRow(`
		WITH h AS (
			SELECT avg(ST_X(geom)) AS lon, avg(ST_Y(geom)) AS lat FROM incidents
			WHERE location_name LIKE 'Hotspot %'
			GROUP BY location_name HAVING stddev(ST_X(geom)) < 2
		)
		SELECT lon, lat FROM h
		ORDER BY (SELECT count(*) FROM incidents i WHERE i.status IN ('verified', 'disputed')
		          AND i.geom && ST_MakeEnvelope(h.lon - 0.5, h.lat - 0.5, h.lon + 0.5, h.lat + 0.5, 4326)) DESC, lon
		LIMIT 1`).Scan(&c[0], &c[1])
	return c, err
}

// publicIn counts the public incidents (what the API shows) in a box.
func publicIn(db *sql.DB, b [4]float64) (int, error) { return publicInSpan(db, b, nil) }

// publicInSpan is publicIn within span when it is not nil.
func publicInSpan(db *sql.DB, b [4]float64, span *[2]time.Time) (int, error) {
	var from, to any
	if span != nil {
		from, to = span[0], span[1]
	}
	var n int
	err := db.QueryRow(`SELECT count(*) FROM incidents WHERE status IN ('verified', 'disputed')
		AND geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)
		AND ($5::timestamptz IS NULL OR occurred_at BETWEEN $5 AND $6)`, b[0], b[1], b[2], b[3], from, to).Scan(&n)
	return n, err
}

// windowFor finds a square bbox round c holding about target public
// incidents (target to target+5%).
func windowFor(db *sql.DB, c [2]float64, target int) ([4]float64, int, error) {
	return windowWithin(db, c, target, nil)
}

// windowWithin is windowFor counting only incidents within span (nil: all).
func windowWithin(db *sql.DB, c [2]float64, target int, span *[2]time.Time) ([4]float64, int, error) {
	lo, hi := 0.0001, 60.0
	var b [4]float64
	var n int
	for range 40 {
		half := (lo + hi) / 2
		b = [4]float64{c[0] - half, c[1] - half, c[0] + half, c[1] + half}
		var err error
		if n, err = publicInSpan(db, b, span); err != nil {
			return b, 0, err
		}
		switch {
		case n < target:
			lo = half
		case n > target*105/100:
			hi = half
		default:
			return b, n, nil
		}
	}
	return b, n, nil
}

func bboxParam(b [4]float64) string {
	return fmt.Sprintf("%.6f,%.6f,%.6f,%.6f", b[0], b[1], b[2], b[3])
}

// tileAt is the WebMercatorQuad tile (z, x, y) holding a point.
func tileAt(z int, lon, lat float64) (x, y int) {
	n := math.Exp2(float64(z))
	x = int(math.Floor((lon + 180) / 360 * n))
	r := lat * math.Pi / 180
	y = int(math.Floor((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n))
	clampInt := func(v int) int { return max(0, min(int(n)-1, v)) }
	return clampInt(x), clampInt(y)
}

// tileBBox is the lon/lat box of a tile, widened by margin (a fraction of
// the tile side), as ST_TileEnvelope(..., margin) would give.
func tileBBox(z, x, y int, margin float64) [4]float64 {
	n := math.Exp2(float64(z))
	lon := func(px float64) float64 { return px/n*360 - 180 }
	lat := func(py float64) float64 { return math.Atan(math.Sinh(math.Pi*(1-2*py/n))) * 180 / math.Pi }
	fx, fy := float64(x), float64(y)
	return [4]float64{
		max(-180, lon(fx-margin)), max(-85.0511, lat(fy+1+margin)),
		min(180, lon(fx+1+margin)), min(85.0511, lat(fy-margin)),
	}
}
