package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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
	PlaceTile(ctx context.Context, t geo.Tile) ([]byte, error)
}

func (s *Server) tileRoutes(g routeGroup) {
	g.GET("/tileMatrixSets", s.tileMatrixSets)
	g.GET("/tileMatrixSets/"+webMercatorQuad, s.tileMatrixSet)
	g.GET("/collections/:collectionId/tiles", s.collectionTilesets)
	g.GET("/collections/:collectionId/tiles/"+webMercatorQuad, s.tileJSON)
	g.GET("/collections/:collectionId/tiles/"+webMercatorQuad+"/:z/:y/:x", func(c echo.Context) error { return s.tile(c, s.tiles) })
}

// isTileRequest tells the gzip middleware to leave tiles alone.
func isTileRequest(c echo.Context) bool {
	return strings.HasSuffix(c.Path(), "/"+webMercatorQuad+"/:z/:y/:x")
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

// tileMatrixSet is the full definition of WebMercatorQuad (OGC 17-083r4,
// Annex D), so clients that read it, such as GDAL, need no built-in copy.
func (s *Server) tileMatrixSet(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webMercatorQuadDefinition())
}

// Facts of WebMercatorQuad: the square of the spherical Mercator world in
// metres, 256-pixel tiles, and the scale of zoom 0 at 0.28 mm pixels.
const (
	webMercatorHalfWorld = 20037508.3427892
	webMercatorScale0    = 559082264.028717
	webMercatorCellSize0 = 156543.033928041
	webMercatorTileSize  = 256
	webMercatorMaxMatrix = 24
	webMercatorCRS       = "http://www.opengis.net/def/crs/EPSG/0/3857"
	relTilingScheme      = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
	relTilesetsVector    = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
)

func webMercatorQuadDefinition() map[string]any {
	// Written in both JSON encodings: TMS 2.0 (17-083r4: id, crs,
	// tileMatrices) and TMS 1.0 (17-083r2: type, identifier, supportedCRS,
	// tileMatrix), whose member names do not clash. GDAL before 3.7 (as in
	// Debian 12) reads only 1.0; newer clients read 2.0.
	lower := []float64{-webMercatorHalfWorld, -webMercatorHalfWorld}
	upper := []float64{webMercatorHalfWorld, webMercatorHalfWorld}
	origin := []float64{-webMercatorHalfWorld, webMercatorHalfWorld}
	matrices := make([]map[string]any, 0, webMercatorMaxMatrix+1)
	matrices1 := make([]map[string]any, 0, webMercatorMaxMatrix+1)
	for z := 0; z <= webMercatorMaxMatrix; z++ {
		n := 1 << z
		scale := webMercatorScale0 / float64(n)
		matrices = append(matrices, map[string]any{
			"id": strconv.Itoa(z), "scaleDenominator": scale,
			"cellSize": webMercatorCellSize0 / float64(n), "cornerOfOrigin": "topLeft", "pointOfOrigin": origin,
			"tileWidth": webMercatorTileSize, "tileHeight": webMercatorTileSize, "matrixWidth": n, "matrixHeight": n,
		})
		matrices1 = append(matrices1, map[string]any{
			"type": "TileMatrixType", "identifier": strconv.Itoa(z), "scaleDenominator": scale, "topLeftCorner": origin,
			"pointOfOrigin": origin, // GDAL 3.6 reads 1.0 matrices with this 2.0 name
			"tileWidth":     webMercatorTileSize, "tileHeight": webMercatorTileSize, "matrixWidth": n, "matrixHeight": n,
		})
	}
	return map[string]any{
		"id": webMercatorQuad, "uri": webMercatorQuadURI, "crs": webMercatorCRS,
		"title": "Google Maps Compatible for the World", "orderedAxes": []string{"X", "Y"},
		"wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
		"boundingBox": map[string]any{"type": "BoundingBoxType", "crs": webMercatorCRS,
			"lowerLeft": lower, "upperRight": upper, "lowerCorner": lower, "upperCorner": upper},
		"tileMatrices": matrices,
		"type":         "TileMatrixSetType", "identifier": webMercatorQuad, "supportedCRS": webMercatorCRS,
		"tileMatrix": matrices1,
	}
}

// ogcTileTemplate is the URL template of a collection's tiles with OGC's
// variable names, for the "item" links of tileset metadata.
func ogcTileTemplate(c echo.Context, id string) string {
	return fmt.Sprintf("%s/collections/%s/tiles/%s/{tileMatrix}/{tileRow}/{tileCol}", baseURL(c), id, webMercatorQuad)
}

// tileTemplate is the URL template of a collection's tiles (TileJSON's
// variable names).
func tileTemplate(c echo.Context, id string) string {
	return fmt.Sprintf("%s/collections/%s/tiles/%s/{z}/{y}/{x}", baseURL(c), id, webMercatorQuad)
}

func (s *Server) collectionTilesets(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	id := c.Param("collectionId")
	coll, err := s.findCollection(ctx, id)
	if err != nil {
		return err
	}
	if coll.tileFields() == nil {
		return &PublicError{Msg: "the " + id + " collection has no tiles", Err: geo.ErrNotFound}
	}
	base := baseURL(c) + "/collections/" + id + "/tiles/" + webMercatorQuad
	return c.JSON(http.StatusOK, map[string]any{
		"tilesets": []map[string]any{{
			"title": coll.title() + " as vector tiles", "dataType": "vector", "crs": webMercatorCRS,
			"tileMatrixSetURI": webMercatorQuadURI,
			"links": []link{
				{Href: base, Rel: "self", Type: mediaJSON, Title: "tileset metadata (also TileJSON)"},
				{Href: baseURL(c) + "/tileMatrixSets/" + webMercatorQuad, Rel: relTilingScheme, Type: mediaJSON},
				{Href: ogcTileTemplate(c, id), Rel: "item", Type: mediaMVT, Title: "tiles", Templated: true},
			},
		}},
		"links": []link{{Href: baseURL(c) + "/collections/" + id + "/tiles", Rel: "self", Type: mediaJSON}},
	})
}

// tileJSON describes the tiles of a collection as TileJSON 3.0 and as
// OGC tileset metadata.
func (s *Server) tileJSON(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	id := c.Param("collectionId")
	coll, err := s.findCollection(ctx, id)
	if err != nil {
		return err
	}
	fields := coll.tileFields()
	if fields == nil {
		return &PublicError{Msg: "the " + id + " collection has no tiles", Err: geo.ErrNotFound}
	}
	ext, err := coll.extent(ctx)
	if err != nil {
		return err
	}
	doc := map[string]any{
		// TileJSON 3.0, for web maps...
		"tilejson": "3.0.0", "name": coll.title(), "scheme": "xyz", "minzoom": 0, "maxzoom": geo.MaxTileZoom,
		"tiles":         []string{tileTemplate(c, id)},
		"vector_layers": []map[string]any{{"id": id, "fields": fields, "minzoom": 0, "maxzoom": geo.MaxTileZoom}},
		// ...and OGC tileset metadata (17-083r4), for GIS clients: the two
		// share no member names, so one document serves both.
		"title": coll.title() + " as vector tiles", "dataType": "vector", "crs": webMercatorCRS,
		"tileMatrixSetURI": webMercatorQuadURI,
		"layers":           []map[string]any{{"id": id, "dataType": "vector"}},
		"links": []link{
			{Href: baseURL(c) + "/collections/" + id + "/tiles/" + webMercatorQuad, Rel: "self", Type: mediaJSON},
			{Href: baseURL(c) + "/tileMatrixSets/" + webMercatorQuad, Rel: relTilingScheme, Type: mediaJSON},
			{Href: ogcTileTemplate(c, id), Rel: "item", Type: mediaMVT, Title: "tiles", Templated: true},
		},
	}
	if b := ext.BBox; b != nil {
		doc["bounds"] = []float64{b.MinLon, b.MinLat, b.MaxLon, b.MaxLat}
		doc["center"] = []float64{(b.MinLon + b.MaxLon) / 2, (b.MinLat + b.MaxLat) / 2, 4}
		doc["boundingBox"] = map[string]any{"crs": crs84, "lowerLeft": []float64{b.MinLon, b.MinLat}, "upperRight": []float64{b.MaxLon, b.MaxLat}}
	}
	return c.JSON(http.StatusOK, doc)
}

// tile answers one vector tile: 204 when empty, ETag from the collection's
// version so caches never keep a tile past an edit. Rendered tiles are kept
// in cache (see tileCache) under the same inputs as the ETag.
func (s *Server) tile(c echo.Context, cache *tileCache) error {
	// Database work gets the request timeout where it happens: a cached
	// tile needs none (and no timer).
	ctx := c.Request().Context()
	t, err := geo.ParseTile(c.Param("z"), c.Param("y"), c.Param("x"))
	if err != nil {
		return err
	}
	id := c.Param("collectionId")
	lctx, cancel := s.requestContext(c)
	coll, err := s.findCollection(lctx, id)
	cancel()
	if err != nil {
		return err
	}
	req, err := coll.tiles(c.QueryParams(), t)
	if err != nil {
		return err
	}
	render, query := req.render, req.query
	var spec *tileSpec // set when the tile is re-rendered ahead after edits
	if req.refresh {
		spec = &tileSpec{collection: id, tile: t, render: render}
	}
	version, err := s.collectionVersion(ctx, id)
	if err != nil {
		return err
	}
	key := tileKey(id, version, t, s.cfg.ClusterBelowZoom, query)
	// Cache-Control: no-cache in the request is not obeyed: the cached tile
	// is the tile of the current version, never stale, and browsers send
	// it whenever a page bypasses their own cache (fetch with no-store), as
	// the map does to redraw the tiles a live update touches: many clients
	// at once, whom one render serves.
	e := cache.get(key)
	if e == nil {
		// A 304 needs no tile: answer it before rendering.
		etag := tileETag(key)
		if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
			setTileHeaders(c, etag)
			return c.NoContent(http.StatusNotModified)
		}
		// Not kept under version "0": no edit would change that key.
		if e, err = cache.render(ctx, key, etag, version != "0", s.cfg.RequestTimeout, render, spec); err != nil {
			return err
		}
	}
	setTileHeaders(c, e.etag)
	if etagMatches(c.Request().Header.Get("If-None-Match"), e.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	if e.body == nil {
		return c.NoContent(http.StatusNoContent)
	}
	body := e.body
	if strings.Contains(c.Request().Header.Get(echo.HeaderAcceptEncoding), "gzip") {
		if gz := cache.gzipped(e); gz != nil {
			c.Response().Header().Set(echo.HeaderContentEncoding, "gzip")
			body = gz
		}
	}
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	return c.Blob(http.StatusOK, mediaMVT, body)
}

func setTileHeaders(c echo.Context, etag string) {
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=5, must-revalidate")
	h.Add("Vary", echo.HeaderAcceptEncoding) // gzipped or not, by the request
}

// tileFormat names how tiles are made; it is part of their ETags, so a
// server that makes them differently does not confirm a client's copy.
const tileFormat = "mvt2"

// tileKey is what a tile depends on: the collection and its version, the
// tile, the zoom below which incidents are clustered, and the query
// (parsed, so spellings of the same filters share an entry).
func tileKey(collection, version string, t geo.Tile, clusterBelow int, query []byte) string {
	b := make([]byte, 0, 64+len(query))
	b = append(b, tileFormat...)
	b = append(b, 0)
	b = append(b, collection...)
	b = append(b, 0)
	b = append(b, version...)
	for _, n := range []int{t.Z, t.X, t.Y, clusterBelow} {
		b = append(b, 0)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(b, 0)
	b = append(b, query...)
	return string(b)
}

func tileETag(key string) string {
	sum := sha256.Sum256([]byte(key))
	return `W/"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
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
			"A Mapbox Vector Tile made by PostGIS; incidents below the cluster zoom come as clusters (count, event_type, fatalities). 204 when empty. "+
				"The server keeps rendered tiles per collection version, so they are never stale.",
			"getTile", tileParams, obj{"description": "The tile.", "content": obj{mediaMVT: obj{"schema": obj{"type": "string", "format": "binary"}}}},
			"400", "404", "503")},
	}
}

// defaultIncidentTileQuery is the query of an incidents tile without
// parameters (most tiles), parsed once.
var defaultIncidentTileQuery = func() geo.IncidentQuery {
	q, err := geo.ParseIncidentTileQuery(url.Values{})
	if err != nil {
		panic(err)
	}
	return q
}()
