package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

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
		path := param.ReplaceAllString(r.Path, "{$1}")
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
			id, _ := op.(map[string]any)["operationId"].(string)
			if other, dup := seen[id]; dup {
				t.Errorf("operationId %q on %s %s and %s", id, method, path, other)
			}
			seen[id] = method + " " + path
		}
	}
}

// GDAL's OGC API – Features driver, as QGIS uses it, reads the server.
func TestGDALReadsCollections(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Fatal("ogrinfo not found: install gdal-bin (make deps does)")
	}
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
