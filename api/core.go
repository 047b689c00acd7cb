package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// IncidentCoreStore gives the box of the central part of the incidents a
// query matches: what the map frames first and on "fit to data".
type IncidentCoreStore interface {
	IncidentCore(ctx context.Context, q geo.IncidentQuery) (*geo.BBox, int64, error)
}

// coreRoutes registers the core-box endpoint.
func (s *Server) coreRoutes(g routeGroup) {
	g.GET("/collections/:collectionId/core", s.incidentCore)
}

// corePaths documents coreRoutes in the OpenAPI document.
func corePaths() obj {
	return obj{
		"/api/collections/{collectionId}/core": obj{"get": operation(
			"The box of the incidents the filters select, outliers left out: those further from the median "+
				"longitude (latitude) than 4 times the median distance to it and than 1 degree, so a few far "+
				"incidents do not widen it (from at most 200,000 of them). What the map frames first and on "+
				"\"fit to data\".",
			"getIncidentCore",
			[]obj{
				param("collectionId", "path", "Collection id: incidents (the only one with a core box).", str()),
				param("datetime", "query", "An instant or interval (RFC 3339, .. for open ends), as for items.", str()),
				param("event_type", "query", "Comma-separated event types, as for items.", str()),
				param("status", "query", "Comma-separated statuses, as for items.", str()),
				param("q", "query", "Text search, as for items.", str()),
				param("near_border_km", "query", "Distance to a border in km, as for items.", str()),
			},
			jsonResponse("A JSON object: bbox [minLon, minLat, maxLon, maxLat] or null when no incident "+
				"matches, and numberUsed, the incidents inside it.", mediaJSON),
			"400", "404", "503")},
	}
}

// incidentCore is GET /api/collections/incidents/core.
func (s *Server) incidentCore(c echo.Context) error {
	if c.Param("collectionId") != "incidents" {
		return &PublicError{Msg: "only the incidents collection has a core box", Err: geo.ErrNotFound}
	}
	q, err := geo.ParseIncidentQuery(c.QueryParams())
	if err != nil {
		return err
	}
	store := s.deps.Features
	ctx, cancel := s.requestContext(c)
	defer cancel()
	notModified, err := s.checkETag(ctx, c, "incidents")
	if err != nil || notModified {
		return err
	}
	box, n, err := store.IncidentCore(ctx, q)
	if err != nil {
		return err
	}
	var bbox []float64
	if box != nil {
		bbox = []float64{round5(box.MinLon), round5(box.MinLat), round5(box.MaxLon), round5(box.MaxLat)}
	}
	return c.JSON(http.StatusOK, map[string]any{"bbox": bbox, "numberUsed": n})
}
