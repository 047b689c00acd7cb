package postgis

import (
	"context"
	"fmt"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// PlaceLabels returns the q.Limit most populous places in q.BBox (ties by
// id), most populous first: the names the offline basemap shows.
func (db *DB) PlaceLabels(ctx context.Context, q geo.PlaceLabelQuery) ([]geo.PlaceLabel, error) {
	w := &where{}
	w.addBBox("p.geom", &q.BBox)
	query := fmt.Sprintf(`
		SELECT p.id, p.name, p.feature_code, p.population, ST_X(p.geom), ST_Y(p.geom)
		FROM places p %s
		ORDER BY p.population DESC, p.id
		LIMIT %s`, w.sql(), w.arg(q.Limit))
	rows, err := db.db.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("place labels: %w", mapError(err))
	}
	defer rows.Close()
	var out []geo.PlaceLabel
	for rows.Next() {
		var (
			l        geo.PlaceLabel
			lon, lat float64
		)
		if err := rows.Scan(&l.ID, &l.Name, &l.FeatureCode, &l.Population, &lon, &lat); err != nil {
			return nil, fmt.Errorf("place labels: %w", mapError(err))
		}
		l.Point = orb.Point{lon, lat}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("place labels: %w", mapError(err))
	}
	return out, nil
}
