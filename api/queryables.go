package api

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/cql2"
)

// mediaJSONSchema is the media type of queryables.
const mediaJSONSchema = "application/schema+json"

// relQueryables links a collection to its queryables (OGC API – Features
// Part 3).
const relQueryables = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

// Conformance classes of filtering, declared beside the others.
var filterConformanceClasses = []string{
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
	"http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
	"http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
}

// queryableSchema is the JSON Schema of one queryable kind.
func queryableSchema(name string, kind cql2.Kind) obj {
	switch kind {
	case cql2.Geometry:
		return obj{"title": "location", "format": "geometry-point", "x-ogc-role": "primary-geometry"}
	case cql2.Timestamp:
		s := obj{"type": "string", "format": "date-time"}
		if name == "occurred_at" {
			s["x-ogc-role"] = "primary-instant" // what datetime= filters on
		}
		return s
	case cql2.Integer:
		return obj{"type": "integer"}
	case cql2.Number:
		return obj{"type": "number"}
	case cql2.Boolean:
		return obj{"type": "boolean"}
	}
	if s, ok := incidentPropertyTypes[name]; ok && s["enum"] != nil {
		return obj{"type": "string", "enum": s["enum"]}
	}
	return obj{"type": "string"}
}

// queryables answers /collections/{id}/queryables: what a filter may name.
// Only the incidents can be filtered this way.
func (s *Server) queryables(c echo.Context) error {
	if err := rejectParams(c, "f"); err != nil {
		return err
	}
	id := c.Param("collectionId")
	if id != incidentsCollection {
		ctx, cancel := s.requestContext(c)
		defer cancel()
		if _, err := s.findCollection(ctx, id); err != nil {
			return err
		}
		return &PublicError{Msg: "the " + id + " collection cannot be filtered with CQL2 (no queryables)", Err: geo.ErrNotFound}
	}
	queryables := geo.IncidentQueryables()
	names := make([]string, 0, len(queryables))
	for name := range queryables {
		names = append(names, name)
	}
	slices.Sort(names)
	props := obj{}
	for _, name := range names {
		props[name] = queryableSchema(name, queryables[name])
	}
	c.Response().Header().Set(echo.HeaderContentType, mediaJSONSchema)
	return c.JSON(http.StatusOK, obj{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  baseURL(c) + "/collections/" + id + "/queryables",
		"type":                 "object",
		"title":                "Incidents",
		"properties":           props,
		"additionalProperties": false,
	})
}
