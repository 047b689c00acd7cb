package postgis_test

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// The benchmark's limit statements must return what the server returns:
// the same features with the same properties and geometry (the limit
// carries id among the properties: PostGIS 3.3 has no id_column).
func TestIncidentLimitSQLMatchesServer(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	if _, err := db.SQL().Exec(`INSERT INTO incidents (external_id, occurred_at, event_type, sub_event_type, title, notes,
			actor1, actor2, fatalities, geom, sources, country_code, admin1, admin2, status, nearest_place_distance_m, geo_check)
		SELECT 'L' || g, timestamptz '2021-05-01 10:00:00.123456+00' + g * interval '1 day', 'Battles', 'Armed clash',
		       'Clash ' || g, 'Notes "quoted" ' || g, 'Actor ' || g, 'Other ' || g, g,
		       ST_SetSRID(ST_MakePoint(30 + g * 0.01, 40.1234567), 4326),
		       jsonb_build_array(jsonb_build_object('name', 'Agency', 'url', 'https://example.org/' || g)),
		       'UA', 'Region', 'District', CASE WHEN g = 3 THEN 'retracted' ELSE 'verified' END, 1234.56, '{country_mismatch}'
		FROM generate_series(1, 6) g`); err != nil {
		t.Fatal(err)
	}
	q, err := geo.ParseIncidentQuery(url.Values{"bbox": {"29,39,30.045,41"}, "limit": {"10000"}})
	if err != nil {
		t.Fatal(err)
	}
	ours := map[float64]map[string]any{}
	if _, err := db.StreamIncidents(ctx, q, func(b []byte) error {
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			return err
		}
		ours[f["id"].(float64)] = f
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ours) != 3 { // 1, 2 and 4: 3 is retracted, 5 and 6 lie outside
		t.Fatalf("server page holds %d features, want 3", len(ours))
	}
	stmt, args, err := postgis.IncidentLimitSQL(q, false)
	if err != nil {
		t.Fatal(err)
	}
	var text string
	if err := db.SQL().QueryRow(stmt, args...).Scan(&text); err != nil {
		t.Fatalf("limit statement: %v", err)
	}
	var limit struct {
		Features []map[string]any `json:"features"`
	}
	if err := json.Unmarshal([]byte(text), &limit); err != nil {
		t.Fatalf("limit body is not JSON: %v", err)
	}
	if len(limit.Features) != len(ours) {
		t.Fatalf("limit holds %d features, want %d", len(limit.Features), len(ours))
	}
	for _, lf := range limit.Features {
		sameFeature(t, ours, lf)
	}

	// One feature by id (with its claims, which a page leaves out): the
	// limit and the server's statement agree with what the server serves.
	served, err := db.IncidentFeature(ctx, 2, geo.CRS84)
	if err != nil {
		t.Fatal(err)
	}
	var sf map[string]any
	if err := json.Unmarshal(served, &sf); err != nil {
		t.Fatal(err)
	}
	var one string
	if err := db.SQL().QueryRow(postgis.IncidentFeatureLimitSQL(), 2).Scan(&one); err != nil {
		t.Fatal(err)
	}
	var lf map[string]any
	if err := json.Unmarshal([]byte(one), &lf); err != nil {
		t.Fatal(err)
	}
	sameFeature(t, map[float64]map[string]any{2: sf}, lf)
	var own []byte
	if err := db.SQL().QueryRow(postgis.IncidentFeatureSQL(), 2).Scan(&own); err != nil {
		t.Fatal(err)
	}
	if string(own) != string(served) {
		t.Errorf("IncidentFeatureSQL gives %s, want what IncidentFeature serves: %s", own, served)
	}

	// A page cut by its limit: ordered, the same rows as the server's.
	q.Limit = 2
	stmt, args, err = postgis.IncidentLimitSQL(q, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SQL().QueryRow(stmt, args...).Scan(&text); err != nil {
		t.Fatal(err)
	}
	limit.Features = nil
	if err := json.Unmarshal([]byte(text), &limit); err != nil {
		t.Fatal(err)
	}
	var got []float64
	for _, f := range limit.Features {
		got = append(got, f["properties"].(map[string]any)["id"].(float64))
	}
	if want := []float64{4, 2}; !reflect.DeepEqual(got, want) { // newest first
		t.Errorf("ordered limit page holds ids %v, want %v", got, want)
	}
}

// sameFeature checks a limit feature (id among its properties) against
// the server's feature of that id.
func sameFeature(t *testing.T, ours map[float64]map[string]any, lf map[string]any) {
	t.Helper()
	props := lf["properties"].(map[string]any)
	id, _ := props["id"].(float64)
	of, ok := ours[id]
	if !ok {
		t.Errorf("limit feature %v is not on the server's page", id)
		return
	}
	delete(props, "id")
	if !reflect.DeepEqual(props, of["properties"]) {
		t.Errorf("feature %v: limit properties %v, want %v", id, props, of["properties"])
	}
	if !reflect.DeepEqual(lf["geometry"], of["geometry"]) {
		t.Errorf("feature %v: limit geometry %v, want %v", id, lf["geometry"], of["geometry"])
	}
}
