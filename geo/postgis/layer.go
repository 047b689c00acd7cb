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

// layerFeatureSQL builds one layer feature as GeoJSON text, with 7
// decimals: 1e-7° is about 1 cm, so no detail a file carries is lost.
// Polygon rings are written as RFC 7946 wants them, outer rings
// counterclockwise, whichever way the imported file had them.
func layerFeatureSQL(crs geo.CRS) string {
	return `json_build_object('type', 'Feature', 'id', id, 'geometry', ` + geometryJSON("ST_ForcePolygonCCW(geom)", crs, 7) +
		`, 'properties', properties)::text`
}

// ImportLayer imports fc as layer meta.ID with the default options
// (WGS 84 coordinates, invalid polygons repaired, features without a
// geometry skipped); see ImportLayerFile.
func (db *DB) ImportLayer(ctx context.Context, meta geo.LayerMeta, fc *geojson.FeatureCollection) (geo.Layer, error) {
	res, err := db.ImportLayerFile(ctx, meta, fc, geo.LayerOptions{})
	return res.Layer, err
}

// ImportLayerFile stores fc as layer meta.ID in one transaction, replacing
// any layer of that id: all features or none. It refuses the built-in
// collections (geo.CheckLayerID). Features keep their 1-based position in
// fc as id (a skipped feature leaves a gap) and the file's own feature id
// as property geo.LayerIDProperty. Coordinates in opts.SRID are
// reprojected to WGS 84 (ST_Transform); a code PostGIS does not know is a
// *geo.ValidationError naming it. Invalid polygons are repaired with
// ST_MakeValid and counted, or refused with opts.NoRepair; features
// without a geometry are skipped and counted, or refused with opts.Strict.
// Any refusal is a *geo.ValidationError naming "features[i]..." (0-based)
// and nothing is written. It keeps the layer's feature count, extent and
// time span and bumps its collection version.
func (db *DB) ImportLayerFile(ctx context.Context, meta geo.LayerMeta, fc *geojson.FeatureCollection, opts geo.LayerOptions) (geo.LayerImport, error) {
	if err := geo.CheckLayerID(meta.ID); err != nil {
		return geo.LayerImport{}, err
	}
	return db.importLayer(ctx, meta, fc, opts)
}

// importLayer is ImportLayerFile without the built-in check, for the
// store's own loads of countries and borders.
func (db *DB) importLayer(ctx context.Context, meta geo.LayerMeta, fc *geojson.FeatureCollection, opts geo.LayerOptions) (geo.LayerImport, error) {
	if opts.SRID == 0 {
		opts.SRID = geo.WGS84
	}
	if err := geo.ValidateLayer(meta, fc, opts); err != nil {
		return geo.LayerImport{}, err
	}
	res := geo.LayerImport{SRID: opts.SRID}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("import layer %s: %w", meta.ID, mapError(err))
	}
	defer tx.Rollback()
	if opts.SRID != geo.WGS84 {
		var known bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = $1)`, opts.SRID).Scan(&known); err != nil {
			return res, fmt.Errorf("import layer %s: look up crs: %w", meta.ID, mapError(err))
		}
		if !known {
			return res, fieldError("crs", "unknown coordinate reference system %s: PostGIS has no such code", geo.CRSName(opts.SRID))
		}
	}

	_, err = tx.ExecContext(ctx, `
		INSERT INTO layers (id, title, description, time_property)
		VALUES ($1, $2, $3, NULLIF($4, ''))
		ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description,
			time_property = excluded.time_property, updated_at = now()`,
		meta.ID, meta.Title, meta.Description, meta.TimeProperty)
	if err != nil {
		return res, fmt.Errorf("import layer %s: %w", meta.ID, mapError(err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM layer_features WHERE layer_id = $1`, meta.ID); err != nil {
		return res, fmt.Errorf("import layer %s: delete old features: %w", meta.ID, mapError(err))
	}
	if _, err := tx.ExecContext(ctx, `
		CREATE TEMPORARY TABLE layer_stage (id bigint PRIMARY KEY, geom geometry NOT NULL,
			properties jsonb NOT NULL, occurred_at timestamptz) ON COMMIT DROP`); err != nil {
		return res, fmt.Errorf("import layer %s: stage: %w", meta.ID, mapError(err))
	}
	kept, err := copyLayerFeatures(ctx, tx, meta, fc.Features, opts.SRID)
	if err != nil {
		return res, err
	}
	res.Skipped = len(fc.Features) - kept
	n := int64(len(fc.Features))
	if res.Repaired, err = prepareStagedFeatures(ctx, tx, meta.ID, n, opts); err != nil {
		return res, err
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO layer_features (layer_id, id, geom, properties, occurred_at)
		SELECT $1, id, geom, properties, occurred_at FROM layer_stage`, meta.ID); err != nil {
		return res, fmt.Errorf("import layer %s: store features: %w", meta.ID, mapError(err))
	}
	stats, err := layerFeatureStats(ctx, tx, meta.ID, n, int64(kept))
	if err != nil {
		return res, err
	}
	row := tx.QueryRowContext(ctx, `
		UPDATE layers SET feature_count = $2, extent = $3, time_start = $4, time_end = $5, updated_at = now()
		WHERE id = $1 RETURNING `+layerColumns,
		meta.ID, stats.count, pq.Array(stats.extent()), stats.start, stats.end)
	if res.Layer, err = scanLayer(row); err != nil {
		return res, fmt.Errorf("import layer %s: %w", meta.ID, mapError(err))
	}
	if err := bumpCollectionVersion(ctx, tx, meta.ID); err != nil {
		return res, fmt.Errorf("import layer %s: %w", meta.ID, err)
	}
	if err := commit(ctx, tx); err != nil {
		return res, fmt.Errorf("import layer %s: commit: %w", meta.ID, mapError(err))
	}
	return res, nil
}

// prepareStagedFeatures turns the staged features (ids 1..n, with gaps)
// into what layer_features holds, by id range so no statement grows with
// the layer: reprojected to WGS 84, checked to lie in lon/lat range, and
// invalid polygons repaired (counted) or refused. Other invalid geometries
// (a line of one repeated point) are refused: there is nothing to repair
// them into that the file meant.
func prepareStagedFeatures(ctx context.Context, tx *sql.Tx, layerID string, n int64, opts geo.LayerOptions) (repaired int, err error) {
	for lo := int64(1); lo <= n; lo += checkBatchRows {
		hi := lo + checkBatchRows - 1
		if opts.SRID != geo.WGS84 {
			if _, err := tx.ExecContext(ctx, `UPDATE layer_stage SET geom = ST_Transform(geom, 4326) WHERE id BETWEEN $1 AND $2`, lo, hi); err != nil {
				return 0, fieldError("crs", "cannot reproject from %s to WGS 84: %s", geo.CRSName(opts.SRID), errorMessage(err))
			}
			var bad sql.NullInt64
			if err := tx.QueryRowContext(ctx, `
				SELECT min(id) FROM layer_stage WHERE id BETWEEN $1 AND $2
				AND NOT (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90)`,
				lo, hi).Scan(&bad); err != nil {
				return 0, fmt.Errorf("import layer %s: check range: %w", layerID, mapError(err))
			}
			if bad.Valid {
				return 0, featureError(int(bad.Int64-1), ".geometry", "outside longitude [-180, 180] and latitude [-90, 90] once reprojected from %s: is that the file's CRS?", geo.CRSName(opts.SRID))
			}
		}
		var (
			bad    sql.NullInt64
			reason sql.NullString
			area   bool
		)
		err := tx.QueryRowContext(ctx, `
			SELECT id, ST_IsValidReason(geom), ST_Dimension(geom) = 2 FROM layer_stage
			WHERE id BETWEEN $1 AND $2 AND NOT ST_IsValid(geom) AND ($3 OR ST_Dimension(geom) < 2)
			ORDER BY id LIMIT 1`, lo, hi, opts.NoRepair).Scan(&bad, &reason, &area)
		switch {
		case err == nil && area:
			return 0, featureError(int(bad.Int64-1), ".geometry", "invalid polygon: %s (--no-repair refuses it; without it, it is repaired with ST_MakeValid)", reason.String)
		case err == nil:
			return 0, featureError(int(bad.Int64-1), ".geometry", "invalid geometry: %s", reason.String)
		case !errors.Is(err, sql.ErrNoRows):
			return 0, fmt.Errorf("import layer %s: check features: %w", layerID, mapError(err))
		}
		if opts.NoRepair {
			continue
		}
		var fixed, empty int64
		var firstEmpty sql.NullInt64
		err = tx.QueryRowContext(ctx, `
			WITH fixed AS (
				UPDATE layer_stage SET geom = ST_CollectionExtract(ST_MakeValid(geom), 3)
				WHERE id BETWEEN $1 AND $2 AND NOT ST_IsValid(geom) RETURNING id, geom)
			SELECT count(*), count(*) FILTER (WHERE ST_IsEmpty(geom)), min(id) FILTER (WHERE ST_IsEmpty(geom)) FROM fixed`,
			lo, hi).Scan(&fixed, &empty, &firstEmpty)
		if err != nil {
			return 0, fmt.Errorf("import layer %s: repair polygons: %w", layerID, mapError(err))
		}
		if firstEmpty.Valid {
			return 0, featureError(int(firstEmpty.Int64-1), ".geometry", "invalid polygon with no area left once repaired")
		}
		repaired += int(fixed)
	}
	return repaired, nil
}

// errorMessage is the message of a PostgreSQL error without its
// "pq: " prefix, for messages about the file.
func errorMessage(err error) string {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Message
	}
	return err.Error()
}

// copyLayerFeatures stages the features that have a geometry with COPY,
// in batches, their coordinates in srid, and returns how many it staged.
func copyLayerFeatures(ctx context.Context, tx *sql.Tx, meta geo.LayerMeta, features []*geojson.Feature, srid int) (int, error) {
	var props bytes.Buffer
	enc := json.NewEncoder(&props)
	enc.SetEscapeHTML(false)
	kept := 0
	for start := 0; start < len(features); {
		stmt, err := tx.PrepareContext(ctx, `COPY layer_stage (id, geom, properties, occurred_at) FROM STDIN`)
		if err != nil {
			return 0, fmt.Errorf("import layer %s: start copy: %w", meta.ID, mapError(err))
		}
		var lines []int // the feature index of each COPY line
		end, size := start, 0
		for ; end < len(features) && len(lines) < importBatchRows && size < importBatchBytes; end++ {
			f := features[end]
			if f.Geometry == nil {
				continue // skipped (ValidateLayer refused it if opts.Strict)
			}
			geom, err := ewkb.MarshalToHex(f.Geometry, srid)
			if err != nil {
				stmt.Close()
				return 0, featureError(end, ".geometry", "cannot encode: %v", err)
			}
			props.Reset()
			if p := geo.LayerFeatureProperties(f); p == nil {
				props.WriteString("{}")
			} else if err := enc.Encode(p); err != nil {
				stmt.Close()
				return 0, featureError(end, ".properties", "cannot encode as JSON: %v", err)
			}
			var occurredAt any
			if meta.TimeProperty != "" {
				t, err := geo.LayerFeatureTime(f, meta.TimeProperty)
				if err != nil {
					stmt.Close()
					return 0, featureError(end, ".properties."+meta.TimeProperty, "%v", err)
				}
				if t != nil {
					occurredAt = *t
				}
			}
			propsText := string(bytes.TrimRight(props.Bytes(), "\n"))
			lines = append(lines, end)
			if _, err := stmt.ExecContext(ctx, int64(end+1), geom, propsText, occurredAt); err != nil {
				stmt.Close()
				return 0, copyError(meta.ID, lines, err)
			}
			size += len(geom) + len(propsText)
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			stmt.Close()
			return 0, copyError(meta.ID, lines, err)
		}
		if err := stmt.Close(); err != nil {
			return 0, copyError(meta.ID, lines, err)
		}
		kept += len(lines)
		start = end
	}
	return kept, nil
}

var copyLineRe = regexp.MustCompile(`^COPY layer_stage, line ([0-9]+)`)

// copyError turns an error of a COPY batch, whose lines hold the features
// of the given indexes, into a ValidationError naming the feature when
// PostgreSQL says which line it rejected.
func copyError(layerID string, lines []int, err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code.Class() == "22" { // data exception
		if m := copyLineRe.FindStringSubmatch(pqErr.Where); m != nil {
			if line, perr := strconv.Atoi(m[1]); perr == nil && line >= 1 && line <= len(lines) {
				return featureError(lines[line-1], "", "rejected by the database: %s", pqErr.Message)
			}
		}
	}
	return fmt.Errorf("import layer %s: copy features: %w", layerID, mapError(err))
}

func featureError(i int, field, format string, args ...any) *geo.ValidationError {
	return fieldError(fmt.Sprintf("features[%d]%s", i, field), format, args...)
}

// fieldError is a *geo.ValidationError of one field of the layer file.
func fieldError(field, format string, args ...any) *geo.ValidationError {
	v := &geo.ValidationError{}
	v.Add(field, format, args...)
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

// layerFeatureStats aggregates the stored features of layer id (ids
// 1..n, kept of them stored), by id range. Their topology was checked
// (and repaired) on the staged copies by prepareStagedFeatures.
func layerFeatureStats(ctx context.Context, tx *sql.Tx, id string, n, kept int64) (layerStats, error) {
	var total layerStats
	for lo := int64(1); lo <= n; lo += checkBatchRows {
		var (
			b          layerStats
			start, end sql.NullTime
		)
		err := tx.QueryRowContext(ctx, `
			WITH batch AS (
				SELECT count(*) AS n, ST_Extent(geom) AS e, min(occurred_at) AS t0, max(occurred_at) AS t1
				FROM layer_features WHERE layer_id = $1 AND id BETWEEN $2 AND $3)
			SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t0, t1 FROM batch`,
			id, lo, lo+checkBatchRows-1).Scan(&b.count, &b.minx, &b.miny, &b.maxx, &b.maxy, &start, &end)
		if err != nil {
			return total, fmt.Errorf("import layer %s: aggregate features: %w", id, mapError(err))
		}
		if start.Valid {
			b.start, b.end = &start.Time, &end.Time
		}
		total.add(b)
	}
	if total.count != kept {
		return total, fmt.Errorf("import layer %s: stored %d features, want %d", id, total.count, kept)
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
// version. The error wraps geo.ErrNotFound when there is no such layer,
// and is a *geo.ValidationError for a built-in collection.
func (db *DB) DeleteLayer(ctx context.Context, id string) error {
	if err := geo.CheckLayerID(id); err != nil {
		return err
	}
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
	return db.streamByID(ctx, "layer_features", "id", layerFeatureSQL(q.CRS), w, q, emit)
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
	err := db.db.QueryRowContext(ctx, `SELECT `+layerFeatureSQL(geo.CRS84)+` FROM layer_features WHERE layer_id = $1 AND id = $2`,
		layer.ID, id).Scan(&txt)
	if err != nil {
		return nil, mapError(err)
	}
	return txt, nil
}
