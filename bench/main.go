// Command bench measures incidentmap against its physical limit: the
// GeoJSON items endpoint (wrk, 16 connections, loopback) side by side, in
// the same run, with PostgreSQL producing the same GeoJSON text in one SQL
// statement (pgbench, same concurrency). It writes a markdown table to
// bench/results/. Run it with `make bench`.
package main

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

type config struct {
	rows     int
	dir      string
	binary   string
	duration time.Duration
	conns    int
	out      string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.rows, "n", 1_000_000, "incidents in the data set")
	flag.StringVar(&cfg.dir, "dir", filepath.Join(os.TempDir(), "incidentmap-bench"), "data dir (kept between runs; the data set is reused when its size matches)")
	flag.StringVar(&cfg.binary, "bin", "bin/incidentmap", "incidentmap binary")
	flag.DurationVar(&cfg.duration, "d", 10*time.Second, "duration of each measurement")
	flag.IntVar(&cfg.conns, "c", 16, "concurrent clients")
	flag.StringVar(&cfg.out, "out", "bench/results", "directory for the results table")
	flag.Parse()
	if err := run(cfg); err != nil {
		log.Fatalf("bench: %v", err)
	}
}

// measurement is one side of a comparison.
type measurement struct {
	reqPerSec float64
	p50, p99  time.Duration
}

type row struct {
	window   string
	features int
	bytes    int
	http     measurement
	sql      measurement
	peakRSS  int64 // KiB
}

func run(cfg config) error {
	for _, tool := range []string{"wrk", "pgbench"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: run make deps", tool)
		}
	}
	if err := os.MkdirAll(cfg.dir, 0o755); err != nil {
		return err
	}
	os.Chmod(cfg.dir, 0o755)
	srv, err := startServer(cfg)
	if err != nil {
		return err
	}
	defer srv.stop()
	dsn, err := localpg.RunningDSN(filepath.Join(cfg.dir, "postgres"), "incidentmap")
	if err != nil {
		return err
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ensureData(db, cfg.rows); err != nil {
		return err
	}
	center, err := densestCenter(db)
	if err != nil {
		return err
	}
	var rows []row
	for _, target := range []int{100, 1000, 10000} {
		bbox, n, err := windowFor(db, center, target)
		if err != nil {
			return err
		}
		log.Printf("window ~%d: bbox %s holds %d incidents", target, bbox, n)
		r, err := measure(cfg, srv, dsn, bbox, n)
		if err != nil {
			return err
		}
		r.window = fmt.Sprintf("~%d", target)
		rows = append(rows, r)
	}
	return writeResults(cfg, rows)
}

// server is the incidentmap process under test.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// startServer runs `incidentmap serve` on a free loopback port with
// request logging off (warn level), and waits until it is ready.
func startServer(cfg config) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(cfg.binary, "serve", "--data-dir", cfg.dir, "--addr", addr, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.binary, err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return nil, errors.New("server exited at start")
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
	cmd.Process.Kill()
	return nil, errors.New("server did not become ready")
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
	}
}

// ensureData makes the incidents table hold exactly n deterministic
// synthetic incidents: 80% clustered around 500 hotspots (Gaussian, σ ≈
// 0.3°), 20% spread over land-ish latitudes. Generated inside PostgreSQL,
// with live events and per-row enrichment off (bulk mode).
func ensureData(db *sql.DB, n int) error {
	var have int
	if err := db.QueryRow(`SELECT count(*) FROM incidents`).Scan(&have); err != nil {
		return err
	}
	if have == n {
		log.Printf("reusing %d incidents", n)
		return nil
	}
	log.Printf("generating %d incidents (have %d)", n, have)
	start := time.Now()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := []string{
		`SET LOCAL incidentmap.bulk = 'on'`,
		`SET LOCAL incidentmap.enrich = 'off'`, // synthetic points need no gazetteer
		`TRUNCATE incidents CASCADE`,
		`SELECT setseed(0.42)`,
		`CREATE TEMP TABLE hotspots ON COMMIT DROP AS
		   SELECT g AS id, -20 + random() * 160 AS lon, -35 + random() * 90 AS lat FROM generate_series(0, 499) g`,
		fmt.Sprintf(`INSERT INTO incidents (occurred_at, time_precision, event_type, sub_event_type, actor1, fatalities, title, notes, location_name, geom, geo_precision, status, sources)
		 SELECT timestamptz '2018-01-01' + (random() * 2500) * interval '1 day', 1,
		        e.t, e.s, 'Synthetic actor ' || (g %% 40), (random() * random() * 20)::int,
		        'Synthetic incident ' || g, 'Generated for benchmarks.', 'Hotspot ' || h.id,
		        ST_SetSRID(ST_MakePoint(
		            greatest(-180, least(180, CASE WHEN g %% 5 = 0 THEN -180 + random() * 360 ELSE h.lon + 0.3 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) END)),
		            greatest(-85, least(85, CASE WHEN g %% 5 = 0 THEN -60 + random() * 130 ELSE h.lat + 0.3 * sqrt(-2 * ln(1 - random())) * sin(2 * pi() * random()) END))), 4326),
		        1 + (g %% 3), CASE WHEN g %% 10 = 0 THEN 'disputed' ELSE 'verified' END, '[]'
		 FROM generate_series(1, %d) g
		 JOIN hotspots h ON h.id = (g::bigint * 7919) %% 500
		 JOIN (VALUES (0, 'Battles', 'Armed clash'), (1, 'Explosions/Remote violence', 'Shelling/artillery/missile attack'),
		              (2, 'Explosions/Remote violence', 'Air/drone strike'), (3, 'Violence against civilians', 'Attack'),
		              (4, 'Protests', 'Peaceful protest'), (5, 'Strategic developments', 'Agreement')) e(k, t, s) ON e.k = g %% 6`, n),
	}
	for _, s := range stmts {
		if _, err := tx.Exec(s); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if _, err := db.Exec(`VACUUM ANALYZE incidents`); err != nil {
		return err
	}
	log.Printf("generated in %v", time.Since(start).Round(time.Second))
	return nil
}

// densestCenter is the hotspot with most incidents.
func densestCenter(db *sql.DB) ([2]float64, error) {
	var c [2]float64
	err := db.QueryRow(`SELECT avg(ST_X(geom)), avg(ST_Y(geom)) FROM incidents
		WHERE location_name = (SELECT location_name FROM incidents GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
		  AND id % 5 <> 0`).Scan(&c[0], &c[1])
	return c, err
}

// windowFor finds a square bbox around c holding about target public incidents.
func windowFor(db *sql.DB, c [2]float64, target int) (string, int, error) {
	lo, hi := 0.0001, 60.0
	var bbox string
	var n int
	for i := 0; i < 40; i++ {
		half := (lo + hi) / 2
		bbox = fmt.Sprintf("%.6f,%.6f,%.6f,%.6f", c[0]-half, c[1]-half, c[0]+half, c[1]+half)
		if err := db.QueryRow(`SELECT count(*) FROM incidents WHERE status IN ('verified', 'disputed')
			AND geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)`, c[0]-half, c[1]-half, c[0]+half, c[1]+half).Scan(&n); err != nil {
			return "", 0, err
		}
		switch {
		case n < target:
			lo = half
		case n > target*105/100:
			hi = half
		default:
			return bbox, n, nil
		}
	}
	return bbox, n, nil
}

func measure(cfg config, srv *server, dsn, bbox string, n int) (row, error) {
	r := row{features: min(n, 10000)}
	target := srv.url + "/api/collections/incidents/items?limit=10000&bbox=" + bbox
	res, err := http.Get(target)
	if err != nil {
		return r, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return r, fmt.Errorf("GET %s: %s", target, res.Status)
	}
	r.bytes = len(body)

	// HTTP side, sampling the server's RSS meanwhile.
	var peak atomic.Int64
	stopRSS := make(chan struct{})
	go sampleRSS(srv.cmd.Process.Pid, &peak, stopRSS)
	r.http, err = runWrk(cfg, target)
	close(stopRSS)
	if err != nil {
		return r, err
	}
	r.peakRSS = peak.Load()

	// SQL side: the same page produced by one statement.
	q, err := geo.ParseIncidentQuery(url.Values{"bbox": {bbox}, "limit": {"10000"}})
	if err != nil {
		return r, err
	}
	stmt, args, err := postgis.IncidentCollectionSQL(q)
	if err != nil {
		return r, err
	}
	r.sql, err = runPgbench(cfg, dsn, inline(stmt, args))
	return r, err
}

func sampleRSS(pid int, peak *atomic.Int64, stop <-chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
				if kb > peak.Load() {
					peak.Store(kb)
				}
			}
		}
	}
}

var (
	wrkReqs    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkLatency = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)`)
)

func runWrk(cfg config, target string) (measurement, error) {
	out, err := exec.Command("wrk", "-t2", fmt.Sprintf("-c%d", cfg.conns), "-d", cfg.duration.String(), "--latency", target).CombinedOutput()
	if err != nil {
		return measurement{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	var m measurement
	if s := wrkReqs.FindSubmatch(out); s != nil {
		m.reqPerSec, _ = strconv.ParseFloat(string(s[1]), 64)
	}
	for _, s := range wrkLatency.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(s[2]), 64)
		d := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(s[3])]
		lat := time.Duration(v * float64(d))
		if string(s[1]) == "50" {
			m.p50 = lat
		} else {
			m.p99 = lat
		}
	}
	if strings.Contains(string(out), "Non-2xx") {
		return m, fmt.Errorf("wrk saw errors:\n%s", out)
	}
	return m, nil
}

// inline writes args into stmt as literals for pgbench. The values are the
// bench's own numbers and arrays, never user input.
func inline(stmt string, args []any) string {
	for i := len(args); i >= 1; i-- {
		var lit string
		switch v := args[i-1].(type) {
		case float64:
			lit = strconv.FormatFloat(v, 'g', -1, 64)
		case int:
			lit = strconv.Itoa(v)
		default:
			s := fmt.Sprint(v)
			if val, ok := v.(driver.Valuer); ok {
				x, _ := val.Value()
				s = fmt.Sprint(x)
			}
			lit = "'" + strings.ReplaceAll(s, "'", "''") + "'"
		}
		stmt = strings.ReplaceAll(stmt, fmt.Sprintf("$%d", i), lit)
	}
	return strings.Join(strings.Fields(stmt), " ")
}

var pgbenchTPS = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

func runPgbench(cfg config, dsn, stmt string) (measurement, error) {
	dir, err := os.MkdirTemp("", "pgbench-")
	if err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	script := filepath.Join(dir, "items.sql")
	if err := os.WriteFile(script, []byte(stmt+";\n"), 0o644); err != nil {
		return measurement{}, err
	}
	host, db := dsnField(dsn, "host"), dsnField(dsn, "dbname")
	cmd := exec.Command("pgbench", "-n", "-h", host, "-U", "postgres", "-c", strconv.Itoa(cfg.conns), "-j", strconv.Itoa(runtime.NumCPU()),
		"-T", strconv.Itoa(int(cfg.duration.Seconds())), "-f", script, "--log", "--log-prefix", filepath.Join(dir, "log"), db)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return measurement{}, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	var m measurement
	if s := pgbenchTPS.FindSubmatch(out); s != nil {
		m.reqPerSec, _ = strconv.ParseFloat(string(s[1]), 64)
	}
	// Per-transaction logs: the third field is the latency in µs.
	logs, _ := filepath.Glob(filepath.Join(dir, "log*"))
	var lats []int64
	for _, f := range logs {
		b, _ := os.ReadFile(f)
		for _, line := range strings.Split(string(b), "\n") {
			if fs := strings.Fields(line); len(fs) > 2 {
				us, _ := strconv.ParseInt(fs[2], 10, 64)
				lats = append(lats, us)
			}
		}
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	if len(lats) > 0 {
		m.p50 = time.Duration(lats[len(lats)/2]) * time.Microsecond
		m.p99 = time.Duration(lats[len(lats)*99/100]) * time.Microsecond
	}
	return m, nil
}

func dsnField(dsn, key string) string {
	for _, f := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

func writeResults(cfg config, rows []row) error {
	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`model name\s*:\s*(.*)`).FindSubmatch(b); m != nil {
			cpu = string(m[1])
		}
	}
	var b strings.Builder
	now := time.Now().UTC()
	fmt.Fprintf(&b, "# Items benchmark, %s\n\n", now.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Machine: %d cores, %s. Commit %s. %d incidents; %d concurrent clients, %v per measurement, loopback.\n\n",
		runtime.NumCPU(), cpu, strings.TrimSpace(string(commit)), cfg.rows, cfg.conns, cfg.duration)
	fmt.Fprintln(&b, "HTTP: `wrk` on `GET /api/collections/incidents/items?limit=10000&bbox=…` (streamed GeoJSON, plus numberMatched and ETag work).")
	fmt.Fprintln(&b, "SQL: `pgbench` running one statement that builds the same FeatureCollection text in PostgreSQL (the physical limit).")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "| window | features | bytes | HTTP req/s | HTTP p50 | HTTP p99 | SQL req/s | SQL p50 | SQL p99 | HTTP/SQL | server peak RSS |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %v | %v | %.0f | %v | %v | %.2f | %d MiB |\n",
			r.window, r.features, r.bytes, r.http.reqPerSec, r.http.p50.Round(10*time.Microsecond), r.http.p99.Round(10*time.Microsecond),
			r.sql.reqPerSec, r.sql.p50.Round(10*time.Microsecond), r.sql.p99.Round(10*time.Microsecond),
			r.http.reqPerSec/r.sql.reqPerSec, r.peakRSS/1024)
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(cfg.out, "items-"+now.Format("20060102-1504")+".md")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Print(b.String())
	log.Printf("wrote %s", path)
	return nil
}
