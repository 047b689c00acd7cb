package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is the markdown file of one run.
type report struct {
	cfg      config
	start    time.Time
	header   strings.Builder
	sections strings.Builder
}

var suiteTitles = map[string]string{
	"items":     "Items (GeoJSON)",
	"tiles":     "Vector tiles",
	"coldtiles": "Cold cluster tiles and the timeline (#17)",
	"map":       "Map first render (headless Chromium)",
	"growth":    "Growth",
	"import":    "Import (ACLED CSV, geography loaded)",
}

func newReport(cfg config, ds *dataset) *report {
	r := &report{cfg: cfg, start: time.Now().UTC()}
	b := &r.header
	fmt.Fprintf(b, "# incidentmap benchmark, %s\n\n", r.start.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(b, "- Machine: %d cores, %s, %s RAM; %s; load average at start %s (shared machine: other work may run meanwhile)\n",
		runtime.NumCPU(), cpuModel(), memTotal(), osName(), loadAvg())
	fmt.Fprintf(b, "- Commit: %s\n", commit())
	var pg, postgis string
	if ds != nil {
		ds.db.QueryRow(`SELECT current_setting('server_version'), postgis_lib_version()`).Scan(&pg, &postgis)
	} else {
		pg, postgis = "(see the suite)", "(see the suite)"
	}
	fmt.Fprintf(b, "- Software: %s, PostgreSQL %s (embedded, default settings of `localpg`), PostGIS %s, wrk, pgbench", runtime.Version(), pg, postgis)
	if slices.Contains(cfg.suites, "map") {
		if exe, err := chromiumPath(cfg); err == nil {
			if out, err := exec.Command(exe, "--version").Output(); err == nil {
				fmt.Fprintf(b, ", %s", strings.TrimSpace(string(out)))
			}
		}
	}
	fmt.Fprintln(b)
	if ds == nil {
		fmt.Fprintf(b, "- Suites: %s (`go run ./bench -suite %s -n %d`)\n", strings.Join(cfg.suites, ", "), strings.Join(cfg.suites, ","), cfg.rows)
		return r
	}
	gen := "reused from an earlier run"
	if ds.genTime > 0 {
		gen = fmt.Sprintf("generated in %v (SQL, one transaction, bulk mode, into the indexed table)", ds.genTime.Round(time.Second))
	}
	fmt.Fprintf(b, "- Data: %d synthetic incidents in `%s`, %s; server ready in %v. 80%% round 500 Gaussian hotspots (σ 0.3°; 400 hold points), 20%% uniform; 90%% verified, 10%% disputed.\n",
		ds.rows, ds.dir, gen, ds.startup.Round(100*time.Millisecond))
	fmt.Fprintf(b, "- Load: loopback, %d concurrent clients, %v per measurement (longer for requests too slow for it; see notes), "+
		"wrk for HTTP after 3 sequential requests and 1 s of the same load (the server's pool fills), pgbench for SQL after one psql run "+
		"(its connections are made before its clock starts). Client, server and PostgreSQL share the cores.\n",
		cfg.conns, cfg.duration)
	fmt.Fprintln(b, "- *CPU µs/req*: CPU time over a load divided by the requests completed, from /proc: the server process, its PostgreSQL "+
		"(postmaster and backends) and the load generator. On a CPU-bound box throughput follows the CPU a request costs. "+
		"In stretched (slow) loads the HTTP figure also holds the work of the requests wrk leaves in flight when it stops.")
	fmt.Fprintf(b, "- Suites: %s (`go run ./bench -suite %s`)\n", strings.Join(cfg.suites, ", "), strings.Join(cfg.suites, ","))
	return r
}

func (r *report) add(name, body string, took time.Duration) {
	fmt.Fprintf(&r.sections, "\n## %s\n\n_Suite `%s`, %v._\n\n%s", suiteTitles[name], name, took.Round(time.Second), body)
	if !strings.HasSuffix(body, "\n") {
		r.sections.WriteString("\n")
	}
}

// write saves the report in cfg.out and prints it.
func (r *report) write(total time.Duration) (string, error) {
	text := r.header.String() + fmt.Sprintf("- Run time: %v (bench program, without `make deps build`)\n", total.Round(time.Second)) + r.sections.String()
	if err := os.MkdirAll(r.cfg.out, 0o755); err != nil {
		return "", err
	}
	// Runs started in the same minute get -2, -3...: one must not
	// overwrite the other's results.
	base := filepath.Join(r.cfg.out, "bench-"+r.start.Format("20060102-1504"))
	path := base + ".md"
	for n := 2; ; n++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			path = fmt.Sprintf("%s-%d.md", base, n)
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.WriteString(text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
		break
	}
	fmt.Print(text)
	return path, nil
}

func cpuModel() string {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`model name\s*:\s*(.*)`).FindSubmatch(b); m != nil {
			return strings.TrimSpace(string(m[1]))
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m := regexp.MustCompile(`MemTotal:\s*([0-9]+) kB`).FindSubmatch(b); m != nil {
			var kb float64
			fmt.Sscan(string(m[1]), &kb)
			return fmt.Sprintf("%.0f GiB", kb/(1<<20))
		}
	}
	return "unknown"
}

func osName() string {
	name := runtime.GOOS
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		if m := regexp.MustCompile(`(?m)^PRETTY_NAME="?([^"\n]*)`).FindSubmatch(b); m != nil {
			name = string(m[1])
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		name += ", Linux " + strings.TrimSpace(string(out))
	}
	return name
}

func loadAvg() string {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			return strings.Join(f[:3], " ")
		}
	}
	return "unknown"
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += " with uncommitted changes in the working tree (the binary was built from them)"
	}
	return c
}
