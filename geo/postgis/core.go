package postgis

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/incidentmap/incidentmap/geo"
)

// coreSampleRows bounds the incidents the core box is computed from: a
// first view needs a frame, not an exact statistic, and must stay quick
// with millions of rows.
const coreSampleRows = 200000

// IncidentCore returns the box of the central part of the incidents q
// matches: longitudes and latitudes from the trim quantile to the 1-trim
// one, so that a few far incidents (a lone report from another country)
// do not widen it; and how many incidents it was computed from (at most
// coreSampleRows). The box is nil when none match. q's limit, sort and
// cursor are ignored.
func (db *DB) IncidentCore(ctx context.Context, q geo.IncidentQuery, trim float64) (*geo.BBox, int64, error) {
	if trim < 0 || trim >= 0.5 {
		return nil, 0, fmt.Errorf("incident core: trim %v outside [0, 0.5)", trim)
	}
	w := incidentFilter(q)
	lo, hi := w.arg(trim), w.arg(1-trim)
	query := fmt.Sprintf(`
		SELECT count(*),
		       percentile_cont(%[1]s) WITHIN GROUP (ORDER BY x), percentile_cont(%[1]s) WITHIN GROUP (ORDER BY y),
		       percentile_cont(%[2]s) WITHIN GROUP (ORDER BY x), percentile_cont(%[2]s) WITHIN GROUP (ORDER BY y)
		FROM (SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM incidents %[3]s LIMIT %[4]s) s`,
		lo, hi, w.sql(), w.arg(coreSampleRows))
	var (
		n                      int64
		minx, miny, maxx, maxy sql.NullFloat64
	)
	if err := db.db.QueryRowContext(ctx, query, w.args...).Scan(&n, &minx, &miny, &maxx, &maxy); err != nil {
		return nil, 0, fmt.Errorf("incident core: %w", mapError(err))
	}
	if n == 0 || !minx.Valid {
		return nil, 0, nil
	}
	return &geo.BBox{MinLon: minx.Float64, MinLat: miny.Float64, MaxLon: maxx.Float64, MaxLat: maxy.Float64}, n, nil
}
