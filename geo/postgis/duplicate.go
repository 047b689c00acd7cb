package postgis

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/incidentmap/incidentmap/geo"
)

// retractedListProperties are the properties a list of q's features
// carries: q's own, or, when q asks for no particular ones but for
// retracted incidents, every public one and duplicate_of, so that readers
// of a merged duplicate learn which incident it went into.
func retractedListProperties(q geo.IncidentQuery) []string {
	if q.Properties != nil || !slices.Contains(q.Statuses, geo.StatusRetracted) {
		return q.Properties
	}
	return append(geo.IncidentProperties(), "duplicate_of")
}

// repointReports moves the reports verified into incident dup over to
// incident into (reports.incident_id), returning their ids in order
// (index reports_incident_idx, migration 00016).
func repointReports(ctx context.Context, tx *sql.Tx, dup, into int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE reports SET incident_id = $2, updated_at = now() WHERE incident_id = $1 RETURNING id`, dup, into)
	if err != nil {
		return nil, fmt.Errorf("move the reports of incident %d to %d: %w", dup, into, mapError(err))
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("move the reports of incident %d to %d: %w", dup, into, mapError(err))
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("move the reports of incident %d to %d: %w", dup, into, mapError(err))
	}
	slices.Sort(ids)
	return ids, nil
}

// movedReportsNote is the part of a merge's audit note naming the reports
// repointReports moved ("" for none).
func movedReportsNote(ids []int64) string {
	if len(ids) == 0 {
		return ""
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	if len(ids) == 1 {
		return fmt.Sprintf("; its report %s now points here", s[0])
	}
	return fmt.Sprintf("; its reports %s now point here", strings.Join(s, ", "))
}
