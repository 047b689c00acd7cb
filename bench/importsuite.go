package main

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

// acledCountries are countries ACLED covers, as its exports name them
// (ISO 3166-1 numeric iso column), weighted roughly by their share of
// recent ACLED events.
var acledCountries = []struct {
	code, name string
	iso, w     int
}{
	{"UA", "Ukraine", 804, 20}, {"SY", "Syria", 760, 10}, {"MX", "Mexico", 484, 6}, {"IN", "India", 356, 6},
	{"BR", "Brazil", 76, 5}, {"PK", "Pakistan", 586, 4}, {"YE", "Yemen", 887, 4}, {"MM", "Myanmar", 104, 4},
	{"NG", "Nigeria", 566, 4}, {"CD", "Democratic Republic of Congo", 180, 4}, {"SD", "Sudan", 729, 3},
	{"PS", "Palestine", 275, 3}, {"IQ", "Iraq", 368, 3}, {"AF", "Afghanistan", 4, 3}, {"CO", "Colombia", 170, 3},
	{"PH", "Philippines", 608, 2}, {"SO", "Somalia", 706, 2}, {"ML", "Mali", 466, 2}, {"BF", "Burkina Faso", 854, 2},
	{"ET", "Ethiopia", 231, 2}, {"CM", "Cameroon", 120, 2}, {"LY", "Libya", 434, 1}, {"AZ", "Azerbaijan", 31, 1},
	{"AM", "Armenia", 51, 1}, {"IL", "Israel", 376, 1}, {"LB", "Lebanon", 422, 1}, {"TR", "Turkey", 792, 1},
}

// acledKinds are current ACLED event types with a sub-event type, the
// disorder type and the interaction codes they usually carry.
var acledKinds = []struct{ disorder, event, sub, inter1, inter2 string }{
	{"Political violence", "Battles", "Armed clash", "1", "2"},
	{"Political violence", "Explosions/Remote violence", "Shelling/artillery/missile attack", "1", "1"},
	{"Political violence", "Explosions/Remote violence", "Air/drone strike", "1", "2"},
	{"Political violence", "Explosions/Remote violence", "Remote explosive/landmine/IED", "2", "7"},
	{"Political violence", "Violence against civilians", "Attack", "3", "7"},
	{"Political violence", "Violence against civilians", "Abduction/forced disappearance", "2", "7"},
	{"Demonstrations", "Protests", "Peaceful protest", "6", "0"},
	{"Demonstrations", "Protests", "Protest with intervention", "6", "1"},
	{"Demonstrations", "Riots", "Violent demonstration", "5", "1"},
	{"Strategic developments", "Strategic developments", "Looting/property destruction", "2", "7"},
	{"Strategic developments", "Strategic developments", "Arrests", "1", "6"},
}

// acledHeader is the current ACLED export layout.
var acledHeader = []string{
	"event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
	"actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
	"iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude",
	"geo_precision", "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
}

// benchLocation is one place events happen at.
type benchLocation struct {
	name, admin1, code string
	lon, lat           float64
}

// importLocations draws the distinct locations of the file from the
// gazetteer loaded in db: n places of the ACLED countries, by weight.
// Real ACLED files repeat locations (every event in a town has the
// town's coordinates); a third are moved up to ~2 km, as ACLED's
// village-level coordinates are not the gazetteer's.
func importLocations(db *sql.DB, n int, rng *rand.Rand) ([]benchLocation, error) {
	var out []benchLocation
	total := 0
	for _, c := range acledCountries {
		total += c.w
	}
	for _, c := range acledCountries {
		want := n * c.w / total
		rows, err := db.Query(`SELECT name, admin1, ST_X(geom), ST_Y(geom) FROM places WHERE country_code = $1
			ORDER BY hashint8(id) LIMIT $2`, c.code, want)
		if err != nil {
			return nil, fmt.Errorf("places of %s: %w", c.code, err)
		}
		var got []benchLocation
		for rows.Next() {
			l := benchLocation{code: c.code}
			if err := rows.Scan(&l.name, &l.admin1, &l.lon, &l.lat); err != nil {
				rows.Close()
				return nil, err
			}
			got = append(got, l)
		}
		rows.Close()
		if len(got) == 0 {
			continue
		}
		// Countries with fewer gazetteer places than wanted repeat them,
		// moved a little.
		for i := 0; i < want; i++ {
			l := got[i%len(got)]
			if i%3 == 0 || i >= len(got) {
				l.lon += (rng.Float64() - 0.5) * 0.04
				l.lat += (rng.Float64() - 0.5) * 0.04
			}
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no places loaded")
	}
	return out, nil
}

// writeImportCSV writes n ACLED rows at the given locations to path.
func writeImportCSV(path string, n int, locs []benchLocation, rng *rand.Rand) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	w.Write(acledHeader)
	iso := map[string]struct {
		name string
		iso  int
	}{}
	for _, c := range acledCountries {
		iso[c.code] = struct {
			name string
			iso  int
		}{c.name, c.iso}
	}
	start := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := make([]string, len(acledHeader))
	for i := range n {
		l := locs[rng.IntN(len(locs))]
		k := acledKinds[rng.IntN(len(acledKinds))]
		c := iso[l.code]
		day := start.AddDate(0, 0, rng.IntN(2500))
		fat := 0
		if k.disorder == "Political violence" && rng.IntN(3) == 0 {
			fat = rng.IntN(12)
		}
		actor1 := fmt.Sprintf("Military Forces of %s (%d-)", c.name, 1990+rng.IntN(30))
		actor2 := ""
		if k.inter2 != "0" {
			actor2 = fmt.Sprintf("Unidentified Armed Group (%s)", c.name)
		}
		civ := ""
		if k.event == "Violence against civilians" {
			civ = "Civilian targeting"
		}
		date := day.Format("2006-01-02")
		notes := fmt.Sprintf("On %s, %s were reported near %s (%s). Local sources gave differing accounts of the "+
			"sequence of events; %d fatalities are coded as the most conservative estimate. Reports cite residents "+
			"and officials; further details were not available at the time of coding.", day.Format("2 January 2006"),
			strings.ToLower(k.sub), l.name, l.admin1, fat)
		r := map[string]string{
			"event_id_cnty": fmt.Sprintf("%s%d", l.code, 100000+i), "event_date": date, "year": strconv.Itoa(day.Year()),
			"time_precision": strconv.Itoa(1 + rng.IntN(10)/8), "disorder_type": k.disorder, "event_type": k.event,
			"sub_event_type": k.sub, "actor1": actor1, "assoc_actor_1": "", "inter1": k.inter1, "actor2": actor2,
			"assoc_actor_2": "", "inter2": k.inter2, "interaction": k.inter1 + k.inter2, "civilian_targeting": civ,
			"iso": strconv.Itoa(c.iso), "region": "", "country": c.name, "admin1": l.admin1, "admin2": "", "admin3": "",
			"location": l.name, "latitude": strconv.FormatFloat(l.lat, 'f', 4, 64),
			"longitude": strconv.FormatFloat(l.lon, 'f', 4, 64), "geo_precision": strconv.Itoa(1 + rng.IntN(10)/7),
			"source": "Local media; Regional outlet", "source_scale": "Subnational", "notes": notes,
			"fatalities": strconv.Itoa(fat), "tags": "", "timestamp": strconv.FormatInt(day.AddDate(0, 0, 9).Unix(), 10),
		}
		for j, col := range acledHeader {
			rec[j] = r[col]
		}
		if err := w.Write(rec); err != nil {
			f.Close()
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// importLine is the import command's summary line.
var importLine = regexp.MustCompile(`(\d+) rows: (\d+) inserted, (\d+) updated, (\d+) unchanged, (\d+) invalid \(skipped\) in (\S+) \((\d+) rows/s\)`)

// importRun is one run of the import command.
type importRun struct {
	wall   time.Duration
	out    string   // its standard output
	cpu    cpuUse   // app: the import process; db: the server's PostgreSQL
	phases []string // its progress lines, with their elapsed times
}

// runImport runs `incidentmap import` on path against srv's database.
func runImport(cfg config, srv *server, dir, path string) (importRun, error) {
	cmd := exec.Command(cfg.binary, "import", path, "--data-dir", dir)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	meter := startCPU(srv)
	start := time.Now()
	err := cmd.Run()
	run := importRun{wall: time.Since(start), out: stdout.String()}
	run.cpu = meter.stop(0)
	if cmd.ProcessState != nil {
		run.cpu.app = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	for _, l := range strings.Split(strings.ReplaceAll(stderr.String(), "\r", "\n"), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") && strings.Contains(l, "   0% writing incidents") {
			l = l[strings.Index(l, "writing"):] // the merge starts
		}
		if l != "" && !strings.HasPrefix(l, "[") {
			run.phases = append(run.phases, l)
		}
	}
	log.Printf("import: %s%s", stderr.String(), stdout.String())
	if err != nil {
		return run, fmt.Errorf("import: %w: %s", err, oneLine(stderr.String()))
	}
	return run, nil
}

// importSuite times `incidentmap import` of a generated ACLED file of
// cfg.rows rows into an empty incidents table of a fresh data dir with
// the gazetteer (GeoNames cities500) and the country borders loaded, so every
// row is enriched; then imports the file again (nothing changes).
func importSuite(cfg config, _ *dataset) (string, error) {
	dir := cfg.dir + "-import"
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	os.Chmod(dir, 0o755)
	srv, err := startServer(cfg.binary, dir)
	if err != nil {
		return "", err
	}
	defer srv.stop()
	t0 := time.Now()
	for _, args := range [][]string{{"places", "load", "--reenrich=false"}, {"borders", "load"}} {
		cmd := exec.Command(cfg.binary, append(args, "--data-dir", dir)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, oneLine(string(out)))
		}
	}
	geoLoad := time.Since(t0)
	dsn, err := localpg.RunningDSN(filepath.Join(dir, "postgres"), "incidentmap")
	if err != nil {
		return "", err
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var places, parts, borders int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM places), (SELECT count(*) FROM country_parts),
		(SELECT count(*) FROM border_parts)`).Scan(&places, &parts, &borders); err != nil {
		return "", err
	}
	rng := rand.New(rand.NewPCG(42, uint64(cfg.rows)))
	locs, err := importLocations(db, max(cfg.rows/5, 100), rng)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("acled-%d.csv", cfg.rows))
	t0 = time.Now()
	if err := writeImportCSV(path, cfg.rows, locs, rng); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	log.Printf("wrote %s (%d MB) in %v", path, st.Size()>>20, time.Since(t0).Round(time.Second))

	first, err := runImport(cfg, srv, dir, path)
	if err != nil {
		return "", err
	}
	m1 := importLine.FindStringSubmatch(first.out)
	if m1 == nil || m1[2] != strconv.Itoa(cfg.rows) {
		return "", fmt.Errorf("import did not insert %d rows: %s", cfg.rows, oneLine(first.out))
	}
	var mismatch, noCountry, stated, enriched, distinct int
	if err := db.QueryRow(`SELECT count(*) FILTER (WHERE geo_check @> '{country_mismatch}'),
		count(*) FILTER (WHERE geo_check @> '{no_country}'), count(*) FILTER (WHERE stated_country_code IS NOT NULL),
		count(*) FILTER (WHERE nearest_place_id IS NOT NULL AND border_distance_m IS NOT NULL),
		count(DISTINCT geom) FROM incidents`).Scan(&mismatch, &noCountry, &stated, &enriched, &distinct); err != nil {
		return "", err
	}
	again, err := runImport(cfg, srv, dir, path)
	if err != nil {
		return "", err
	}
	return importReport(importFigures{
		rows: cfg.rows, sizeMB: st.Size() >> 20, distinct: distinct, places: places, parts: parts, borders: borders,
		geoLoad: geoLoad, first: first, again: again, m1: m1, m2: importLine.FindStringSubmatch(again.out),
		mismatch: mismatch, noCountry: noCountry, stated: stated, enriched: enriched,
	}), nil
}

// importFigures is what importSuite measured: the data set, the two runs
// (m1, m2: their output lines matched by importLine; m2 nil if it did not
// match) and the enrichment's counts.
type importFigures struct {
	rows, distinct, places, parts, borders int
	sizeMB                                 int64
	geoLoad                                time.Duration
	first, again                           importRun
	m1, m2                                 []string
	mismatch, noCountry, stated, enriched  int
}

// importReport writes importSuite's report (Markdown).
func importReport(f importFigures) string {
	first, again, m1, m2 := f.first, f.again, f.m1, f.m2
	var b strings.Builder
	fmt.Fprintf(&b, "`incidentmap import` of a generated ACLED CSV (current layout, %d rows, %d MB, %d distinct locations drawn from "+
		"the gazetteer's places in %d ACLED countries, a third moved up to 2 km; ~350-character notes) into an empty incidents "+
		"table, with the gazetteer (%d places) and borders (%d country parts, %d border parts) loaded (%v). Each run is a separate "+
		"process on the running server's PostgreSQL; wall time includes reading, staging, set-based enrichment, merging and commit.\n\n",
		f.rows, f.sizeMB, f.distinct, len(acledCountries), f.places, f.parts, f.borders, f.geoLoad.Round(time.Second))
	b.WriteString("| run | rows | wall time | rows/s (wall) | command's own figure | CPU: PostgreSQL | CPU: import process |\n" +
		"|---|---:|---:|---:|---|---:|---:|\n")
	fmt.Fprintf(&b, "| first import (all inserted) | %d | %v | **%.0f** | %s rows/s in %s | %v | %v |\n", f.rows,
		first.wall.Round(100*time.Millisecond), float64(f.rows)/first.wall.Seconds(), m1[7], m1[6],
		first.cpu.db.Round(100*time.Millisecond), first.cpu.app.Round(100*time.Millisecond))
	if m2 != nil {
		fmt.Fprintf(&b, "| same file again (%s unchanged) | %d | %v | %.0f | %s rows/s in %s | %v | %v |\n", m2[4], f.rows,
			again.wall.Round(100*time.Millisecond), float64(f.rows)/again.wall.Seconds(), m2[7], m2[6],
			again.cpu.db.Round(100*time.Millisecond), again.cpu.app.Round(100*time.Millisecond))
	}
	fmt.Fprintf(&b, "\nPhases of the first import (elapsed at the start of each): %s.\n", strings.Join(first.phases, "; "))
	fmt.Fprintf(&b, "\nGoal: 1,000,000 rows in under 3 minutes (%.0f rows/s).", 1e6/180)
	if f.rows >= 1_000_000 {
		verdict := "met"
		if first.wall > 3*time.Minute {
			verdict = "not met"
		}
		fmt.Fprintf(&b, " At %d rows, by wall time: %s. The import's statements run one after another on one PostgreSQL "+
			"backend, so on a machine with a core free for it the import takes about PostgreSQL's CPU time (%v; it also counts "+
			"checkpoints and autovacuum meanwhile).", f.rows, verdict, first.cpu.db.Round(time.Second))
	}
	if f.stated == 0 {
		b.WriteString("\n\nNo row states a country: the ACLED reader of this build does not read the stated country yet.")
	}
	fmt.Fprintf(&b, "\n\nEnriched: %d of %d rows with a nearest place and a border distance. Stated vs derived country: %d rows state a country; "+
		"%d differ from the polygon's (country_mismatch), %d lie in no country polygon (no_country): agreement %.2f%% "+
		"(synthetic locations from GeoNames places, whose country is not always the polygon's; not ACLED's own).\n",
		f.enriched, f.rows, f.stated, f.mismatch, f.noCountry, 100*float64(f.stated-f.mismatch-f.noCountry)/float64(max(f.stated, 1)))
	return b.String()
}
