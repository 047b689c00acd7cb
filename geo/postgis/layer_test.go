package postgis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// The layer half of api.FeatureStore (asserted here without importing the
// HTTP layer).
var _ interface {
	Layers(ctx context.Context) ([]geo.Layer, error)
	Layer(ctx context.Context, id string) (geo.Layer, error)
	StreamLayerFeatures(ctx context.Context, layer geo.Layer, q geo.LayerQuery, emit func([]byte) error) (geo.FeaturePage, error)
	CountLayerFeatures(ctx context.Context, layer geo.Layer, q geo.LayerQuery, limit int) (n int64, exact bool, err error)
	LayerFeature(ctx context.Context, layer geo.Layer, id int64) ([]byte, error)
	CollectionVersion(ctx context.Context, id string) (string, error)
} = (*postgis.DB)(nil)

// mixedLayerFile is a GeoJSON file with every geometry type, written as a
// user would, so the import is tested from the text on.
const mixedLayerFile = `{"type": "FeatureCollection", "name": "mixed", "features": [
 {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10, 10]},
  "properties": {"date": "2020-01-01", "name": "a point", "osm_id": 12345678901234567890}},
 {"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": [[11, 11], [12, 12]]},
  "properties": {"date": "2020-01-02T12:00:00+02:00", "tags": {"k": ["v", 1, null]}}},
 {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[20, 20], [21, 21.5]]},
  "properties": {"date": null}},
 {"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": [[[22, 20], [23, 21]], [[24, 20], [25, 21]]]},
  "properties": null},
 {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[30, 30], [31, 30], [31, 31], [30, 31], [30, 30]],
   [[30.2, 30.2], [30.4, 30.2], [30.4, 30.4], [30.2, 30.2]]]},
  "properties": {"date": "2020-01-05"}},
 {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [
   [[[40, 40], [41, 40], [41, 41], [40, 40]]], [[[-50, -50], [-49, -50], [-49, -49], [-50, -50]]]]},
  "properties": {}},
 {"type": "Feature", "id": "ignored", "geometry": {"type": "Point", "coordinates": [-170.5, -60]},
  "properties": {"date": "2020-01-31T23:59:59Z"}}
]}`

func parseLayer(t *testing.T, file string) *geojson.FeatureCollection {
	t.Helper()
	fc, err := geo.ParseLayerFile(strings.NewReader(file), 1<<20)
	if err != nil {
		t.Fatalf("ParseLayerFile: %v", err)
	}
	return fc
}

func importLayer(t *testing.T, db *postgis.DB, meta geo.LayerMeta, fc *geojson.FeatureCollection) geo.Layer {
	t.Helper()
	l, err := db.ImportLayer(context.Background(), meta, fc)
	if err != nil {
		t.Fatalf("ImportLayer(%s): %v", meta.ID, err)
	}
	return l
}

// streamed is one feature as served.
type streamed struct {
	Type       string          `json:"type"`
	ID         int64           `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties map[string]any  `json:"properties"`
}

// streamIDs runs q and returns the ids served, in order, and the page.
func streamIDs(t *testing.T, db *postgis.DB, l geo.Layer, q geo.LayerQuery) ([]int64, geo.FeaturePage, []streamed) {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	var (
		ids   []int64
		feats []streamed
	)
	page, err := db.StreamLayerFeatures(context.Background(), l, q, func(b []byte) error {
		var f streamed
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("feature %s: %w", b, err)
		}
		ids = append(ids, f.ID)
		feats = append(feats, f)
		return nil
	})
	if err != nil {
		t.Fatalf("StreamLayerFeatures(%+v): %v", q, err)
	}
	if page.Returned != len(ids) {
		t.Errorf("page.Returned = %d, emitted %d", page.Returned, len(ids))
	}
	return ids, page, feats
}

func bbox(t *testing.T, s string) *geo.BBox {
	t.Helper()
	b, err := geo.ParseBBox(s)
	if err != nil {
		t.Fatal(err)
	}
	return &b
}

func datetime(t *testing.T, s string) *geo.TimeInterval {
	t.Helper()
	ti, err := geo.ParseDatetime(s)
	if err != nil {
		t.Fatal(err)
	}
	return &ti
}

func collectionVersion(t *testing.T, db *postgis.DB, id string) int64 {
	t.Helper()
	var v int64
	err := db.SQL().QueryRow(`SELECT coalesce((SELECT version FROM collection_versions WHERE id = $1), 0)`, id).Scan(&v)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestImportLayerServesEveryGeometryType(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	meta := geo.LayerMeta{ID: "mixed", Title: "Mixed", Description: "Every geometry type.", TimeProperty: "date"}
	got := importLayer(t, db, meta, parseLayer(t, mixedLayerFile))

	start, end := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 1, 31, 23, 59, 59, 0, time.UTC)
	want := geo.Layer{ID: "mixed", Title: "Mixed", Description: "Every geometry type.", TimeProperty: "date", Features: 7,
		Extent: geo.Extent{BBox: &geo.BBox{MinLon: -170.5, MinLat: -60, MaxLon: 41, MaxLat: 41}, Start: &start, End: &end}}
	if time.Since(got.UpdatedAt) > time.Minute {
		t.Errorf("UpdatedAt = %v, want about now", got.UpdatedAt)
	}
	want.UpdatedAt = got.UpdatedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ImportLayer =\n%s\nwant\n%s", describeLayer(got), describeLayer(want))
	}
	if l, err := db.Layer(ctx, "mixed"); err != nil || !reflect.DeepEqual(l, want) {
		t.Errorf("Layer = %s, %v; want %s", describeLayer(l), err, describeLayer(want))
	}
	if ls, err := db.Layers(ctx); err != nil || len(ls) != 1 || !reflect.DeepEqual(ls[0], want) {
		t.Errorf("Layers = %v, %v; want just the layer", ls, err)
	}
	if v := collectionVersion(t, db, "mixed"); v != 1 {
		t.Errorf("collection version = %d, want 1", v)
	}

	ids, page, feats := streamIDs(t, db, got, geo.LayerQuery{})
	if !slices.Equal(ids, []int64{1, 2, 3, 4, 5, 6, 7}) || page.HasNext || page.HasPrev {
		t.Fatalf("all features: ids %v, page %+v", ids, page)
	}
	wantTypes := []string{"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "Point"}
	for i, f := range feats {
		var g struct {
			Type string `json:"type"`
		}
		json.Unmarshal(f.Geometry, &g)
		if f.Type != "Feature" || g.Type != wantTypes[i] || f.Properties == nil {
			t.Errorf("feature %d = %s %+v, want a %s Feature with properties", f.ID, f.Type, f, wantTypes[i])
		}
	}
	if string(feats[2].Geometry) != `{"type":"LineString","coordinates":[[20,20],[21,21.5]]}` {
		t.Errorf("line geometry = %s", feats[2].Geometry)
	}
	if len(feats[3].Properties) != 0 {
		t.Errorf("null properties served as %v, want {}", feats[3].Properties)
	}
	// Properties are kept as given, large integers included.
	raw, err := db.LayerFeature(ctx, got, 1)
	if err != nil {
		t.Fatalf("LayerFeature(1): %v", err)
	}
	if !strings.Contains(string(raw), `"osm_id": 12345678901234567890`) || !strings.Contains(string(raw), `"name": "a point"`) {
		t.Errorf("LayerFeature(1) = %s, want the properties as imported", raw)
	}
	raw, _ = db.LayerFeature(ctx, got, 2)
	if !strings.Contains(string(raw), `"tags": {"k": ["v", 1, null]}`) {
		t.Errorf("LayerFeature(2) = %s, want nested properties kept", raw)
	}
	if _, err := db.LayerFeature(ctx, got, 8); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("LayerFeature(8) error = %v, want ErrNotFound", err)
	}
	if _, err := db.LayerFeature(ctx, geo.Layer{ID: "other"}, 1); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("LayerFeature of another layer: error = %v, want ErrNotFound", err)
	}

	filters := []struct {
		name string
		q    geo.LayerQuery
		want []int64
	}{
		{"bbox around the points", geo.LayerQuery{BBox: bbox(t, "9.5,9.5,12.5,12.5")}, []int64{1, 2}},
		{"bbox touching the lines", geo.LayerQuery{BBox: bbox(t, "20.5,20,22.5,22")}, []int64{3, 4}},
		{"bbox across the polygon hole", geo.LayerQuery{BBox: bbox(t, "30.25,30.25,30.3,30.3")}, []int64{5}},
		{"bbox inside the polygon hole", geo.LayerQuery{BBox: bbox(t, "30.35,30.21,30.39,30.25")}, nil},
		{"bbox between the parts of a multipolygon", geo.LayerQuery{BBox: bbox(t, "0,0,1,1")}, nil},
		{"bbox on the second polygon", geo.LayerQuery{BBox: bbox(t, "-49.5,-49.5,-49.4,-49.4")}, []int64{6}},
		{"bbox across the antimeridian", geo.LayerQuery{BBox: bbox(t, "170,-70,-160,-50")}, []int64{7}},
		{"a day", geo.LayerQuery{Time: datetime(t, "2020-01-02")}, []int64{2}},
		{"an instant", geo.LayerQuery{Time: datetime(t, "2020-01-31T23:59:59Z")}, []int64{7}},
		{"open end", geo.LayerQuery{Time: datetime(t, "2020-01-02/..")}, []int64{2, 5, 7}},
		{"open start", geo.LayerQuery{Time: datetime(t, "../2020-01-02")}, []int64{1, 2}},
		{"bbox and time", geo.LayerQuery{BBox: bbox(t, "0,0,35,35"), Time: datetime(t, "2020-01-02/2020-01-31")}, []int64{2, 5}},
	}
	for _, tt := range filters {
		t.Run(tt.name, func(t *testing.T) {
			ids, _, _ := streamIDs(t, db, got, tt.q)
			if !slices.Equal(ids, tt.want) {
				t.Errorf("ids = %v, want %v", ids, tt.want)
			}
			n, exact, err := db.CountLayerFeatures(ctx, got, tt.q, 100)
			if err != nil || !exact || n != int64(len(tt.want)) {
				t.Errorf("CountLayerFeatures = %d, %v, %v; want %d, exact", n, exact, err, len(tt.want))
			}
		})
	}
	if n, exact, err := db.CountLayerFeatures(ctx, got, geo.LayerQuery{}, 6); err != nil || exact || n != 0 {
		t.Errorf("CountLayerFeatures(limit 6) = %d, %v, %v; want inexact", n, exact, err)
	}
	if n, exact, err := db.CountLayerFeatures(ctx, got, geo.LayerQuery{}, 7); err != nil || !exact || n != 7 {
		t.Errorf("CountLayerFeatures(limit 7) = %d, %v, %v; want 7, exact", n, exact, err)
	}

	// A layer without a time property has no datetime filter.
	plain := got
	plain.TimeProperty = ""
	if _, err := db.StreamLayerFeatures(ctx, plain, geo.LayerQuery{Limit: 10, Time: datetime(t, "2020-01-02")}, func([]byte) error { return nil }); !errors.Is(err, geo.ErrInvalid) {
		t.Errorf("datetime on a layer without time: error = %v, want ErrInvalid", err)
	}
}

func describeLayer(l geo.Layer) string {
	s := fmt.Sprintf("%+v", l)
	if b := l.Extent.BBox; b != nil {
		s += fmt.Sprintf(" bbox=%+v", *b)
	}
	if l.Extent.Start != nil && l.Extent.End != nil {
		s += fmt.Sprintf(" time=%v/%v", l.Extent.Start, l.Extent.End)
	}
	return s
}

// pointLayer returns n points along the equator, feature i at longitude i
// (1-based), with property "n" = i and a date of i days after 2020-01-01.
func pointLayer(n int) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for i := 1; i <= n; i++ {
		f := geojson.NewFeature(orb.Point{float64(i%360) - 180, 0})
		f.Properties["n"] = i
		f.Properties["date"] = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.RFC3339)
		fc.Append(f)
	}
	return fc
}

func TestLayerPagingForwardAndBack(t *testing.T) {
	db := openTestDB(t)
	l := importLayer(t, db, geo.LayerMeta{ID: "points", Title: "Points", TimeProperty: "date"}, pointLayer(40))
	tests := []struct {
		name  string
		q     geo.LayerQuery
		limit int
		want  int // features matched
	}{
		{"all", geo.LayerQuery{}, 7, 40},
		{"limit dividing the total", geo.LayerQuery{}, 8, 40},
		{"limit of one", geo.LayerQuery{}, 1, 40},
		{"filtered", geo.LayerQuery{BBox: bbox(t, "-175.5,-1,-155.5,1")}, 6, 20},
		{"time filtered", geo.LayerQuery{Time: datetime(t, "2020-01-11/2020-01-30")}, 3, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Limit = tt.limit
			// Forward: every page follows the last one, nothing lost or repeated.
			var (
				forward [][]int64
				seen    []int64
			)
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("paging does not end")
				}
				ids, page, _ := streamIDs(t, db, l, q)
				if len(ids) == 0 || len(ids) > tt.limit {
					t.Fatalf("page %d has %d features", pages, len(ids))
				}
				if page.HasPrev != (pages > 0) {
					t.Errorf("page %d: HasPrev = %v", pages, page.HasPrev)
				}
				if page.First.ID != ids[0] || page.Last.ID != ids[len(ids)-1] {
					t.Errorf("page %d: cursors %+v..%+v for ids %v", pages, page.First, page.Last, ids)
				}
				forward = append(forward, ids)
				seen = append(seen, ids...)
				if !page.HasNext {
					break
				}
				next := page.Last
				q.Cursor = &next
			}
			if !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != len(seen) || len(seen) != tt.want {
				t.Fatalf("forward paging served %v, want %d distinct features in id order", seen, tt.want)
			}
			// Backward from the last page: the same pages in reverse.
			for i := len(forward) - 2; i >= 0; i-- {
				back := geo.Cursor{ID: forward[i+1][0], Back: true}
				q.Cursor = &back
				ids, page, _ := streamIDs(t, db, l, q)
				if !slices.Equal(ids, forward[i]) {
					t.Errorf("page %d backwards = %v, want %v", i, ids, forward[i])
				}
				if page.HasPrev != (i > 0) || !page.HasNext {
					t.Errorf("page %d backwards: HasPrev %v HasNext %v", i, page.HasPrev, page.HasNext)
				}
			}
		})
	}
	// Before the first feature there is nothing.
	ids, page, _ := streamIDs(t, db, l, geo.LayerQuery{Limit: 5, Cursor: &geo.Cursor{ID: 1, Back: true}})
	if len(ids) != 0 || page.HasPrev {
		t.Errorf("page before the first feature: %v %+v", ids, page)
	}
}

func TestImportLayerReplaces(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	first := importLayer(t, db, geo.LayerMeta{ID: "zones", Title: "Zones v1", TimeProperty: "date"}, pointLayer(3))
	v1, err := db.CollectionVersion(ctx, "zones")
	if err != nil {
		t.Fatal(err)
	}
	fc := geojson.NewFeatureCollection()
	for _, lon := range []float64{100, 101} {
		f := geojson.NewFeature(orb.Polygon{{{lon, 1}, {lon + 0.5, 1}, {lon + 0.5, 2}, {lon, 1}}})
		f.Properties["version"] = 2
		fc.Append(f)
	}
	second := importLayer(t, db, geo.LayerMeta{ID: "zones", Title: "Zones v2", Description: "replaced"}, fc)
	if second.Title != "Zones v2" || second.Description != "replaced" || second.TimeProperty != "" || second.Features != 2 ||
		second.Extent.Start != nil || second.Extent.End != nil ||
		*second.Extent.BBox != (geo.BBox{MinLon: 100, MinLat: 1, MaxLon: 101.5, MaxLat: 2}) {
		t.Errorf("after re-import: %s", describeLayer(second))
	}
	if !second.UpdatedAt.After(first.UpdatedAt) {
		t.Errorf("UpdatedAt %v not after %v", second.UpdatedAt, first.UpdatedAt)
	}
	ids, _, feats := streamIDs(t, db, second, geo.LayerQuery{})
	if !slices.Equal(ids, []int64{1, 2}) || feats[0].Properties["version"] != 2.0 {
		t.Errorf("after re-import: ids %v, features %+v", ids, feats)
	}
	if _, err := db.LayerFeature(ctx, second, 3); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("old feature 3: error %v, want ErrNotFound", err)
	}
	if v := collectionVersion(t, db, "zones"); v != 2 {
		t.Errorf("collection version = %d, want 2", v)
	}
	if v2, _ := db.CollectionVersion(ctx, "zones"); v2 == v1 {
		t.Errorf("CollectionVersion unchanged (%s) by the re-import", v2)
	}
	var rows int
	db.SQL().QueryRow(`SELECT count(*) FROM layer_features`).Scan(&rows)
	if rows != 2 {
		t.Errorf("%d feature rows stored, want 2", rows)
	}
}

// bowtie is a self-intersecting polygon: closed and long enough, so only
// PostGIS can tell it is invalid.
var bowtie = orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}

func TestImportLayerInvalidTopologyWritesNothing(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	before := importLayer(t, db, geo.LayerMeta{ID: "zones", Title: "Good", TimeProperty: "date"}, pointLayer(5))

	bad := pointLayer(6)
	bad.Features[3].Geometry = bowtie
	noRepair := geo.LayerOptions{NoRepair: true}
	_, err := db.ImportLayerFile(ctx, geo.LayerMeta{ID: "zones", Title: "Bad"}, bad, noRepair)
	var verr *geo.ValidationError
	if !errors.As(err, &verr) || len(verr.Errors) != 1 {
		t.Fatalf("import with a bowtie: error %v, want a ValidationError", err)
	}
	if fe := verr.Errors[0]; fe.Field != "features[3].geometry" || !strings.Contains(fe.Message, "Self-intersection") {
		t.Errorf("error %+v, want features[3].geometry with the PostGIS reason", fe)
	}
	after, err := db.Layer(ctx, "zones")
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("after the failed import: %s, %v; want unchanged %s", describeLayer(after), err, describeLayer(before))
	}
	if ids, _, feats := streamIDs(t, db, after, geo.LayerQuery{}); !slices.Equal(ids, []int64{1, 2, 3, 4, 5}) || feats[3].Properties["n"] != 4.0 {
		t.Errorf("after the failed import: ids %v", ids)
	}
	if v := collectionVersion(t, db, "zones"); v != 1 {
		t.Errorf("collection version = %d after a failed import, want 1", v)
	}

	// A new layer that fails leaves no trace either.
	if _, err := db.ImportLayerFile(ctx, geo.LayerMeta{ID: "fresh", Title: "Fresh"}, bad, noRepair); !errors.As(err, &verr) {
		t.Fatalf("import of a new layer with a bowtie: error %v", err)
	}
	if _, err := db.Layer(ctx, "fresh"); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("Layer(fresh) error = %v, want ErrNotFound", err)
	}
	if v := collectionVersion(t, db, "fresh"); v != 0 {
		t.Errorf("collection version of the failed new layer = %d, want none", v)
	}

	// A value PostgreSQL refuses in the COPY is named by its feature.
	huge := parseLayer(t, `{"type":"FeatureCollection","features":[
		{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"x":1}},
		{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"x":1e999999}}]}`)
	_, err = db.ImportLayer(ctx, geo.LayerMeta{ID: "zones", Title: "Huge"}, huge)
	if !errors.As(err, &verr) || verr.Errors[0].Field != "features[1]" {
		t.Errorf("import of an out-of-range number: error %v, want one naming features[1]", err)
	}
	t.Log(err)

	// Invalid input by the domain rules is rejected before any SQL.
	bad.Features[3].Geometry = orb.LineString{{1, 1}}
	if _, err := db.ImportLayer(ctx, geo.LayerMeta{ID: "zones", Title: "Bad"}, bad); !errors.As(err, &verr) || verr.Errors[0].Field != "features[3].geometry" {
		t.Errorf("import of a one-point line: error %v", err)
	}
	if _, err := db.ImportLayer(ctx, geo.LayerMeta{ID: "incidents", Title: "x"}, pointLayer(1)); !errors.Is(err, geo.ErrInvalid) {
		t.Errorf("import as incidents: error %v, want ErrInvalid", err)
	}
}

// A layer larger than the import's COPY and check batches: every feature
// arrives, and an invalid geometry in a later batch is named by its index.
func TestImportLayerInBatches(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	const n = 50003
	fc := pointLayer(n)
	l := importLayer(t, db, geo.LayerMeta{ID: "many", Title: "Many", TimeProperty: "date"}, fc)
	if l.Features != n || *l.Extent.BBox != (geo.BBox{MinLon: -180, MinLat: 0, MaxLon: 179, MaxLat: 0}) {
		t.Errorf("layer = %s", describeLayer(l))
	}
	var count, maxID, distinctN int64
	db.SQL().QueryRow(`SELECT count(*), max(id), count(DISTINCT properties->>'n') FROM layer_features WHERE layer_id = 'many'
		AND (properties->>'n')::bigint = id`).Scan(&count, &maxID, &distinctN)
	if count != n || maxID != n || distinctN != n {
		t.Errorf("stored %d features, max id %d, %d matching their position; want %d", count, maxID, distinctN, n)
	}

	fc.Features[n-2].Geometry = bowtie
	_, err := db.ImportLayerFile(ctx, geo.LayerMeta{ID: "many", Title: "Many"}, fc, geo.LayerOptions{NoRepair: true})
	var verr *geo.ValidationError
	if !errors.As(err, &verr) || verr.Errors[0].Field != fmt.Sprintf("features[%d].geometry", n-2) {
		t.Fatalf("error %v, want features[%d].geometry", err, n-2)
	}
	if after, _ := db.Layer(ctx, "many"); after.Title != "Many" || after.TimeProperty != "date" || after.Features != n {
		t.Errorf("after the failed import: %s", describeLayer(after))
	}
}

func TestDeleteLayer(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	importLayer(t, db, geo.LayerMeta{ID: "a", Title: "A"}, pointLayer(2))
	importLayer(t, db, geo.LayerMeta{ID: "b", Title: "B"}, pointLayer(3))
	if err := db.DeleteLayer(ctx, "a"); err != nil {
		t.Fatalf("DeleteLayer(a): %v", err)
	}
	if _, err := db.Layer(ctx, "a"); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("Layer(a) after delete: %v, want ErrNotFound", err)
	}
	if _, err := db.CollectionVersion(ctx, "a"); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("CollectionVersion(a) after delete: %v, want ErrNotFound", err)
	}
	if ls, err := db.Layers(ctx); err != nil || len(ls) != 1 || ls[0].ID != "b" || ls[0].Features != 3 {
		t.Errorf("Layers = %v, %v; want just b", ls, err)
	}
	var rows int
	db.SQL().QueryRow(`SELECT count(*) FROM layer_features WHERE layer_id = 'a'`).Scan(&rows)
	if rows != 0 {
		t.Errorf("%d features of the deleted layer remain", rows)
	}
	if err := db.DeleteLayer(ctx, "a"); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("second DeleteLayer(a): %v, want ErrNotFound", err)
	}
	if ls, err := db.Layers(ctx); err != nil || ls == nil {
		t.Errorf("Layers = %v, %v", ls, err)
	}
}

// readLayerFixture parses a file of geo/testdata/layers, written as GDAL
// and QGIS write GeoJSON (name, crs, feature ids).
func readLayerFixture(t *testing.T, name string) *geojson.FeatureCollection {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "layers", name))
	if err != nil {
		t.Fatal(err)
	}
	return parseLayer(t, string(b))
}

// layerFeatureJSON returns feature id of layer as served.
func layerFeatureJSON(t *testing.T, db *postgis.DB, layer string, id int64) streamed {
	t.Helper()
	l, err := db.Layer(context.Background(), layer)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.LayerFeature(context.Background(), l, id)
	if err != nil {
		t.Fatalf("LayerFeature(%s, %d): %v", layer, id, err)
	}
	var f streamed
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// A file in EPSG:3857 (metres) lands where its points are: the fixture's
// coordinates were computed from known lon/lat with the spherical
// Mercator formulas, and come back within 1e-6°. The file's feature ids
// are kept as property feature_id.
func TestImportLayerReprojects(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	fc := readLayerFixture(t, "aras_3857.geojson")
	srid, err := geo.LayerSRID(fc)
	if err != nil || srid != 3857 {
		t.Fatalf("LayerSRID = %d, %v; want 3857", srid, err)
	}
	res, err := db.ImportLayerFile(ctx, geo.LayerMeta{ID: "aras", Title: "Aras"}, fc, geo.LayerOptions{SRID: srid})
	if err != nil {
		t.Fatal(err)
	}
	if res.SRID != 3857 || res.Repaired != 0 || res.Skipped != 0 || res.Layer.Features != 3 {
		t.Errorf("import = %+v, want 3 features from EPSG:3857, none repaired or skipped", res)
	}
	tests := []struct {
		id   int64
		want [][2]float64 // lon, lat of the vertices, in order
	}{
		{1, [][2]float64{{47.0302, 39.3987}}},
		{2, [][2]float64{{46.9, 39.2}, {47.05, 39.15}, {47.2, 39.12}}},
		{3, [][2]float64{{46.95, 39.18}, {47.10, 39.18}, {47.10, 39.30}, {46.95, 39.30}, {46.95, 39.18}}},
	}
	for _, tt := range tests {
		var got [][2]float64
		rows, err := db.SQL().Query(`SELECT ST_X(d.geom), ST_Y(d.geom) FROM layer_features f, ST_DumpPoints(f.geom) d
			WHERE f.layer_id = 'aras' AND f.id = $1 ORDER BY d.path`, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var p [2]float64
			rows.Scan(&p[0], &p[1])
			got = append(got, p)
		}
		rows.Close()
		if len(got) != len(tt.want) {
			t.Fatalf("feature %d: %d vertices, want %d", tt.id, len(got), len(tt.want))
		}
		for i := range got {
			if math.Abs(got[i][0]-tt.want[i][0]) > 1e-6 || math.Abs(got[i][1]-tt.want[i][1]) > 1e-6 {
				t.Errorf("feature %d vertex %d: got %v, want %v (within 1e-6°)", tt.id, i, got[i], tt.want[i])
			}
		}
		served := layerFeatureJSON(t, db, "aras", tt.id)
		if served.Properties[geo.LayerIDProperty] != float64(tt.id) {
			t.Errorf("feature %d: properties %v, want %s = %d", tt.id, served.Properties, geo.LayerIDProperty, tt.id)
		}
	}
	// Served with 7 decimals: the point's fourth decimal is not rounded away.
	if g := string(layerFeatureJSON(t, db, "aras", 1).Geometry); !strings.Contains(g, "47.0302") || !strings.Contains(g, "39.3987") {
		t.Errorf("served geometry %s, want 47.0302, 39.3987", g)
	}

	// The short form, and a code PostGIS does not know, named in the error.
	short := parseLayer(t, `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},
		"features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[5235377.916,4778943.906]},"properties":{}}]}`)
	if srid, err := geo.LayerSRID(short); err != nil || srid != 3857 {
		t.Errorf("LayerSRID(EPSG:3857) = %d, %v", srid, err)
	}
	unknown := readLayerFixture(t, "unknown_crs.geojson")
	srid, err = geo.LayerSRID(unknown)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ImportLayerFile(ctx, geo.LayerMeta{ID: "moll", Title: "x"}, unknown, geo.LayerOptions{SRID: srid})
	var verr *geo.ValidationError
	if !errors.As(err, &verr) || verr.Errors[0].Field != "crs" || !strings.Contains(err.Error(), "EPSG:99999") {
		t.Errorf("import in EPSG:99999: error %v, want one on crs naming EPSG:99999", err)
	}
	// Metres read as if they were in a geographic CRS land outside the
	// globe once reprojected: refused, naming the feature.
	wrong := readLayerFixture(t, "aras_3857.geojson")
	_, err = db.ImportLayerFile(ctx, geo.LayerMeta{ID: "moll", Title: "x"}, wrong, geo.LayerOptions{SRID: 4269})
	if !errors.As(err, &verr) || verr.Errors[0].Field != "features[0].geometry" {
		t.Errorf("metres in EPSG:4269: error %v, want one on features[0].geometry", err)
	}
	if _, err := db.Layer(ctx, "moll"); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("failed imports left layer moll: %v", err)
	}
}

// A file with a feature without geometry and a self-intersecting
// (bow-tie) polygon imports: the first skipped, the second repaired with
// ST_MakeValid, both counted; --no-repair and --strict refuse instead,
// naming the feature, and write nothing.
func TestImportLayerRepairsAndSkips(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	fc := readLayerFixture(t, "ceasefire_zones_crs84.geojson")
	srid, err := geo.LayerSRID(fc)
	if err != nil || srid != 4326 {
		t.Fatalf("LayerSRID(CRS84) = %d, %v", srid, err)
	}
	meta := geo.LayerMeta{ID: "zones", Title: "Zones", TimeProperty: "drawn"}
	res, err := db.ImportLayerFile(ctx, meta, fc, geo.LayerOptions{SRID: srid})
	if err != nil {
		t.Fatal(err)
	}
	if res.Repaired != 1 || res.Skipped != 1 || res.Layer.Features != 3 {
		t.Errorf("import = repaired %d, skipped %d, %d features; want 1, 1, 3", res.Repaired, res.Skipped, res.Layer.Features)
	}
	var ids []int64
	var valid, sameArea bool
	rows, err := db.SQL().Query(`SELECT id FROM layer_features WHERE layer_id = 'zones' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if !slices.Equal(ids, []int64{1, 3, 4}) {
		t.Errorf("stored ids %v, want [1 3 4] (positions in the file)", ids)
	}
	// The bow-tie becomes its two triangles: valid, same total area.
	err = db.SQL().QueryRow(`SELECT ST_IsValid(geom), abs(ST_Area(geom) - 0.005) < 1e-12 FROM layer_features
		WHERE layer_id = 'zones' AND id = 3`).Scan(&valid, &sameArea)
	if err != nil || !valid || !sameArea {
		t.Errorf("repaired bow-tie: valid %v, area of its two triangles %v, %v", valid, sameArea, err)
	}
	if p := layerFeatureJSON(t, db, "zones", 3).Properties; p[geo.LayerIDProperty] != "zones.3" || p["zone"] != "crossed" {
		t.Errorf("repaired feature properties %v, want feature_id zones.3 and the file's own", p)
	}

	before, _ := db.Layer(ctx, "zones")
	for _, tt := range []struct {
		name  string
		opts  geo.LayerOptions
		field string
		has   string
	}{
		{"no repair", geo.LayerOptions{NoRepair: true}, "features[2].geometry", "Self-intersection"},
		{"strict", geo.LayerOptions{Strict: true}, "features[1].geometry", "missing"},
	} {
		_, err := db.ImportLayerFile(ctx, meta, fc, tt.opts)
		var verr *geo.ValidationError
		if !errors.As(err, &verr) || verr.Errors[0].Field != tt.field || !strings.Contains(verr.Errors[0].Message, tt.has) {
			t.Errorf("%s: error %v, want %s: …%s…", tt.name, err, tt.field, tt.has)
		}
	}
	if after, err := db.Layer(ctx, "zones"); err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("refused imports changed the layer: %s", describeLayer(after))
	}
}

// The built-in collections cannot be replaced or deleted through the
// layer import; the countries basemap stays as borders load left it.
func TestImportLayerRefusesBuiltIns(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	countries, _ := realBorders(t)
	if _, err := db.LoadCountries(ctx, countries[:3]); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		var s string
		err := db.SQL().QueryRow(`SELECT (SELECT md5(string_agg(id || code || ST_AsEWKB(geom)::text, ',' ORDER BY id)) FROM countries)
			|| (SELECT md5(string_agg(id || ST_AsEWKB(geom)::text || properties::text, ',' ORDER BY id)) FROM layer_features WHERE layer_id = 'countries')
			|| (SELECT version FROM collection_versions WHERE id = 'countries')`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	for _, id := range geo.BuiltInLayerIDs() {
		_, err := db.ImportLayerFile(ctx, geo.LayerMeta{ID: id, Title: "mine"}, pointLayer(2), geo.LayerOptions{})
		var verr *geo.ValidationError
		if !errors.As(err, &verr) || verr.Errors[0].Field != "id" || !strings.Contains(err.Error(), "built-in") {
			t.Errorf("import as %s: error %v, want a built-in refusal on id", id, err)
		}
		if err := db.DeleteLayer(ctx, id); !errors.As(err, &verr) {
			t.Errorf("delete %s: error %v, want a refusal", id, err)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("countries changed: %s, want %s", after, before)
	}
}
