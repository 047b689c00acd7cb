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

// Outliers are incidents further from the median longitude (latitude)
// than coreSpread times the median distance to it, and than coreMinDeg.
// Median and median distance are robust: a lone far incident moves
// neither, which min/max or even percentiles of a handful of incidents
// cannot say. Four median deviations keep a normal spread to 2.7 sigma, a
// uniform one whole, and two equal clusters both.
const (
	coreSpread = 4.0
	coreMinDeg = 1.0
)

// IncidentCore returns the box of the incidents q matches, outliers left
// out (see coreSpread), and how many incidents it holds. The box is nil
// when none match. q's limit, sort and cursor are ignored; at most
// coreSampleRows incidents are read.
func (db *DB) IncidentCore(ctx context.Context, q geo.IncidentQuery) (*geo.BBox, int64, error) {
	w, err := incidentFilter(q)
	if err != nil {
		return nil, 0, err
	}
	query := fmt.Sprintf(`
		WITH s AS (SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM incidents %[1]s LIMIT %[2]s),
		m AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS mx,
		             percentile_cont(0.5) WITHIN GROUP (ORDER BY y) AS my FROM s),
		d AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(s.x - m.mx)) AS dx,
		             percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(s.y - m.my)) AS dy FROM s, m)
		SELECT count(*), min(s.x), min(s.y), max(s.x), max(s.y)
		FROM s, m, d
		WHERE abs(s.x - m.mx) <= greatest(%[3]s * d.dx, %[4]s) AND abs(s.y - m.my) <= greatest(%[3]s * d.dy, %[4]s)`,
		w.sql(), w.arg(coreSampleRows), w.arg(coreSpread), w.arg(coreMinDeg))
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
