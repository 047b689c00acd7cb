package main

import (
	"database/sql/driver"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// measurement is one side of a comparison: throughput and latency
// percentiles under cfg.conns concurrent clients.
type measurement struct {
	reqPerSec float64
	p50, p99  time.Duration
	count     int           // requests completed
	duration  time.Duration // of the load
	errors    string        // failed requests, if any
	cpu       cpuUse
}

// fetch GETs a URL once and returns its status, body length and latency.
func fetch(target string) (status, size int, lat time.Duration, err error) {
	t0 := time.Now()
	res, err := http.Get(target)
	if err != nil {
		return 0, 0, 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	return res.StatusCode, int(n), time.Since(t0), err
}

// warm requests a URL a few times, so the measurement starts with the
// pages it reads in PostgreSQL's buffers, and returns the fastest latency.
func warm(target string) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range 3 {
		if _, _, lat, err := fetch(target); err == nil {
			best = min(best, lat)
		}
	}
	return best
}

// maxLoadDuration bounds the stretched measurements of slow requests.
const maxLoadDuration = 20 * time.Second

// loadDuration is how long to load a target whose single request takes
// lat: cfg.duration, stretched for slow requests so that each client
// completes about three of them (cfg.conns clients share the cores), up to
// maxLoadDuration.
func loadDuration(cfg config, lat time.Duration) time.Duration {
	need := 3 * time.Duration(cfg.conns) * lat / time.Duration(runtime.NumCPU())
	return max(cfg.duration, min(maxLoadDuration, need.Round(time.Second)))
}

var (
	wrkReqs     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkLatency  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s|m)\b`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: ([0-9]+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)`)
	wrkRequests = regexp.MustCompile(`([0-9]+) requests in`)
)

// runWrk loads target with cfg.conns connections for d; extra are further
// wrk options (e.g. "-s", script). Failed requests are reported in
// m.errors, not as an error.
func runWrk(cfg config, target string, d time.Duration, extra ...string) (measurement, error) {
	args := []string{"-t2", fmt.Sprintf("-c%d", cfg.conns), "-d", d.String(), "--timeout", "30s", "--latency"}
	args = append(append(args, extra...), target)
	cmd := exec.Command("wrk", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return measurement{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	m := measurement{duration: d, cpu: cpuUse{client: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}}
	if s := wrkReqs.FindSubmatch(out); s != nil {
		m.reqPerSec, _ = strconv.ParseFloat(string(s[1]), 64)
	}
	if s := wrkRequests.FindSubmatch(out); s != nil {
		m.count, _ = strconv.Atoi(string(s[1]))
	}
	units := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}
	for _, s := range wrkLatency.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(s[2]), 64)
		lat := time.Duration(v * float64(units[string(s[3])]))
		if string(s[1]) == "50" {
			m.p50 = lat
		} else {
			m.p99 = lat
		}
	}
	var errs []string
	if s := wrkNon2xx.FindSubmatch(out); s != nil {
		errs = append(errs, string(s[1])+" non-2xx")
	}
	if s := wrkSocket.FindSubmatch(out); s != nil {
		for i, kind := range []string{"connect", "read", "write", "timeout"} {
			if string(s[i+1]) != "0" {
				errs = append(errs, string(s[i+1])+" "+kind+" errors")
			}
		}
	}
	m.errors = strings.Join(errs, ", ")
	return m, nil
}

// measureHTTP warms target and loads it with wrk for cfg.duration (longer
// for slow requests), sampling the server's peak RSS (KiB) meanwhile.
// extra go to both runs of wrk (see runWrk).
func measureHTTP(cfg config, srv *server, target string, extra ...string) (measurement, int64, error) {
	d := loadDuration(cfg, warm(target))
	if d == cfg.duration {
		// A second of the same load first, so the server's connection pool
		// holds cfg.conns connections before measuring, as pgbench's
		// connections are made before its clock starts.
		if _, err := runWrk(cfg, target, time.Second, extra...); err != nil {
			return measurement{}, 0, err
		}
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	go sampleRSS(srv.cmd.Process.Pid, &peak, stop)
	meter := startCPU(srv)
	m, err := runWrk(cfg, target, d, extra...)
	m.cpu = meter.stop(m.cpu.client)
	close(stop)
	return m, peak.Load(), err
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

// inline writes args into stmt as literals for pgbench. The values are the
// bench's own numbers, times and arrays, never user input.
func inline(stmt string, args []any) string {
	for i := len(args); i >= 1; i-- {
		var lit string
		switch v := args[i-1].(type) {
		case float64:
			lit = strconv.FormatFloat(v, 'g', -1, 64)
		case int:
			lit = strconv.Itoa(v)
		case time.Time: // fmt's form is not one PostgreSQL reads
			lit = "'" + v.Format(time.RFC3339Nano) + "'"
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

// runPgbench runs one statement on srv's database with cfg.conns clients for d
// (after one warm-up execution) and reads the latencies from its
// per-transaction log; extra are further pgbench options (e.g. "-M",
// "prepared").
func runPgbench(cfg config, srv *server, dsn, stmt string, d time.Duration, extra ...string) (measurement, error) {
	dir, err := os.MkdirTemp("", "pgbench-")
	if err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	script := filepath.Join(dir, "bench.sql")
	if err := os.WriteFile(script, []byte(stmt+";\n"), 0o644); err != nil {
		return measurement{}, err
	}
	host, db := dsnField(dsn, "host"), dsnField(dsn, "dbname")
	if out, err := exec.Command("psql", "-X", "-q", "-h", host, "-U", "postgres", "-d", db, "-o", "/dev/null", "-f", script).CombinedOutput(); err != nil {
		return measurement{}, fmt.Errorf("psql (warm-up): %w\n%s", err, out)
	}
	args := []string{"-n", "-h", host, "-U", "postgres", "-c", strconv.Itoa(cfg.conns), "-j", strconv.Itoa(runtime.NumCPU()),
		"-T", strconv.Itoa(max(1, int(d.Seconds()))), "-f", script, "--log", "--log-prefix", filepath.Join(dir, "log")}
	cmd := exec.Command("pgbench", append(append(args, extra...), db)...)
	cmd.Dir = dir
	time.Sleep(200 * time.Millisecond) // the warm-up's backend is gone and counted
	meter := startCPU(srv)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return measurement{}, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	time.Sleep(200 * time.Millisecond) // pgbench's backends are reaped and counted
	m := measurement{duration: d, cpu: meter.stop(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime())}
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
	m.count = len(lats)
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

// dur formats a latency for a table.
func dur(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 100*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

// ratio is a/b for the tables.
func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// notes flags what makes a comparison less plain: stretched loads, few
// samples (p99 is then nearly the maximum), failed requests.
func notes(cfg config, ms ...measurement) string {
	var out []string
	if len(ms) > 0 && ms[0].duration != cfg.duration {
		out = append(out, fmt.Sprintf("slow: %v loads", ms[0].duration))
	}
	for i, m := range ms {
		side := "HTTP"
		if i > 0 {
			side = "SQL"
		}
		if m.count < 200 {
			out = append(out, fmt.Sprintf("%s n=%d", side, m.count))
		}
		if m.errors != "" {
			out = append(out, side+": "+m.errors)
		}
	}
	return strings.Join(out, "; ")
}

// cpuColumn is the CPU time per request of both sides of a comparison, in
// µs: HTTP as server + PostgreSQL + wrk, SQL as PostgreSQL + pgbench.
func cpuColumn(h, s measurement) string {
	return fmt.Sprintf("%s + %s + %s / %s + %s",
		perRequest(h.cpu.app, h.count), perRequest(h.cpu.db, h.count), perRequest(h.cpu.client, h.count),
		perRequest(s.cpu.db, s.count), perRequest(s.cpu.client, s.count))
}
