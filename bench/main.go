// Command bench measures incidentmap against its physical limits, on
// loopback, with one server and one synthetic data set shared by every
// suite:
//
//   - items:  the GeoJSON items endpoint (wrk) beside PostgreSQL building
//     the same page in one statement (pgbench), for ~100/~1000/~10000
//     feature windows round the densest hotspot;
//   - tiles:  vector tiles at z 2, 5, 8, 11, 14 over the densest hotspot,
//     cold (rendered afresh) and warm (from the server's tile cache)
//     (wrk), beside the server's own ST_AsMVT statement (pgbench, simple
//     and prepared protocol);
//   - growth: the ~100-feature window and a cold z 11 tile at several table
//     sizes, with the items query's EXPLAIN (ANALYZE, BUFFERS);
//   - map:    headless Chromium, time from navigation to the first render
//     of the world view and of a view holding ~10,000 incidents;
//   - import: `incidentmap import` of a generated ACLED CSV of -n rows
//     into a fresh data dir with places and borders loaded (its own
//     server; the main data set is not opened when it runs alone).
//
// It writes one markdown file per run to bench/results/. Run it with
// `make bench`, or `go run ./bench -suite tiles` for one suite.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// suites in the order they run: those on the main data set first, growth
// and import (which start servers of their own) last.
var allSuites = []string{"items", "tiles", "coldtiles", "map", "mapzoom", "growth", "import"}

// standaloneSuites need no main data set.
var standaloneSuites = []string{"import"}

type config struct {
	rows   int
	dir    string
	gdir   string // base of the growth data dirs (GDIR-100k...); default dir
	binary string
	// baseBinary, when set, is a second build the items suite measures
	// beside binary, interleaved on the same database (before/after).
	baseBinary string
	duration   time.Duration
	conns      int
	out        string
	suites     []string
	growth     []int
	mapRuns    int
	rounds     int
	chromium   string
	lean       bool // the main data set has the growth sets' lean rows
	// coldSumsOnly measures cold tiles without the point-scan baseline
	// and the write cost (for 10M incidents).
	coldSumsOnly bool
}

func main() {
	var cfg config
	var suites, growth string
	var prepare bool
	flag.IntVar(&cfg.rows, "n", 1_000_000, "incidents in the main data set")
	flag.StringVar(&cfg.dir, "dir", filepath.Join(os.TempDir(), "incidentmap-bench"),
		"data dir of the main data set (kept between runs; reused when its size matches); growth uses DIR-100k, DIR-5m...")
	flag.BoolVar(&cfg.lean, "lean", false, "the main data set has lean rows, as the growth sets (-dir DIR-10m -n 10000000 -lean measures a growth set); without it a lean set in -dir is generated again as wide rows")
	flag.BoolVar(&cfg.coldSumsOnly, "cold-sums-only", false, "coldtiles: time only the server's statements (no point-scan baseline, no write cost), for 10M incidents")
	flag.StringVar(&cfg.gdir, "growth-dir", "", "base of the growth data dirs (GDIR-100k, GDIR-10m...); default -dir")
	flag.StringVar(&cfg.binary, "bin", "bin/incidentmap", "incidentmap binary")
	flag.StringVar(&cfg.baseBinary, "base-bin", "", "items: a second incidentmap binary (e.g. the build before a change) measured beside -bin in the same interleaved rounds, on the same database")
	flag.DurationVar(&cfg.duration, "d", 5*time.Second, "duration of each load measurement")
	flag.IntVar(&cfg.conns, "c", 16, "concurrent clients")
	flag.StringVar(&cfg.out, "out", "bench/results", "directory for the results file")
	flag.StringVar(&suites, "suite", envOr("BENCH_SUITES", strings.Join(allSuites, ",")),
		"comma-separated suites to run: "+strings.Join(allSuites, ",")+" (env BENCH_SUITES)")
	flag.StringVar(&growth, "growth", envOr("BENCH_GROWTH", "100000,1000000,10000000"),
		"comma-separated table sizes of the growth suite (env BENCH_GROWTH); 10000000 takes most of an hour to generate on a cold data dir (kept and reused; see -prepare)")
	flag.IntVar(&cfg.rounds, "rounds", 2, "interleaved rounds of each items shape (ours, limit, own); the best of each side counts")
	flag.IntVar(&cfg.mapRuns, "map-runs", 3, "page loads per map view, each in a fresh browser")
	flag.StringVar(&cfg.chromium, "chromium", envOr("CHROMIUM", ""), "Chromium binary (default: /usr/bin/chromium or chromium on PATH)")
	flag.BoolVar(&prepare, "prepare", false, "only generate the growth data sets (-growth sizes, lean rows) and exit")
	flag.Parse()
	if cfg.gdir == "" {
		cfg.gdir = cfg.dir
	}
	var err error
	if cfg.suites, err = parseSuites(suites); err != nil {
		log.Fatalf("bench: %v", err)
	}
	if cfg.growth, err = parseSizes(growth); err != nil {
		log.Fatalf("bench: -growth: %v", err)
	}
	if prepare {
		if err := prepareGrowth(cfg); err != nil {
			log.Fatalf("bench: -prepare: %v", err)
		}
		return
	}
	if err := run(cfg); err != nil {
		log.Fatalf("bench: %v", err)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func parseSuites(s string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(allSuites, name) {
			return nil, fmt.Errorf("unknown suite %q (have %s)", name, strings.Join(allSuites, ","))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no suite selected")
	}
	// Run in the canonical order whatever the order given.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(allSuites, a) - slices.Index(allSuites, b) })
	return out, nil
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1000 {
			return nil, fmt.Errorf("bad size %q (want at least 1000)", f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// suite runs against the main data set and returns its markdown section.
type suite func(cfg config, main *dataset) (string, error)

func run(cfg config) error {
	start := time.Now()
	needMain := slices.ContainsFunc(cfg.suites, func(s string) bool { return !slices.Contains(standaloneSuites, s) })
	var ds *dataset
	if needMain {
		for _, tool := range []string{"wrk", "pgbench"} {
			if _, err := exec.LookPath(tool); err != nil {
				return fmt.Errorf("%s not found: run make deps", tool)
			}
		}
		if slices.Contains(cfg.suites, "map") || slices.Contains(cfg.suites, "mapzoom") {
			if _, err := chromiumPath(cfg); err != nil {
				return err
			}
		}
		var err error
		if ds, err = openDataset(cfg, cfg.dir, cfg.rows); err != nil {
			return err
		}
		defer ds.close()
	}
	rep := newReport(cfg, ds)
	suites := map[string]suite{"items": itemsSuite, "tiles": tilesSuite, "coldtiles": coldTilesSuite, "map": mapSuite, "mapzoom": mapZoomSuite, "growth": growthSuite, "import": importSuite}
	var failed []string
	for _, name := range cfg.suites {
		log.Printf("suite %s", name)
		t0 := time.Now()
		section, err := suites[name](cfg, ds)
		if err != nil {
			log.Printf("suite %s failed: %v", name, err)
			section += fmt.Sprintf("\n**The suite failed:** `%v`\n", oneLine(err.Error()))
			failed = append(failed, name)
		}
		rep.add(name, section, time.Since(t0))
	}
	path, err := rep.write(time.Since(start))
	if err != nil {
		return err
	}
	log.Printf("wrote %s in %v", path, time.Since(start).Round(time.Second))
	if len(failed) > 0 {
		return fmt.Errorf("suites failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return strings.ReplaceAll(s, "`", "'")
}
