package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/localpg"
)

// ownCluster starts a private cluster (with fsync on: this test is about
// durability) that the test may kill, and a migrated database on it with
// the server's login roles; db is the owner's pool.
func ownCluster(t *testing.T) (*localpg.Cluster, *postgis.DB) {
	t.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "incidentmap-fault-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // the postgres user must enter it
		t.Fatal(err)
	}
	cluster, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(dir, "pg"), Logger: quietLogger()})
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() { cluster.Thaw(); cluster.Stop(context.Background()) })
	db, err := postgis.Open(ctx, cluster.DSN("postgres"), postgis.Options{StatementTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureLoginRoles(ctx); err != nil {
		t.Fatal(err)
	}
	return cluster, db
}

// faultPools opens the server's pools on cluster as serve does on its
// embedded cluster: each on its own login and least-privilege role, with
// statements and stalled reads bounded by the request deadline.
func faultPools(t *testing.T, cluster *localpg.Cluster) api.Deps {
	t.Helper()
	open := func(login, role string, maxConns int) *postgis.DB {
		dsn, err := postgis.WithUser(cluster.DSN("postgres"), login)
		if err != nil {
			t.Fatal(err)
		}
		db, err := postgis.Open(context.Background(), dsn, postgis.Options{Role: role, MaxOpenConns: maxConns,
			StatementTimeout: faultRequestTimeout, ReadStall: faultReadStall, Logger: quietLogger()})
		if err != nil {
			t.Fatalf("open pool as %s: %v", login, err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	public := open(postgis.LoginPublic, postgis.RolePublic, 0)
	moderation := open(postgis.LoginModerator, postgis.RoleModerator, 4)
	return api.Deps{Ready: public, Features: public, Reports: public, Moderation: moderation, Events: public, Places: public}
}

// The fault test's bounds. The server is configured as serve configures
// it: statements end with the request deadline, and every read on a
// database connection ends at its operation's deadline (plus a short grace
// for a cancel request), so even a request whose read was waiting when the
// database froze answers within about its deadline. The margin is for a
// loaded 2-core machine.
const (
	faultRequestTimeout  = 2 * time.Second
	faultReadStall       = faultRequestTimeout + time.Second // cmd/incidentmap/config.go
	faultReadyTimeout    = 1500 * time.Millisecond
	faultAnswerBound     = faultRequestTimeout + time.Second
	faultRetryAfterScale = 25 // Retry-After: 5 → the test waits 200 ms
	faultRecoverWithin   = 15 * time.Second
	faultDrainWithin     = 20 * time.Second
	faultDropEvery       = 20 // the client loses the 201 of every 20th report and retries
)

// faultWorkers is the number of concurrent writers: 50 in `make test`,
// INCIDENTMAP_FAULT_WORKERS (e.g. 500 in `make soak`) for the heavy run.
func faultWorkers(t *testing.T) int {
	v := os.Getenv("INCIDENTMAP_FAULT_WORKERS")
	if v == "" {
		return 50
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("INCIDENTMAP_FAULT_WORKERS=%q: want a positive number", v)
	}
	return n
}

// faultPhase is what the database is doing when a request starts.
type faultPhase int32

const (
	phaseLoad faultPhase = iota
	phaseStopped
	phaseRestarted
	phaseFrozen
	phaseThawed
	phaseDrain
	numPhases
)

var phaseNames = [numPhases]string{"load", "stopped (immediate)", "after restart", "frozen (SIGSTOP)", "after thaw", "drain"}

type phaseStats struct {
	requests    int
	created     int           // 201s
	firstTry    int           // 201 on a report's first attempt: a new report accepted
	replayed    int           // 201 with Idempotent-Replayed: an earlier attempt had committed
	dropped     int           // 201s the client lost on purpose (as a proxy or a flaky network would)
	unavailable int           // 503s
	netErrors   int           // no HTTP answer (client timeout, connection reset)
	slowest     time.Duration // slowest answer of any kind
	slowest503  time.Duration
}

// faultLoad is a write load of reports, each with its own Idempotency-Key,
// retried with the same key until it is acknowledged — what a real client
// does after a 503 or a lost answer.
type faultLoad struct {
	url    string
	client *http.Client
	phase  atomic.Int32
	stop   chan struct{}
	drain  atomic.Int64 // unix nanos after which unacknowledged reports are given up; 0 before the drain

	mu         sync.Mutex
	stats      [numPhases]phaseStats
	acked      map[string]int64 // marker (= Idempotency-Key) → id of its 201
	dropped    map[string]int64 // marker → id of the 201 the client lost
	afterDrop  int              // reports acknowledged by replay after a lost 201
	after503   int              // reports acknowledged by replay after a 503: committed, but answered 503
	attempted  int
	retries    int
	unexpected []string
	unresolved []string
}

func (l *faultLoad) setPhase(p faultPhase) { l.phase.Store(int32(p)) }

func (l *faultLoad) statsOf(p faultPhase) phaseStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats[p]
}

func (l *faultLoad) worker(w int) {
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		default:
		}
		marker := fmt.Sprintf("fault-w%02d-r%05d", w, n)
		body := reportBody(func(p map[string]any) {
			p["description"] = marker + " mortar fire heard near the villages on the Aras river"
		})
		l.mu.Lock()
		l.attempted++
		l.mu.Unlock()
		l.submitUntilAcked(marker, body, n%faultDropEvery == faultDropEvery-1)
	}
}

// submitUntilAcked posts one report until it gets a 201, retrying with
// the same Idempotency-Key after any other answer. With loseFirst the
// first 201 is thrown away, as if the answer was lost after the commit:
// the retry must get the same report back, not store a second one.
func (l *faultLoad) submitUntilAcked(marker, body string, loseFirst bool) {
	for attempt := 1; ; attempt++ {
		phase := faultPhase(l.phase.Load())
		req, err := http.NewRequest(http.MethodPost, l.url+"/api/reports", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", marker)
		start := time.Now()
		res, err := l.client.Do(req)
		took := time.Since(start)
		var (
			status     int
			retryAfter string
			replayed   bool
			created    struct{ ID int64 }
		)
		if err == nil {
			status = res.StatusCode
			retryAfter = res.Header.Get("Retry-After")
			replayed = res.Header.Get("Idempotent-Replayed") == "true"
			if status == http.StatusCreated {
				if derr := json.NewDecoder(res.Body).Decode(&created); derr != nil || created.ID == 0 {
					status = -1 // a 201 without an id is as good as no answer
				}
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}

		l.mu.Lock()
		s := &l.stats[phase]
		s.requests++
		s.slowest = max(s.slowest, took)
		if attempt > 1 {
			l.retries++
		}
		switch {
		case err != nil:
			s.netErrors++
		case status == http.StatusCreated && loseFirst && !replayed:
			s.dropped++
			if prev, ok := l.dropped[marker]; ok {
				l.unexpected = append(l.unexpected, fmt.Sprintf("%s created twice (%d, %d)", marker, prev, created.ID))
			}
			l.dropped[marker] = created.ID
			status = 0 // lost: retry
		case status == http.StatusCreated:
			s.created++
			if replayed {
				s.replayed++
				if _, ok := l.dropped[marker]; ok {
					l.afterDrop++
				} else {
					l.after503++
				}
			} else if attempt == 1 {
				s.firstTry++
			}
			if id, ok := l.dropped[marker]; ok && (id != created.ID || !replayed) {
				l.unexpected = append(l.unexpected, fmt.Sprintf("%s: retry after a lost 201 for id %d answered id %d (replayed %v)",
					marker, id, created.ID, replayed))
			}
			if prev, ok := l.acked[marker]; ok {
				l.unexpected = append(l.unexpected, fmt.Sprintf("%s acknowledged twice (%d, %d)", marker, prev, created.ID))
			}
			l.acked[marker] = created.ID
		case status == http.StatusServiceUnavailable:
			s.unavailable++
			s.slowest503 = max(s.slowest503, took)
			if secs, perr := strconv.Atoi(retryAfter); perr != nil || secs <= 0 {
				l.unexpected = append(l.unexpected, fmt.Sprintf("503 with Retry-After %q", retryAfter))
			}
		default:
			l.unexpected = append(l.unexpected, fmt.Sprintf("%s attempt %d during %s: status %d", marker, attempt, phaseNames[phase], status))
		}
		l.mu.Unlock()

		if status == http.StatusCreated {
			return
		}
		if d := l.drain.Load(); d != 0 && time.Now().UnixNano() > d {
			l.mu.Lock()
			l.unresolved = append(l.unresolved, marker)
			l.mu.Unlock()
			return
		}
		// Wait as told, compressed in time; jitter spreads the retries.
		wait := 100 * time.Millisecond
		if secs, perr := strconv.Atoi(retryAfter); perr == nil && secs > 0 {
			wait = time.Duration(secs) * time.Second / faultRetryAfterScale
		}
		time.Sleep(wait + rand.N(100*time.Millisecond))
	}
}

// lockedBuffer is a log destination shared by the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// probe is one GET answered while the database is faulted.
type probe struct {
	path   string
	want   int
	within time.Duration
	status int
	took   time.Duration
	err    error
}

// runProbes sends the probes concurrently (a frozen database makes each
// wait for its deadline) and checks their answers.
func runProbes(t *testing.T, client *http.Client, base, during string, probes []probe) []probe {
	t.Helper()
	var wg sync.WaitGroup
	for i := range probes {
		wg.Go(func() {
			p := &probes[i]
			start := time.Now()
			res, err := client.Get(base + p.path)
			p.took, p.err = time.Since(start), err
			if err == nil {
				p.status = res.StatusCode
				if p.status == http.StatusServiceUnavailable && res.Header.Get("Retry-After") == "" {
					p.err = errors.New("503 without Retry-After")
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	}
	wg.Wait()
	for _, p := range probes {
		if p.err != nil || p.status != p.want || p.took > p.within {
			t.Errorf("GET %s while the database is %s: %d after %v (%v), want %d within %v",
				p.path, during, p.status, p.took.Round(time.Millisecond), p.err, p.want, p.within)
		}
	}
	return probes
}

func faultProbes() []probe {
	return []probe{
		{path: "/healthz", want: http.StatusOK, within: time.Second},
		{path: "/readyz", want: http.StatusServiceUnavailable, within: faultReadyTimeout + time.Second},
		{path: "/api/collections/incidents/items?bbox=46,38,48,40", want: http.StatusServiceUnavailable, within: faultAnswerBound},
		{path: "/api/collections", want: http.StatusServiceUnavailable, within: faultAnswerBound},
	}
}

func probeSummary(ps []probe) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		path, _, _ := strings.Cut(p.path, "?")
		parts[i] = fmt.Sprintf("%s %d in %v", path, p.status, p.took.Round(time.Millisecond))
	}
	return strings.Join(parts, ", ")
}

// Issue #8: PostgreSQL stopped with pg_ctl stop -m immediate, then frozen
// with SIGSTOP, in the middle of a write load of 50 concurrent clients.
// Every report that got a 201 is stored exactly once, no report is stored
// twice although clients retry after every 503 (with the same
// Idempotency-Key), requests answer 503 with Retry-After within their
// deadline while the database is down or frozen, /healthz stays 200 and
// /readyz says 503, and the same server instance accepts new reports once
// the database is back.
func TestReportsSurviveDatabaseFaultsUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: about 20 s")
	}
	begin := time.Now()
	cluster, _ := ownCluster(t)
	ctx := context.Background()
	// Errors are kept: an unexpected 5xx is reported with its cause.
	var serverLog lockedBuffer
	logger := slog.New(slog.NewTextHandler(&serverLog, &slog.HandlerOptions{Level: slog.LevelError}))
	srv := api.New(api.Config{Logger: logger, RequestTimeout: faultRequestTimeout, ReadyTimeout: faultReadyTimeout,
		ReportRate: geo.RateLimit{Burst: 1e6, PerMinute: 1e6}}, faultPools(t, cluster))
	runCtx, cancelRun := context.WithCancel(ctx)
	go srv.Run(runCtx) // as serve does: the live-update listener must survive the faults too
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); cancelRun() })

	workerCount := faultWorkers(t)
	client := &http.Client{Timeout: 2 * faultAnswerBound,
		Transport: &http.Transport{MaxIdleConnsPerHost: workerCount + 10}}
	load := &faultLoad{url: ts.URL, client: client, stop: make(chan struct{}),
		acked: map[string]int64{}, dropped: map[string]int64{}}
	var workers sync.WaitGroup
	for w := range workerCount {
		workers.Go(func() { load.worker(w) })
	}
	// Whatever happens below, the workers end.
	stopWorkers := sync.OnceFunc(func() {
		load.drain.Store(time.Now().Add(faultDrainWithin).UnixNano())
		load.setPhase(phaseDrain)
		close(load.stop)
		workers.Wait()
	})
	defer stopWorkers()

	// awaitNewReports waits until the load gets n new reports accepted in
	// phase p: the server recovered by itself.
	awaitNewReports := func(p faultPhase, n int) time.Duration {
		t.Helper()
		start := time.Now()
		for load.statsOf(p).firstTry < n {
			if time.Since(start) > faultRecoverWithin {
				stopWorkers()
				t.Fatalf("%s: only %d new reports accepted in %v; the server did not recover without a restart",
					phaseNames[p], load.statsOf(p).firstTry, faultRecoverWithin)
			}
			time.Sleep(50 * time.Millisecond)
		}
		return time.Since(start)
	}

	loadStart := time.Now()
	time.Sleep(3 * time.Second)
	if load.statsOf(phaseLoad).firstTry == 0 {
		stopWorkers()
		t.Fatalf("no report accepted before any fault: %+v", load.statsOf(phaseLoad))
	}

	// 1. Immediate stop: a crash without checkpoint; the next start runs crash recovery.
	if err := cluster.Kill(ctx); err != nil {
		stopWorkers()
		t.Fatalf("kill: %v", err)
	}
	stoppedAt := time.Now()
	load.setPhase(phaseStopped)
	stoppedProbes := runProbes(t, client, ts.URL, "stopped", faultProbes())
	time.Sleep(2*time.Second - time.Since(stoppedAt))
	if err := cluster.Restart(ctx); err != nil {
		stopWorkers()
		t.Fatalf("restart: %v", err)
	}
	stoppedFor := time.Since(stoppedAt)
	load.setPhase(phaseRestarted)
	recoveredAfterRestart := awaitNewReports(phaseRestarted, 100)
	time.Sleep(2 * time.Second)

	// 2. Freeze: connections stay open, nothing answers.
	if err := cluster.Freeze(); err != nil {
		stopWorkers()
		t.Fatalf("freeze: %v", err)
	}
	frozenAt := time.Now()
	load.setPhase(phaseFrozen)
	time.Sleep(300 * time.Millisecond) // the pool's connections are stuck by now
	frozenProbes := runProbes(t, client, ts.URL, "frozen", faultProbes())
	// Long enough for requests to reach their deadline and for stalled
	// reads to break their connections.
	time.Sleep(5*time.Second - time.Since(frozenAt))
	if err := cluster.Thaw(); err != nil {
		stopWorkers()
		t.Fatalf("thaw: %v", err)
	}
	frozenFor := time.Since(frozenAt)
	load.setPhase(phaseThawed)
	recoveredAfterThaw := awaitNewReports(phaseThawed, 100)
	time.Sleep(2 * time.Second)

	// 3. No new reports; the ones in flight are retried until acknowledged.
	drainStart := time.Now()
	stopWorkers()
	loadTook := time.Since(loadStart)
	drainTook := time.Since(drainStart)

	// The database's view, through a fresh pool of the owner.
	check, err := postgis.Open(ctx, cluster.DSN("postgres"), postgis.Options{StatementTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	rows, err := check.SQL().QueryContext(ctx, `
		SELECT split_part(description, ' ', 1), id, coalesce(idempotency_key, '')
		FROM reports WHERE description LIKE 'fault-w%'`)
	if err != nil {
		t.Fatal(err)
	}
	type storedRow struct {
		id  int64
		key string
	}
	stored := map[string][]storedRow{}
	storedRows := 0
	for rows.Next() {
		var marker string
		var r storedRow
		if err := rows.Scan(&marker, &r.id, &r.key); err != nil {
			t.Fatal(err)
		}
		stored[marker] = append(stored[marker], r)
		storedRows++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	load.mu.Lock()
	defer load.mu.Unlock()
	var lost, duplicated, wrongID, unacked []string
	for marker, id := range load.acked {
		rs := stored[marker]
		switch {
		case len(rs) == 0:
			lost = append(lost, fmt.Sprintf("%s (id %d)", marker, id))
		case len(rs) > 1:
			duplicated = append(duplicated, fmt.Sprintf("%s ×%d", marker, len(rs)))
		case rs[0].id != id || rs[0].key != marker:
			wrongID = append(wrongID, fmt.Sprintf("%s acknowledged as %d, stored as %d with key %q", marker, id, rs[0].id, rs[0].key))
		}
	}
	for marker, rs := range stored {
		if _, ok := load.acked[marker]; !ok {
			unacked = append(unacked, fmt.Sprintf("%s ×%d", marker, len(rs)))
		}
	}
	first := func(s []string) []string { return s[:min(len(s), 10)] }
	if len(lost) > 0 {
		t.Errorf("%d of %d acknowledged reports lost: %v", len(lost), len(load.acked), first(lost))
	}
	if len(duplicated) > 0 {
		t.Errorf("%d reports stored more than once: %v", len(duplicated), first(duplicated))
	}
	if len(wrongID) > 0 {
		t.Errorf("%d reports stored under another id or key than acknowledged: %v", len(wrongID), first(wrongID))
	}
	// Every report was retried until acknowledged, so whatever committed
	// was acknowledged (a retry of a committed report replays it).
	if len(load.unresolved) == 0 && len(unacked) > 0 {
		t.Errorf("%d reports stored but never acknowledged although retried until acknowledged: %v", len(unacked), first(unacked))
	}
	if len(load.unresolved) > 0 {
		t.Errorf("%d reports still unacknowledged %v after the load stopped: %v", len(load.unresolved), faultDrainWithin, first(load.unresolved))
	}
	if load.afterDrop != len(load.dropped) {
		t.Errorf("%d 201s were lost on purpose but %d retries replayed them", len(load.dropped), load.afterDrop)
	}
	if len(load.unexpected) > 0 {
		t.Errorf("%d unexpected answers: %v", len(load.unexpected), first(load.unexpected))
		var failed []string
		for line := range strings.Lines(serverLog.String()) {
			if !strings.Contains(line, "status=503") {
				failed = append(failed, line)
			}
		}
		t.Logf("server errors other than 503:\n%s", strings.Join(first(failed), ""))
	}

	var total phaseStats
	for p := range numPhases {
		s := load.stats[p]
		total.requests += s.requests
		total.created += s.created
		total.replayed += s.replayed
		total.dropped += s.dropped
		total.unavailable += s.unavailable
		total.netErrors += s.netErrors
		total.slowest = max(total.slowest, s.slowest)
		total.slowest503 = max(total.slowest503, s.slowest503)
	}
	for _, p := range []faultPhase{phaseStopped, phaseFrozen} {
		if load.stats[p].unavailable == 0 {
			t.Errorf("no 503 while the database was %s", phaseNames[p])
		}
	}
	if total.netErrors > 0 {
		t.Errorf("%d requests got no HTTP answer within %v", total.netErrors, client.Timeout)
	}
	if total.slowest > faultAnswerBound {
		t.Errorf("slowest answer took %v; with a %v request deadline (reads stall at most %v) it must come within %v",
			total.slowest, faultRequestTimeout, faultReadStall, faultAnswerBound)
	}

	t.Logf("%d workers, load %v (stopped %v, frozen %v, drain %v), test %v; 1 immediate-stop cycle + 1 SIGSTOP cycle",
		workerCount, loadTook.Round(time.Millisecond), stoppedFor.Round(time.Millisecond),
		frozenFor.Round(time.Millisecond), drainTook.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
	t.Logf("reports: %d submitted, %d acknowledged (201), %d stored rows, %d lost, %d duplicated; %d requests, %d retries",
		load.attempted, len(load.acked), storedRows, len(lost), len(duplicated), total.requests, load.retries)
	t.Logf("ambiguous failures resolved by retrying the same Idempotency-Key: %d reports committed although answered 503, %d 201s lost on purpose; each retry replayed the first id",
		load.after503, load.afterDrop)
	t.Logf("answers: %d × 503 (all with Retry-After), %d without an HTTP answer; slowest 503 %v, slowest answer %v (bound %v)",
		total.unavailable, total.netErrors, total.slowest503.Round(time.Millisecond), total.slowest.Round(time.Millisecond), faultAnswerBound)
	for p := range numPhases {
		s := load.stats[p]
		t.Logf("  %-20s %5d requests: %5d × 201 (%d new, %d replayed; %d more lost on purpose), %4d × 503, slowest %v",
			phaseNames[p], s.requests, s.created, s.firstTry, s.replayed, s.dropped, s.unavailable, s.slowest.Round(time.Millisecond))
	}
	t.Logf("stopped: %s", probeSummary(stoppedProbes))
	t.Logf("frozen: %s", probeSummary(frozenProbes))
	t.Logf("recovery without a server restart: 100 new reports %v after restart, %v after thaw",
		recoveredAfterRestart.Round(time.Millisecond), recoveredAfterThaw.Round(time.Millisecond))
}
