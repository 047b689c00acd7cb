package postgis

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/paulmach/orb/encoding/ewkb"
	"github.com/paulmach/orb/geojson"

	"github.com/incidentmap/incidentmap/geo"
)

// Import batching: each COPY statement and each check query covers a
// bounded number of features, so no single statement runs into the
// session's statement timeout or the connection's read deadline however
// large the layer.
const (
	importBatchRows  = 20000
	importBatchBytes = 32 << 20
	checkBatchRows   = 50000
)

// layerColumns are the columns scanned by scanLayer, in order.
const layerColumns = `id, title, description, coalesce(time_property, ''), feature_count,
	extent, time_start, time_end, updated_at`

// layerFeatureSQL builds one layer feature as GeoJSON text.
const layerFeatureSQL = `json_build_object('type', 'Feature', 'id', id,
	'geometry', ST_AsGeoJSON(geom, 6)::json, 'properties', properties)::text`

// ImportLayer stores fc as layer meta.ID in one transaction, replacing any
// layer of that id: all features or none. Features are numbered by their
// 1-based position in fc. It validates with geo.ValidateLayer, then checks
// every geometry's topology with PostGIS: either failure is a
// *geo.ValidationError naming "features[i]..." (0-based) and nothing is
// written. It keeps the layer's feature count, extent and time span and
// bumps its collection version.
func (db *DB) ImportLayer(ctx context.Context, meta geo.LayerMeta, fc *geojson.FeatureCollection) (geo.Layer, error) {
	if err := geo.ValidateLayer(meta, fc); err != nil {
		return geo.Layer{}, err
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return geo.Layer{}, fmt.Errorf("import layer %s: %w", meta.ID, mapError(err))
	}
	defer tx.Rollback()

	_, err = tx.ExecContext(ctx, `
		INSERT INTO layers (id, title, description, time_property)
		VALUES ($1, $2, $3, NULLIF($4, ''))
		ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
			time_property = excluded.time_property, updated_at = now()`,
		meta.ID, meta.Title, meta.Description, meta.TimeProperty)
	if err != nil {
		return geo.Layer{}, fmt.Errorf("import layer %s: %w", meta.ID, mapError(err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM layer_features WHERE layer_id = $1`, meta.ID); err != nil {
		return geo.Layer{}, fmt.Errorf("import layer %s: delete old features: %w", meta.ID, mapError(err))
	}
	if err := copyLayerFeatures(ctx, tx, meta, fc.Features); err != nil {
		return geo.Layer{}, err
	}
	stats, err := checkLayerFeatures(ctx, tx, meta.ID, int64(len(fc.Features)))
	if err != nil {
		return geo.Layer{}, err
	}
	row := tx.QueryRowContext(ctx, `
		UPDATE layers SET feature_count = $2, extent = $3, time_start = $4, time_end = $5, updated_at = now()
		WHERE id = $1 RETURNING `+layerColumns,
		meta.ID, stats.count, pq.Array(stats.extent()), stats.start, stats.end)
	layer, err := scanLayer(row)
	if err != nil {
		return geo.Layer{}, fmt.Errorf("import layer %s: %w", meta.ID, mapError(err))
	}
	if err := bumpCollectionVersion(ctx, tx, meta.ID); err != nil {
		return geo.Layer{}, fmt.Errorf("import layer %s: %w", meta.ID, err)
	}
	if err := commit(ctx, tx); err != nil {
		return geo.Layer{}, fmt.Errorf("import layer %s: commit: %w", meta.ID, mapError(err))
	}
	return layer, nil
}

// copyLayerFeatures writes features with COPY, in batches.
func copyLayerFeatures(ctx context.Context, tx *sql.Tx, meta geo.LayerMeta, features []*geojson.Feature) error {
	var props bytes.Buffer
	enc := json.NewEncoder(&props)
	enc.SetEscapeHTML(false)
	for start := 0; start < len(features); {
		stmt, err := tx.PrepareContext(ctx, `COPY layer_features (layer_id, id, geom, properties, occurred_at) FROM STDIN`)
		if err != nil {
			return fmt.Errorf("import layer %s: start copy: %w", meta.ID, mapError(err))
		}
		end, size := start, 0
		for ; end < len(features) && end-start < importBatchRows && size < importBatchBytes; end++ {
			f := features[end]
			geom, err := ewkb.MarshalToHex(f.Geometry, 4326)
			if err != nil {
				stmt.Close()
				return featureError(end, ".geometry", "cannot encode: %v", err)
			}
			props.Reset()
			if f.Properties == nil {
				props.WriteString("{}")
			} else if err := enc.Encode(f.Properties); err != nil {
				stmt.Close()
				return featureError(end, ".properties", "cannot encode as JSON: %v", err)
			}
			var occurredAt any
			if meta.TimeProperty != "" {
				t, err := geo.LayerFeatureTime(f, meta.TimeProperty)
				if err != nil {
					stmt.Close()
					return featureError(end, ".properties."+meta.TimeProperty, "%v", err)
				}
				if t != nil {
					occurredAt = *t
				}
			}
			propsText := string(bytes.TrimRight(props.Bytes(), "\n"))
			if _, err := stmt.ExecContext(ctx, meta.ID, int64(end+1), geom, propsText, occurredAt); err != nil {
				stmt.Close()
				return copyError(meta.ID, start, err)
			}
			size += len(geom) + len(propsText)
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			stmt.Close()
			return copyError(meta.ID, start, err)
		}
		if err := stmt.Close(); err != nil {
			return copyError(meta.ID, start, err)
		}
		start = end
	}
	return nil
}

var copyLineRe = regexp.MustCompile(`^COPY layer_features, line ([0-9]+)`)

// copyError turns an error of the COPY batch starting at feature index
// start into a ValidationError naming the feature when PostgreSQL says
// which line it rejected.
func copyError(layerID string, start int, err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code.Class() == "22" { // data exception
		if m := copyLineRe.FindStringSubmatch(pqErr.Where); m != nil {
			if line, perr := strconv.Atoi(m[1]); perr == nil && line >= 1 {
				return featureError(start+line-1, "", "rejected by the database: %s", pqErr.Message)
			}
		}
	}
	return fmt.Errorf("import layer %s: copy features: %w", layerID, mapError(err))
}

func featureError(i int, field, format string, args ...any) *geo.ValidationError {
	v := &geo.ValidationError{}
	v.Add(fmt.Sprintf("features[%d]%s", i, field), format, args...)
	return v
}

// layerStats are the aggregates of a layer's stored features.
type layerStats struct {
	count                  int64
	minx, miny, maxx, maxy sql.NullFloat64
	start, end             *time.Time
}

func (s *layerStats) extent() []float64 {
	if !s.minx.Valid {
		return nil
	}
	return []float64{s.minx.Float64, s.miny.Float64, s.maxx.Float64, s.maxy.Float64}
}

func (s *layerStats) add(b layerStats) {
	s.count += b.count
	if b.minx.Valid {
		if !s.minx.Valid {
			s.minx, s.miny, s.maxx, s.maxy = b.minx, b.miny, b.maxx, b.maxy
		} else {
			s.minx.Float64 = min(s.minx.Float64, b.minx.Float64)
			s.miny.Float64 = min(s.miny.Float64, b.miny.Float64)
			s.maxx.Float64 = max(s.maxx.Float64, b.maxx.Float64)
			s.maxy.Float64 = max(s.maxy.Float64, b.maxy.Float64)
		}
	}
	if b.start != nil && (s.start == nil || b.start.Before(*s.start)) {
		s.start = b.start
	}
	if b.end != nil && (s.end == nil || b.end.After(*s.end)) {
		s.end = b.end
	}
}

// checkLayerFeatures checks the topology of the n stored features of
// layer id, by id range, and aggregates them. The first invalid geometry
// is a *geo.ValidationError with PostGIS's reason.
func checkLayerFeatures(ctx context.Context, tx *sql.Tx, id string, n int64) (layerStats, error) {
	var total layerStats
	for lo := int64(1); lo <= n; lo += checkBatchRows {
		var (
			b       layerStats
			invalid sql.NullInt64
			reason  sql.NullString
			start   sql.NullTime
			end     sql.NullTime
		)
		err := tx.QueryRowContext(ctx, `
			WITH batch AS (
				SELECT count(*) AS n, ST_Extent(geom) AS e, min(occurred_at) AS t0, max(occurred_at) AS t1,
				       min(id) FILTER (WHERE NOT ST_IsValid(geom)) AS bad
				FROM layer_features WHERE layer_id = $1 AND id BETWEEN $2 AND $3)
			SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t0, t1, bad,
			       (SELECT ST_IsValidReason(geom) FROM layer_features WHERE layer_id = $1 AND id = bad)
			FROM batch`,
			id, lo, lo+checkBatchRows-1).Scan(&b.count, &b.minx, &b.miny, &b.maxx, &b.maxy, &start, &end, &invalid, &reason)
		if err != nil {
			return total, fmt.Errorf("import layer %s: check features: %w", id, mapError(err))
		}
		if invalid.Valid {
			return total, featureError(int(invalid.Int64-1), ".geometry", "invalid geometry: %s", reason.String)
		}
		if start.Valid {
			b.start, b.end = &start.Time, &end.Time
		}
		total.add(b)
	}
	if total.count != n {
		return total, fmt.Errorf("import layer %s: stored %d features, want %d", id, total.count, n)
	}
	return total, nil
}

// bumpCollectionVersion marks collection id as changed.
func bumpCollectionVersion(ctx context.Context, tx *sql.Tx, id string) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO collection_versions (id) VALUES ($1)
		ON CONFLICT (id) DO UPDATE SET version = collection_versions.version + 1, updated_at = now()`, id)
	if err != nil {
		return fmt.Errorf("bump collection version: %w", mapError(err))
	}
	return nil
}

type rowScanner interface{ Scan(dest ...any) error }

func scanLayer(row rowScanner) (geo.Layer, error) {
	var (
		l          geo.Layer
		extent     []float64
		start, end sql.NullTime
	)
	err := row.Scan(&l.ID, &l.Title, &l.Description, &l.TimeProperty, &l.Features,
		pq.Array(&extent), &start, &end, &l.UpdatedAt)
	if err != nil {
		return geo.Layer{}, err
	}
	if len(extent) == 4 {
		l.Extent.BBox = &geo.BBox{MinLon: extent[0], MinLat: extent[1], MaxLon: extent[2], MaxLat: extent[3]}
	}
	if start.Valid {
		t := start.Time.UTC()
		l.Extent.Start = &t
	}
	if end.Valid {
		t := end.Time.UTC()
		l.Extent.End = &t
	}
	l.UpdatedAt = l.UpdatedAt.UTC()
	return l, nil
}

// Layers returns every layer, ordered by id.
func (db *DB) Layers(ctx context.Context) ([]geo.Layer, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+layerColumns+` FROM layers ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", mapError(err))
	}
	defer rows.Close()
	layers := []geo.Layer{}
	for rows.Next() {
		l, err := scanLayer(rows)
		if err != nil {
			return nil, fmt.Errorf("list layers: %w", mapError(err))
		}
		layers = append(layers, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list layers: %w", mapError(err))
	}
	return layers, nil
}

// Layer returns layer id; the error wraps geo.ErrNotFound when there is
// none.
func (db *DB) Layer(ctx context.Context, id string) (geo.Layer, error) {
	l, err := scanLayer(db.db.QueryRowContext(ctx, `SELECT `+layerColumns+` FROM layers WHERE id = $1`, id))
	if err != nil {
		return geo.Layer{}, fmt.Errorf("layer %q: %w", id, mapError(err))
	}
	return l, nil
}

// DeleteLayer deletes layer id with its features and its collection
// version. The error wraps geo.ErrNotFound when there is no such layer.
func (db *DB) DeleteLayer(ctx context.Context, id string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete layer %q: %w", id, mapError(err))
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM layers WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete layer %q: %w", id, mapError(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete layer %q: %w", id, mapError(err))
	} else if n == 0 {
		return fmt.Errorf("delete layer %q: %w", id, geo.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM collection_versions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete layer %q: %w", id, mapError(err))
	}
	if err := commit(ctx, tx); err != nil {
		return fmt.Errorf("delete layer %q: commit: %w", id, mapError(err))
	}
	return nil
}

// layerFilter renders the filters of q on layer (everything but paging).
// A datetime filter needs a layer with a time property.
func layerFilter(layer geo.Layer, q geo.LayerQuery) (*where, error) {
	w := &where{}
	w.add("layer_id = %s", layer.ID)
	addIntersectsBBox(w, "geom", q.BBox)
	if q.Time != nil {
		if layer.TimeProperty == "" {
			return nil, geo.Invalidf("datetime", "this collection has no time property")
		}
		w.addTime("occurred_at", q.Time) // rounds to microseconds itself
	}
	return w, nil
}

// addIntersectsBBox restricts column to geometries that intersect b, as
// OGC API – Features requires. Unlike a bare && (bounding boxes overlap,
// which is exact only for points), this leaves out a multipolygon whose
// parts lie on either side of the box, or a box inside a hole; the GiST
// index is still used.
func addIntersectsBBox(w *where, column string, b *geo.BBox) {
	if b == nil {
		return
	}
	var parts []string
	for _, box := range b.Split() {
		parts = append(parts, fmt.Sprintf("ST_Intersects(%s, ST_MakeEnvelope(%s, %s, %s, %s, 4326))", column,
			w.arg(box.MinLon), w.arg(box.MinLat), w.arg(box.MaxLon), w.arg(box.MaxLat)))
	}
	w.conds = append(w.conds, "("+strings.Join(parts, " OR ")+")")
}

// StreamLayerFeatures runs q on layer and calls emit with each feature's
// GeoJSON text, in id order, as rows arrive. Pages are keyed by feature
// id (q.Cursor.ID; Back walks backwards). The bytes passed to emit are
// only valid during the call.
func (db *DB) StreamLayerFeatures(ctx context.Context, layer geo.Layer, q geo.LayerQuery, emit func([]byte) error) (geo.FeaturePage, error) {
	w, err := layerFilter(layer, q)
	if err != nil {
		return geo.FeaturePage{}, err
	}
	return db.streamByID(ctx, "layer_features", "id", layerFeatureSQL, w, q, emit)
}

// CountLayerFeatures counts the features of layer that q matches, up to
// limit. exact is false when there are more than limit.
func (db *DB) CountLayerFeatures(ctx context.Context, layer geo.Layer, q geo.LayerQuery, limit int) (n int64, exact bool, err error) {
	w, err := layerFilter(layer, q)
	if err != nil {
		return 0, false, err
	}
	query := fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM layer_features %s LIMIT %s) matched`, w.sql(), w.arg(limit+1))
	if err := db.db.QueryRowContext(ctx, query, w.args...).Scan(&n); err != nil {
		return 0, false, mapError(err)
	}
	if n > int64(limit) {
		return 0, false, nil
	}
	return n, true, nil
}

// LayerFeature returns feature id of layer as a GeoJSON Feature. The error
// wraps geo.ErrNotFound when there is no such feature.
func (db *DB) LayerFeature(ctx context.Context, layer geo.Layer, id int64) ([]byte, error) {
	var txt []byte
	err := db.db.QueryRowContext(ctx, `SELECT `+layerFeatureSQL+` FROM layer_features WHERE layer_id = $1 AND id = $2`,
		layer.ID, id).Scan(&txt)
	if err != nil {
		return nil, mapError(err)
	}
	return txt, nil
}
