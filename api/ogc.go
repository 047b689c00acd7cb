package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// Media types of OGC API – Features responses.
const (
	mediaGeoJSON = "application/geo+json"
	mediaJSON    = "application/json"
	mediaOpenAPI = "application/vnd.oai.openapi+json;version=3.0"
	mediaHTML    = "text/html"
)

// Conformance classes this server passes. Only these are declared.
var conformanceClasses = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
	"http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
	"http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
	"http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
}

// incidentsCollection is the id of the built-in incidents collection.
const incidentsCollection = "incidents"

// FeatureStore reads collections for the OGC API. Stream methods call emit
// with each feature's GeoJSON text as it arrives from the database.
type FeatureStore interface {
	CollectionVersion(ctx context.Context, id string) (string, error)
	IncidentExtent(ctx context.Context) (geo.Extent, error)
	StreamIncidents(ctx context.Context, q geo.IncidentQuery, emit func([]byte) error) (geo.FeaturePage, error)
	CountIncidents(ctx context.Context, q geo.IncidentQuery, limit int) (n int64, exact bool, err error)
	IncidentFeature(ctx context.Context, id int64, crs geo.CRS) ([]byte, error)

	Layers(ctx context.Context) ([]geo.Layer, error)
	Layer(ctx context.Context, id string) (geo.Layer, error)
	StreamLayerFeatures(ctx context.Context, layer geo.Layer, q geo.LayerQuery, emit func([]byte) error) (geo.FeaturePage, error)
	CountLayerFeatures(ctx context.Context, layer geo.Layer, q geo.LayerQuery, limit int) (n int64, exact bool, err error)
	LayerFeature(ctx context.Context, layer geo.Layer, id int64) ([]byte, error)

	PlaceCollectionStore
	TileStore
	CSVStore
	IncidentCoreStore
	IncidentHistogramStore
}

// link is an OGC / RFC 8288 link.
type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
	// Templated marks an href with {variables} (OGC API – Tiles).
	Templated bool `json:"templated,omitempty"`
}

func (s *Server) ogcRoutes(g routeGroup) {
	g.GET("", s.landing)
	g.GET("/", s.landing)
	g.GET("/conformance", s.conformance)
	g.GET("/collections", s.collections)
	g.GET("/collections/:collectionId", s.collection)
	g.GET("/collections/:collectionId/items", s.items)
	g.GET("/collections/:collectionId/items/:featureId", s.item)
	g.GET("/collections/:collectionId/queryables", s.queryables)
	g.GET("/openapi", s.openapi)
	g.GET("/docs", s.apiDocs)
}

// baseURL is the absolute URL of the API root as the client reached it.
func baseURL(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host + "/api"
}

func (s *Server) landing(c echo.Context) error {
	if err := rejectParamsHTML(c); err != nil {
		return err
	}
	base := baseURL(c)
	const title = "incidentmap"
	const description = "Incidents of armed conflict and crises, with their sources and verification status, and map layers — as OGC API – Features and Tiles."
	links := []link{
		{Href: base, Rel: "self", Type: mediaJSON, Title: "this document"},
		{Href: base + "?f=html", Rel: "alternate", Type: mediaHTML, Title: "this document as HTML"},
		{Href: base + "/openapi", Rel: "service-desc", Type: mediaOpenAPI, Title: "the API definition (OpenAPI 3.0)"},
		{Href: base + "/docs", Rel: "service-doc", Type: mediaHTML, Title: "the API documentation"},
		{Href: base + "/conformance", Rel: "conformance", Type: mediaJSON, Title: "conformance classes implemented"},
		{Href: base + "/collections", Rel: "data", Type: mediaJSON, Title: "the collections"},
	}
	if wantsHTML(c) {
		return renderHTML(c, http.StatusOK, "landing", htmlPage{Title: title, Description: description,
			Links: []htmlLink{alternate(c, "json", "JSON")},
			Body: []htmlLink{{Href: base + "/collections?f=html", Title: "The collections"},
				{Href: base + "/conformance?f=html", Title: "Conformance classes"},
				{Href: base + "/openapi", Title: "The API definition (OpenAPI 3.0, JSON)"},
				{Href: base + "/docs", Title: "The API documentation"}, {Href: "/", Title: "The map"}}})
	}
	return c.JSON(http.StatusOK, map[string]any{"title": title, "description": description, "links": links})
}

func (s *Server) conformance(c echo.Context) error {
	if err := rejectParamsHTML(c); err != nil {
		return err
	}
	all := slices.Concat(conformanceClasses, filterConformanceClasses)
	if wantsHTML(c) {
		body := make([]htmlLink, 0, len(all))
		for _, cc := range all {
			body = append(body, htmlLink{Href: cc, Title: cc})
		}
		return renderHTML(c, http.StatusOK, "landing", htmlPage{Title: "Conformance classes",
			Links: []htmlLink{alternate(c, "json", "JSON")}, Body: body})
	}
	return c.JSON(http.StatusOK, map[string]any{"conformsTo": all})
}

// collectionDoc is the description of one collection.
type collectionDoc struct {
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	ItemType    string         `json:"itemType"`
	CRS         []string       `json:"crs"`
	StorageCRS  string         `json:"storageCrs"`
	Extent      map[string]any `json:"extent,omitempty"`
	Links       []link         `json:"links"`
}

const crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

func newCollectionDoc(base, id, title, description string, ext geo.Extent, tiles bool) collectionDoc {
	href := base + "/collections/" + id
	doc := collectionDoc{
		ID: id, Title: title, Description: description, ItemType: "feature", CRS: geo.SupportedCRS(), StorageCRS: crs84,
		Links: []link{
			{Href: href, Rel: "self", Type: mediaJSON, Title: title},
			{Href: href + "/items", Rel: "items", Type: mediaGeoJSON, Title: title + " (GeoJSON)"},
		},
	}
	if tiles {
		doc.Links = append(doc.Links, link{Href: href + "/tiles", Rel: relTilesetsVector, Type: mediaJSON, Title: title + " as vector tiles"})
	}
	// An empty collection still gets a spatial extent, the whole world
	// (where its first feature may be): GDAL's OGCAPI driver refuses a
	// collection without one ("Missing bbox").
	bbox := []float64{-180, -90, 180, 90}
	if b := ext.BBox; b != nil {
		bbox = []float64{b.MinLon, b.MinLat, b.MaxLon, b.MaxLat}
	}
	extent := map[string]any{"spatial": map[string]any{"bbox": [][]float64{bbox}, "crs": crs84}}
	if ext.Start != nil || ext.End != nil {
		extent["temporal"] = map[string]any{"interval": [][]*string{{timePtr(ext.Start), timePtr(ext.End)}},
			"trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
	}
	doc.Extent = extent
	return doc
}

func timePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

const incidentsDescription = "Verified, disputed and reported incidents (retracted ones with status=retracted). " +
	"Filters: event_type, sub_event_type, status, country, actor, q (full text), near_border_km, near_place+within_km, min_sources; sortby occurred_at or fatalities."

func layerCollectionDoc(base string, l geo.Layer) collectionDoc {
	return newCollectionDoc(base, l.ID, l.Title, l.Description, l.Extent, true)
}

func (s *Server) collections(c echo.Context) error {
	if err := rejectParamsHTML(c); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	base := baseURL(c)
	layers, err := s.deps.Features.Layers(ctx)
	if err != nil {
		return err
	}
	colls := []collection{incidentCollection{s}, placeCollection{s}}
	for _, l := range layers {
		colls = append(colls, layerCollection{s, l})
	}
	docs := make([]collectionDoc, 0, len(colls))
	for _, coll := range colls {
		doc, err := coll.doc(ctx, base)
		if err != nil {
			return err
		}
		docs = append(docs, doc)
	}
	if wantsHTML(c) {
		return renderHTML(c, http.StatusOK, "collections", htmlPage{Title: "Collections",
			Links: []htmlLink{alternate(c, "json", "JSON")}, Body: docs})
	}
	return c.JSON(http.StatusOK, map[string]any{
		"collections": docs,
		"links": []link{{Href: base + "/collections", Rel: "self", Type: mediaJSON, Title: "the collections"},
			{Href: base + "/collections?f=html", Rel: "alternate", Type: mediaHTML, Title: "the collections as HTML"}},
	})
}

func (s *Server) collection(c echo.Context) error {
	if err := rejectParamsHTML(c); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	coll, err := s.findCollection(ctx, c.Param("collectionId"))
	if err != nil {
		return err
	}
	doc, err := coll.doc(ctx, baseURL(c))
	if err != nil {
		return err
	}
	if wantsHTML(c) {
		return renderHTML(c, http.StatusOK, "collection", htmlPage{Title: doc.Title, Description: doc.Description,
			Links: []htmlLink{alternate(c, "json", "JSON")},
			Body:  map[string]any{"Href": baseURL(c) + "/collections/" + doc.ID, "Extent": doc.Extent}})
	}
	return c.JSON(http.StatusOK, doc)
}

// findLayer looks a layer up, with a 404 that names the collection.
func (s *Server) findLayer(ctx context.Context, id string) (geo.Layer, error) {
	if !validCollectionID(id) {
		return geo.Layer{}, &PublicError{Msg: "no collection " + quoteForMessage(id), Err: geo.ErrNotFound}
	}
	l, err := s.deps.Features.Layer(ctx, id)
	if err != nil {
		return geo.Layer{}, &PublicError{Msg: "no collection " + quoteForMessage(id), Err: err}
	}
	return l, nil
}

// validCollectionID mirrors the layers.id CHECK constraint; other ids
// cannot exist, so they are not looked up.
func validCollectionID(id string) bool {
	if len(id) == 0 || len(id) > 63 || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// quoteForMessage quotes user input for an error message, shortened.
func quoteForMessage(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

// rejectParams answers 400 for any query parameter not in allowed: a
// misspelt filter must not silently return everything. f may only be json.
func rejectParams(c echo.Context, allowed ...string) error {
	return checkParams(c, []string{"json"}, allowed)
}

// rejectParamsHTML is rejectParams for resources that also have an HTML
// view: f may be json or html; more are other parameters they take.
func rejectParamsHTML(c echo.Context, more ...string) error {
	return checkParams(c, []string{"json", "html"}, append(more, "f"))
}

// checkParams refuses parameters not in allowed and formats not in formats.
func checkParams(c echo.Context, formats, allowed []string) error {
	for name := range c.QueryParams() {
		if !slices.Contains(allowed, name) {
			return geo.Invalidf(quoteForMessage(name), "unknown parameter")
		}
	}
	if f := c.QueryParam("f"); f != "" && !slices.Contains(formats, f) {
		return geo.Invalidf("f", "unsupported format %s (supported: %s)", quoteForMessage(f), strings.Join(formats, ", "))
	}
	return nil
}

// requestContext bounds database work for one request.
func (s *Server) requestContext(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), s.cfg.RequestTimeout)
}
