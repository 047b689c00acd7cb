package main

import (
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb/encoding/mvt"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// The server's default cluster zoom (api.Config.ClusterBelowZoom), and the
// MVT buffer in tile pixels (geo/postgis) for the bench's own count of
// incidents under a tile.
const (
	clusterBelowZoom = 8
	tileBuffer       = 64
	tileExtent       = 4096
)

// Targets of the tile suite, per zoom.
const (
	tileRatioTarget = 0.8
	tileP99Target   = 50 * time.Millisecond
)

var tileZooms = []int{2, 5, 8, 11, 14}

// tileSQL is the statement postgis.(*DB).IncidentTile runs for tile z/x/y
// with the default filter (public incidents: verified or disputed)
// (postgis.IncidentTileSQL), with its arguments written in. outer, when
// not empty, replaces the final ST_AsMVT(...) aggregate (e.g. "count(*)"
// counts the tile's features).
func tileSQL(z, x, y int, outer string) string {
	return tileSQLWith(z, x, y, url.Values{}, outer)
}

// tileSQLWith is tileSQL for the tile with the query parameters v.
func tileSQLWith(z, x, y int, v url.Values, outer string) string {
	q, err := geo.ParseIncidentTileQuery(v)
	if err != nil {
		panic(err) // the bench's own queries are valid
	}
	stmt, args, err := postgis.IncidentTileSQL(geo.Tile{Z: z, X: x, Y: y}, q, clusterBelowZoom)
	if err != nil {
		panic(err) // the bench's own queries are valid
	}
	if z < clusterBelowZoom {
		// The server's statement: from the stored sums where they answer.
		if s, a, ok, err := postgis.IncidentTileCellsSQL(geo.Tile{Z: z, X: x, Y: y}, q); err != nil {
			panic(err)
		} else if ok {
			stmt, args = s, a
		}
	}
	stmt = inline(stmt, args)
	if outer != "" {
		head, rest, ok := strings.Cut(stmt, " FROM (")
		if !ok || !strings.HasPrefix(head, "SELECT ST_AsMVT(") {
			panic("tile statement does not start with SELECT ST_AsMVT(...) FROM (: " + head)
		}
		stmt = "SELECT " + outer + " FROM (" + rest
	}
	return stmt
}

// coldDatetime is the datetime filter of pgbench's statement for cold
// tiles: an open interval from a start before every incident, so it
// selects them all, as every cold request's filter does (see coldTiles).
const coldDatetime = "1970-01-01T00:00:00Z/.."

// tileURL is the server's URL of tile z/x/y (path order z/y/x).
func tileURL(srv *server, z, x, y int) string {
	return fmt.Sprintf("%s/api/collections/incidents/tiles/WebMercatorQuad/%d/%d/%d", srv.url, z, y, x)
}

// tileInfo describes a tile's content: public incidents under it
// (buffer included), features in it (clusters or points), the size of the
// server's tile, and how it differs from the bench statement's, if it does.
type tileInfo struct {
	incidents, features, bytes int
	differs                    string
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
	u := tileURL(ds.srv, z, x, y)
	res, err := http.Get(u)
	if err != nil {
		return ti, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return ti, err
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNoContent {
		return ti, fmt.Errorf("GET %s: %d", u, res.StatusCode)
	}
	ti.bytes = len(body)
	// The same features, though maybe in another order (the server's plan
	// for a prepared statement may scan in another order).
	server, err1 := tileFeatureSet(body)
	bench, err2 := tileFeatureSet(mvt)
	switch {
	case err1 != nil || err2 != nil:
		ti.differs = fmt.Sprintf("undecodable tile (server: %v, statement: %v)", err1, err2)
	case !slices.Equal(server, bench):
		ti.differs = fmt.Sprintf("the server's tile (%d bytes, %d features) differs from the statement's (%d bytes, %d features)",
			len(body), len(server), len(mvt), len(bench))
	}
	return ti, nil
}

// tileFeatureSet decodes a vector tile into one sorted line per feature
// (layer, id, geometry, properties).
func tileFeatureSet(b []byte) ([]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	layers, err := mvt.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range layers {
		for _, f := range l.Features {
			keys := slices.Sorted(maps.Keys(f.Properties))
			var props strings.Builder
			for _, k := range keys {
				fmt.Fprintf(&props, " %s=%v", k, f.Properties[k])
			}
			out = append(out, fmt.Sprintf("%s %v %v%s", l.Name, f.ID, f.Geometry, props.String()))
		}
	}
	slices.Sort(out)
	return out, nil
}

func bboxSQL(b [4]float64) string {
	return fmt.Sprintf("%.9f, %.9f, %.9f, %.9f", b[0], b[1], b[2], b[3])
}

// tilesSuite compares the vector tile endpoint with the bare tile
// statement over the densest hotspot at each zoom: cold (every request
// renders, as a tile nobody asked for since the last edit) and warm (the
// server's tile cache holds it).
func tilesSuite(cfg config, ds *dataset) (string, error) {
	// The server's sessions run without JIT (geo/postgis/conn.go); so does
	// the bare statement, or JIT's compile time would lower the limit.
	restore := setenv("PGOPTIONS", "-c jit=off")
	defer restore()

	var b strings.Builder
	fmt.Fprintf(&b, "HTTP: `wrk` on `GET /api/collections/incidents/tiles/WebMercatorQuad/{z}/{y}/{x}`, the tile holding the densest hotspot (%.4f, %.4f) at each zoom, "+
		"*cold*: every request with a datetime filter that all incidents pass (`datetime=<start>/..`, a start before them all) "+
		"but with a start of its own, so that the server's tile cache never holds the tile (each request renders it, then caches it); "+
		"*warm*: the plain tile, served from the server's tile cache.\n", ds.center[0], ds.center[1])
	fmt.Fprintln(&b, "SQL: `pgbench` running the server's statement for the cold requests (`postgis.IncidentTileSQL` with `datetime="+coldDatetime+"`, "+
		"arguments written in) with the server's session settings (`jit=off`): "+
		"*simple* protocol (parsed and planned every time, as before), and *prepared* (`-M prepared`: with the arguments written in, "+
		"parsed and planned once per connection, a floor the server does not reach: it prepares point tiles (z ≥ 8) with parameters, "+
		"which PostgreSQL still plans for each tile, and does not prepare cluster tiles). pgbench receives the tile as hex text, the server in binary.")
	fmt.Fprintln(&b, "*Incidents under it*: public incidents in the buffered tile (computed in the bench, independently of the tile SQL); "+
		"*features*: what the statement returns (clusters or points); *bytes*: the server's tile (uncompressed; wrk sends no Accept-Encoding).")
	fmt.Fprintf(&b, "Target per zoom: HTTP/SQL ≥ %.1f and HTTP p99 < %v; *target met* judges against the simple-protocol limit as the earlier runs did, "+
		"*HTTP/SQL prepared* is the stricter ratio. Requests slower than the measurement allows get longer loads (up to %v; see notes).\n\n",
		tileRatioTarget, tileP99Target, maxLoadDuration)
	fmt.Fprintln(&b, "| z | tile z/x/y | kind | incidents under it | features | bytes | HTTP load | HTTP req/s | HTTP p50 | HTTP p99 | "+
		"SQL req/s | SQL p50 | SQL p99 | HTTP/SQL | SQL prepared req/s | p50 | p99 | HTTP/SQL prepared | target met | "+
		"CPU µs/req HTTP (server + PG + wrk) / SQL (PG + pgbench) / SQL prepared (PG + pgbench) | notes |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
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
		for _, l := range []struct {
			name string
			h    measurement
		}{{"cold", row.cold}, {"warm", row.warm}} {
			fmt.Fprintf(&b, "| %d | %d/%d/%d | %s | %d | %d | %d | %s | %.0f | %s | %s | %.0f | %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s |\n",
				z, z, x, y, row.kind, row.info.incidents, row.info.features, row.info.bytes, l.name,
				l.h.reqPerSec, dur(l.h.p50), dur(l.h.p99),
				row.simple.reqPerSec, dur(row.simple.p50), dur(row.simple.p99), ratio(l.h.reqPerSec, row.simple.reqPerSec),
				row.prepared.reqPerSec, dur(row.prepared.p50), dur(row.prepared.p99), ratio(l.h.reqPerSec, row.prepared.reqPerSec),
				tileVerdict(l.h, row.simple), cpuColumn(l.h, row.simple)+" / "+sqlCPU(row.prepared), joinNotes(row.note, notes(cfg, l.h, row.simple), preparedNote(row.prepared)))
		}
	}
	if len(empty) > 0 {
		return b.String(), fmt.Errorf("tiles empty although incidents lie under them: %s", strings.Join(empty, ", "))
	}
	return b.String(), nil
}

type tileRow struct {
	kind             string
	info             tileInfo
	cold, warm       measurement
	simple, prepared measurement
	note             string
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
	u := tileURL(ds.srv, z, x, y)
	if r.cold, err = measureColdTile(cfg, ds, u); err != nil {
		return r, err
	}
	if r.warm, _, err = measureHTTP(cfg, ds.srv, u); err != nil {
		return r, err
	}
	stmt := tileSQLWith(z, x, y, url.Values{"datetime": {coldDatetime}}, "")
	if r.simple, err = runPgbench(cfg, ds.srv, ds.dsn, stmt, r.cold.duration); err != nil {
		return r, err
	}
	if r.prepared, err = runPgbench(cfg, ds.srv, ds.dsn, stmt, r.cold.duration, "-M", "prepared"); err != nil {
		return r, err
	}
	if r.info.differs != "" {
		r.note = "**" + r.info.differs + ": the server does not run IncidentTileSQL**"
	}
	return r, nil
}

// measureColdTile loads the tile at URL u cold (see coldTiles): every
// request renders it. As measureHTTP stretches loads by the latency of a
// (there cached) request, the load is stretched by a render's instead.
func measureColdTile(cfg config, ds *dataset, u string) (measurement, error) {
	cold, err := ds.coldTiles()
	if err != nil {
		return measurement{}, err
	}
	lat, err := cold.fetch(u)
	if err != nil {
		return measurement{}, err
	}
	coldCfg := cfg
	coldCfg.duration = loadDuration(cfg, lat)
	m, _, err := measureHTTP(coldCfg, ds.srv, u, "-s", cold.script)
	return m, err
}

// coldTiles makes tile requests that a server's tile cache cannot answer:
// each with a datetime filter that every incident passes (an open interval
// from a start before them all; the data starts in 2018) but with a start
// of its own, so that each request renders the tile (and caches it under
// a key no later request asks for). Starts are never reused against one
// server: fetch takes them from 1960 on, one second apart, and wrk's
// script (coldLua) from 1970 on, a range of 10⁶ seconds per wrk thread,
// numbered across wrk runs by a counter file beside the script.
type coldTiles struct {
	dir    string // holds cold.lua and its counter
	script string
	n      int // fetch's requests so far
}

// coldLua is wrk's script for cold loads; COUNTER is the counter file.
const coldLua = `local counter = "COUNTER"
function setup(thread)
  local f = io.open(counter, "r")
  local k = f and tonumber(f:read("*l")) or 0
  if f then f:close() end
  f = assert(io.open(counter, "w"))
  f:write(tostring(k + 1))
  f:close()
  thread:set("base", k * 1000000)
end
local n = 0
function request()
  n = n + 1
  local start = os.date("!%Y-%m-%dT%H:%M:%SZ", base + n)
  return wrk.format(nil, wrk.path .. "?datetime=" .. start .. "/..")
end
`

func newColdTiles() (*coldTiles, error) {
	dir, err := os.MkdirTemp("", "bench-cold-")
	if err != nil {
		return nil, err
	}
	c := &coldTiles{dir: dir, script: filepath.Join(dir, "cold.lua")}
	lua := strings.Replace(coldLua, "COUNTER", filepath.Join(dir, "threads"), 1)
	if err := os.WriteFile(c.script, []byte(lua), 0o644); err != nil {
		c.remove()
		return nil, err
	}
	return c, nil
}

func (c *coldTiles) remove() { os.RemoveAll(c.dir) }

// fetch GETs the tile at URL target cold three times and returns the
// fastest latency.
func (c *coldTiles) fetch(target string) (time.Duration, error) {
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Date(1960, 1, 1, 0, 0, c.n, 0, time.UTC)
		c.n++
		u := target + "?datetime=" + start.Format(time.RFC3339) + "/.."
		status, _, lat, err := fetch(u)
		if err != nil {
			return 0, err
		}
		if status != http.StatusOK && status != http.StatusNoContent {
			return 0, fmt.Errorf("GET %s: %d", u, status)
		}
		best = min(best, lat)
	}
	return best, nil
}

// setenv sets an environment variable and returns what restores it.
func setenv(key, value string) func() {
	old, had := os.LookupEnv(key)
	os.Setenv(key, value)
	return func() {
		if had {
			os.Setenv(key, old)
		} else {
			os.Unsetenv(key)
		}
	}
}

// preparedNote is what notes says of the prepared SQL measurement.
func preparedNote(m measurement) string {
	var out []string
	if m.count < 200 {
		out = append(out, fmt.Sprintf("SQL prepared n=%d", m.count))
	}
	if m.errors != "" {
		out = append(out, "SQL prepared: "+m.errors)
	}
	return strings.Join(out, "; ")
}

// sqlCPU is the CPU time per request of a pgbench run, PG + pgbench, in µs.
func sqlCPU(s measurement) string {
	return perRequest(s.cpu.db, s.count) + " + " + perRequest(s.cpu.client, s.count)
}

func joinNotes(ns ...string) string {
	var out []string
	for _, n := range ns {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
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
