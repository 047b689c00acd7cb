package main

import (
	"fmt"
	"log"
	"strings"
)

// mapZooms are the zooms of the mapzoom suite: the country view (3), the
// regional view (6) and the district view (8) issue 15 asks numbers for.
var mapZooms = []int{3, 6, 8}

// mapZoomSuite times the map's first render (as the map suite does) at
// zooms 3, 6 and 8 centred on the data set's densest hotspot: run it on a
// 30,000 and a 1,000,000 incident data set (-n) for the README's table.
func mapZoomSuite(cfg config, ds *dataset) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Headless Chromium (%d×%d window, fresh browser per load, `serve --tile-url ''`), %d loads per view, "+
		"%d incidents, each view centred on the densest hotspot (%.4f, %.4f). Columns as in the map suite.\n\n",
		mapWidth, mapHeight, cfg.mapRuns, ds.rows, ds.center[0], ds.center[1])
	var views []*viewResult
	for _, z := range mapZooms {
		views = append(views, &viewResult{name: fmt.Sprintf("z %d", z), hash: fmt.Sprintf("#map=%d/%.4f/%.4f", z, ds.center[1], ds.center[0])})
	}
	for _, v := range views {
		for i := range cfg.mapRuns {
			st, err := loadView(cfg, ds.srv.url+"/"+v.hash)
			if err != nil {
				writeMap(&b, views)
				return b.String(), fmt.Errorf("%s view: %w", v.name, err)
			}
			log.Printf("mapzoom %s run %d: %s, first render at %.0f ms (%s), all drawn at %s ms, %d items requests, %d tile requests",
				v.name, i+1, st.Mode, st.Rendered, st.Text, msOrDash(st.AllDrawn), st.Requests, st.Tiles)
			v.runs = append(v.runs, st)
		}
		var err error
		if v.inView, err = publicInParam(ds, v.runs[0].BBox); err != nil {
			return b.String(), err
		}
	}
	writeMap(&b, views)
	return b.String(), nil
}
