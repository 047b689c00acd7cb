package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// PlaceLabelStore gives the most populous places in a box: the names on
// the map's offline basemap.
type PlaceLabelStore interface {
	PlaceLabels(ctx context.Context, q geo.PlaceLabelQuery) ([]geo.PlaceLabel, error)
}

// labelRoutes registers the place-label endpoint.
func (s *Server) labelRoutes(g routeGroup) {
	g.GET("/places/labels", s.placeLabels)
}

// labelPaths documents labelRoutes in the OpenAPI document.
func labelPaths() obj {
	return obj{
		"/api/places/labels": obj{"get": operation(
			"The most populous places of the gazetteer in a box, most populous first: what the map names on its "+
				"offline basemap. Place data: GeoNames (geonames.org), CC BY 4.0.",
			"getPlaceLabels",
			[]obj{
				param("bbox", "query", "minLon,minLat,maxLon,maxLat (WGS 84); required.", str()),
				param("limit", "query", "Places, 1..200; default 50.",
					obj{"type": "integer", "minimum": 1, "maximum": geo.PlaceLabelsMax, "default": geo.PlaceLabelsDefault}),
			},
			jsonResponse("A JSON object whose labels are [lon, lat, name, population, capital (true for a "+
				"capital, GeoNames PPLC)] arrays, most populous first.", mediaJSON),
			"400", "503")},
	}
}

// placeLabels is GET /api/places/labels: compact arrays, since a view asks
// for dozens on every move.
func (s *Server) placeLabels(c echo.Context) error {
	q, err := geo.ParsePlaceLabelQuery(c.QueryParams())
	if err != nil {
		return err
	}
	store := s.deps.Places
	ctx, cancel := s.requestContext(c)
	defer cancel()
	if s.deps.Features != nil {
		notModified, err := s.checkETag(ctx, c, placesCollection)
		if err != nil || notModified {
			return err
		}
	}
	found, err := store.PlaceLabels(ctx, q)
	if err != nil {
		return err
	}
	labels := make([][5]any, len(found))
	for i, l := range found {
		labels[i] = [5]any{round5(l.Point.Lon()), round5(l.Point.Lat()), l.Name, l.Population, l.FeatureCode == "PPLC"}
	}
	return c.JSON(http.StatusOK, map[string]any{"labels": labels})
}

// round5 keeps five decimals of a degree (about a metre).
func round5(v float64) float64 {
	const k = 1e5
	if v < 0 {
		return -float64(int64(-v*k+0.5)) / k
	}
	return float64(int64(v*k+0.5)) / k
}
