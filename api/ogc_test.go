package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo"
)

func getJSON(t *testing.T, target string, v any) {
	t.Helper()
	if err := json.Unmarshal(getOK(t, target), v); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
}

type links []struct{ Href, Rel, Type string }

func (ls links) href(rel string) string {
	for _, l := range ls {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

func TestLandingConformanceCollections(t *testing.T) {
	ts := newTestServer(t)
	var landing struct{ Links links }
	getJSON(t, ts.URL+"/api", &landing)
	for _, rel := range []string{"self", "service-desc", "service-doc", "conformance", "data"} {
		href := landing.Links.href(rel)
		if href == "" {
			t.Errorf("landing page has no %s link", rel)
			continue
		}
		if res, err := http.Get(href); err != nil || res.StatusCode != http.StatusOK {
			t.Errorf("landing %s link %s does not answer 200: %v %v", rel, href, err, res)
		} else {
			res.Body.Close()
		}
	}
	var conf struct{ ConformsTo []string }
	getJSON(t, ts.URL+"/api/conformance", &conf)
	for _, c := range []string{"core", "geojson", "oas30"} {
		if !slices.Contains(conf.ConformsTo, "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"+c) {
			t.Errorf("conformance lacks %s: %v", c, conf.ConformsTo)
		}
	}
	seedIncident(t, ts, 47, 39, nil)
	var cols struct {
		Collections []struct {
			ID     string
			Links  links
			Extent struct {
				Temporal struct{ Interval [][]*string }
			}
		}
	}
	getJSON(t, ts.URL+"/api/collections", &cols)
	if len(cols.Collections) == 0 || cols.Collections[0].ID != "incidents" {
		t.Fatalf("collections = %+v, want incidents first", cols.Collections)
	}
	inc := cols.Collections[0]
	if inc.Links.href("items") == "" {
		t.Errorf("incidents collection has no items link")
	}
	if iv := inc.Extent.Temporal.Interval; len(iv) != 1 || iv[0][0] == nil || !strings.HasPrefix(*iv[0][0], "2020-10-18") {
		t.Errorf("temporal extent = %v, want to start on 2020-10-18", iv)
	}
}

// Every route the server registers is described in the OpenAPI document.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	var doc struct {
		OpenAPI string
		Paths   map[string]map[string]any
	}
	getJSON(t, ts.URL+"/api/openapi", &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Errorf("openapi = %q, want 3.0.x", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([A-Za-z]+)`)
	srv := api.New(api.Config{Logger: quietLogger()}, api.Deps{})
	for _, r := range srv.Routes() {
		if strings.HasSuffix(r.Path, "/*") || strings.HasPrefix(r.Method, "echo_route_") {
			continue // catch-alls that only serve 404s and CORS preflights
		}
		// Paths are relative to the API root, the document's server.
		path := param.ReplaceAllString(r.Path, "{$1}")
		switch {
		case path == "/api" || path == "/api/":
			path = "/"
		case strings.HasPrefix(path, "/api/"):
			path = strings.TrimPrefix(path, "/api")
		}
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %s %s is not in the OpenAPI document", r.Method, path)
			continue
		}
		method := strings.ToLower(r.Method)
		if method == "head" {
			method = "get" // HEAD is GET without the body (RFC 9110)
		}
		if _, ok := ops[method]; !ok {
			t.Errorf("route %s %s: method not documented", r.Method, path)
		}
	}
	// Code generators need every operationId unique.
	seen := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			opObj, isOp := op.(map[string]any)
			if !isOp || method == "servers" {
				continue
			}
			id, _ := opObj["operationId"].(string)
			if other, dup := seen[id]; dup {
				t.Errorf("operationId %q on %s %s and %s", id, method, path, other)
			}
			seen[id] = method + " " + path
		}
	}
}

// ogrinfoPath is GDAL's ogrinfo, the OGC API client QGIS uses underneath.
func ogrinfoPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Fatal("ogrinfo not found: install gdal-bin (make deps does)")
	}
	return p
}

// GDAL's OGC API – Features driver, as QGIS uses it, reads the server.
func TestGDALReadsCollections(t *testing.T) {
	ogrinfo := ogrinfoPath(t)
	ts := newTestServer(t)
	for i := range 12 {
		seedIncident(t, ts, 46.5+float64(i)*0.1, 39.0, nil)
	}
	seedIncident(t, ts, 10, 10, func(i *geo.Incident) { i.Title = "far away" })
	url := "OAPIF:" + ts.URL + "/api"
	out, err := exec.Command(ogrinfo, "-ro", "-so", "-q", url).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %s: %v\n%s", url, err, out)
	}
	if !strings.Contains(string(out), "incidents") {
		t.Errorf("ogrinfo does not list the incidents collection:\n%s", out)
	}
	count := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(ogrinfo, append([]string{"-ro", "-so", url, "incidents"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo incidents %v: %v\n%s", args, err, out)
		}
		m := regexp.MustCompile(`Feature Count: (\d+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("ogrinfo gave no feature count:\n%s", out)
		}
		return string(m[1])
	}
	var inBox int
	if err := ts.DB.SQL().QueryRow(`SELECT count(*) FROM incidents WHERE geom && ST_MakeEnvelope(46, 38, 48, 40, 4326)`).Scan(&inBox); err != nil {
		t.Fatal(err)
	}
	if got := count("-spat", "46", "38", "48", "40"); got != fmt.Sprint(inBox) {
		t.Errorf("ogrinfo -spat feature count = %s, want %d (database)", got, inBox)
	}
	if got := count(); got != "13" {
		t.Errorf("ogrinfo feature count = %s, want 13", got)
	}
}

// A client finds a collection's vector tiles the OGC API – Tiles way:
// collection → tilesets-vector link → tileset list → tileset metadata →
// tiling scheme (a full WebMercatorQuad definition) and the templated
// tile URL, which answers a Mapbox Vector Tile.
func TestTilesDiscoverable(t *testing.T) {
	ts := newTestServer(t)
	for i := range 12 {
		seedIncident(t, ts, 46.5+float64(i)*0.1, 39.0, nil)
	}
	type linkDoc struct {
		Href, Rel, Type string
		Templated       bool
	}
	find := func(links []linkDoc, rel string) linkDoc {
		t.Helper()
		for _, l := range links {
			if l.Rel == rel {
				return l
			}
		}
		t.Fatalf("no %q link in %+v", rel, links)
		return linkDoc{}
	}
	var conf struct{ ConformsTo []string }
	getJSON(t, ts.URL+"/api/conformance", &conf)
	for _, want := range []string{"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets", "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset"} {
		if !slices.Contains(conf.ConformsTo, want) {
			t.Errorf("conformance lacks %s", want)
		}
	}
	var coll struct{ Links []linkDoc }
	getJSON(t, ts.URL+"/api/collections/incidents", &coll)
	var sets struct {
		Tilesets []struct {
			DataType         string
			TileMatrixSetURI string
			Links            []linkDoc
		}
	}
	getJSON(t, find(coll.Links, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector").Href, &sets)
	if len(sets.Tilesets) != 1 || sets.Tilesets[0].DataType != "vector" || !strings.HasSuffix(sets.Tilesets[0].TileMatrixSetURI, "/WebMercatorQuad") {
		t.Fatalf("tilesets = %+v", sets.Tilesets)
	}
	var tileset struct {
		DataType string
		Bounds   []float64
		Links    []linkDoc
	}
	getJSON(t, find(sets.Tilesets[0].Links, "self").Href, &tileset)
	if len(tileset.Bounds) != 4 || tileset.Bounds[0] < 46.4 || tileset.Bounds[2] > 47.7 {
		t.Errorf("tileset bounds = %v, want the incidents' extent", tileset.Bounds)
	}
	var tms struct {
		CRS          string
		TileMatrices []struct {
			ID                        string
			ScaleDenominator          float64
			MatrixWidth, MatrixHeight int
			PointOfOrigin             []float64
		}
	}
	getJSON(t, find(tileset.Links, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme").Href, &tms)
	if tms.CRS != "http://www.opengis.net/def/crs/EPSG/0/3857" || len(tms.TileMatrices) != 25 {
		t.Fatalf("tile matrix set: crs %q, %d matrices; want EPSG:3857 and zooms 0..24", tms.CRS, len(tms.TileMatrices))
	}
	if m := tms.TileMatrices[8]; m.ID != "8" || m.MatrixWidth != 256 || math.Abs(m.ScaleDenominator-2183915.0938621) > 0.01 {
		t.Errorf("matrix 8 = %+v", m)
	}
	item := find(tileset.Links, "item")
	if !item.Templated || item.Type != "application/vnd.mapbox-vector-tile" {
		t.Errorf("item link = %+v, want a templated MVT link", item)
	}
	// Zoom 8 tile holding 47.0E 39.0N: column 161, row 97.
	url := strings.NewReplacer("{tileMatrix}", "8", "{tileRow}", "97", "{tileCol}", "161").Replace(item.Href)
	res := do(t, http.MethodGet, url, "", "")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" || len(res.body) == 0 {
		t.Errorf("GET %s = %d %s (%d bytes), want an MVT tile", url, res.status, res.header.Get("Content-Type"), len(res.body))
	}
}

// GDAL pushes an attribute filter on a documented parameter to the server
// (it only does when the collection's own path lists the parameter), as a
// parameter or as CQL text.
func TestGDALPushesAttributeFilters(t *testing.T) {
	ogrinfo := ogrinfoPath(t)
	ts := newTestServer(t)
	for i := range 30 {
		seedIncident(t, ts, 46.5+float64(i)*0.01, 39.0, func(inc *geo.Incident) {
			if i%3 == 0 {
				inc.EventType, inc.SubEventType = "Battles", "Armed clash"
			}
		})
	}
	cmd := exec.Command(ogrinfo, "-ro", "-al", "-q", "OAPIF:"+ts.URL+"/api", "incidents", "-where", "event_type='Battles'")
	cmd.Env = append(cmd.Environ(), "CPL_DEBUG=ON")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), "OGRFeature(incidents)"); got != 10 {
		t.Errorf("ogrinfo -where returned %d features, want 10", got)
	}
	fetches := regexp.MustCompile(`Fetch\((\S+/items\S*)\)`).FindAllStringSubmatch(string(out), -1)
	pushed := false
	for _, f := range fetches {
		// As a parameter or, when GDAL sees CQL text offered, a filter.
		pushed = pushed || strings.Contains(f[1], "event_type=Battles") ||
			strings.Contains(f[1], "filter=event_type%20%3D%20'Battles'")
	}
	if !pushed {
		t.Errorf("GDAL did not send event_type=Battles; items requests: %v", fetches)
	}
}

// Polygons come out as RFC 7946 wants them (outer rings counterclockwise,
// holes clockwise), however the imported file wound them.
func TestPolygonsCounterclockwise(t *testing.T) {
	ts := newTestServer(t)
	fc := geojson.NewFeatureCollection()
	// Outer ring clockwise, hole counterclockwise: the wrong way round.
	fc.Append(geojson.NewFeature(orb.Polygon{
		{{46, 39}, {46, 40}, {47, 40}, {47, 39}, {46, 39}},
		{{46.2, 39.2}, {46.8, 39.2}, {46.8, 39.8}, {46.2, 39.8}, {46.2, 39.2}},
	}))
	if _, err := ts.DB.ImportLayer(context.Background(), geo.LayerMeta{ID: "zone", Title: "Zone"}, fc); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Features []struct {
			Geometry struct{ Coordinates [][][2]float64 }
		}
	}
	getJSON(t, ts.URL+"/api/collections/zone/items", &got)
	if len(got.Features) != 1 || len(got.Features[0].Geometry.Coordinates) != 2 {
		t.Fatalf("features = %+v", got.Features)
	}
	area := func(ring [][2]float64) float64 { // shoelace: > 0 counterclockwise
		a := 0.0
		for i := 0; i+1 < len(ring); i++ {
			a += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
		}
		return a
	}
	rings := got.Features[0].Geometry.Coordinates
	if area(rings[0]) <= 0 || area(rings[1]) >= 0 {
		t.Errorf("outer ring area %v (want > 0, counterclockwise), hole %v (want < 0)", area(rings[0]), area(rings[1]))
	}
}

// GDAL's OGCAPI driver opens a collection only when it has a spatial
// extent ("Missing bbox" otherwise), so an empty collection, as every
// collection of a new server is, still declares one.
func TestGDALOpensEmptyCollection(t *testing.T) {
	ogrinfo := ogrinfoPath(t)
	ts := newTestServer(t)
	url := "OGCAPI:" + ts.URL + "/api/collections/incidents"
	out, err := exec.Command(ogrinfo, "-ro", "-so", "-oo", "API=ITEMS", url).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %s: %v\n%s", url, err, out)
	}
	if !strings.Contains(string(out), "incidents") {
		t.Errorf("ogrinfo %s does not list the incidents layer:\n%s", url, out)
	}
}

// GDAL's OGCAPI driver finds the vector tiles the OGC API – Tiles way:
// collection → tilesets → tileset → tiling scheme, and GDAL's own
// tile-matrix-set parser reads our WebMercatorQuad. GDAL 3.6's driver then
// stops: its Tiles 1.0 code has no vector branch (docs/gis.md has the
// evidence); from 3.7 on it lists one layer per zoom level, which this test
// then requires, reading features from the tiles.
func TestGDALFollowsTilesDiscovery(t *testing.T) {
	ogrinfo := ogrinfoPath(t)
	ts := newTestServer(t)
	for i := range 12 {
		seedIncident(t, ts, 46.5+float64(i)*0.1, 39.0, nil)
	}
	cmd := exec.Command(ogrinfo, "-ro", "-oo", "API=TILES", "OGCAPI:"+ts.URL+"/api/collections/incidents")
	cmd.Env = append(cmd.Environ(), "CPL_DEBUG=ON")
	out, runErr := cmd.CombinedOutput()
	var fetched []string
	for _, m := range regexp.MustCompile(`HTTP: Fetch\((\S+)\)`).FindAllStringSubmatch(string(out), -1) {
		fetched = append(fetched, strings.TrimPrefix(m[1], ts.URL))
	}
	walk := []string{"/api/collections/incidents", "/api/collections/incidents/tiles",
		"/api/collections/incidents/tiles/WebMercatorQuad", "/api/tileMatrixSets/WebMercatorQuad"}
	if len(fetched) < len(walk) || !slices.Equal(fetched[:len(walk)], walk) {
		t.Fatalf("GDAL fetched %q, want it to walk %q\n%s", fetched, walk, out)
	}
	version, _ := exec.Command(ogrinfo, "--version").Output()
	if strings.HasPrefix(string(version), "GDAL 3.6.") {
		if runErr == nil {
			t.Errorf("GDAL 3.6 opened the vector tiles, which docs/gis.md says it cannot: update the docs\n%s", out)
		}
		// The TileMatrixSet must still be one GDAL 3.6 parses (TMS 1.0 JSON
		// encoding); the COG driver takes it as a custom tiling scheme.
		tms := t.TempDir() + "/tms.json"
		if err := os.WriteFile(tms, getOK(t, ts.URL+"/api/tileMatrixSets/WebMercatorQuad"), 0o600); err != nil {
			t.Fatal(err)
		}
		in, cog := t.TempDir()+"/in.tif", t.TempDir()+"/out.tif"
		if out, err := exec.Command("gdal_create", "-of", "GTiff", "-outsize", "4", "4", "-bands", "1",
			"-a_srs", "EPSG:3857", "-a_ullr", "5200000", "4800000", "5300000", "4700000", in).CombinedOutput(); err != nil {
			t.Fatalf("gdal_create: %v\n%s", err, out)
		}
		if out, err := exec.Command("gdal_translate", "-q", "-of", "COG", "-co", "TILING_SCHEME="+tms, in, cog).CombinedOutput(); err != nil {
			t.Errorf("GDAL does not parse /api/tileMatrixSets/WebMercatorQuad as a tiling scheme: %v\n%s", err, out)
		}
		return
	}
	if runErr != nil {
		t.Fatalf("%s could not open the vector tiles: %v\n%s", version, runErr, out)
	}
	if !strings.Contains(string(out), "8: ") && !strings.Contains(string(out), "incidents") {
		t.Errorf("ogrinfo lists no tile layers:\n%s", out)
	}
}
