package api

import (
	"html/template"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
)

// obj is a JSON object in the OpenAPI document.
type obj = map[string]any

// param describes one query or path parameter.
func param(name, in, description string, schema obj) obj {
	p := obj{"name": name, "in": in, "description": description, "schema": schema}
	if in == "path" {
		p["required"] = true
	}
	return p
}

func str() obj { return obj{"type": "string"} }

// jsonResponse is a response with a JSON body of the given media type.
func jsonResponse(description, media string) obj {
	return obj{"description": description, "content": obj{media: obj{"schema": obj{"type": "object"}}}}
}

// errorResponses are the error answers common to every operation.
func errorResponses(codes ...string) obj {
	texts := map[string]string{
		"400": "Invalid parameter: the description names it.",
		"404": "No such collection or feature.",
		"503": "The database is unavailable; retry after Retry-After seconds.",
	}
	out := obj{}
	for _, c := range codes {
		out[c] = obj{"description": texts[c], "content": obj{mediaJSON: obj{"schema": obj{"$ref": "#/components/schemas/Exception"}}}}
	}
	return out
}

func operation(summary, id string, params []obj, ok obj, errs ...string) obj {
	responses := errorResponses(errs...)
	responses["200"] = ok
	op := obj{"summary": summary, "operationId": id, "responses": responses}
	if len(params) > 0 {
		op["parameters"] = params
	}
	return op
}

// openAPIDocument is the OpenAPI 3.0 description of every route. A test
// checks that each registered route appears here.
func openAPIDocument(base string) obj {
	collectionID := param("collectionId", "path", "Collection id: incidents or a layer id.", str())
	featureID := param("featureId", "path", "Feature id.", obj{"type": "integer", "format": "int64", "minimum": 1})
	f := param("f", "query", "Output format: json (the default).", obj{"type": "string", "enum": []string{"json"}})
	itemsParams := []obj{
		collectionID,
		param("bbox", "query", "minLon,minLat,maxLon,maxLat in CRS84; minLon > maxLon crosses the antimeridian.",
			obj{"type": "array", "items": obj{"type": "number"}, "minItems": 4, "maxItems": 6}),
		param("bbox-crs", "query", "Only "+crs84+".", str()),
		param("datetime", "query", "RFC 3339 instant or closed interval a/b; '..' or empty for an open end; a date means its whole UTC day.", str()),
		param("limit", "query", "Features per page, 1..10000 (larger values are clamped); default 100.",
			obj{"type": "integer", "minimum": 1, "default": 100}),
		param("cursor", "query", "Opaque paging position from a next or prev link.", str()),
		param("event_type", "query", "Incidents only: comma-separated ACLED event types.", str()),
		param("sub_event_type", "query", "Incidents only: comma-separated ACLED sub-event types.", str()),
		param("status", "query", "Incidents only: verified, disputed, retracted (default verified,disputed).", str()),
		param("country", "query", "Incidents only: comma-separated ISO 3166-1 alpha-2 codes.", str()),
		param("actor", "query", "Incidents only: substring of actor1 or actor2.", str()),
		param("q", "query", "Incidents only: full-text search in title, notes and location.", str()),
		param("near_border_km", "query", "Incidents only: at most this many km from an international land border.", obj{"type": "number"}),
		param("near_place", "query", "Incidents only: gazetteer place id; with within_km (default 10).", obj{"type": "integer"}),
		param("within_km", "query", "Incidents only: radius around near_place in km.", obj{"type": "number"}),
		param("sortby", "query", "Incidents only: occurred_at or fatalities, prefixed with + or - (default -occurred_at).", str()),
		param("properties", "query", "Incidents only: comma-separated property names to return.", str()),
		f,
	}
	health := func(summary, id string) obj {
		return obj{"get": obj{"summary": summary, "operationId": id, "responses": obj{
			"200": jsonResponse("OK", mediaJSON),
			"503": jsonResponse("Not ready; the body says why.", mediaJSON),
		}}}
	}
	landing := obj{"get": operation("Landing page with links to the API definition, conformance and collections.", "getLandingPage",
		[]obj{f}, jsonResponse("The landing page.", mediaJSON), "400")}
	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       "incidentmap API",
			"version":     "0.1.0",
			"description": "Incidents of armed conflict and crises and map layers as OGC API – Features (Part 1: Core, GeoJSON, OpenAPI 3.0).",
		},
		"servers": []obj{{"url": base}},
		"paths": obj{
			"/healthz": health("Liveness: 200 while the process runs.", "getHealth"),
			"/readyz":  health("Readiness: 200 when the database answers and is migrated.", "getReady"),
			"/api":     landing,
			"/api/":    landing,
			"/api/conformance": obj{"get": operation("Conformance classes implemented.", "getConformanceDeclaration",
				[]obj{f}, jsonResponse("The conformance declaration.", mediaJSON), "400")},
			"/api/collections": obj{"get": operation("The collections: incidents and every layer.", "getCollections",
				[]obj{f}, jsonResponse("The collections.", mediaJSON), "400", "503")},
			"/api/collections/{collectionId}": obj{"get": operation("One collection.", "describeCollection",
				[]obj{collectionID, f}, jsonResponse("The collection.", mediaJSON), "400", "404", "503")},
			"/api/collections/{collectionId}/items": obj{"get": operation("Features of a collection, streamed as GeoJSON, paged by cursor.", "getFeatures",
				itemsParams, jsonResponse("A GeoJSON FeatureCollection.", mediaGeoJSON), "400", "404", "503")},
			"/api/collections/{collectionId}/items/{featureId}": obj{"get": operation("One feature.", "getFeature",
				[]obj{collectionID, featureID, f}, jsonResponse("A GeoJSON Feature.", mediaGeoJSON), "400", "404", "503")},
			"/api/openapi": obj{"get": operation("This API definition.", "getOpenAPI", nil, jsonResponse("OpenAPI 3.0 document.", mediaOpenAPI))},
			"/api/docs": obj{"get": obj{"summary": "Human-readable API documentation.", "operationId": "getDocs",
				"responses": obj{"200": obj{"description": "HTML page.", "content": obj{mediaHTML: obj{"schema": str()}}}}}},
		},
		"components": obj{"schemas": obj{"Exception": obj{
			"type":     "object",
			"required": []string{"code"},
			"properties": obj{
				"code":        str(),
				"description": str(),
				"request_id":  str(),
				"errors": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
					"field": str(), "message": str()}}},
			},
		}}},
	}
}

func (s *Server) openapi(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, mediaOpenAPI)
	return c.JSON(http.StatusOK, openAPIDocument(c.Scheme()+"://"+c.Request().Host))
}

// docsPage renders the OpenAPI document as a plain HTML page; html/template
// escapes every value.
var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>incidentmap API</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>incidentmap API</h1>
<p>OGC API – Features. Machine-readable definition: <a href="/api/openapi">/api/openapi</a>.</p>
{{range .}}<h2><code>GET {{.Path}}</code></h2><p>{{.Summary}}</p>
{{if .Params}}<ul>{{range .Params}}<li><code>{{.Name}}</code> ({{.In}}): {{.Description}}</li>{{end}}</ul>{{end}}
{{end}}</body></html>`))

type docsEntry struct {
	Path, Summary string
	Params        []struct{ Name, In, Description string }
}

func (s *Server) apiDocs(c echo.Context) error {
	paths := openAPIDocument("")["paths"].(obj)
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var entries []docsEntry
	for _, k := range keys {
		get := paths[k].(obj)["get"].(obj)
		e := docsEntry{Path: k, Summary: get["summary"].(string)}
		params, _ := get["parameters"].([]obj)
		for _, p := range params {
			e.Params = append(e.Params, struct{ Name, In, Description string }{
				p["name"].(string), p["in"].(string), p["description"].(string)})
		}
		entries = append(entries, e)
	}
	var b strings.Builder
	if err := docsPage.Execute(&b, entries); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, b.String())
}
