package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// Media types of tiles.
const (
	mediaMVT      = "application/vnd.mapbox-vector-tile"
	mediaTileJSON = "application/json"
)

// webMercatorQuad is the OGC tile matrix set of web maps.
const (
	webMercatorQuad    = "WebMercatorQuad"
	webMercatorQuadURI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
)

// TileStore makes vector tiles.
type TileStore interface {
	IncidentTile(ctx context.Context, t geo.Tile, q geo.IncidentQuery, clusterBelow int) ([]byte, error)
	LayerTile(ctx context.Context, layer geo.Layer, t geo.Tile, q geo.LayerQuery) ([]byte, error)
}

func (s *Server) tileRoutes(g *echo.Group) {
	g.GET("/tileMatrixSets", s.tileMatrixSets)
	g.GET("/tileMatrixSets/"+webMercatorQuad, s.tileMatrixSet)
	g.GET("/collections/:collectionId/tiles", s.collectionTilesets)
	g.GET("/collections/:collectionId/tiles/"+webMercatorQuad, s.tileJSON)
	g.GET("/collections/:collectionId/tiles/"+webMercatorQuad+"/:z/:y/:x", s.tile)
}

func (s *Server) tileMatrixSets(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	base := baseURL(c)
	return c.JSON(http.StatusOK, map[string]any{"tileMatrixSets": []map[string]any{{
		"id": webMercatorQuad, "title": "Google Maps Compatible for the World", "uri": webMercatorQuadURI,
		"links": []link{{Href: base + "/tileMatrixSets/" + webMercatorQuad, Rel: "self", Type: mediaJSON}},
	}}})
}

// tileMatrixSet describes WebMercatorQuad by reference to the OGC registry
// (its full definition is standard and well known to clients).
func (s *Server) tileMatrixSet(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"id": webMercatorQuad, "uri": webMercatorQuadURI, "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
		"title": "Google Maps Compatible for the World", "orderedAxes": []string{"X", "Y"},
		"links": []link{{Href: webMercatorQuadURI, Rel: "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", Title: "definition"}},
	})
}

// tileTemplate is the URL template of a collection's tiles.
func tileTemplate(c echo.Context, id string) string {
	return fmt.Sprintf("%s/collections/%s/tiles/%s/{z}/{y}/{x}", baseURL(c), id, webMercatorQuad)
}

// checkTileCollection answers 404 for collections that do not exist.
func (s *Server) checkTileCollection(ctx context.Context, id string) (geo.Layer, error) {
	if id == incidentsCollection {
		return geo.Layer{ID: id, Title: "Incidents"}, nil
	}
	return s.findLayer(ctx, id)
}

func (s *Server) collectionTilesets(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	id := c.Param("collectionId")
	if _, err := s.checkTileCollection(ctx, id); err != nil {
		return err
	}
	base := baseURL(c) + "/collections/" + id + "/tiles/" + webMercatorQuad
	return c.JSON(http.StatusOK, map[string]any{"tilesets": []map[string]any{{
		"title": id + " as vector tiles", "dataType": "vector", "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
		"tileMatrixSetURI": webMercatorQuadURI,
		"links": []link{
			{Href: base, Rel: "self", Type: mediaTileJSON, Title: "TileJSON"},
			{Href: baseURL(c) + "/tileMatrixSets/" + webMercatorQuad, Rel: "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", Type: mediaJSON},
			{Href: tileTemplate(c, id), Rel: "item", Type: mediaMVT, Title: "tiles"},
		},
	}}})
}

// tileJSON describes the tiles of a collection as TileJSON 3.0.
func (s *Server) tileJSON(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	id := c.Param("collectionId")
	l, err := s.checkTileCollection(ctx, id)
	if err != nil {
		return err
	}
	fields := map[string]string{"properties": "String: the feature's properties as JSON"}
	if id == incidentsCollection {
		fields = map[string]string{
			"title": "String", "event_type": "String (clusters: the most frequent)", "status": "String",
			"fatalities": "Number (clusters: the sum)", "occurred_at": "String (YYYY-MM-DD)",
			"count": fmt.Sprintf("Number: incidents in the cluster (zoom < %d)", s.cfg.ClusterBelowZoom),
		}
	}
	return c.JSON(http.StatusOK, map[string]any{
		"tilejson": "3.0.0", "name": l.Title, "scheme": "xyz", "minzoom": 0, "maxzoom": geo.MaxTileZoom,
		"tiles":         []string{tileTemplate(c, id)},
		"vector_layers": []map[string]any{{"id": id, "fields": fields}},
	})
}

// tile answers one vector tile: 204 when empty, ETag from the collection's
// version so caches never keep a tile past an edit.
func (s *Server) tile(c echo.Context) error {
	ctx, cancel := s.requestContext(c)
	defer cancel()
	t, err := geo.ParseTile(c.Param("z"), c.Param("y"), c.Param("x"))
	if err != nil {
		return err
	}
	id := c.Param("collectionId")
	store, ok := s.deps.Features.(TileStore)
	if !ok {
		return &PublicError{Msg: "tiles are not available", Err: geo.ErrNotFound}
	}
	var mvt func() ([]byte, error)
	if id == incidentsCollection {
		q, err := geo.ParseIncidentTileQuery(c.QueryParams())
		if err != nil {
			return err
		}
		mvt = func() ([]byte, error) { return store.IncidentTile(ctx, t, q, s.cfg.ClusterBelowZoom) }
	} else {
		l, err := s.findLayer(ctx, id)
		if err != nil {
			return err
		}
		q, err := geo.ParseLayerQuery(c.QueryParams(), l.TimeProperty != "")
		if err != nil {
			return err
		}
		if q.BBox != nil || q.Cursor != nil || c.QueryParam("limit") != "" {
			return geo.Invalidf("bbox", "bbox, limit and cursor are not tile parameters")
		}
		mvt = func() ([]byte, error) { return store.LayerTile(ctx, l, t, q) }
	}
	notModified, err := s.checkETag(ctx, c, id)
	if err != nil || notModified {
		return err
	}
	data, err := mvt()
	if err != nil {
		return err
	}
	if data == nil {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Blob(http.StatusOK, mediaMVT, data)
}

// tilePaths documents the tile routes.
func tilePaths() obj {
	collectionID := param("collectionId", "path", "Collection id.", str())
	tileParams := []obj{collectionID,
		param("z", "path", "Zoom level (tileMatrix), 0..22.", obj{"type": "integer"}),
		param("y", "path", "Row (tileRow), from the top.", obj{"type": "integer"}),
		param("x", "path", "Column (tileCol).", obj{"type": "integer"}),
		param("datetime", "query", "As for items.", str()),
		param("event_type", "query", "Incidents: as for items (and the other incident filters).", str()),
	}
	return obj{
		"/api/tileMatrixSets": obj{"get": operation("Tile matrix sets: WebMercatorQuad.", "getTileMatrixSets", nil, jsonResponse("The list.", mediaJSON), "400")},
		"/api/tileMatrixSets/WebMercatorQuad": obj{"get": operation("WebMercatorQuad, by reference to the OGC registry.", "getTileMatrixSet", nil,
			jsonResponse("The tile matrix set.", mediaJSON), "400")},
		"/api/collections/{collectionId}/tiles": obj{"get": operation("The vector tilesets of a collection.", "getCollectionTilesets",
			[]obj{collectionID}, jsonResponse("Tilesets.", mediaJSON), "404")},
		"/api/collections/{collectionId}/tiles/WebMercatorQuad": obj{"get": operation("TileJSON 3.0 of a collection's vector tiles.", "getTileJSON",
			[]obj{collectionID}, jsonResponse("TileJSON.", mediaTileJSON), "404")},
		"/api/collections/{collectionId}/tiles/WebMercatorQuad/{z}/{y}/{x}": obj{"get": operation(
			"A Mapbox Vector Tile made by PostGIS; incidents below the cluster zoom come as clusters (count, event_type, fatalities). 204 when empty.",
			"getTile", tileParams, obj{"description": "The tile.", "content": obj{mediaMVT: obj{"schema": obj{"type": "string", "format": "binary"}}}},
			"400", "404", "503")},
	}
}
