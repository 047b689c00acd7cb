package main

import (
	"fmt"
	"log"
	"math"
	"net/http"
	"strings"
	"time"
)

// The tile geometry of geo/postgis/tile.go (unexported there): MVT extent
// and buffer in tile pixels, cluster cells per tile side, the world's width
// in WebMercatorQuad metres, and the server's default cluster zoom
// (api.Config.ClusterBelowZoom).
const (
	tileExtent       = 4096
	tileBuffer       = 64
	clusterGrid      = 64
	webMercatorWH    = 40075016.685578488
	clusterBelowZoom = 8
)

// Targets of the tile suite, per zoom.
const (
	tileRatioTarget = 0.8
	tileP99Target   = 50 * time.Millisecond
)

var tileZooms = []int{2, 5, 8, 11, 14}

// tileSQL is the statement postgis.(*DB).IncidentTile runs for tile z/x/y
// with the default filter (public incidents: verified or disputed), with
// the values written in: same envelopes, same clusters below zoom 8, same
// columns. IncidentTile builds it unexported, so it is written out here;
// keep the two alike. outer replaces the final ST_AsMVT(...) aggregate, to
// count the tile's features with "count(*)".
func tileSQL(z, x, y int, outer string) string {
	env3857 := fmt.Sprintf("ST_TileEnvelope(%d, %d, %d)", z, x, y)
	// Clipped to the world before the transform, as the server does
	// (geo/postgis tileEnvelopeSQL), so edge columns do not wrap past ±180°.
	env4326 := fmt.Sprintf("ST_Transform(ST_ClipByBox2D(ST_TileEnvelope(%d, %d, %d, margin => %g), "+
		"ST_MakeEnvelope(-%[5]g, -%[5]g, %[5]g, %[5]g, 3857)), 4326)", z, x, y, float64(tileBuffer)/tileExtent, webMercatorWH/2)
	where := "WHERE status = ANY('{verified,disputed}') AND geom && " + env4326
	var q string
	if z < clusterBelowZoom {
		cell := strconvG(webMercatorWH / math.Exp2(float64(z)) / clusterGrid)
		if outer == "" {
			outer = fmt.Sprintf("ST_AsMVT(c, 'incidents', %d, 'geom')", tileExtent)
		}
		q = fmt.Sprintf(`
			SELECT %s FROM (
				SELECT ST_AsMVTGeom(ST_Centroid(ST_Collect(g)), %s, %d, %d, true) AS geom,
				       count(*) AS count, mode() WITHIN GROUP (ORDER BY event_type) AS event_type,
				       sum(fatalities) AS fatalities
				FROM (SELECT ST_Transform(geom, 3857) AS g, event_type, fatalities FROM incidents %s) p
				GROUP BY ST_SnapToGrid(g, %s, %s)
			) c WHERE geom IS NOT NULL`,
			outer, env3857, tileExtent, tileBuffer, where, cell, cell)
	} else {
		if outer == "" {
			outer = fmt.Sprintf("ST_AsMVT(f, 'incidents', %d, 'geom', 'id')", tileExtent)
		}
		q = fmt.Sprintf(`
			SELECT %s FROM (
				SELECT id, ST_AsMVTGeom(ST_Transform(geom, 3857), %s, %d, %d, true) AS geom,
				       title, event_type, status, fatalities, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS occurred_at
				FROM incidents %s
			) f WHERE geom IS NOT NULL`,
			outer, env3857, tileExtent, tileBuffer, where)
	}
	return strings.Join(strings.Fields(q), " ")
}

func strconvG(f float64) string { return fmt.Sprintf("%.17g", f) }

// tileURL is the server's URL of tile z/x/y (path order z/y/x).
func tileURL(srv *server, z, x, y int) string {
	return fmt.Sprintf("%s/api/collections/incidents/tiles/WebMercatorQuad/%d/%d/%d", srv.url, z, y, x)
}

// tileInfo describes a tile's content: public incidents under it
// (buffer included), features in it (clusters or points), the size of the
// server's tile and of the bench statement's.
type tileInfo struct {
	incidents, features, bytes, sqlBytes int
}

func describeTile(ds *dataset, z, x, y int) (tileInfo, error) {
	var ti tileInfo
	if err := ds.db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM incidents WHERE status = ANY('{verified,disputed}')
		AND geom && ST_MakeEnvelope(%s, 4326)`, bboxSQL(tileBBox(z, x, y, float64(tileBuffer)/tileExtent)))).Scan(&ti.incidents); err != nil {
		return ti, err
	}
	if err := ds.db.QueryRow(tileSQL(z, x, y, "count(*)")).Scan(&ti.features); err != nil {
		return ti, err
	}
	var mvt []byte
	if err := ds.db.QueryRow(tileSQL(z, x, y, "")).Scan(&mvt); err != nil {
		return ti, err
	}
	ti.sqlBytes = len(mvt)
	u := tileURL(ds.srv, z, x, y)
	status, size, _, err := fetch(u)
	if err != nil {
		return ti, err
	}
	if status != http.StatusOK && status != http.StatusNoContent {
		return ti, fmt.Errorf("GET %s: %d", u, status)
	}
	ti.bytes = size
	return ti, nil
}

func bboxSQL(b [4]float64) string {
	return fmt.Sprintf("%.9f, %.9f, %.9f, %.9f", b[0], b[1], b[2], b[3])
}

// tilesSuite compares the vector tile endpoint with the bare tile
// statement over the densest hotspot at each zoom.
func tilesSuite(cfg config, ds *dataset) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP: `wrk` on `GET /api/collections/incidents/tiles/WebMercatorQuad/{z}/{y}/{x}`, the tile holding the densest hotspot (%.4f, %.4f) at each zoom.\n",
		ds.center[0], ds.center[1])
	fmt.Fprintln(&b, "SQL: `pgbench` running the bare tile statement. `IncidentTile` builds its SQL unexported, so the bench writes the equivalent "+
		"`ST_AsMVT` statement itself with the same structure: same envelopes (64 px buffer, clipped to the world before the transform to 4326), "+
		"same filter (status verified or disputed), 64×64 grid clusters below zoom 8 (count, most frequent event_type, sum of fatalities), "+
		"raw points with the same attributes from zoom 8.")
	fmt.Fprintln(&b, "*Incidents under it*: public incidents in the buffered tile (computed in the bench, independently of the tile SQL); "+
		"*features*: what the bench's tile statement returns (clusters or points); *bytes*: the server's tile.")
	fmt.Fprintf(&b, "Target per zoom: HTTP/SQL ≥ %.1f and HTTP p99 < %v. Requests slower than the measurement allows get longer loads (up to %v; see notes).\n\n",
		tileRatioTarget, tileP99Target, maxLoadDuration)
	fmt.Fprintln(&b, "| z | tile z/x/y | kind | incidents under it | features | bytes | HTTP req/s | HTTP p50 | HTTP p99 | SQL req/s | SQL p50 | SQL p99 | HTTP/SQL | target met | CPU µs/req HTTP (server + PG + wrk) / SQL (PG + pgbench) | notes |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var empty []string
	for _, z := range tileZooms {
		x, y := tileAt(z, ds.center[0], ds.center[1])
		row, err := measureTile(cfg, ds, z, x, y)
		if err != nil {
			return b.String(), err
		}
		// A tile with incidents under it must not come out empty, from the
		// server or from the bench's statement.
		if row.info.incidents > 0 && (row.info.bytes == 0 || row.info.features == 0) {
			row.note = fmt.Sprintf("**empty tile (server %d bytes, statement %d features) over %d incidents**; %s",
				row.info.bytes, row.info.features, row.info.incidents, row.note)
			empty = append(empty, fmt.Sprintf("%d/%d/%d", z, x, y))
		}
		fmt.Fprintf(&b, "| %d | %d/%d/%d | %s | %d | %d | %d | %.0f | %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n",
			z, z, x, y, row.kind, row.info.incidents, row.info.features, row.info.bytes, row.h.reqPerSec, dur(row.h.p50), dur(row.h.p99),
			row.s.reqPerSec, dur(row.s.p50), dur(row.s.p99), ratio(row.h.reqPerSec, row.s.reqPerSec), tileVerdict(row.h, row.s), cpuColumn(row.h, row.s), row.note)
	}
	if len(empty) > 0 {
		return b.String(), fmt.Errorf("tiles empty although incidents lie under them: %s", strings.Join(empty, ", "))
	}
	return b.String(), nil
}

type tileRow struct {
	kind string
	info tileInfo
	h, s measurement
	note string
}

func measureTile(cfg config, ds *dataset, z, x, y int) (tileRow, error) {
	r := tileRow{kind: "points"}
	if z < clusterBelowZoom {
		r.kind = "clusters"
	}
	var err error
	if r.info, err = describeTile(ds, z, x, y); err != nil {
		return r, err
	}
	log.Printf("tile %d/%d/%d: %d incidents, %d features, %d bytes", z, x, y, r.info.incidents, r.info.features, r.info.bytes)
	if r.h, _, err = measureHTTP(cfg, ds.srv, tileURL(ds.srv, z, x, y)); err != nil {
		return r, err
	}
	if r.s, err = runPgbench(cfg, ds.srv, ds.dsn, tileSQL(z, x, y, ""), r.h.duration); err != nil {
		return r, err
	}
	r.note = notes(cfg, r.h, r.s)
	if r.info.sqlBytes != r.info.bytes {
		r.note = fmt.Sprintf("**the bench statement's tile has %d bytes, the server's %d: the SQL has drifted from IncidentTile**; %s",
			r.info.sqlBytes, r.info.bytes, r.note)
	}
	return r, nil
}

func tileVerdict(h, s measurement) string {
	var miss []string
	if s.reqPerSec > 0 && h.reqPerSec/s.reqPerSec < tileRatioTarget {
		miss = append(miss, "ratio")
	}
	if h.p99 == 0 || h.p99 >= tileP99Target {
		miss = append(miss, "p99")
	}
	if len(miss) == 0 {
		return "yes"
	}
	return "no (" + strings.Join(miss, ", ") + ")"
}
