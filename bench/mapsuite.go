package main

import (
	"context"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/incidentmap/incidentmap/frontend/chromium"
)

// The browser window of the map suite, and the incidents the city view
// should hold.
const (
	mapWidth, mapHeight = 1280, 800
	cityTarget          = 10000
	worldHash           = "#map=2/20.00/20.00"
)

func chromiumPath(cfg config) (string, error) {
	if cfg.chromium != "" {
		return exec.LookPath(cfg.chromium)
	}
	exe, err := chromium.Find()
	if err != nil {
		return "", fmt.Errorf("%w, or pass -chromium", err)
	}
	return exe, nil
}

// browser is one headless Chromium with a fresh profile.
type browser struct {
	ctx     context.Context
	cancel  func()
	profile string
}

func newBrowser(cfg config) (*browser, error) {
	exe, err := chromiumPath(cfg)
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "incidentmap-bench-chromium-")
	if err != nil {
		return nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromium.Options(exe, profile, mapWidth, mapHeight)...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b := &browser{ctx: ctx, profile: profile, cancel: func() {
		cancelTab()
		cancelAlloc()
		os.RemoveAll(profile)
	}}
	// Start the browser now, so its start-up is not part of a measurement.
	// The first action on the tab's own context starts it (cancelling
	// that context would close the browser, so no timeout context here).
	timer := time.AfterFunc(time.Minute, b.cancel)
	defer timer.Stop()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		b.cancel()
		return nil, fmt.Errorf("start Chromium: %w", err)
	}
	return b, nil
}

// renderWatch is installed in every new document before the app's
// scripts: on each animation frame until it holds, it checks whether the
// incidents are rendered and records when, in milliseconds since
// navigation started. Rendered: the count element shows a number, and
// either the marker pane (markers and clusters) has children or, when the
// view holds more incidents than the map loads, a vector tile with
// incidents has been drawn (the map's data-tiles-drawn).
const renderWatch = `(() => {
  const check = () => {
    const count = document.getElementById('incident-count');
    const map = document.getElementById('map');
    const pane = document.querySelector('#map .leaflet-marker-pane');
    const tiles = Number(map?.dataset.tilesDrawn || 0);
    if (count && pane && /[0-9]/.test(count.textContent) && (pane.childElementCount > 0 || tiles > 0)) {
      window.__benchRendered = performance.now();
      window.__benchText = count.textContent.trim();
      window.__benchIcons = pane.childElementCount;
      window.__benchMode = map.dataset.mode || 'features';
      window.__benchTiles = tiles;
      return;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})()`

// viewStats is what a page load reports once rendered.
type viewStats struct {
	Rendered   float64  `json:"rendered"` // ms since navigation: first render
	DOMReady   float64  `json:"domReady"`
	Fetch      *float64 `json:"fetch"`    // the app's own marks, when present
	Fetched    *float64 `json:"fetched"`  //
	AllDrawn   *float64 `json:"allDrawn"` // the app's first "rendered" mark: everything in view drawn
	Mode       string   `json:"mode"`     // "features" (markers) or "tiles" at first render
	Text       string   `json:"text"`     // #incident-count at first render
	Icons      int      `json:"icons"`    // marker and cluster elements then
	TilesDrawn int      `json:"tilesDrawn"`
	Requests   int      `json:"requests"`
	Bytes      float64  `json:"bytes"`      // decoded bodies of the items requests
	ItemsFirst float64  `json:"itemsFirst"` // first items request sent
	ItemsLast  float64  `json:"itemsLast"`  // last items response in
	Tiles      int      `json:"tiles"`      // incident tile requests
	TileBytes  float64  `json:"tileBytes"`  // their decoded bodies
	TilesLast  float64  `json:"tilesLast"`  // last tile response in
	Heap       float64  `json:"heap"`       // used JS heap, bytes
	BBox       string   `json:"bbox"`       // bbox of the first items request
}

const collectStats = `(() => {
  const mark = (n) => { const e = performance.getEntriesByName('incidentmap:' + n); return e.length ? e[0].startTime : null; };
  const resources = performance.getEntriesByType('resource');
  const items = resources.filter((e) => e.name.includes('/collections/incidents/items'));
  const tiles = resources.filter((e) => e.name.includes('/collections/incidents/tiles/WebMercatorQuad/'));
  const nav = performance.getEntriesByType('navigation')[0];
  let bbox = '';
  if (items.length) bbox = new URL(items[0].name).searchParams.get('bbox') || '';
  return {
    rendered: window.__benchRendered,
    domReady: nav ? nav.domContentLoadedEventEnd : 0,
    fetch: mark('fetch'), fetched: mark('fetched'), allDrawn: mark('rendered'),
    mode: window.__benchMode,
    text: window.__benchText,
    icons: window.__benchIcons,
    tilesDrawn: window.__benchTiles,
    requests: items.length,
    bytes: items.reduce((s, e) => s + (e.decodedBodySize || 0), 0),
    itemsFirst: items.length ? items[0].startTime : 0,
    itemsLast: items.reduce((m, e) => Math.max(m, e.responseEnd), 0),
    tiles: tiles.length,
    tileBytes: tiles.reduce((s, e) => s + (e.decodedBodySize || 0), 0),
    tilesLast: tiles.reduce((m, e) => Math.max(m, e.responseEnd), 0),
    heap: performance.memory ? performance.memory.usedJSHeapSize : 0,
    bbox,
  };
})()`

// loadView opens url in a fresh browser and waits for the first render,
// then for everything in view to be drawn (the app's "rendered" mark: all
// markers, or every tile in view).
func loadView(cfg config, url string) (viewStats, error) {
	b, err := newBrowser(cfg)
	if err != nil {
		return viewStats{}, err
	}
	defer b.cancel()
	ctx, cancel := context.WithTimeout(b.ctx, 4*time.Minute)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: renderWatch}); err != nil {
		return viewStats{}, err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url),
		chromedp.Poll[chromedp.Void](`window.__benchRendered !== undefined`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(3*time.Minute)),
		chromedp.Poll[chromedp.Void](`performance.getEntriesByName('incidentmap:rendered').length > 0`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(3*time.Minute))); err != nil {
		return viewStats{}, fmt.Errorf("load %s: %w", url, err)
	}
	// Resource timing lists the requests finished by now.
	return chromedp.Run(ctx, chromedp.Evaluate[viewStats](collectStats))
}

// mapSize reads the size of the map element in the suite's window.
func mapSize(cfg config, base string) (w, h float64, err error) {
	b, err := newBrowser(cfg)
	if err != nil {
		return 0, 0, err
	}
	defer b.cancel()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	// An empty corner of the world: nothing to load.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/#map=12/-70.00/-170.00")); err != nil {
		return 0, 0, err
	}
	size, err := chromedp.Run(ctx, chromedp.Evaluate[[2]float64](
		`(() => { const r = document.getElementById('map').getBoundingClientRect(); return [r.width, r.height]; })()`))
	return size[0], size[1], err
}

// viewBBox is the lon/lat box Leaflet shows for a centre and zoom in a
// map of w×h pixels (256-pixel WebMercatorQuad tiles).
func viewBBox(lon, lat float64, zoom int, w, h float64) [4]float64 {
	scale := 256 * math.Exp2(float64(zoom))
	r := lat * math.Pi / 180
	cx := (lon + 180) / 360 * scale
	cy := (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * scale
	toLon := func(px float64) float64 { return px/scale*360 - 180 }
	toLat := func(py float64) float64 { return math.Atan(math.Sinh(math.Pi*(1-2*py/scale))) * 180 / math.Pi }
	return [4]float64{max(-180, toLon(cx-w/2)), max(-90, toLat(cy+h/2)), min(180, toLon(cx+w/2)), min(90, toLat(cy-h/2))}
}

// cityView finds a view of the densest hotspot holding about cityTarget
// public incidents: the deepest zoom at which the view centred on it holds
// at least that many, then the centre moved away from the hotspot (at most
// half a view, so the hotspot stays in it) until the view holds ~target.
func cityView(ds *dataset, w, h float64) (zoom int, lon, lat float64, n int, err error) {
	c := ds.center
	for zoom = 14; zoom >= 2; zoom-- {
		if n, err = publicIn(ds.db, viewBBox(c[0], c[1], zoom, w, h)); err != nil {
			return
		}
		if n >= cityTarget {
			break
		}
	}
	lon, lat = c[0], c[1]
	if n <= cityTarget*105/100 {
		return
	}
	best := math.Inf(1)
	bb := viewBBox(c[0], c[1], zoom, w, h)
	halfW, halfH := (bb[2]-bb[0])/2, (bb[3]-bb[1])/2
	for _, dir := range [][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
		lo, hi := 0.0, 1.0
		for range 20 {
			f := (lo + hi) / 2
			x, y := c[0]+dir[0]*f*halfW, c[1]+dir[1]*f*halfH
			m, e := publicIn(ds.db, viewBBox(x, y, zoom, w, h))
			if e != nil {
				err = e
				return
			}
			if d := math.Abs(math.Log(float64(m) / cityTarget)); d < best {
				best, lon, lat, n = d, x, y, m
			}
			switch {
			case m > cityTarget*105/100:
				lo = f
			case m < cityTarget*95/100:
				hi = f
			default:
				return
			}
		}
	}
	return
}

type viewResult struct {
	name, hash string
	inView     int // public incidents in the bbox the map requested (SQL)
	runs       []viewStats
}

// publicInParam counts the public incidents in an API bbox parameter,
// which crosses the antimeridian when west > east.
func publicInParam(ds *dataset, param string) (int, error) {
	var b [4]float64
	if _, err := fmt.Sscanf(param, "%g,%g,%g,%g", &b[0], &b[1], &b[2], &b[3]); err != nil {
		return 0, fmt.Errorf("bbox %q: %w", param, err)
	}
	if b[0] <= b[2] {
		return publicIn(ds.db, b)
	}
	east, err := publicIn(ds.db, [4]float64{b[0], b[1], 180, b[3]})
	if err != nil {
		return 0, err
	}
	west, err := publicIn(ds.db, [4]float64{-180, b[1], b[2], b[3]})
	return east + west, err
}

// mapSuite times the map application in headless Chromium from navigation
// to the first render of the incidents, for the world view and a city view.
func mapSuite(cfg config, ds *dataset) (string, error) {
	var b strings.Builder
	w, h, err := mapSize(cfg, ds.srv.url)
	if err != nil {
		return "", err
	}
	zoom, lon, lat, n, err := cityView(ds, w, h)
	if err != nil {
		return "", err
	}
	log.Printf("map: %0.fx%0.f px; city view z %d at %.4f,%.4f holds %d", w, h, zoom, lon, lat, n)
	views := []*viewResult{
		{name: "world", hash: worldHash},
		{name: fmt.Sprintf("city (~%d)", cityTarget), hash: fmt.Sprintf("#map=%d/%.4f/%.4f", zoom, lat, lon)},
	}
	fmt.Fprintf(&b, "Headless Chromium (%d×%d window, map %.0f×%.0f px, fresh profile and browser per load, raster basemap off: `serve --tile-url ''`), "+
		"%d loads per view. The map first asks how many incidents the view holds (an items request with limit=1). Up to 20,000 "+
		"(TILE_THRESHOLD in frontend/src/main.js) it loads them in pages of 10,000 and clusters the markers with Leaflet.markercluster "+
		"(mode *features*); above, it draws the server's vector tiles on canvas (mode *tiles*). "+
		"*First render*: milliseconds from the start of navigation until an animation frame in which `#incident-count` shows a number "+
		"and either the marker pane (markers and clusters) has children or a tile with incidents has been drawn. "+
		"*All drawn*: the app's first `incidentmap:rendered` mark, when every marker, or every tile in view, is drawn.\n\n",
		mapWidth, mapHeight, w, h, cfg.mapRuns)
	fmt.Fprintf(&b, "City view: z %d is the deepest zoom at which the view centred on the densest hotspot holds at least %d public incidents "+
		"(the synthetic hotspots hold ~%d each, so ~%d takes a regional view); the centre is then moved (%+.2f°, %+.2f°) from the hotspot so that it holds ~%d (%d predicted).\n\n",
		zoom, cityTarget, ds.rows*4/5/400, cityTarget, lon-ds.center[0], lat-ds.center[1], cityTarget, n)
	for _, v := range views {
		for i := range cfg.mapRuns {
			st, err := loadView(cfg, ds.srv.url+"/"+v.hash)
			if err != nil {
				writeMap(&b, views)
				return b.String(), fmt.Errorf("%s view: %w", v.name, err)
			}
			log.Printf("map %s run %d: %s, first render at %.0f ms (%s), all drawn at %s ms, %d items requests, %d tile requests",
				v.name, i+1, st.Mode, st.Rendered, st.Text, msOrDash(st.AllDrawn), st.Requests, st.Tiles)
			v.runs = append(v.runs, st)
		}
		if v.inView, err = publicInParam(ds, v.runs[0].BBox); err != nil {
			return b.String(), err
		}
	}
	writeMap(&b, views)
	return b.String(), nil
}

func writeMap(b *strings.Builder, views []*viewResult) {
	fmt.Fprintln(b, "| view | URL hash | bbox requested | incidents in bbox (SQL) | mode | count shown at first render | items requests | items bytes | "+
		"tile requests | tile bytes | request sent | last data in | first render (median) | min – max | all drawn | marker/cluster icons | tiles drawn | JS heap |")
	fmt.Fprintln(b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, v := range views {
		if len(v.runs) == 0 {
			continue
		}
		rendered := make([]float64, len(v.runs))
		for i, r := range v.runs {
			rendered[i] = r.Rendered
		}
		med := medianRun(v.runs)
		fmt.Fprintf(b, "| %s | `%s` | %s | %d | %s | %s | %d | %.1f MB | %d | %.2f MB | %.0f ms | %.0f ms | **%.0f ms** | %.0f – %.0f ms | %s ms | %d | %d | %.0f MB |\n",
			v.name, v.hash, med.BBox, v.inView, med.Mode, med.Text, med.Requests, med.Bytes/1e6, med.Tiles, med.TileBytes/1e6,
			med.ItemsFirst, max(med.ItemsLast, med.TilesLast), med.Rendered, slices.Min(rendered), slices.Max(rendered),
			msOrDash(med.AllDrawn), med.Icons, med.TilesDrawn, med.Heap/1e6)
	}
	fmt.Fprintln(b, "\nColumns other than min – max are from the median load. *Request sent* / *last data in*: the first items request's start and "+
		"the last items or tile response's end (resource timing), ms since navigation. *Tiles drawn*: tiles with incidents drawn at first render.")
}

func msOrDash(ms *float64) string {
	if ms == nil {
		return "–"
	}
	return fmt.Sprintf("%.0f", *ms)
}

// medianRun is the load with the median first-render time.
func medianRun(runs []viewStats) viewStats {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b viewStats) int { return int(a.Rendered - b.Rendered) })
	return s[len(s)/2]
}
