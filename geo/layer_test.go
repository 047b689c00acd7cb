package geo_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/incidentmap/incidentmap/geo"
)

// feat is a GeoJSON Feature with the given geometry and properties JSON.
func feat(geometry, properties string) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":%s,"properties":%s}`, geometry, properties)
}

const okPoint = `{"type":"Point","coordinates":[47.03,39.40]}`

// collection wraps features in a FeatureCollection.
func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

// okFeatures returns n valid point features.
func okFeatures(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = feat(okPoint, `{"date":"2020-10-18"}`)
	}
	return out
}

// withBad returns valid features with bad at index i.
func withBad(n, i int, bad string) string {
	fs := okFeatures(n)
	fs[i] = bad
	return collection(fs...)
}

var okMeta = geo.LayerMeta{ID: "front-line_2020", Title: "Front line", Description: "Where it ran.", TimeProperty: "date"}

// fieldOf returns the only field a *ValidationError names.
func fieldOf(t *testing.T, err error) (field, msg string) {
	t.Helper()
	var verr *geo.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %v (%T) is not a *geo.ValidationError", err, err)
	}
	if !errors.Is(err, geo.ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	if len(verr.Errors) != 1 {
		t.Fatalf("got %d field errors %v, want 1", len(verr.Errors), verr.Errors)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q spans lines", err)
	}
	return verr.Errors[0].Field, verr.Errors[0].Message
}

func TestParseAndValidateLayerAcceptsEveryGeometryType(t *testing.T) {
	file := collection(
		feat(`{"type":"Point","coordinates":[-180,-90,120.5]}`, `{"date":"2020-10-18T04:05:06+04:00","big":12345678901234567890}`),
		feat(`{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}`, `null`),
		feat(`{"type":"LineString","coordinates":[[1,2],[3,4]]}`, `{"date":null}`),
		feat(`{"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[5,6],[7,8],[9,10]]]}`, `{}`),
		feat(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]],[[0.1,0.1],[0.2,0.1],[0.2,0.2],[0.1,0.1]]]}`, `{"name":"zone"}`),
		`{"type":"Feature","id":"x","geometry":{"type":"MultiPolygon","coordinates":[[[[180,90],[179,90],[179,89],[180,90]]]]},"properties":{"date":"2021-01-01"},"extra":1}`,
	)
	fc, err := geo.ParseLayerFile(strings.NewReader(`{"name":"foreign","crs":{"type":"name"},`+file[1:]), 1<<20)
	if err != nil {
		t.Fatalf("ParseLayerFile: %v", err)
	}
	if err := geo.ValidateLayer(okMeta, fc, geo.LayerOptions{}); err != nil {
		t.Fatalf("ValidateLayer: %v", err)
	}
	wantTypes := []string{"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
	if len(fc.Features) != len(wantTypes) {
		t.Fatalf("got %d features, want %d", len(fc.Features), len(wantTypes))
	}
	for i, f := range fc.Features {
		if got := f.Geometry.GeoJSONType(); got != wantTypes[i] {
			t.Errorf("feature %d is a %s, want %s", i, got, wantTypes[i])
		}
		if f.Properties == nil {
			t.Errorf("feature %d: nil properties, want an empty object", i)
		}
	}
	if p := fc.Features[0].Geometry.(orb.Point); p != (orb.Point{-180, -90}) {
		t.Errorf("point = %v, want [-180 -90] (height dropped)", p)
	}
	// Large integers survive: numbers are kept as written.
	b, _ := json.Marshal(fc.Features[0].Properties)
	if !strings.Contains(string(b), `"big":12345678901234567890`) {
		t.Errorf("properties re-encode as %s, want the big integer unchanged", b)
	}
	tm, err := geo.LayerFeatureTime(fc.Features[0], "date")
	if err != nil || tm == nil || !tm.Equal(time.Date(2020, 10, 18, 0, 5, 6, 0, time.UTC)) {
		t.Errorf("LayerFeatureTime = %v, %v; want 2020-10-18T00:05:06Z", tm, err)
	}
	if tm, err := geo.LayerFeatureTime(fc.Features[2], "date"); tm != nil || err != nil {
		t.Errorf("LayerFeatureTime of null = %v, %v; want nil, nil", tm, err)
	}
}

func TestParseLayerFileRejects(t *testing.T) {
	tests := []struct {
		name, file, field, msg string
	}{
		{"not JSON", `{"type": FeatureCollection}`, "file", "invalid JSON"},
		{"not an object", `[1,2]`, "file", "not a JSON object"},
		{"truncated", `{"type":"FeatureCollection","features":[` + feat(okPoint, `{}`), "file", "unexpected end of file"},
		{"trailing data", collection(okFeatures(1)...) + ` {}`, "file", "after the FeatureCollection"},
		{"a Feature", feat(okPoint, `{}`), "type", `"Feature"`},
		{"no type", `{"features":[]}`, "type", "missing"},
		{"no features", `{"type":"FeatureCollection"}`, "features", "missing"},
		{"features not an array", `{"type":"FeatureCollection","features":{}}`, "features", "array"},
		{"feature not an object", withBad(3, 1, `[1]`), "features[1]", "Feature object"},
		{"feature wrong type", withBad(4, 2, `{"type":"Geometry","geometry":null}`), "features[2].type", `"Geometry"`},
		{"unknown geometry type", withBad(3, 1, feat(`{"type":"Circle","coordinates":[1,2]}`, `{}`)), "features[1].geometry", "Circle"},
		{"position of one number", withBad(5, 4, feat(`{"type":"LineString","coordinates":[[1,2],[3]]}`, `{}`)), "features[4].geometry", "1 number"},
		{"point of no number", withBad(2, 0, feat(`{"type":"Point","coordinates":[]}`, `{}`)), "features[0].geometry", "0 number"},
		{"null coordinate", withBad(3, 2, feat(`{"type":"Point","coordinates":[null,1]}`, `{}`)), "features[2].geometry", "numbers"},
		{"string coordinate", withBad(3, 2, feat(`{"type":"Point","coordinates":["1","2"]}`, `{}`)), "features[2].geometry", "numbers"},
		{"wrong nesting", withBad(3, 1, feat(`{"type":"Polygon","coordinates":[[1,2],[3,4]]}`, `{}`)), "features[1].geometry", "nested"},
		{"no coordinates", withBad(3, 1, feat(`{"type":"Point"}`, `{}`)), "features[1].geometry", "no coordinates"},
		{"properties an array", withBad(3, 1, feat(okPoint, `[1]`)), "features[1].properties", "object"},
		{"properties a string", withBad(18, 17, feat(okPoint, `"x"`)), "features[17].properties", "object"},
		{"too large", collection(okFeatures(100)...), "file", "larger than 1000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := int64(1 << 20)
			if tt.name == "too large" {
				limit = 1000
			}
			fc, err := geo.ParseLayerFile(strings.NewReader(tt.file), limit)
			if err == nil {
				t.Fatalf("ParseLayerFile accepted it (%d features)", len(fc.Features))
			}
			field, msg := fieldOf(t, err)
			t.Log(err)
			if field != tt.field || !strings.Contains(msg, tt.msg) {
				t.Errorf("error %q: field %q, message %q; want field %q, message containing %q", err, field, msg, tt.field, tt.msg)
			}
		})
	}
}

func TestValidateLayerRejects(t *testing.T) {
	tests := []struct {
		name, file, field, msg string
	}{
		{"null geometry", withBad(5, 3, feat(`null`, `{}`)), "features[3].geometry", "missing"},
		{"missing geometry", withBad(5, 2, `{"type":"Feature","properties":{}}`), "features[2].geometry", "missing"},
		{"geometry collection", withBad(3, 1, feat(`{"type":"GeometryCollection","geometries":[`+okPoint+`]}`, `{}`)), "features[1].geometry", "GeometryCollection"},
		{"longitude out of range", withBad(20, 17, feat(`{"type":"Point","coordinates":[180.5,10]}`, `{}`)), "features[17].geometry", "longitude 180.5"},
		{"latitude out of range", withBad(3, 0, feat(`{"type":"MultiPoint","coordinates":[[1,2],[3,-90.01]]}`, `{}`)), "features[0].geometry", "latitude -90.01"},
		{"line of one point", withBad(3, 2, feat(`{"type":"LineString","coordinates":[[1,2]]}`, `{}`)), "features[2].geometry", "at least 2"},
		{"multi line with short part", withBad(3, 2, feat(`{"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[5,6]]]}`, `{}`)), "features[2].geometry", "line string 1"},
		{"ring not closed", withBad(4, 3, feat(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, `{}`)), "features[3].geometry", "not closed"},
		{"ring too short", withBad(4, 1, feat(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, `{}`)), "features[1].geometry", "at least 4"},
		{"polygon without rings", withBad(4, 1, feat(`{"type":"Polygon","coordinates":[]}`, `{}`)), "features[1].geometry", "no rings"},
		{"bad hole in multipolygon", withBad(4, 2, feat(`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,0],[1,1],[0,0]],[[0,0],[1,0],[1,1],[0,1]]]]}`, `{}`)), "features[2].geometry", "(polygon 1, ring 1)"},
		{"empty multipoint", withBad(2, 1, feat(`{"type":"MultiPoint","coordinates":[]}`, `{}`)), "features[1].geometry", "no points"},
		{"time a number", withBad(3, 2, feat(okPoint, `{"date":20201018}`)), "features[2].properties.date", "number 20201018"},
		{"time not a date", withBad(3, 1, feat(okPoint, `{"date":"2020-02-30"}`)), "features[1].properties.date", `"2020-02-30"`},
		{"time free text", withBad(3, 1, feat(okPoint, `{"date":"yesterday"}`)), "features[1].properties.date", "RFC 3339"},
		{"time without zone", withBad(3, 1, feat(okPoint, `{"date":"2020-10-18T04:00:00"}`)), "features[1].properties.date", "RFC 3339"},
		{"NUL in property", withBad(3, 1, feat(okPoint, `{"date":null,"note":"a\u0000b"}`)), "features[1].properties", "NUL"},
		{"NUL in nested key", withBad(3, 2, feat(okPoint, `{"a":[{"k\u0000":1}]}`)), "features[2].properties", "NUL"},
		{"empty collection", collection(), "features", "no features"},
		{"first bad feature wins", collection(feat(okPoint, `{}`), feat(`null`, `{}`), feat(okPoint, `{"date":"x"}`)), "features[1].geometry", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc, err := geo.ParseLayerFile(strings.NewReader(tt.file), 1<<20)
			if err != nil {
				t.Fatalf("ParseLayerFile: %v", err)
			}
			err = geo.ValidateLayer(okMeta, fc, geo.LayerOptions{Strict: true})
			if err == nil {
				t.Fatal("ValidateLayer accepted it")
			}
			field, msg := fieldOf(t, err)
			t.Log(err)
			if field != tt.field || !strings.Contains(msg, tt.msg) {
				t.Errorf("error %q: field %q, message %q; want field %q, message containing %q", err, field, msg, tt.field, tt.msg)
			}
		})
	}
}

func TestValidateLayerRejectsNonFiniteValues(t *testing.T) {
	tests := []struct {
		name  string
		f     *geojson.Feature
		field string
	}{
		{"NaN longitude", geojson.NewFeature(orb.Point{math.NaN(), 1}), "features[1].geometry"},
		{"infinite latitude", geojson.NewFeature(orb.LineString{{1, 1}, {2, math.Inf(1)}}), "features[1].geometry"},
		{"ring", geojson.NewFeature(orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}), "features[1].geometry"},
		{"NaN property", &geojson.Feature{Type: "Feature", Geometry: orb.Point{1, 1}, Properties: geojson.Properties{"x": math.NaN()}}, "features[1].properties"},
		{"nil feature", nil, "features[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := geojson.NewFeatureCollection().Append(geojson.NewFeature(orb.Point{1, 2})).Append(tt.f)
			if field, _ := fieldOf(t, geo.ValidateLayer(geo.LayerMeta{ID: "x", Title: "x"}, fc, geo.LayerOptions{})); field != tt.field {
				t.Errorf("field %q, want %q", field, tt.field)
			}
		})
	}
}

func TestValidateLayerMeta(t *testing.T) {
	fc := geojson.NewFeatureCollection().Append(geojson.NewFeature(orb.Point{1, 2}))
	tests := []struct {
		name  string
		meta  geo.LayerMeta
		field string
	}{
		{"uppercase id", geo.LayerMeta{ID: "Front", Title: "t"}, "id"},
		{"id starting with a digit", geo.LayerMeta{ID: "1front", Title: "t"}, "id"},
		{"empty id", geo.LayerMeta{ID: "", Title: "t"}, "id"},
		{"long id", geo.LayerMeta{ID: "a" + strings.Repeat("b", 63), Title: "t"}, "id"},
		{"id with a slash", geo.LayerMeta{ID: "a/b", Title: "t"}, "id"},
		{"reserved incidents", geo.LayerMeta{ID: "incidents", Title: "t"}, "id"},
		{"reserved places", geo.LayerMeta{ID: "places", Title: "t"}, "id"},
		{"empty title", geo.LayerMeta{ID: "a", Title: ""}, "title"},
		{"blank title", geo.LayerMeta{ID: "a", Title: "  "}, "title"},
		{"long title", geo.LayerMeta{ID: "a", Title: strings.Repeat("é", 201)}, "title"},
		{"title with newline", geo.LayerMeta{ID: "a", Title: "a\nb"}, "title"},
		{"long description", geo.LayerMeta{ID: "a", Title: "t", Description: strings.Repeat("x", 5001)}, "description"},
		{"NUL in description", geo.LayerMeta{ID: "a", Title: "t", Description: "a\x00"}, "description"},
		{"bad time property", geo.LayerMeta{ID: "a", Title: "t", TimeProperty: "the date"}, "time_property"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if field, _ := fieldOf(t, geo.ValidateLayer(tt.meta, fc, geo.LayerOptions{})); field != tt.field {
				t.Errorf("field %q, want %q", field, tt.field)
			}
		})
	}
	ok := geo.LayerMeta{ID: "a" + strings.Repeat("b", 62), Title: strings.Repeat("é", 200),
		Description: strings.Repeat("x", 4999) + "\n", TimeProperty: "_Date2"}
	if err := geo.ValidateLayer(ok, fc, geo.LayerOptions{}); err != nil {
		t.Errorf("ValidateLayer(longest valid metadata) = %v", err)
	}
	if err := geo.ValidateLayer(geo.LayerMeta{ID: "x", Title: "x"}, nil, geo.LayerOptions{}); err == nil {
		t.Error("ValidateLayer(nil collection) = nil, want an error")
	}
}

// Files as people have them: features without a geometry are skipped
// unless Strict, coordinates in another CRS are not range-checked as
// lon/lat, and the file's feature id must not clash with a property.
func TestValidateLayerOptions(t *testing.T) {
	mercator := feat(`{"type":"Point","coordinates":[5235413.5,4776545.7]}`, `{}`)
	tests := []struct {
		name  string
		file  string
		opts  geo.LayerOptions
		field string // "" for valid
	}{
		{"null geometry skipped", collection(feat(okPoint, `{}`), feat(`null`, `{}`)), geo.LayerOptions{}, ""},
		{"null geometry refused when strict", collection(feat(okPoint, `{}`), feat(`null`, `{}`)), geo.LayerOptions{Strict: true}, "features[1].geometry"},
		{"only null geometries", collection(feat(`null`, `{}`), feat(`null`, `{}`)), geo.LayerOptions{}, "features"},
		{"metres in EPSG:3857", collection(mercator), geo.LayerOptions{SRID: 3857}, ""},
		{"metres read as lon/lat", collection(mercator), geo.LayerOptions{}, "features[0].geometry"},
		{"non-finite in EPSG:3857 still refused", collection(feat(`{"type":"Point","coordinates":[1e999,0]}`, `{}`)), geo.LayerOptions{SRID: 3857}, "features[0].geometry"},
		{"feature id equal to the property", collection(`{"type":"Feature","id":7,"geometry":` + okPoint + `,"properties":{"feature_id":7}}`), geo.LayerOptions{}, ""},
		{"feature id clashing with the property", collection(`{"type":"Feature","id":7,"geometry":` + okPoint + `,"properties":{"feature_id":"x"}}`), geo.LayerOptions{}, "features[0].properties.feature_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc, err := geo.ParseLayerFile(strings.NewReader(tt.file), 1<<20)
			if err != nil {
				if tt.field != "" && strings.Contains(err.Error(), "coordinates") {
					return // 1e999 is refused by the parser already
				}
				t.Fatalf("ParseLayerFile: %v", err)
			}
			err = geo.ValidateLayer(geo.LayerMeta{ID: "x", Title: "x"}, fc, tt.opts)
			if tt.field == "" {
				if err != nil {
					t.Errorf("ValidateLayer = %v, want nil", err)
				}
				return
			}
			if field, msg := fieldOf(t, err); field != tt.field {
				t.Errorf("field %q (%s), want %q", field, msg, tt.field)
			}
		})
	}
}

func TestLayerFeatureProperties(t *testing.T) {
	fc, err := geo.ParseLayerFile(strings.NewReader(collection(
		`{"type":"Feature","id":"front.12","geometry":`+okPoint+`,"properties":{"name":"a"}}`,
		`{"type":"Feature","id":12345678901234567890,"geometry":`+okPoint+`,"properties":null}`,
		feat(okPoint, `{"name":"b"}`))), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`{"feature_id":"front.12","name":"a"}`, `{"feature_id":12345678901234567890}`, `{"name":"b"}`} {
		b, _ := json.Marshal(geo.LayerFeatureProperties(fc.Features[i]))
		if string(b) != want {
			t.Errorf("feature %d: properties %s, want %s", i, b, want)
		}
	}
	if _, ok := fc.Features[0].Properties[geo.LayerIDProperty]; ok {
		t.Error("LayerFeatureProperties changed the feature's own map")
	}
}

func TestLayerSRID(t *testing.T) {
	named := func(name string) string {
		return `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"` + name + `"}},"features":[]}`
	}
	tests := []struct {
		name, file string
		want       int
		errHas     string
	}{
		{"none (RFC 7946)", `{"type":"FeatureCollection","features":[]}`, 4326, ""},
		{"GDAL CRS84", named("urn:ogc:def:crs:OGC:1.3:CRS84"), 4326, ""},
		{"CRS84 without version", named("urn:ogc:def:crs:OGC::CRS84"), 4326, ""},
		{"CRS84 URI", named("http://www.opengis.net/def/crs/OGC/1.3/CRS84"), 4326, ""},
		{"EPSG URN", named("urn:ogc:def:crs:EPSG::3857"), 3857, ""},
		{"EPSG URN with version", named("urn:ogc:def:crs:EPSG:6.18.3:32638"), 32638, ""},
		{"short EPSG", named("EPSG:3857"), 3857, ""},
		{"lower-case short EPSG", named("epsg:4326"), 4326, ""},
		{"EPSG URI", named("http://www.opengis.net/def/crs/EPSG/0/28992"), 28992, ""},
		{"old Google code", named("EPSG:900913"), 3857, ""},
		{"ESRI web mercator", named("urn:ogc:def:crs:EPSG::102100"), 3857, ""},
		{"2008 draft EPSG type", `{"type":"FeatureCollection","crs":{"type":"EPSG","properties":{"code":3857}},"features":[]}`, 3857, ""},
		{"unknown name", named("urn:ogc:def:crs:ESRI::54030"), 0, `unknown coordinate reference system "urn:ogc:def:crs:ESRI::54030"`},
		{"free text", named("Web Mercator"), 0, `"Web Mercator"`},
		{"link", `{"type":"FeatureCollection","crs":{"type":"link","properties":{"href":"http://x/crs"}},"features":[]}`, 0, `unsupported crs type "link"`},
		{"not an object", `{"type":"FeatureCollection","crs":"EPSG:3857","features":[]}`, 0, "must be an object"},
		{"name missing", `{"type":"FeatureCollection","crs":{"type":"name","properties":{}},"features":[]}`, 0, "properties.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc, err := geo.ParseLayerFile(strings.NewReader(tt.file), 1<<20)
			if err != nil {
				t.Fatalf("ParseLayerFile: %v", err)
			}
			got, err := geo.LayerSRID(fc)
			if tt.errHas == "" {
				if err != nil || got != tt.want {
					t.Errorf("LayerSRID = %d, %v; want %d", got, err, tt.want)
				}
				return
			}
			field, msg := fieldOf(t, err)
			if field != "crs" || !strings.Contains(msg, tt.errHas) {
				t.Errorf("error field %q message %q, want crs and %q", field, msg, tt.errHas)
			}
		})
	}
}

func TestCheckLayerID(t *testing.T) {
	for _, id := range []string{"countries", "borders", "places", "incidents"} {
		field, msg := fieldOf(t, geo.CheckLayerID(id))
		if field != "id" || !strings.Contains(msg, `"`+id+`" is a built-in collection`) {
			t.Errorf("CheckLayerID(%q) = %s: %s", id, field, msg)
		}
	}
	for _, id := range []string{"front", "countries2", "ceasefire-zone"} {
		if err := geo.CheckLayerID(id); err != nil {
			t.Errorf("CheckLayerID(%q) = %v, want nil", id, err)
		}
	}
}
