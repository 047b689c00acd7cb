package postgis

import (
	"fmt"
	"strings"

	"github.com/incidentmap/incidentmap/geo"
)

// The statements in this file are what the benchmark (bench/) measures the
// server against; the server never runs them.

// incidentPublicColumns selects the properties props of an incident under
// their public names, plus id and geom: the columns of a feature, nothing
// more.
func incidentPublicColumns(props []string) string {
	cols := make([]string, 0, len(props)+2)
	cols = append(cols, "id", "geom")
	for _, p := range props {
		cols = append(cols, fmt.Sprintf("%s AS %q", incidentPropertySQL[p], p))
	}
	return strings.Join(cols, ", ")
}

// IncidentLimitSQL returns the simplest single statement that returns the
// features of q's first page as one FeatureCollection text: the same
// public columns and the same rows, built by ST_AsGeoJSON(record) with no
// count and no links. ordered sorts the rows as the page does; the
// benchmark asks for it only when the page is cut by its limit (otherwise
// the rows are the same whatever their order). Not used by the server: it
// is the physical limit the items endpoint is benchmarked against.
func IncidentLimitSQL(q geo.IncidentQuery, ordered bool) (string, []any, error) {
	w, err := incidentFilter(q)
	if err != nil {
		return "", nil, err
	}
	order := ""
	if ordered {
		sortCol, err := incidentSortColumn(q.Sort)
		if err != nil {
			return "", nil, err
		}
		order = "ORDER BY " + incidentOrderSQL(sortCol, q.Sort.Desc)
	}
	limit := w.arg(q.Limit)
	query := fmt.Sprintf(`SELECT '{"type":"FeatureCollection","features":[' || coalesce(string_agg(ST_AsGeoJSON(t.*, 'geom', 6), ','), '') || ']}'
		FROM (SELECT %s FROM incidents %s %s LIMIT %s) t`, incidentPublicColumns(geo.IncidentProperties()), w.sql(), order, limit)
	return query, w.args, nil
}

// IncidentFeatureLimitSQL is IncidentLimitSQL for one feature by id ($1),
// its claims included as the single feature has them.
func IncidentFeatureLimitSQL() string {
	return fmt.Sprintf(`SELECT ST_AsGeoJSON(t.*, 'geom', 6) FROM (SELECT %s FROM incidents WHERE id = $1) t`,
		incidentPublicColumns(singleIncidentProperties))
}

// IncidentFeatureSQL is the statement IncidentFeature runs ($1: the id).
func IncidentFeatureSQL() string {
	feature, _ := incidentFeatureSQL(singleIncidentProperties, geo.CRS84)
	return `SELECT ` + feature + ` FROM incidents WHERE id = $1`
}
