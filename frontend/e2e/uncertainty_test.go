package e2e_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/incidentmap/incidentmap/geo"
)

// The radii precision.js documents (README "Uncertainty on the map").
var precisionRadiusM = map[geo.GeoPrecision]float64{geo.GeoNear: 2000, geo.GeoRegion: 25000}

// TestUncertaintyDrawn: a point known only near a place or to its
// district is drawn as a circle of the documented radius (measured in
// pixels against the map's metres per pixel at its latitude), its popup
// says how well it is known, and a week-precise incident is a week-wide
// span on the timeline.
func TestUncertaintyDrawn(t *testing.T) {
	s := newSite(t, offlineTiles)
	s.seed(t, 47.03, 39.40, func(inc *geo.Incident) {
		inc.Title, inc.LocationName, inc.GeoPrecision = "Shelling near Jebrail", "Jebrail", geo.GeoNear
		inc.OccurredAt = time.Date(2020, 10, 1, 6, 0, 0, 0, time.UTC)
	})
	s.seed(t, 46.70, 39.30, func(inc *geo.Incident) {
		inc.Title, inc.Admin1, inc.GeoPrecision = "Shelling in the district", "Jabrayil", geo.GeoRegion
		inc.OccurredAt = time.Date(2020, 10, 31, 6, 0, 0, 0, time.UTC)
	})
	s.seed(t, 47.20, 39.50, func(inc *geo.Incident) {
		inc.Title = "Shelling in the week of 12 Oct"
		inc.OccurredAt, inc.TimePrecision = time.Date(2020, 10, 14, 6, 0, 0, 0, time.UTC), geo.TimeWeek
	})

	b := newBrowser(t, 1280, 800)
	b.do(b.ctx, "open the map", chromedp.Navigate(s.URL+"/#map=9/39.40/47.00"), waitRendered(0), liveConnected())
	b.screenshot(b.ctx, "circles")

	// One circle per imprecise point, at the documented radius.
	for _, c := range []struct {
		precision geo.GeoPrecision
		lat       float64
	}{{geo.GeoNear, 39.40}, {geo.GeoRegion, 39.30}} {
		sel := `#map path.precision-area.precision-` + string(rune('0'+int(c.precision)))
		got := eval[[]float64](b, b.ctx, `(() => { const e = [...document.querySelectorAll('`+sel+`')];
			return e.map((p) => p.getBoundingClientRect().width / 2); })()`)
		if len(got) != 1 {
			t.Fatalf("precision %d: %d circles drawn, want 1", c.precision, len(got))
		}
		zoom := eval[float64](b, b.ctx, `Number(location.hash.match(/map=(\d+)/)[1])`)
		metresPerPixel := 40075016.686 * math.Cos(c.lat*math.Pi/180) / (256 * math.Exp2(zoom))
		want := precisionRadiusM[c.precision] / metresPerPixel
		if math.Abs(got[0]-want) > 0.1*want {
			t.Errorf("precision %d: circle radius %.1f px, want %.1f px (%.0f m at %.2f m/px) within 10%%",
				c.precision, got[0], want, precisionRadiusM[c.precision], metresPerPixel)
		}
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map path.precision-area').length`); n != 2 {
		t.Errorf("%d precision circles, want 2 (the exact point has none)", n)
	}
	// The markers stay focusable buttons with a name that says so.
	label := eval[string](b, b.ctx, `document.querySelector('#map .incident-marker.is-approx[aria-label^="Shelling near"]')?.getAttribute('aria-label') || ''`)
	if !strings.Contains(label, "within about 2 km") {
		t.Errorf("marker name = %q, want it to say the place is known within about 2 km", label)
	}
	if n := eval[int](b, b.ctx, `document.querySelectorAll('#map .incident-marker.is-approx[tabindex="0"][role="button"]').length`); n != 2 {
		t.Errorf("%d imprecise markers are keyboard buttons, want 2", n)
	}

	// Popup wording.
	for _, c := range []struct{ marker, want string }{
		{"Shelling near", "near Jebrail (within about 2 km)"},
		{"Shelling in the district", "location known to the district (within about 25 km)"},
	} {
		b.do(b.ctx, "open "+c.marker, chromedp.Click(chromedp.CSS(`#map .incident-marker[aria-label^="`+c.marker+`"]`)),
			chromedp.Poll[chromedp.Void](`document.querySelector('.leaflet-popup .props')?.textContent.includes('Sources')`))
		place := get(b, b.ctx, "read the popup", chromedp.Text(chromedp.CSS(`.leaflet-popup .props`)))
		if !strings.Contains(place, c.want) {
			t.Errorf("popup of %q: place = %q, want %q", c.marker, place, c.want)
		}
		b.do(b.ctx, "close the popup", still(`.leaflet-popup-close-button`), chromedp.Click(chromedp.CSS(`.leaflet-popup-close-button`)),
			chromedp.WaitNotPresent(chromedp.CSS(`.leaflet-popup`)))
	}

	// Timeline: 1 to 31 Oct; the week-precise incident covers 12 to 18 Oct
	// in the span colour (#7fa7cc), a run of 7/31 of the histogram's width.
	b.do(b.ctx, "show the panel", openPanel())
	span := eval[[]float64](b, b.ctx, `(() => {
		const c = document.getElementById('tl-histogram');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let first = -1, last = -1;
		for (let x = 0; x < c.width; x++) for (let y = 0; y < c.height; y++) {
			const i = (y * c.width + x) * 4;
			if (Math.abs(d[i] - 0x7f) < 3 && Math.abs(d[i + 1] - 0xa7) < 3 && Math.abs(d[i + 2] - 0xcc) < 3) {
				if (first < 0) first = x; last = x; break;
			}
		}
		return [first, last + 1, c.width]; })()`)
	if span[0] < 0 {
		t.Fatal("no span drawn on the timeline for the week-precise incident")
	}
	width, want := span[1]-span[0], 7.0/31*span[2]
	if math.Abs(width-want) > 0.12*want {
		t.Errorf("week span on the timeline: %.0f px wide (from %.0f), want %.0f px (7 of 31 days of %.0f px)", width, span[0], want, span[2])
	}
	if wantStart := 11.0 / 31 * span[2]; math.Abs(span[0]-wantStart) > 0.02*span[2] {
		t.Errorf("week span starts at %.0f px, want about %.0f (12 Oct)", span[0], wantStart)
	}
	b.checkProblems()
}
