package postgis

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo"
)

// Tile geometry: MVT extent and buffer in tile pixels, and the grid of
// clusters at low zoom (cells per tile side).
const (
	tileExtent  = 4096
	tileBuffer  = 64
	clusterGrid = 64
	clusterCell = tileExtent / clusterGrid // cluster cell side, tile pixels
)

// tileFrame maps lon/lat to tile t's pixel space (x right, y down, the
// tile from 0 to tileExtent) with the spherical Mercator formulas of
// EPSG:3857: px = lon·kx − ox, py = oy − ln(tan(π/4 + φ/2))·ky. Incident
// tiles compute this in SQL from the stored lon/lat, which costs a fraction
// of ST_Transform and ST_AsMVTGeom per point.
type tileFrame struct {
	kx, ox, ky, oy float64
	// env is the tile widened by the MVT buffer, clipped to the world (a
	// wider box would wrap past ±180° in 4326), as lon/lat: the index
	// condition.
	env [4]float64
}

func newTileFrame(t geo.Tile) tileFrame {
	n := math.Exp2(float64(t.Z)) // tiles per world side
	world := n * tileExtent      // world side in pixels
	f := tileFrame{
		kx: world / 360, ox: float64(t.X)*tileExtent - world/2,
		ky: world / (2 * math.Pi), oy: world/2 - float64(t.Y)*tileExtent,
	}
	m := float64(tileBuffer) / tileExtent // buffer, in tiles
	lon := func(tx float64) float64 { return max(0, min(n, tx))/n*360 - 180 }
	lat := func(ty float64) float64 {
		return math.Atan(math.Sinh(math.Pi*(1-2*max(0, min(n, ty))/n))) * 180 / math.Pi
	}
	x, y := float64(t.X), float64(t.Y)
	f.env = [4]float64{lon(x - m), lat(y + 1 + m), lon(x + 1 + m), lat(y - m)}
	return f
}

// pixelSQL binds the frame and returns the SQL expressions of a point's
// pixel coordinates in the tile (unrounded).
func (f tileFrame) pixelSQL(w *where) (px, py string) {
	px = fmt.Sprintf("ST_X(geom) * %s::float8 - %s::float8", w.arg(f.kx), w.arg(f.ox))
	py = fmt.Sprintf("%s::float8 - ln(tan(radians(ST_Y(geom)) / 2 + pi() / 4)) * %s::float8", w.arg(f.oy), w.arg(f.ky))
	return px, py
}

// envelopeSQL binds the frame's buffered envelope (SRID 4326).
func (f tileFrame) envelopeSQL(w *where) string {
	return fmt.Sprintf("ST_MakeEnvelope(%s, %s, %s, %s, 4326)", w.arg(f.env[0]), w.arg(f.env[1]), w.arg(f.env[2]), w.arg(f.env[3]))
}

// IncidentTileSQL returns the statement IncidentTile runs for tile t and
// its arguments (exported for the benchmarks, which run it bare).
//
// From clusterBelow on, one point per incident (id, title, event_type,
// status, fatalities, geo_precision, occurred_at): geo_precision so the map
// draws a precision circle there too. Below it, one point per cell of a
// 64×64 grid aligned with the tile, at the mean position of the cell's
// incidents (their centroid in Mercator, weighted by nothing but the
// incidents themselves: where the data is, not the cell's centre), with
// count, event_type (the most frequent; ties go to the first in alphabetical
// order), types (a JSON object of the count per event type, so that the map
// can colour a merged cluster by its dominant type exactly; compact, keys
// in alphabetical order, the same text as IncidentTileCellsSQL's) and fatalities
// (the sum). The cells are aligned with every tile of the zoom, so the 64 px
// buffer holds exactly the neighbouring cells and a cluster in the buffer
// is the same as in its own tile.
//
// Tile statements never run with parallel workers: under concurrent load
// those cost far more than they save (measured on the former statement: a
// z 5 tile 3 to 4 times slower with 2 workers). The planner rarely picks
// them for these statements anyway, but to be sure the outer query calls
// set_config once, which PostgreSQL marks parallel unsafe (it sets a custom
// variable for the statement only); unlike SET LOCAL in a transaction that
// costs no round trip.
func IncidentTileSQL(t geo.Tile, q geo.IncidentQuery, clusterBelow int) (string, []any, error) {
	w, err := incidentFilter(q)
	if err != nil {
		return "", nil, err
	}
	f := newTileFrame(t)
	if t.Z >= clusterBelow && t.Z <= tileKeyMaxZoom && tileKeyFilters(q) {
		return pointTileByKeySQL(t, f, w), w.args, nil
	}
	w.conds = append(w.conds, "geom && "+f.envelopeSQL(w))
	px, py := f.pixelSQL(w)
	if t.Z >= clusterBelow {
		return fmt.Sprintf(`SELECT ST_AsMVT(f, 'incidents', %d, 'geom', 'id') FROM (
			SELECT %s FROM incidents %s
		) f %s`, tileExtent, pointTileColumns(px, py), w.sql(), noParallel), w.args, nil
	}
	// Aggregated in two hashable steps: per cell and event type, then per
	// cell (mode() would force a sort of every point). The OFFSET 0 fence
	// keeps the planner from guessing one group per point for the cell key
	// (it has no statistics for it), which would make it sort too.
	lo, hi := -tileBuffer, tileExtent+tileBuffer
	return fmt.Sprintf(`SELECT ST_AsMVT(c, 'incidents', %d, 'geom') FROM (
		SELECT ST_MakePoint(x, y) AS geom, count, event_type, types, fatalities FROM (
			SELECT round(sum(sx) / sum(n)) AS x, round(sum(sy) / sum(n)) AS y, sum(n)::bigint AS count,
			       (array_agg(event_type ORDER BY n DESC, event_type))[1] AS event_type,
			       json_strip_nulls(json_object_agg(event_type, n ORDER BY event_type))::text AS types, sum(f)::bigint AS fatalities
			FROM (
				SELECT floor(px / %d) * 65536 + floor(py / %d) AS cell, event_type,
				       count(*) AS n, sum(px) AS sx, sum(py) AS sy, sum(fatalities) AS f
				FROM (SELECT %s AS px, %s AS py, event_type, fatalities FROM incidents %s OFFSET 0) p
				GROUP BY cell, event_type
			) t GROUP BY cell
		) k WHERE x BETWEEN %d AND %d AND y BETWEEN %d AND %d
	) c %s`, tileExtent, clusterCell, clusterCell, px, py, w.sql(), lo, hi, lo, hi, noParallel), w.args, nil
}

// pointTileColumns are the columns of a point tile's features, at pixel
// coordinates px, py. A date, not to_char: the same text in the tile for a
// tenth of the statement's time on 28,000 points.
func pointTileColumns(px, py string) string {
	return fmt.Sprintf(`id, ST_MakePoint(round(%s), round(%s)) AS geom, title, event_type, status, fatalities, geo_precision,
		(occurred_at AT TIME ZONE 'UTC')::date AS occurred_at`, px, py)
}

// pointTileIndexed is the predicate of incidents_tile_key_idx (migration
// 00025), written exactly as there. It drops nothing a tile shows: tiles
// end at Web Mercator's 85.0511°.
const pointTileIndexed = "abs(ST_Y(geom)) < 85.06"

// tileKeyLevel is the grid level of im_tile_key (migration 00025): the
// Morton code of a point's cell among 2^24 × 2^24 Web Mercator cells, so
// that the points of any tile up to zoom 24 are one range of keys.
const tileKeyLevel = 24

// tileKeyRange is the range of im_tile_key of the points in tile t
// (t.Z <= tileKeyLevel).
func tileKeyRange(t geo.Tile) (lo, hi int64) {
	shift := 2 * uint(tileKeyLevel-t.Z)
	prefix := spreadBits(uint64(t.X)) | spreadBits(uint64(t.Y))<<1
	return int64(prefix << shift), int64((prefix+1)<<shift - 1)
}

// spreadBits moves bit i of v (i < 32) to bit 2i, as im_tile_key does.
func spreadBits(v uint64) uint64 {
	v = (v | v<<16) & 0x0000FFFF0000FFFF
	v = (v | v<<8) & 0x00FF00FF00FF00FF
	v = (v | v<<4) & 0x0F0F0F0F0F0F0F0F
	v = (v | v<<2) & 0x3333333333333333
	return (v | v<<1) & 0x5555555555555555
}

// tileKeyRingLevels is how much finer than a tile the cells of its
// buffer are: the buffer is tileBuffer/tileExtent = 1/64 of a tile wide,
// one cell of zoom z+6, so that the ring of those cells around the tile is
// exactly the buffer.
const tileKeyRingLevels = 6

// tileKeyMaxZoom is the last zoom whose buffer cells im_tile_key holds.
const tileKeyMaxZoom = tileKeyLevel - tileKeyRingLevels

// tileKeyCover returns the key ranges (lo[i] to hi[i], ascending,
// adjacent ranges merged) of tile t and its buffer: the tile's own range
// and the ring of cells of zoom t.Z+6 around it, less those outside the
// world (tiles do not wrap, as their envelope does not).
func tileKeyCover(t geo.Tile) (lo, hi []int64) {
	lo0, hi0 := tileKeyRange(t)
	type span struct{ lo, hi int64 }
	spans := []span{{lo0, hi0}}
	z := t.Z + tileKeyRingLevels
	side := 1 << tileKeyRingLevels
	n := 1 << z
	x0, y0 := t.X*side, t.Y*side
	for dy := -1; dy <= side; dy++ {
		for dx := -1; dx <= side; dx++ {
			if dx >= 0 && dx < side && dy >= 0 && dy < side {
				continue // inside the tile
			}
			x, y := x0+dx, y0+dy
			if x < 0 || y < 0 || x >= n || y >= n {
				continue
			}
			l, h := tileKeyRange(geo.Tile{Z: z, X: x, Y: y})
			spans = append(spans, span{l, h})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	for _, s := range spans {
		if k := len(lo) - 1; k >= 0 && hi[k]+1 == s.lo {
			hi[k] = s.hi
			continue
		}
		lo, hi = append(lo, s.lo), append(hi, s.hi)
	}
	return lo, hi
}

// pointTileByKeySQL is the point tile statement for t (frame f, filters
// w; t.Z <= tileKeyMaxZoom and tileKeyFilters(q)): the points of the tile
// and of its buffer by their key ranges (tileKeyCover), from
// incidents_tile_key_idx alone, which holds every column a point tile
// shows. An index-only scan reads the points of a tile from a few
// neighbouring index pages instead of a table page per point: the densest
// zoom-8 tile of 10M incidents read 6,183 table pages, and now 600-odd
// index pages. The filters stay outside the fence (OFFSET 0): inside, the
// planner took the index on time for a window, then computed every key of
// the window's incidents (a prepared statement's generic plan ran for
// over 20 s on 10M).
func pointTileByKeySQL(t geo.Tile, f tileFrame, w *where) string {
	px, py := f.pixelSQL(w)
	lo, hi := tileKeyCover(t)
	return fmt.Sprintf(`SELECT ST_AsMVT(f, 'incidents', %d, 'geom', 'id') FROM (
			SELECT %s
			FROM unnest(%s::bigint[], %s::bigint[]) AS r(lo, hi)
			CROSS JOIN LATERAL (
				SELECT id, geom, title, event_type, status, fatalities, geo_precision, occurred_at FROM incidents
				WHERE im_tile_key(geom) BETWEEN r.lo AND r.hi AND %s OFFSET 0
			) i
			%s
		) f %s`, tileExtent, pointTileColumns(px, py), w.arg(pq.Array(lo)), w.arg(pq.Array(hi)),
		pointTileIndexed, w.sql(), noParallel)
}

// tileKeyFilters reports whether q filters only on columns
// incidents_tile_key_idx holds (time, status, event type), which
// pointTileByKeySQL applies to what the index gives; other filters read
// the table (TestTileKeyFilters lists every field of the query).
func tileKeyFilters(q geo.IncidentQuery) bool {
	return q.BBox == nil && q.SubEventTypes == nil && q.Countries == nil && q.GeoChecks == nil &&
		q.Actor == "" && q.Text == "" && q.NearBorderKm == nil && q.NearPlace == nil && q.MinSources == 0 &&
		q.Filter == nil && q.UpdatedSince == nil
}

// noParallel ends a tile statement: see IncidentTileSQL. A HAVING clause
// with a volatile function stays on the single output row, where WHERE
// would call it once per feature.
const noParallel = "HAVING set_config('incidentmap.tile', '', true) IS NOT NULL"

// IncidentTile returns the Mapbox Vector Tile of incidents q selects in
// tile t (layer "incidents"), clustered below zoom clusterBelow (see
// IncidentTileSQL; from the stored sums of IncidentTileCellsSQL where
// they can answer). Empty tiles are nil.
func (db *DB) IncidentTile(ctx context.Context, t geo.Tile, q geo.IncidentQuery, clusterBelow int) ([]byte, error) {
	if t.Z < clusterBelow {
		// From the stored sums where they can answer (tileagg.go).
		query, args, ok, err := IncidentTileCellsSQL(t, q)
		if err != nil {
			return nil, err
		}
		if ok {
			return db.tile(ctx, query, args)
		}
	}
	query, args, err := IncidentTileSQL(t, q, clusterBelow)
	if err != nil {
		return nil, err
	}
	if t.Z >= clusterBelow {
		// Point tiles are cheap to run, so the statement's overhead
		// counts: prepared, it is parsed once per connection and runs in
		// one round trip instead of two (measured: z 11 and z 14 tiles 15
		// to 70% more requests per second). Cluster tiles are not prepared: after five
		// runs PostgreSQL may settle on a generic plan, which guesses the
		// points under a tile, from a handful at z 7 to all at z 0.
		return db.preparedTile(ctx, query, args)
	}
	return db.tile(ctx, query, args)
}

// LayerTile returns the vector tile of a layer's features (layer named by
// the layer id), with their properties as attributes.
func (db *DB) LayerTile(ctx context.Context, layer geo.Layer, t geo.Tile, q geo.LayerQuery) ([]byte, error) {
	w, err := layerFilter(layer, q)
	if err != nil {
		return nil, err
	}
	w.conds = append(w.conds, "geom && "+newTileFrame(t).envelopeSQL(w))
	env3857 := fmt.Sprintf("ST_TileEnvelope(%s, %s, %s)", w.arg(t.Z), w.arg(t.X), w.arg(t.Y))
	name := w.arg(layer.ID)
	query := fmt.Sprintf(`
		SELECT ST_AsMVT(f, %s, %d, 'geom', 'id') FROM (
			SELECT id, ST_AsMVTGeom(ST_Transform(geom, 3857), %s, %d, %d, true) AS geom, properties
			FROM layer_features %s
		) f WHERE geom IS NOT NULL`,
		name, tileExtent, env3857, tileExtent, tileBuffer, w.sql())
	return db.tile(ctx, query, w.args)
}

// PlaceMinPopulation is the smallest place a places tile at zoom z shows:
// the world view names only the largest cities, a district every village.
func PlaceMinPopulation(z int) int64 {
	switch {
	case z < 3:
		return 1_000_000
	case z < 5:
		return 200_000
	case z < 7:
		return 50_000
	case z < 9:
		return 10_000
	}
	return 0
}

// PlaceTile returns the Mapbox Vector Tile of the gazetteer in tile t
// (layer "places"): each place a point with its id, name, population,
// feature code and country, the most populous first and only those of at
// least PlaceMinPopulation(t.Z). Empty tiles are nil.
func (db *DB) PlaceTile(ctx context.Context, t geo.Tile) ([]byte, error) {
	w := &where{}
	w.conds = append(w.conds, "geom && "+newTileFrame(t).envelopeSQL(w))
	w.add("population >= %s", PlaceMinPopulation(t.Z))
	env3857 := fmt.Sprintf("ST_TileEnvelope(%s, %s, %s)", w.arg(t.Z), w.arg(t.X), w.arg(t.Y))
	query := fmt.Sprintf(`
		SELECT ST_AsMVT(f, 'places', %d, 'geom', 'id') FROM (
			SELECT id, ST_AsMVTGeom(ST_Transform(geom, 3857), %s, %d, %d, true) AS geom,
			       name, population, feature_code, coalesce(country_code, '') AS country_code
			FROM places %s ORDER BY population DESC LIMIT 20000
		) f WHERE geom IS NOT NULL`, tileExtent, env3857, tileExtent, tileBuffer, w.sql())
	return db.tile(ctx, query, w.args)
}

func (db *DB) tile(ctx context.Context, query string, args []any) ([]byte, error) {
	return scanTile(db.db.QueryRowContext(ctx, query, args...))
}

func (db *DB) preparedTile(ctx context.Context, query string, args []any) ([]byte, error) {
	st, err := db.tileStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.tile(ctx, query, args)
	}
	return scanTile(st.QueryRowContext(ctx, args...))
}

func scanTile(row *sql.Row) ([]byte, error) {
	var mvt []byte
	if err := row.Scan(&mvt); err != nil {
		return nil, fmt.Errorf("make tile: %w", mapError(err))
	}
	if len(mvt) == 0 {
		return nil, nil
	}
	return mvt, nil
}

// maxTileStmts bounds the prepared tile statements of a DB: one per
// combination of filters in use (the statement's text), and a few are
// all real clients use. Beyond it, statements run unprepared.
const maxTileStmts = 32

type stmtSet struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// tileStmt returns the prepared statement of query, preparing it on first
// use; nil (and no error) once the DB holds maxTileStmts others.
func (db *DB) tileStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	return db.prepared(ctx, &db.tileStmts, query)
}

// prepared returns set's prepared statement of query, preparing it on
// first use; nil (and no error) once set holds maxTileStmts others.
func (db *DB) prepared(ctx context.Context, set *stmtSet, query string) (*sql.Stmt, error) {
	set.mu.Lock()
	st, ok := set.stmts[query]
	full := len(set.stmts) >= maxTileStmts
	set.mu.Unlock()
	if ok || full {
		return st, nil
	}
	// Preparing sends the text to one connection (the pool prepares it
	// again on each connection it later runs on); not under the lock, so
	// a slow database holds up no other tile.
	st, err := db.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare statement: %w", mapError(err))
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	if prev, ok := set.stmts[query]; ok { // prepared meanwhile by another request
		st.Close()
		return prev, nil
	}
	if set.stmts == nil {
		set.stmts = map[string]*sql.Stmt{}
	}
	set.stmts[query] = st
	return st, nil
}

func (s *stmtSet) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
}
