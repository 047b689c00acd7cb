package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

// IncidentHistogram counts the incidents q matches per UTC day of
// occurred_at, in date order, days without incidents left out. q's limit,
// sort and cursor are ignored. It is the timeline's histogram when a view
// holds too many incidents to load (the map then shows tiles): one
// aggregate over the view, at most one row per day.
func (db *DB) IncidentHistogram(ctx context.Context, q geo.IncidentQuery) ([]geo.DayCount, error) {
	w, err := incidentFilter(q)
	if err != nil {
		return nil, err
	}
	query := fmt.Sprintf(`SELECT d, count(*) FROM (
			SELECT (occurred_at AT TIME ZONE 'UTC')::date AS d FROM incidents %s
		) s GROUP BY d ORDER BY d`, w.sql())
	rows, err := db.db.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("incident histogram: %w", mapError(err))
	}
	defer rows.Close()
	var out []geo.DayCount
	for rows.Next() {
		var c geo.DayCount
		if err := rows.Scan(&c.Day, &c.Count); err != nil {
			return nil, fmt.Errorf("incident histogram: %w", mapError(err))
		}
		c.Day = time.Date(c.Day.Year(), c.Day.Month(), c.Day.Day(), 0, 0, 0, 0, time.UTC)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident histogram: %w", mapError(err))
	}
	return out, nil
}
