package e2e_test

// End-to-end tests of the map: a real server on a throwaway PostGIS, driven
// through headless Chromium with chromedp. They need the bundle built
// (`npm ci --prefix frontend && npm run --prefix frontend build`) and
// Chromium installed (`make deps`); either missing fails the tests.
//
// Screenshots of every step go to $E2E_ARTIFACTS (default
// $TMPDIR/incidentmap-e2e), never into the repository.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/frontend"
	"github.com/incidentmap/incidentmap/frontend/chromium"
	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, postgis.MigrateURL)
}

// offlineTiles configures no tile server: tests do not depend on the
// internet (nor load a public tile server); the basemap is then the
// database's outlines.
const offlineTiles = ""

// site is a server on a fresh database.
type site struct {
	*httptest.Server
	DB      *postgis.DB
	streams *streams
	reports *reports
}

// reports watches report submissions: it records their Idempotency-Keys
// and, while losing is set, drops the connection of each one after the
// server has answered it, as a network failure would. (Chromium resends a
// request once by itself when a reused connection closes without an
// answer, so losing only one would go unnoticed.)
type reports struct {
	mu     sync.Mutex
	keys   []string
	losing bool
}

func (rp *reports) setLosing(on bool) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.losing = on
}

func (rp *reports) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/reports" {
			h.ServeHTTP(w, r)
			return
		}
		rp.mu.Lock()
		rp.keys = append(rp.keys, r.Header.Get("Idempotency-Key"))
		lose := rp.losing
		rp.mu.Unlock()
		if !lose {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(httptest.NewRecorder(), r) // stored, but the answer never leaves
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	})
}

func (rp *reports) seenKeys() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return append([]string(nil), rp.keys...)
}

// streams tracks the live-update streams a site serves, so that a test can
// cut them as a network drop would.
type streams struct {
	mu      sync.Mutex
	next    int
	cancels map[int]context.CancelFunc
}

func (st *streams) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/events" {
			h.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		st.mu.Lock()
		id := st.next
		st.next++
		st.cancels[id] = cancel
		st.mu.Unlock()
		defer func() {
			st.mu.Lock()
			delete(st.cancels, id)
			st.mu.Unlock()
			cancel()
		}()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// drop ends every open stream; it returns how many there were.
func (st *streams) drop() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, cancel := range st.cancels {
		cancel()
	}
	return len(st.cancels)
}

// newSite starts a server whose map uses tileURL as its basemap.
func newSite(t *testing.T, tileURL string) *site {
	t.Helper()
	if !frontend.Built() {
		t.Fatal("the map bundle is not built (frontend/dist/index.html is missing): run make build first")
	}
	db, err := postgis.Open(context.Background(), pgtest.NewDB(t), postgis.Options{})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := api.New(api.Config{Logger: logger, TileURL: tileURL, TileAttribution: "test tiles"},
		api.Deps{Ready: db, Features: db, Reports: db, Moderation: db, Events: db, Places: db})
	st := &streams{cancels: map[int]context.CancelFunc{}}
	rp := &reports{}
	ts := httptest.NewServer(rp.wrap(st.wrap(srv.Handler())))
	t.Cleanup(ts.Close)
	// Live updates need the server's background work. Cleanups run last
	// first: the streams end (Shutdown) before ts.Close waits for them.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Run(ctx)
	}()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Logf("shut down the server: %v", err)
		}
		cancel()
		<-done
	})
	return &site{Server: ts, DB: db, streams: st, reports: rp}
}

// seed stores an incident at lon, lat; modify may change the defaults.
func (s *site) seed(t *testing.T, lon, lat float64, modify func(*geo.Incident)) geo.Incident {
	t.Helper()
	inc := newIncident(lon, lat)
	if modify != nil {
		modify(&inc)
	}
	if err := s.DB.CreateIncident(context.Background(), &inc); err != nil {
		t.Fatalf("seed incident %q: %v", inc.Title, err)
	}
	return inc
}

func newIncident(lon, lat float64) geo.Incident {
	return geo.Incident{
		OccurredAt:    time.Date(2020, 10, 18, 4, 0, 0, 0, time.UTC),
		TimePrecision: geo.TimeDay,
		EventType:     "Explosions/Remote violence",
		SubEventType:  "Shelling/artillery/missile attack",
		Title:         "Shelling",
		Point:         orb.Point{lon, lat},
		Status:        geo.StatusVerified,
		Sources:       []geo.Source{{Publisher: "Ministry of Defence", URL: "https://example.org/mod", PublishedAt: "2020-10-18"}},
	}
}

// apiCount is numberMatched of an items URL.
func apiCount(t *testing.T, itemsURL string) int {
	t.Helper()
	res, err := http.Get(itemsURL)
	if err != nil {
		t.Fatalf("GET %s: %v", itemsURL, err)
	}
	defer res.Body.Close()
	var fc struct {
		NumberMatched *int `json:"numberMatched"`
	}
	if err := json.NewDecoder(res.Body).Decode(&fc); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, decode: %v", itemsURL, res.StatusCode, err)
	}
	if fc.NumberMatched == nil {
		t.Fatalf("GET %s: no numberMatched", itemsURL)
	}
	return *fc.NumberMatched
}

// chromiumPath finds the browser, failing the test (not skipping it) when
// it is not installed.
func chromiumPath(t *testing.T) string {
	t.Helper()
	exe, err := chromium.Find()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// browser is one headless Chromium for a test, recording what its tabs
// report: JavaScript dialogs, console errors, exceptions and the browser's
// own error log, where CSP violations appear.
type browser struct {
	t   *testing.T
	ctx context.Context // the first tab; more tabs share its browser

	mu       sync.Mutex
	dialogs  []string
	problems []string
	shots    int
}

// newBrowser starts Chromium with a fresh profile and a width x height window.
func newBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	opts := chromium.Options(chromiumPath(t), t.TempDir(), width, height)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	b := &browser{t: t}
	b.ctx = b.openTab(allocCtx)
	t.Cleanup(b.checkProblems)
	return b
}

// openTab opens a tab (the first one starts the browser) and listens to it.
func (b *browser) openTab(parent context.Context) context.Context {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(parent)
	b.t.Cleanup(cancel)
	err := chromedp.Listen(ctx, func(ev any) {
		// Runs on the tab's reader goroutine: record and return.
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.record(&b.dialogs, string(ev.Type)+": "+ev.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, consoleArg(a))
				}
				b.record(&b.problems, "console.error: "+strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.record(&b.problems, "uncaught exception: "+msg)
		case *cdplog.EventEntryAdded:
			// The browser's own reports, such as "Refused to load ... because it
			// violates the following Content Security Policy directive". Failed
			// tile requests (source network) are expected offline.
			if e := ev.Entry; e.Level == cdplog.EntryLevelError && e.Source != cdplog.EntrySourceNetwork {
				b.record(&b.problems, fmt.Sprintf("browser log (%s): %s", e.Source, e.Text))
			}
		}
	})
	if err != nil {
		b.t.Fatalf("start Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		b.t.Fatalf("enable the browser log: %v", err)
	}
	return ctx
}

func consoleArg(a *runtime.RemoteObject) string {
	if len(a.Value) > 0 {
		var s string
		if json.Unmarshal(a.Value, &s) == nil {
			return s
		}
		return string(a.Value)
	}
	return a.Description
}

func (b *browser) record(list *[]string, s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	*list = append(*list, s)
}

func (b *browser) dialogsSeen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// takeProblems returns the problems recorded so far and forgets them.
func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// checkProblems fails the test for any dialog, console error, exception or
// CSP violation seen in any tab.
func (b *browser) checkProblems() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.dialogs {
		b.t.Errorf("a JavaScript dialog opened: %s", d)
	}
	for _, p := range b.problems {
		b.t.Errorf("the page reported: %s", p)
	}
}

// actionTimeout bounds every step; the tests' pages answer in well under it.
const actionTimeout = 30 * time.Second

// do runs steps in the tab ctx, failing the test (with a screenshot) on error.
func (b *browser) do(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		b.screenshot(ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v (page state: %s)", what, err, b.pageState(ctx))
	}
}

// pageState describes the map's state, for a failed step's message.
func (b *browser) pageState(ctx context.Context) string {
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(() => { const m = document.getElementById('map');
		return 'hash=' + location.hash + ' incidents=' + (m && m.dataset.incidents) + ' renders=' + (m && m.dataset.renders); })()`))
	if err != nil {
		return err.Error()
	}
	return s
}

// get runs an action that returns a value in the tab ctx.
func get[T any](b *browser, ctx context.Context, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	// The map redraws a popup when an incident changes (the save's answer,
	// then its live event): a node found by the selector can be replaced
	// before it is read. Ask again for the node the selector finds now.
	for err != nil && strings.Contains(err.Error(), "No node with given id") && tctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		v, err = chromedp.Run(tctx, a)
	}
	if err != nil {
		b.screenshot(ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression in the tab ctx.
func eval[T any](b *browser, ctx context.Context, expr string) T {
	b.t.Helper()
	return get(b, ctx, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// screenshot saves the viewport of the tab ctx as a PNG in the artifacts
// directory, named after the test and step.
func (b *browser) screenshot(ctx context.Context, step string) {
	b.t.Helper()
	dir := os.Getenv("E2E_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "incidentmap-e2e")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Logf("screenshot: %v", err)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", step, err)
		return
	}
	b.shots++
	name := fmt.Sprintf("%s-%02d-%s.png", strings.ReplaceAll(b.t.Name(), "/", "_"), b.shots, step)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot: %s", path)
}

// waitRendered waits until the map has rendered incidents more than `after`
// times and is not loading.
func waitRendered(after int) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(
		`(() => { const m = document.getElementById('map');
		  return m.dataset.incidents === 'ready' && Number(m.dataset.renders || 0) > %d; })()`, after),
		chromedp.WithPollingInterval(50*time.Millisecond))
}

// still waits until the element sel has kept its place on screen for
// 300 ms: a popup that has just grown makes the map pan (animated) to fit
// it, and a click computed during that pan lands beside its target.
func still(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		if (!e) return false;
		const r = e.getBoundingClientRect(), now = performance.now();
		const at = [r.left, r.top, r.width, r.height].join(',');
		const w = window.__stillFor || (window.__stillFor = {});
		if (!w[%q] || w[%q].at !== at) { w[%q] = { at, since: now }; return false; }
		return now - w[%q].since >= 300;
	})()`, sel, sel, sel, sel, sel), chromedp.WithPollingInterval(50*time.Millisecond))
}

// renders reads how many times the map has rendered incidents.
func (b *browser) renders(ctx context.Context) int {
	n, _ := strconv.Atoi(eval[string](b, ctx, `document.getElementById('map').dataset.renders || '0'`))
	return n
}

// overflows says whether the page itself scrolls, either way.
const overflows = `document.documentElement.scrollWidth > innerWidth || document.documentElement.scrollHeight > innerHeight`

var leadingCount = regexp.MustCompile(`^(?:showing )?([0-9,]+) incidents? in view`)

// shownCount parses #incident-count.
func (b *browser) shownCount(ctx context.Context) int {
	b.t.Helper()
	text := get(b, ctx, "read the count", chromedp.Text(chromedp.ID("incident-count")))
	m := leadingCount.FindStringSubmatch(text)
	if m == nil {
		b.t.Fatalf("#incident-count = %q, want \"N incidents in view\"", text)
	}
	n, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
	return n
}

// markersShown counts the incidents on the map: single markers plus the
// incidents inside each cluster.
func (b *browser) markersShown(ctx context.Context) int {
	return eval[int](b, ctx, `
		document.querySelectorAll('#map .incident-marker').length +
		[...document.querySelectorAll('#map .incident-cluster')].reduce((sum, c) => sum + Number(c.textContent), 0)`)
}

// openPanel shows the filter panel if the layout hid it.
func openPanel() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		hidden, err := chromedp.Evaluate[bool](`document.getElementById('panel').hidden`)(ctx, t)
		if err != nil || !hidden {
			return err
		}
		_, err = chromedp.Click(chromedp.ID("panel-toggle"))(ctx, t)
		return err
	})
}

// apiLinkFromPage presses "Copy API link" and reads the link it shows.
func (b *browser) apiLinkFromPage(ctx context.Context) string {
	b.do(ctx, "copy the API link", openPanel(),
		chromedp.Click(chromedp.ID("copy-api")),
		chromedp.WaitVisible(chromedp.ID("share-url")))
	return get(b, ctx, "read the API link", chromedp.Value(chromedp.ID("share-url")))
}

// seedMany stores n incidents spread over the Jabrayil area, in parallel.
func seedMany(t *testing.T, db *postgis.DB, n int) {
	t.Helper()
	types := geo.EventTypes()
	statuses := []string{geo.StatusVerified, geo.StatusVerified, geo.StatusDisputed}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				// A deterministic scatter over about 2° x 1.4°.
				inc := newIncident(46+float64((i*7919)%1000)/500, 38.8+float64((i*104729)%1000)/714)
				inc.EventType = types[i%len(types)]
				inc.SubEventType = ""
				inc.Status = statuses[i%len(statuses)]
				inc.Title = fmt.Sprintf("Incident %d", i)
				inc.OccurredAt = time.Date(2020, 9, 27, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%45)
				if err := db.CreateIncident(context.Background(), &inc); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("seed: %v", err)
	}
}

// --- reports, moderation and live updates ---

// moderator creates a moderator account and returns its bearer token.
func (s *site) moderator(t *testing.T, name string) string {
	t.Helper()
	_, token, err := s.DB.CreateUser(context.Background(), name, geo.RoleModerator, nil)
	if err != nil {
		t.Fatalf("create moderator %s: %v", name, err)
	}
	return token
}

// call sends an API request (with a bearer token unless it is empty) and
// decodes the JSON answer into out (unless nil), failing unless the status
// is want.
func (s *site) call(t *testing.T, method, path, token string, body any, want int, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

// pendingReport is a report as the moderation API lists it.
type pendingReport struct {
	ID         int64 `json:"id"`
	Properties struct {
		Contact     string   `json:"contact"`
		Description string   `json:"description"`
		EventType   string   `json:"event_type"`
		SourceURLs  []string `json:"source_urls"`
		OccurredAt  string   `json:"occurred_at"`
		Photos      []struct {
			Href string `json:"href"`
		} `json:"photos"`
		PhotoHint *struct {
			Lon, Lat    *float64
			PointAgrees *bool `json:"point_agrees"`
		} `json:"photo_hint"`
	} `json:"properties"`
}

func (s *site) pendingReports(t *testing.T, token string) []pendingReport {
	t.Helper()
	var fc struct{ Features []pendingReport }
	s.call(t, http.MethodGet, "/api/reports?status=pending", token, nil, http.StatusOK, &fc)
	return fc.Features
}

// choose selects an option of a select and tells the page, as a person's choice would.
func choose(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.SetValue(chromedp.ID(id), value),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`document.getElementById(%q).dispatchEvent(new Event('change', {bubbles: true}))`, id)),
	)
}

// emptyField empties a text field (chromedp.Clear resets only the value
// attribute, not what script or typing put there).
func emptyField(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const e = document.getElementById(%q);
		e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); })()`, id))
}

// clickMapAt clicks the map at a pixel offset from its centre.
func (b *browser) clickMapAt(ctx context.Context, dx, dy float64) {
	b.t.Helper()
	at := eval[[]float64](b, ctx, `(() => { const r = document.getElementById('map').getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	b.do(ctx, "click the map", chromedp.MouseClickXY(at[0]+dx, at[1]+dy))
}

// countIs waits until #incident-count starts with n incidents.
func countIs(n int) chromedp.Action[chromedp.Void] {
	noun := "incidents"
	if n == 1 {
		noun = "incident"
	}
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(
		`document.getElementById('incident-count').textContent.startsWith('%d %s in view')`, n, noun),
		chromedp.WithPollingInterval(50*time.Millisecond))
}

// liveConnected waits until the page's event stream is open.
func liveConnected() chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`document.getElementById('map').dataset.live === 'live'`,
		chromedp.WithPollingInterval(50*time.Millisecond))
}
