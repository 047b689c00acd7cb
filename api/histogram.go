package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// IncidentHistogramStore counts the incidents a query matches per day: the
// map's timeline when the view shows tiles.
type IncidentHistogramStore interface {
	IncidentHistogram(ctx context.Context, q geo.IncidentQuery) ([]geo.DayCount, error)
}

// histogramRoutes registers the per-day histogram endpoint.
func (s *Server) histogramRoutes(g routeGroup) {
	g.GET("/collections/:collectionId/histogram", s.incidentHistogram)
}

// histogramPaths documents histogramRoutes in the OpenAPI document.
func histogramPaths() obj {
	return obj{
		"/api/collections/{collectionId}/histogram": obj{"get": operation(
			"How many incidents the filters select on each UTC day of occurred_at (a week- or month-precise "+
				"incident counts on its recorded day), days without any left out. The map's timeline histogram "+
				"when a view holds too many incidents to load.",
			"getIncidentHistogram",
			[]obj{
				param("collectionId", "path", "Collection id: incidents (the only one with a histogram).", str()),
				param("bbox", "query", "minLon,minLat,maxLon,maxLat, as for items.", str()),
				param("datetime", "query", "An instant or interval (RFC 3339, .. for open ends), as for items.", str()),
				param("event_type", "query", "Comma-separated event types, as for items.", str()),
				param("status", "query", "Comma-separated statuses, as for items.", str()),
				param("q", "query", "Text search, as for items.", str()),
				param("near_border_km", "query", "Distance to a border in km, as for items.", str()),
			},
			jsonResponse(`A JSON object: days, [{"date": "YYYY-MM-DD", "count": n}] in date order, and numberMatched, their sum.`, mediaJSON),
			"400", "404", "503")},
	}
}

// dayCount is one day of a histogram response.
type dayCount struct {
	Date  string `json:"date"`
	Count int64  `json:"count"`
}

// incidentHistogram is GET /api/collections/incidents/histogram.
func (s *Server) incidentHistogram(c echo.Context) error {
	if c.Param("collectionId") != "incidents" {
		return &PublicError{Msg: "only the incidents collection has a histogram", Err: geo.ErrNotFound}
	}
	q, err := geo.ParseIncidentQuery(c.QueryParams())
	if err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	notModified, err := s.checkETag(ctx, c, "incidents")
	if err != nil || notModified {
		return err
	}
	counts, err := s.deps.Features.IncidentHistogram(ctx, q)
	if err != nil {
		return err
	}
	days := make([]dayCount, len(counts))
	var total int64
	for i, d := range counts {
		days[i] = dayCount{Date: d.Day.Format("2006-01-02"), Count: d.Count}
		total += d.Count
	}
	return c.JSON(http.StatusOK, map[string]any{"days": days, "numberMatched": total})
}
