package main

import (
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// itemsURL is the items request of the map for a bbox.
func itemsURL(srv *server, bbox [4]float64) string {
	return srv.url + "/api/collections/incidents/items?limit=10000&bbox=" + bboxParam(bbox)
}

// itemsSQL is the statement producing the same page as itemsURL in one go
// (postgis.IncidentCollectionSQL), with its arguments written in.
func itemsSQL(bbox [4]float64) (string, error) {
	q, err := geo.ParseIncidentQuery(url.Values{"bbox": {bboxParam(bbox)}, "limit": {"10000"}})
	if err != nil {
		return "", err
	}
	stmt, args, err := postgis.IncidentCollectionSQL(q)
	if err != nil {
		return "", err
	}
	return inline(stmt, args), nil
}

// itemsSuite compares the streamed GeoJSON items endpoint with PostgreSQL
// building the same FeatureCollection text in one statement.
func itemsSuite(cfg config, ds *dataset) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP: `wrk` on `GET /api/collections/incidents/items?limit=10000&bbox=…` (streamed GeoJSON, plus numberMatched and ETag work), "+
		"square windows round the densest hotspot (%.4f, %.4f).\n", ds.center[0], ds.center[1])
	fmt.Fprintln(&b, "SQL: `pgbench` running `postgis.IncidentCollectionSQL`, one statement that builds the same FeatureCollection text in PostgreSQL (the physical limit).")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "| window | bbox | features | bytes | HTTP req/s | HTTP p50 | HTTP p99 | SQL req/s | SQL p50 | SQL p99 | HTTP/SQL | CPU µs/req HTTP (server + PG + wrk) / SQL (PG + pgbench) | server peak RSS | notes |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, target := range []int{100, 1000, 10000} {
		bbox, n, err := windowFor(ds.db, ds.center, target)
		if err != nil {
			return b.String(), err
		}
		log.Printf("items ~%d: bbox %s holds %d incidents", target, bboxParam(bbox), n)
		u := itemsURL(ds.srv, bbox)
		status, size, _, err := fetch(u)
		if err != nil {
			return b.String(), err
		}
		if status != http.StatusOK {
			return b.String(), fmt.Errorf("GET %s: %d", u, status)
		}
		h, rss, err := measureHTTP(cfg, ds.srv, u)
		if err != nil {
			return b.String(), err
		}
		stmt, err := itemsSQL(bbox)
		if err != nil {
			return b.String(), err
		}
		s, err := runPgbench(cfg, ds.srv, ds.dsn, stmt, h.duration)
		if err != nil {
			return b.String(), err
		}
		fmt.Fprintf(&b, "| ~%d | %s | %d | %d | %.0f | %s | %s | %.0f | %s | %s | %s | %s | %d MiB | %s |\n",
			target, bboxParam(bbox), min(n, 10000), size, h.reqPerSec, dur(h.p50), dur(h.p99),
			s.reqPerSec, dur(s.p50), dur(s.p99), ratio(h.reqPerSec, s.reqPerSec), cpuColumn(h, s), rss/1024, notes(cfg, h, s))
	}
	fmt.Fprintln(&b, "\nThe ~10000 window is the first page only (limit=10000); its bbox holds a little more.")
	return b.String(), nil
}
