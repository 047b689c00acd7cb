package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// benchWideRows inserts n wide incidents (every public column, ~350
// characters of notes, three sources) spread evenly over the box
// 10,10 - 11,11, as bench/ generates them.
func benchWideRows(b *testing.B, ts *testServer, n int) {
	b.Helper()
	tx, err := ts.DB.SQL().Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for _, s := range []string{
		`SET LOCAL incidentmap.bulk = 'on'`,
		`SET LOCAL incidentmap.enrich = 'off'`,
		fmt.Sprintf(`INSERT INTO incidents (external_id, occurred_at, event_type, sub_event_type, actor1, actor2, fatalities,
			title, notes, location_name, geom, geo_precision, status, sources, country_code, admin1, nearest_place_name,
			nearest_place_distance_m, border_distance_m, stated_country, stated_iso, admin2, admin3, source_dataset, source_file)
		SELECT 'B' || g, timestamptz '2020-01-01' + g * interval '1 hour', 'Battles', 'Armed clash',
			'Military Forces of Country ' || g %% 40 || ' (2018-)', 'Armed group ' || g %% 97 || ' of the northern front', g %% 20,
			'Armed clash in District ' || g %% 200 || ', Province ' || g %% 30, repeat('Fighting was reported near the village. ', 9),
			'Village ' || g, ST_SetSRID(ST_MakePoint(10 + (g %% 100) / 100.0, 10 + (g / 100 %% 100) / 100.0), 4326), 1, 'verified',
			(SELECT jsonb_agg(jsonb_build_object('name', 'Publisher ' || k, 'url', 'https://news.example.org/' || g || '/' || k,
				'date', '2020-01-02')) FROM generate_series(1, 3) k),
			'UA', 'Province ' || g %% 30, 'Village ' || g, 1234.5, 45678.9, 'Country UA', '804', 'District ' || g %% 200,
			'Commune ' || g %% 50, 'ACLED 2024-10 export', 'acled.csv'
		FROM generate_series(1, %d) g`, n),
	} {
		if _, err := tx.Exec(s); err != nil {
			b.Fatalf("insert wide rows: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := ts.DB.SQL().Exec(`ANALYZE incidents`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkItems measures the server's side of the items shapes of
// bench/ (run it with -cpuprofile to see where the server's CPU goes):
// 100, 1,000 and 10,000 wide features by bbox, the first page and one
// feature by id, over loopback HTTP.
func BenchmarkItems(b *testing.B) {
	ts := newTestServerOn(b, pgtest.NewDB(b), api.Config{MaxBigPagesPerClient: 1000})
	benchWideRows(b, ts, 10000)
	var id int64
	if err := ts.DB.SQL().QueryRowContext(context.Background(), `SELECT id FROM incidents ORDER BY id OFFSET 5000 LIMIT 1`).Scan(&id); err != nil {
		b.Fatal(err)
	}
	items := ts.URL + "/api/collections/incidents/items"
	for _, shape := range []struct{ name, url string }{
		{"small", items + "?limit=10000&bbox=10,10,10.099,10.099"},
		{"medium", items + "?limit=10000&bbox=10,10,10.99,10.099"},
		{"large", items + "?limit=10000&bbox=9,9,12,12"},
		{"firstpage", items + "?limit=100"},
		{"byid", fmt.Sprintf("%s/%d", items, id)},
	} {
		b.Run(shape.name, func(b *testing.B) {
			// As wrk: no gzip.
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					res, err := client.Get(shape.url)
					if err != nil {
						b.Error(err)
						return
					}
					n, _ := io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK || n == 0 {
						b.Errorf("GET %s: got %d, %d bytes, want 200 with a body", shape.url, res.StatusCode, n)
						return
					}
				}
			})
		})
	}
}
