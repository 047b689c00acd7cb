package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
)

// precisionPixelJS reads the canvas pixel of the incident tiles at dx, dy
// CSS pixels from the map's centre: [red, green, blue, alpha], or null.
const precisionPixelJS = `((dx, dy) => {
	const m = document.getElementById('map').getBoundingClientRect();
	const x = m.left + m.width / 2 + dx, y = m.top + m.height / 2 + dy;
	for (const c of document.querySelectorAll('#map .leaflet-incidentTiles-pane canvas')) {
		const r = c.getBoundingClientRect();
		if (x < r.left || x >= r.right || y < r.top || y >= r.bottom) continue;
		const k = c.width / r.width;
		return [...c.getContext('2d').getImageData(Math.floor((x - r.left) * k), Math.floor((y - r.top) * k), 1, 1).data];
	}
	return null; })`

// TestPrecisionCirclesOnTiles: in tile mode a point known only to the
// district (geo_precision 3) is drawn over a translucent circle of 25 km
// in its type's colour, also where the circle reaches onto other tiles;
// beyond 25 km nothing is drawn; the point's own symbol is the smaller,
// hollow one of the marker view.
func TestPrecisionCirclesOnTiles(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, func(inc *geo.Incident) {
		inc.EventType, inc.SubEventType, inc.GeoPrecision = "Riots", "Mob violence", 3
	})
	for i := range 4 { // exact points some 450 px east, in view: the view holds more than the threshold
		s.seed(t, 47.65, 39.30+0.05*float64(i), func(inc *geo.Incident) { inc.Title = fmt.Sprintf("Shelling %d", i) })
	}
	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/?tile-threshold=3#map=10/39.40000/47.03000"), waitMode("tiles", 0),
		chromedp.Sleep(500*time.Millisecond))
	b.screenshot(b.ctx, "circle")
	// 25 km at 39.4° N, zoom 10: 25,000 m / (40,075,017 m × cos 39.4° / 262,144 px) = 211 px.
	// 150 px each way: 300 px apart, so at least one of each pair lies on another tile than the point.
	for _, d := range [][2]int{{150, 0}, {-150, 0}, {0, 150}, {0, -150}, {100, 100}} {
		px := eval[[]float64](b, b.ctx, fmt.Sprintf("%s(%d, %d)", precisionPixelJS, d[0], d[1]))
		// Riots yellow (style.css) at fill opacity 0.14: alpha about 36, red and green well above blue.
		if len(px) != 4 || px[3] < 20 || px[3] > 60 || px[0] < px[2]+50 || px[1] < px[2] {
			t.Errorf("pixel %v px from the point = %v, want the translucent Riots yellow of its 25 km circle", d, px)
		}
	}
	// The point itself is drawn as its marker is: smaller and hollow (white
	// inside, edged in the type's colour), where an exact point is filled.
	if px := eval[[]float64](b, b.ctx, precisionPixelJS+"(0, 0)"); len(px) != 4 || px[3] < 250 || px[0] < 230 || px[1] < 230 || px[2] < 230 {
		t.Errorf("pixel at the imprecise point = %v, want the opaque white inside of a hollow marker", px)
	}
	if px := eval[[]float64](b, b.ctx, precisionPixelJS+"(0, 2)"); len(px) != 4 || px[3] < 250 || px[2] < 230 {
		t.Errorf("pixel 2 px below the imprecise point = %v, want the white inside of its marker", px)
	}
	if px := eval[[]float64](b, b.ctx, precisionPixelJS+"(0, 8)"); len(px) != 4 || px[3] > 60 {
		t.Errorf("pixel 8 px below the imprecise point = %v, want only its translucent circle (the hollow marker is 14 px, not 18)", px)
	}
	for _, d := range [][2]int{{0, 240}, {-240, 0}} {
		if px := eval[[]float64](b, b.ctx, fmt.Sprintf("%s(%d, %d)", precisionPixelJS, d[0], d[1])); len(px) == 4 && px[3] != 0 {
			t.Errorf("pixel %v px from the point (beyond 211 px) = %v, want nothing drawn", d, px)
		}
	}
}
