package postgis

import (
	"context"
	"fmt"
	"math"

	"github.com/incidentmap/incidentmap/geo"
)

// Tile geometry: MVT extent and buffer in tile pixels, and the grid of
// clusters at low zoom (cells per tile side).
const (
	tileExtent    = 4096
	tileBuffer    = 64
	clusterGrid   = 64
	webMercatorWH = 40075016.685578488 // width of the WebMercatorQuad world, metres
)

// tileEnvelopeSQL binds the tile and returns the expressions of its
// envelope in 3857 and, with the buffer, in 4326 for the index.
func tileEnvelopeSQL(w *where, t geo.Tile) (env3857, env4326 string) {
	z, x, y := w.arg(t.Z), w.arg(t.X), w.arg(t.Y)
	env3857 = fmt.Sprintf("ST_TileEnvelope(%s, %s, %s)", z, x, y)
	// The buffered envelope of an edge tile reaches past the world's edge;
	// clip it first, or in 4326 it would wrap to the other side of ±180°.
	env4326 = fmt.Sprintf("ST_Transform(ST_ClipByBox2D(ST_TileEnvelope(%s, %s, %s, margin => %g), "+
		"ST_MakeEnvelope(-%[5]g, -%[5]g, %[5]g, %[5]g, 3857)), 4326)", z, x, y, float64(tileBuffer)/tileExtent, webMercatorWH/2)
	return env3857, env4326
}

// IncidentTile returns the Mapbox Vector Tile of incidents q selects in
// tile t (layer "incidents"): one point per incident with its id, title,
// event_type, status, fatalities and occurred_at; or, below clusterBelow,
// one point per grid cell with count, event_type (the most frequent) and
// fatalities (the sum). Empty tiles are nil.
func (db *DB) IncidentTile(ctx context.Context, t geo.Tile, q geo.IncidentQuery, clusterBelow int) ([]byte, error) {
	w := incidentFilter(q)
	env3857, env4326 := tileEnvelopeSQL(w, t)
	w.conds = append(w.conds, "geom && "+env4326)
	var query string
	if t.Z < clusterBelow {
		cell := webMercatorWH / math.Exp2(float64(t.Z)) / clusterGrid
		query = fmt.Sprintf(`
			SELECT ST_AsMVT(c, 'incidents', %d, 'geom') FROM (
				SELECT ST_AsMVTGeom(ST_Centroid(ST_Collect(g)), %s, %d, %d, true) AS geom,
				       count(*) AS count, mode() WITHIN GROUP (ORDER BY event_type) AS event_type,
				       sum(fatalities) AS fatalities
				FROM (SELECT ST_Transform(geom, 3857) AS g, event_type, fatalities FROM incidents %s) p
				GROUP BY ST_SnapToGrid(g, %s, %s)
			) c WHERE geom IS NOT NULL`,
			tileExtent, env3857, tileExtent, tileBuffer, w.sql(), w.arg(cell), w.arg(cell))
	} else {
		query = fmt.Sprintf(`
			SELECT ST_AsMVT(f, 'incidents', %d, 'geom', 'id') FROM (
				SELECT id, ST_AsMVTGeom(ST_Transform(geom, 3857), %s, %d, %d, true) AS geom,
				       title, event_type, status, fatalities, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS occurred_at
				FROM incidents %s
			) f WHERE geom IS NOT NULL`,
			tileExtent, env3857, tileExtent, tileBuffer, w.sql())
	}
	return db.tile(ctx, query, w.args)
}

// LayerTile returns the vector tile of a layer's features (layer named by
// the layer id), with their properties as attributes.
func (db *DB) LayerTile(ctx context.Context, layer geo.Layer, t geo.Tile, q geo.LayerQuery) ([]byte, error) {
	w, err := layerFilter(layer, q)
	if err != nil {
		return nil, err
	}
	env3857, env4326 := tileEnvelopeSQL(w, t)
	w.conds = append(w.conds, "geom && "+env4326)
	name := w.arg(layer.ID)
	query := fmt.Sprintf(`
		SELECT ST_AsMVT(f, %s, %d, 'geom', 'id') FROM (
			SELECT id, ST_AsMVTGeom(ST_Transform(geom, 3857), %s, %d, %d, true) AS geom, properties::text AS properties
			FROM layer_features %s
		) f WHERE geom IS NOT NULL`,
		name, tileExtent, env3857, tileExtent, tileBuffer, w.sql())
	return db.tile(ctx, query, w.args)
}

func (db *DB) tile(ctx context.Context, query string, args []any) ([]byte, error) {
	var mvt []byte
	if err := db.db.QueryRowContext(ctx, query, args...).Scan(&mvt); err != nil {
		return nil, fmt.Errorf("make tile: %w", mapError(err))
	}
	if len(mvt) == 0 {
		return nil, nil
	}
	return mvt, nil
}
