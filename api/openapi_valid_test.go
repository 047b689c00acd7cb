package api_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/incidentmap/incidentmap/geo"
)

// The OpenAPI document is valid OpenAPI 3.0, as a maintained validator
// reads it (code generators and GDAL depend on that), including the
// per-collection paths of an imported layer.
func TestOpenAPIValid(t *testing.T) {
	ts := newTestServer(t)
	fc := geojson.NewFeatureCollection()
	fc.Append(geojson.NewFeature(orb.LineString{{46.6, 39.7}, {47.0, 39.6}}))
	if _, err := ts.DB.ImportLayer(context.Background(), geo.LayerMeta{ID: "line-of-contact", Title: "Line of contact"}, fc); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(ts.URL + "/api/openapi")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(body)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	for _, path := range []string{"/collections/incidents/items", "/collections/places/items", "/collections/line-of-contact/items"} {
		item := doc.Paths.Find(path)
		if item == nil || item.Get == nil {
			t.Errorf("no GET %s in the document", path)
			continue
		}
		if p := item.Get.Parameters.GetByInAndName("query", "limit"); p == nil || p.Schema.Value.Max == nil || *p.Schema.Value.Max != 10000 {
			t.Errorf("%s: limit without maximum 10000", path)
		}
	}
	inc := doc.Paths.Find("/collections/incidents/items").Get
	if p := inc.Parameters.GetByInAndName("query", "event_type"); p == nil || len(p.Schema.Value.Items.Value.Enum) < 6 {
		t.Errorf("incidents: event_type without its enum")
	}
}
