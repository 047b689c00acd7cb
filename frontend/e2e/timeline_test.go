package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
)

// histogramBars counts the histogram's columns with a bar in the window's
// colour (#1f5482) or the span colour, and says whether the cumulative
// line (#b3261e) is drawn.
const histogramBars = `(() => {
	const c = document.getElementById('tl-histogram');
	const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
	const near = (i, r, g, b) => Math.abs(d[i] - r) < 4 && Math.abs(d[i + 1] - g) < 4 && Math.abs(d[i + 2] - b) < 4;
	let bars = 0, line = false;
	for (let x = 0; x < c.width; x++) {
		let bar = false;
		for (let y = 0; y < c.height; y++) {
			const i = (y * c.width + x) * 4;
			if (near(i, 0x1f, 0x54, 0x82) || near(i, 0xa9, 0xb6, 0xc2)) bar = true;
			if (near(i, 0xb3, 0x26, 0x1e)) line = true;
		}
		if (bar) bars++;
	}
	return { bars, line, width: c.width };
})()`

type histogramState struct {
	Bars  int  `json:"bars"`
	Line  bool `json:"line"`
	Width int  `json:"width"`
}

// TestTimelineCumulativeAndSpeed: cumulative mode keeps the first day in
// the window and play grows it to the last; the fast speed gets there in a
// fraction of the normal time; the running total is drawn.
func TestTimelineCumulativeAndSpeed(t *testing.T) {
	s := newSite(t, offlineTiles)
	seedStaircase(t, s)
	b := newBrowser(t, 1280, 1000)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=8/39.40/47.03"), waitRendered(0), openPanel())

	// Cumulative with the end on 3 Oct: 1 + 2 + 3 incidents.
	n := b.renders(b.ctx)
	b.do(b.ctx, "cumulative, to 3 Oct", chromedp.Click(chromedp.ID("tl-cumulative")),
		chromedp.Evaluate[chromedp.Void](`(() => { const e = document.getElementById('tl-end'); e.value = '2';
			e.dispatchEvent(new Event('input', {bubbles: true})); })()`),
		chromedp.Poll[chromedp.Void](`location.hash.includes('win=2020-10-01/2020-10-03')`), waitRendered(n))
	if got := b.shownCount(b.ctx); got != 6 {
		t.Errorf("cumulative to 3 Oct: count = %d, want 6", got)
	}
	// Moving the start does not unpin it.
	b.do(b.ctx, "try to move the start", chromedp.Evaluate[chromedp.Void](`(() => { const e = document.getElementById('tl-start'); e.value = '1';
		e.dispatchEvent(new Event('input', {bubbles: true})); })()`))
	if v := eval[string](b, b.ctx, `document.getElementById('tl-start').value`); v != "0" {
		t.Errorf("cumulative: window start moved to day %s, want it kept on the first day", v)
	}
	if h := eval[histogramState](b, b.ctx, histogramBars); !h.Line {
		t.Error("cumulative: no running total drawn on the histogram")
	}

	// Very fast: to the last day, the first one kept, in well under the
	// 7 × 1.4 s the normal speed takes for 7 steps of a 10-day timeline.
	b.do(b.ctx, "very fast", chromedp.Evaluate[chromedp.Void](`(() => { const e = document.getElementById('tl-speed'); e.value = '5';
		e.dispatchEvent(new Event('change', {bubbles: true})); })()`))
	start := time.Now()
	b.do(b.ctx, "play", chromedp.Click(chromedp.ID("tl-play")),
		chromedp.Poll[chromedp.Void](`document.getElementById('tl-play').getAttribute('aria-pressed') === 'false'`,
			chromedp.WithPollingInterval(50*time.Millisecond)))
	took := time.Since(start)
	if hash := eval[string](b, b.ctx, `location.hash`); strings.Contains(hash, "win=") {
		t.Errorf("after playing to the end: hash %q, want no window (all dates)", hash)
	}
	b.do(b.ctx, "wait for the render", waitRendered(0))
	if got := b.shownCount(b.ctx); got != 55 {
		t.Errorf("cumulative play to the end: count = %d, want 55", got)
	}
	if took > 5*time.Second {
		t.Errorf("very fast play took %v for 7 steps, want it well under the normal 9.8 s", took)
	}
	b.screenshot(b.ctx, "played")
	b.checkProblems()
}

// TestTimelineHistogramInDenseMode: when the view shows tiles, the
// timeline still has a histogram, from the server.
func TestTimelineHistogramInDenseMode(t *testing.T) {
	s := newSite(t, offlineTiles)
	for i := range 40 {
		s.seed(t, 46.9+0.01*float64(i%10), 39.3+0.01*float64(i/10), func(inc *geo.Incident) {
			inc.OccurredAt = time.Date(2020, 10, 1+i%20, 6, 0, 0, 0, time.UTC)
		})
	}
	b := newBrowser(t, 1280, 1000)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/?tile-threshold=20#map=7/39.40/47.00"), waitMode("tiles", 0), openPanel(),
		chromedp.Poll[chromedp.Void](`document.getElementById('tl-summary').textContent.includes('in view')`))
	b.screenshot(b.ctx, "dense")
	if got := eval[string](b, b.ctx, `document.getElementById('tl-summary').textContent`); got != "All dates: 40 incidents in view" {
		t.Errorf("summary = %q, want the 40 counted per day by the server", got)
	}
	h := eval[histogramState](b, b.ctx, histogramBars)
	// 20 days with incidents over a 20-day timeline: bars across it.
	if h.Bars < h.Width/2 {
		t.Errorf("histogram in dense mode: bars in %d of %d columns, want the 20 days drawn", h.Bars, h.Width)
	}
	if label := eval[string](b, b.ctx, `document.getElementById('tl-histogram').getAttribute('aria-label')`); !strings.Contains(label, "most on") {
		t.Errorf("histogram label = %q, want the busiest day named", label)
	}
	b.checkProblems()
}

// seedStaircase stores 55 incidents over 1–10 October 2020: day d has d
// incidents, so every window of days has a count of its own.
func seedStaircase(t *testing.T, s *site) {
	t.Helper()
	for day := range 10 {
		for i := range day + 1 { // day d has d+1 incidents
			s.seed(t, 46.9+0.03*float64(i), 39.3+0.03*float64(day), func(inc *geo.Incident) {
				inc.OccurredAt = time.Date(2020, 10, 1+day, 12, 0, 0, 0, time.UTC)
				inc.Title = fmt.Sprintf("Day %d, %d", day+1, i)
			})
		}
	}
}
