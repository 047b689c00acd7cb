package postgis

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// Every property has a jsonKind, and the kind fits the type PostgreSQL
// gives its expression: a column whose type a migration changes fails
// here instead of being written as the wrong JSON.
func TestIncidentPropertyKindsMatchColumnTypes(t *testing.T) {
	db := OpenOwner(t)
	if got, want := slices.Sorted(maps.Keys(incidentPropertyKind)), slices.Sorted(maps.Keys(incidentPropertySQL)); !slices.Equal(got, want) {
		t.Fatalf("incidentPropertyKind lists %v, incidentPropertySQL %v; want the same properties", got, want)
	}
	fits := map[jsonKind][]string{
		jsonText:   {"TEXT", "BPCHAR", "VARCHAR"},
		jsonInt:    {"INT2", "INT4", "INT8"},
		jsonBool:   {"BOOL"},
		jsonAsIs:   {"JSON", "JSONB"},
		jsonToJSON: {"TIMESTAMPTZ", "FLOAT8", "NUMERIC", "_TEXT"},
	}
	for _, p := range slices.Sorted(maps.Keys(incidentPropertySQL)) {
		rows, err := db.Query(`SELECT ` + incidentPropertySQL[p] + ` FROM incidents LIMIT 0`)
		if err != nil {
			t.Fatalf("property %s: %v", p, err)
		}
		types, err := rows.ColumnTypes()
		rows.Close()
		if err != nil {
			t.Fatal(err)
		}
		typ, kind := types[0].DatabaseTypeName(), incidentPropertyKind[p]
		if !slices.Contains(fits[kind], typ) {
			t.Errorf("property %s is %s in PostgreSQL, which jsonKind %d does not write (it writes %v)", p, typ, kind, fits[kind])
		}
	}
}

// The features a list page writes in Go are, property for property and
// value for value, the features json_build_object makes of the same rows
// (incidentFeatureJSON): for every CRS and property list, NULLs, empty
// strings, control characters, quotes, non-ASCII text, timestamps with and
// without fractions, NaN and infinite distances, arrays and claims.
func TestStreamedFeaturesMatchPostgreSQL(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDB(t)
	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	db, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	hostile := "quote \" backslash \\ slash / tab\tnewline\nreturn\rbell\b\fform \x01\x1f\x7f <script>&amp;</script> \u2028\u2029 Cəbrayıl جبرائیل 😀"
	long := strings.Repeat("Shelling near the villages on the Aras river. ", 300)
	inserts := []string{
		// Everything nullable NULL, every text empty.
		`INSERT INTO incidents (occurred_at, event_type, title, geom, status) VALUES ('2020-10-18 04:00:00+00', 'Battles', 'x', ST_SetSRID(ST_MakePoint(46.99, 39.39), 4326), 'verified')`,
		// Every column filled, hostile text.
		`INSERT INTO incidents (external_id, occurred_at, time_precision, event_type, sub_event_type, actor1, actor2, fatalities,
			title, notes, location_name, geom, geo_precision, country_code, admin1, nearest_place_name, nearest_place_distance_m,
			border_distance_m, status, sources, demo, stated_country, stated_iso, stated_country_code, admin2, admin3,
			original_event_type, original_sub_event_type, source_dataset, geo_check, contested, source_record)
		 VALUES ($5, '2020-10-21 13:45:06.120000+04', 2, 'Explosions/Remote violence', 'Shelling/artillery/missile attack', $1, 'Actor two', 12,
			$1, $2, $1, ST_SetSRID(ST_MakePoint(-179.999999, -85.05), 4326), 3, 'AZ', $1, $1, 1234.5,
			12345678.49, 'disputed', $3, true, 'Azerbaijan', '31', 'AZ', $1, $1,
			'Shelling', $1, 'ACLED', '{country_mismatch,no_country}', true, $4)`,
		// NaN and infinite distances; a timestamp before 1970 with a fraction.
		`INSERT INTO incidents (occurred_at, event_type, title, geom, status, nearest_place_distance_m, border_distance_m)
		 VALUES ('1900-01-01 00:00:00.000001+00', 'Riots', 'NaN', ST_SetSRID(ST_MakePoint(180, 85), 4326), 'reported', 'NaN', 'Infinity')`,
		// Retracted as a duplicate of the first.
		`INSERT INTO incidents (occurred_at, event_type, title, geom, status, duplicate_of)
		 VALUES ('2199-12-31 23:59:59.999999+00', 'Protests', 'dup', ST_SetSRID(ST_MakePoint(0, 0), 4326), 'retracted', (SELECT min(id) FROM incidents))`,
	}
	sources, _ := json.Marshal([]map[string]string{{"url": `https://example.org/a?b=1&c="2"`, "publisher": hostile, "published_at": "2020-10-22"}})
	record, _ := json.Marshal(map[string]string{"notes": long + hostile, "fatalities": "1.50", "": hostile})
	for i, ins := range inserts {
		var err error
		if i == 1 {
			_, err = raw.ExecContext(ctx, ins, hostile, long+hostile, string(sources), string(record), "ext \"\\\t\x01 😀")
		} else {
			_, err = raw.ExecContext(ctx, ins)
		}
		if err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO incident_claims (incident_id, party, stance, text, claimed_at, source_name, source_url)
		SELECT id, 'Ministry of Defence', 'denies', $1, '2020-10-21 15:00:00+00', 'Statement', 'https://example.org/claim'
		FROM incidents WHERE title = $1`, hostile); err != nil {
		t.Fatalf("insert a claim: %v", err)
	}

	all := geo.IncidentProperties()
	propertyLists := [][]string{nil, {"title"}, {"notes", "occurred_at", "geo_check", "nearest_place_distance_m"},
		append(slices.Clone(all), "source_record", "claims", "duplicate_of"), reversed(all)}
	statuses := []string{geo.StatusVerified, geo.StatusDisputed, geo.StatusReported, geo.StatusRetracted}
	for _, crs := range []geo.CRS{geo.CRS84, geo.EPSG4326, geo.EPSG3857} {
		for _, props := range propertyLists {
			q := geo.IncidentQuery{Limit: 100, Statuses: statuses, Properties: props, CRS: crs, Sort: geo.SortKey{Field: "occurred_at", Desc: true}}
			var got [][]byte
			page, err := db.StreamIncidents(ctx, q, func(f []byte) error {
				got = append(got, bytes.Clone(f))
				return nil
			})
			if err != nil {
				t.Fatalf("CRS %d, properties %v: %v", crs, props, err)
			}
			if page.Returned != len(inserts) || len(got) != len(inserts) {
				t.Fatalf("CRS %d, properties %v: %d features (page says %d), want %d", crs, props, len(got), page.Returned, len(inserts))
			}
			feature, err := incidentFeatureJSON(retractedListProperties(q), crs)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range got {
				if !json.Valid(f) {
					t.Fatalf("CRS %d, properties %v: invalid JSON %s", crs, props, f)
				}
				var id struct{ ID int64 }
				if err := json.Unmarshal(f, &id); err != nil || id.ID == 0 {
					t.Fatalf("feature without id: %s", f)
				}
				var want []byte
				if err := raw.QueryRowContext(ctx, `SELECT (`+feature+`)::text FROM incidents WHERE id = $1`, id.ID).Scan(&want); err != nil {
					t.Fatal(err)
				}
				if g, w := decodeNumbers(t, f), decodeNumbers(t, want); !reflect.DeepEqual(g, w) {
					t.Errorf("CRS %d, properties %v, incident %d:\ngot  %s\nwant %s", crs, props, id.ID, f, want)
				}
				if gk, wk := propertyOrder(t, f), propertyOrder(t, want); !slices.Equal(gk, wk) {
					t.Errorf("incident %d: properties in order %v, want %v", id.ID, gk, wk)
				}
			}
		}
	}
}

// decodeNumbers decodes JSON keeping numbers as their text.
func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// propertyOrder lists the keys of a feature's properties in document order.
func propertyOrder(t *testing.T, feature []byte) []string {
	t.Helper()
	var f struct{ Properties json.RawMessage }
	if err := json.Unmarshal(feature, &f); err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(f.Properties))
	var keys []string
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return keys
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 {
				keys = append(keys, v)
				// Skip the value.
				var skip json.RawMessage
				if err := d.Decode(&skip); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

// The layout of every public property is built once per CRS, the same as
// built afresh, and costs a list request nothing.
func TestIncidentDefaultLayout(t *testing.T) {
	for _, crs := range []geo.CRS{geo.CRS84, geo.EPSG4326, geo.EPSG3857} {
		got, err := incidentFeatureLayout(nil, crs)
		if err != nil {
			t.Fatal(err)
		}
		want, err := buildFeatureLayout(geo.IncidentProperties(), crs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("CRS %d: cached layout %+v differs from a fresh one %+v", crs, got, want)
		}
	}
	if allocs := testing.AllocsPerRun(50, func() { _, _ = incidentFeatureLayout(nil, geo.CRS84) }); allocs != 0 {
		t.Errorf("default layout: %.0f allocations per request, want 0", allocs)
	}
	if _, err := incidentFeatureLayout([]string{"title", "no_such"}, geo.CRS84); err == nil {
		t.Error("a layout with an unknown property: no error")
	}
}
