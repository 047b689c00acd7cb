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
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/frontend"
	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, func(ctx context.Context, dsn string) error {
		db, err := postgis.Open(ctx, dsn, postgis.Options{})
		if err != nil {
			return err
		}
		defer db.Close()
		return db.Migrate(ctx)
	})
}

// offlineTiles configures no tile server: tests do not depend on the
// internet (nor load a public tile server); the basemap is then the
// database's outlines.
const offlineTiles = ""

// site is a server on a fresh database.
type site struct {
	*httptest.Server
	DB *postgis.DB
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
	srv := api.New(api.Config{Logger: logger, TileURL: tileURL, TileAttribution: "test tiles"}, api.Deps{Ready: db, Features: db})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &site{Server: ts, DB: db}
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
	wantCSP := "default-src 'self'; img-src 'self' data: https: http://127.0.0.1:9; style-src 'self'; script-src 'self'; " +
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
	square := func(lon, lat, size float64) orb.Polygon {
		return orb.Polygon{{{lon, lat}, {lon + size, lat}, {lon + size, lat + size}, {lon, lat + size}, {lon, lat}}}
	}
	countries := geojson.NewFeatureCollection()
	for i, name := range []string{"West <b>x</b>", "East"} {
		f := geojson.NewFeature(square(45+float64(i)*2, 38.5, 2))
		f.Properties = geojson.Properties{"name": name}
		countries.Append(f)
	}
	borders := geojson.NewFeatureCollection()
	borders.Append(geojson.NewFeature(orb.LineString{{47, 38.5}, {47, 40.5}}))
	for _, l := range []struct {
		meta geo.LayerMeta
		fc   *geojson.FeatureCollection
	}{
		{geo.LayerMeta{ID: "countries", Title: "Countries"}, countries},
		{geo.LayerMeta{ID: "borders", Title: "Borders"}, borders},
	} {
		if _, err := db.ImportLayer(context.Background(), l.meta, l.fc); err != nil {
			t.Fatalf("import %s: %v", l.meta.ID, err)
		}
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
