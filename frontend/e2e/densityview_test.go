package e2e_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
)

// TestDensityViewWhereTheDataIs: at the world view, a group of incidents
// in Azerbaijan is drawn over Azerbaijan, at the centre of its incidents
// (the server's weighted centroid), not moved to a grid position (which put
// it over Iran), and its ring has the colour of its dominant event type.
func TestDensityViewWhereTheDataIs(t *testing.T) {
	s := newSite(t, offlineTiles)
	r := rand.New(rand.NewPCG(14, 15))
	var sumX, sumY float64 // Mercator, as the server averages
	const n = 40
	for i := range n {
		lon, lat := 47.5+r.NormFloat64()*0.25, 40.5+r.NormFloat64()*0.2
		sumX += lon
		sumY += math.Log(math.Tan(math.Pi/4 + lat*math.Pi/360))
		s.seed(t, lon, lat, func(inc *geo.Incident) {
			inc.Title = fmt.Sprintf("Azerbaijan %d", i)
			if i < 30 {
				inc.EventType, inc.SubEventType = "Battles", "Armed clash"
			}
		})
	}
	for i := range 25 {
		s.seed(t, 30.5+0.01*float64(i), 50.45, func(inc *geo.Incident) { inc.Title = fmt.Sprintf("Kyiv %d", i) })
	}
	wantLon := sumX / n
	wantLat := (2*math.Atan(math.Exp(sumY/n)) - math.Pi/2) * 180 / math.Pi

	b := newBrowser(t, 1280, 800)
	b.watchCanvases(b.ctx)
	b.do(b.ctx, "open the world view", chromedp.Navigate(s.URL+"/?tile-threshold=20#map=2/30.00/40.00"),
		waitMode("tiles", 0), tileLabelSumIs(n+25))
	b.screenshot(b.ctx, "world")
	labels, _ := b.tileLabels(b.ctx)
	var az *tileLabel
	for i := range labels {
		if labels[i].Text == strconv.Itoa(n) {
			az = &labels[i]
		}
	}
	if az == nil {
		t.Fatalf("no group of %d drawn at the world view: %v", n, labels)
	}
	// The page point of the label back to lon/lat, from the view in the hash.
	view := eval[[]float64](b, b.ctx, `(() => { const m = /map=(\d+)\/([-\d.]+)\/([-\d.]+)/.exec(location.hash);
		const r = document.getElementById('map').getBoundingClientRect();
		return [Number(m[1]), Number(m[2]), Number(m[3]), r.left + r.width / 2, r.top + r.height / 2]; })()`)
	world := 256 * math.Exp2(view[0])
	cx := (view[2] + 180) / 360 * world
	cy := (1 - math.Log(math.Tan(math.Pi/4+view[1]*math.Pi/360))/math.Pi) / 2 * world
	px, py := cx+az.X-view[3], cy+az.Y-view[4]
	lon := px/world*360 - 180
	lat := math.Atan(math.Sinh(math.Pi*(1-2*py/world))) * 180 / math.Pi
	// At zoom 2 a pixel is about 0.35°: a group drawn within two of them is where its incidents are.
	if math.Abs(lon-wantLon) > 0.8 || math.Abs(lat-wantLat) > 0.8 {
		t.Errorf("the group of %d is drawn at %.2f, %.2f; its incidents' centre is %.2f, %.2f", n, lat, lon, wantLat, wantLon)
	}
	// Azerbaijan lies north of the Aras (the border with Iran, about 39.3–39.7° N at 46–48.5° E).
	if lat < 39.8 || lon < 45 || lon > 50.5 {
		t.Errorf("the group of Azerbaijan's incidents is drawn at %.2f, %.2f: not over Azerbaijan", lat, lon)
	}

	// Its ring (2 px beyond its 18 px radius) has the Battles colour, #d62728.
	rgb := eval[[]float64](b, b.ctx, fmt.Sprintf(`(() => {
		const x = %f + 20, y = %f;
		for (const c of document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas')) {
			const r = c.getBoundingClientRect();
			if (x < r.left || x >= r.right || y < r.top || y >= r.bottom) continue;
			const dpr = c.width / r.width;
			const d = c.getContext('2d').getImageData(Math.floor((x - r.left) * dpr), Math.floor((y - r.top) * dpr), 1, 1).data;
			if (d[3]) return [d[0], d[1], d[2]];
		}
		return []; })()`, az.X, az.Y))
	if len(rgb) != 3 || math.Abs(rgb[0]-0xd6) > 6 || math.Abs(rgb[1]-0x27) > 6 || math.Abs(rgb[2]-0x28) > 6 {
		t.Errorf("ring colour of the group = %v, want the Battles red (214, 39, 40): 30 of its 40 incidents are battles", rgb)
	}
	// The heatmap is normalised to the view: its heaviest spot (Azerbaijan's
	// 40) is full intensity and Kyiv's 25 is not; leaflet.heat's fixed scale
	// made both (any spot with an incident or more) as hot.
	var kyiv *tileLabel
	for i := range labels {
		if labels[i].Text == "25" {
			kyiv = &labels[i]
		}
	}
	if kyiv == nil {
		t.Fatalf("no group of 25 (Kyiv) drawn: %v", labels)
	}
	b.do(b.ctx, "turn the heatmap on", openPanel(), chromedp.Click(chromedp.CSS(`label[for="layer-heat"]`)),
		chromedp.Poll[chromedp.Void](`Number(document.getElementById('map').dataset.heatMax || 0) > 0`))
	b.screenshot(b.ctx, "heat")
	heatAlpha := func(l *tileLabel) float64 {
		return eval[float64](b, b.ctx, fmt.Sprintf(`(() => {
			const c = document.querySelector('#map canvas.leaflet-heatmap-layer'), r = c.getBoundingClientRect();
			const dpr = c.width / r.width, x0 = (%f - r.left) * dpr, y0 = (%f - r.top) * dpr;
			let a = 0; const d = c.getContext('2d').getImageData(Math.round(x0 - 8), Math.round(y0 - 8), 17, 17).data;
			for (let i = 3; i < d.length; i += 4) a = Math.max(a, d[i]);
			return a; })()`, l.X, l.Y))
	}
	if max := eval[string](b, b.ctx, `document.getElementById('map').dataset.heatMax`); max != "40" {
		t.Errorf("heat scale: full intensity = %s incidents, want 40 (the heaviest spot in view)", max)
	}
	if az, ky := heatAlpha(az), heatAlpha(kyiv); az < 240 || ky >= 230 || ky < 60 {
		t.Errorf("heat opacity at Azerbaijan's 40 = %.0f, at Kyiv's 25 = %.0f; want full (≥ 240) for the heaviest, less for Kyiv", az, ky)
	}
	legend := eval[string](b, b.ctx, `document.querySelector('.legend').textContent`)
	if !strings.Contains(legend, "most frequent type") {
		t.Errorf("legend = %q, want it to explain the ring colour", legend)
	}
	b.checkProblems()
}
