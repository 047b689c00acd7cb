package api

import (
	"maps"
	"net/http"
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
		"400": "Invalid parameter or a query string that does not parse whole (a raw ';', more than 10,000 parameters): the description names it.",
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
	f := param("f", "query", "Output format: json (the default).", obj{"type": "string", "enum": []string{"json"}})
	// The parameters every collection takes; each collection's own path
	// (collectionPaths) lists the rest, with their types and enums.
	itemsParams := append([]obj{collectionID}, commonItemsParams(true, "json", "geojson", "csv", "html")...)
	health := func(summary, id string) obj {
		return obj{"get": obj{"summary": summary, "operationId": id, "responses": obj{
			"200": jsonResponse("OK", mediaJSON),
			"503": jsonResponse("Not ready; the body says why.", mediaJSON),
		}}}
	}
	landing := obj{"get": operation("Landing page with links to the API definition, conformance and collections.", "getLandingPage",
		[]obj{f}, jsonResponse("The landing page.", mediaJSON), "400")}
	paths := obj{}
	for _, more := range []obj{writePaths(), placePaths(), labelPaths(), corePaths(), histogramPaths(), receiptPaths(), tilePaths(), changesPaths()} {
		for k, v := range more {
			paths[k] = v
		}
	}
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       "incidentmap API",
			"version":     "0.1.0",
			"description": "Incidents of armed conflict and crises and map layers as OGC API – Features (Part 1: Core, GeoJSON, OpenAPI 3.0).",
		},
		"servers": []obj{{"url": base}},
		"paths":   paths,
	}
	core := obj{
		"/healthz": health("Liveness: 200 while the process runs.", "getHealth"),
		"/readyz":  health("Readiness: 200 when the database answers and is migrated.", "getReady"),
		"/metrics": obj{"get": obj{"summary": "Prometheus metrics: requests, latency, database pool, SSE clients, reports.", "operationId": "getMetrics",
			"responses": obj{"200": obj{"description": "Prometheus text format.", "content": obj{"text/plain": obj{"schema": str()}}}}}},
		"/api": landing,
		// The same page with a trailing slash, as some clients ask for it;
		// its own operationId, as code generators need them unique.
		"/api/": obj{"get": operation("Landing page (the same as /api).", "getLandingPageSlash",
			[]obj{f}, jsonResponse("The landing page.", mediaJSON), "400")},
		"/api/conformance": obj{"get": operation("Conformance classes implemented.", "getConformanceDeclaration",
			[]obj{f}, jsonResponse("The conformance declaration.", mediaJSON), "400")},
		"/api/collections": obj{"get": operation("The collections: incidents and every layer.", "getCollections",
			[]obj{f}, jsonResponse("The collections.", mediaJSON), "400", "503")},
		"/api/collections/{collectionId}": obj{"get": operation("One collection.", "describeCollection",
			[]obj{collectionID, f}, jsonResponse("The collection.", mediaJSON), "400", "404", "503")},
		"/api/collections/{collectionId}/items": obj{"get": operation("Features of a collection, streamed as GeoJSON, paged by cursor.", "getFeatures",
			itemsParams, jsonResponse("A GeoJSON FeatureCollection.", mediaGeoJSON), "400", "404", "503")},
		"/api/collections/{collectionId}/queryables": obj{"get": operation("What a filter may name, as JSON Schema (the incidents only).",
			"getQueryables", []obj{collectionID}, obj{"description": "JSON Schema of the queryables.",
				"content": obj{mediaJSONSchema: obj{"schema": obj{"type": "object"}}}}, "404")},
		"/api/collections/{collectionId}/items/{featureId}": obj{"get": operation("One feature.", "getFeature",
			[]obj{collectionID, featureIDParam(), f}, jsonResponse("A GeoJSON Feature.", mediaGeoJSON), "400", "404", "503")},
		"/api/openapi": obj{"get": operation("This API definition.", "getOpenAPI", nil, jsonResponse("OpenAPI 3.0 document.", mediaOpenAPI))},
		"/api/docs": obj{"get": obj{"summary": "Human-readable API documentation.", "operationId": "getDocs",
			"responses": obj{"200": obj{"description": "HTML page.", "content": obj{mediaHTML: obj{"schema": str()}}}}}},
	}
	for k, v := range core {
		paths[k] = v
	}
	doc["components"] = obj{
		"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer",
			"description": "Moderator or admin token from `incidentmap user add`."}},
		"schemas": obj{"Exception": obj{
			"type":     "object",
			"required": []string{"code"},
			"properties": obj{
				"code":        str(),
				"description": str(),
				"request_id":  str(),
				"errors": obj{"type": "array", "items": obj{"type": "object", "properties": obj{
					"field": str(), "message": str()}}},
			},
		}},
	}
	return doc
}

// writePaths documents reports, moderation, live updates and users.
func writePaths() obj {
	id := param("id", "path", "Id.", obj{"type": "integer", "format": "int64", "minimum": 1})
	secured := func(op obj) obj {
		op["security"] = []obj{{"bearer": []string{}}}
		resp := op["responses"].(obj)
		for code, text := range map[string]string{"401": "Missing, invalid or revoked token.", "403": "Role not allowed.", "429": "Too many failed sign-ins."} {
			resp[code] = obj{"description": text}
		}
		return op
	}
	body := func(description string) obj {
		return obj{"required": false, "content": obj{mediaJSON: obj{"schema": obj{"type": "object"}}}, "description": description}
	}
	withBody := func(op obj, b obj) obj { op["requestBody"] = b; return op }
	ok := func(description string) obj { return jsonResponse(description, mediaJSON) }
	invalid := obj{"description": "A well-formed body whose values are invalid (range, enum, time window): errors[] names each field.", "content": obj{mediaJSON: obj{"schema": obj{"$ref": "#/components/schemas/Exception"}}}}
	submit := operation("Submit a geotagged report (public). JSON: a GeoJSON Feature with a Point; or multipart/form-data from the browser form with up to 5 photos.",
		"submitReport", []obj{param("Idempotency-Key", "header", "Retries with the same key return the first answer.", str())}, ok("Unused."))
	delete(submit["responses"].(obj), "200")
	submit["responses"].(obj)["201"] = ok("Stored and committed; pending review. Location names the report; status_url is the receipt's \"check status\" link (GET /api/reports/{id}/status with its token), the same on a replay.")
	for code, text := range map[string]string{"409": "Idempotency-Key reused for a different report.", "413": "Body or photo too large.",
		"400": "A body that cannot be read as its media type (JSON syntax, invalid UTF-8 or a lone surrogate escape, nesting, a duplicate or unknown key): errors[] names where.",
		"415": "Not JSON or multipart/form-data, or a charset other than UTF-8.", "429": "Too many reports from this client; see Retry-After."} {
		submit["responses"].(obj)[code] = obj{"description": text}
	}
	submit["responses"].(obj)["422"] = invalid
	submit["requestBody"] = obj{"required": true, "content": obj{
		mediaJSON:             obj{"schema": obj{"type": "object"}},
		"multipart/form-data": obj{"schema": obj{"type": "object"}},
	}}
	paths := claimPaths(id, secured, invalid)
	maps.Copy(paths, obj{
		"/api/events": obj{"get": operation("Live incident changes as Server-Sent Events (incident.created, incident.updated, incident.retracted); Last-Event-ID resumes.",
			"getEvents", []obj{param("last_event_id", "query", "Resume after this event (or the Last-Event-ID header).", obj{"type": "integer"})},
			obj{"description": "An event stream.", "content": obj{"text/event-stream": obj{"schema": str()}}}, "400")},
		"/api/reports": obj{
			"post": submit,
			"get": secured(operation("Reports for moderation, with private fields.", "listReports", []obj{
				param("status", "query", "pending, verified or rejected.", str()),
				param("limit", "query", "1..500, default 100.", obj{"type": "integer"}),
				param("after", "query", "Reports with a larger id (paging).", obj{"type": "integer"}),
			}, ok("A FeatureCollection of reports."), "400")),
		},
		"/api/reports/{id}": obj{"get": secured(operation("One report with photos.", "getReport", []obj{id}, ok("The report."), "404"))},
		"/api/reports/{id}/photos/{n}": obj{"get": secured(operation("A report's photo: stripped of metadata, or the original with original=true.", "getReportPhoto",
			[]obj{id, param("n", "path", "Photo position, 1..5.", obj{"type": "integer"}), param("original", "query", "true for the upload as received.", str())},
			obj{"description": "The image."}, "404"))},
		"/api/reports/{id}/verify": obj{"post": secured(withBody(operation("Verify a pending report: create an incident (with optional corrections) or merge into merge_into.",
			"verifyReport", []obj{id}, ok("The incident id."), "404", "409"), body("Corrections (sources replaces those built from the report), merge_into, note.")))},
		"/api/reports/{id}/reject": obj{"post": secured(withBody(operation("Reject a pending report with a reason.", "rejectReport",
			[]obj{id}, ok("Rejected."), "404", "409"), body("{reason}")))},
		"/api/incidents/{id}": obj{
			"get": secured(operation("An incident with its ETag for If-Match.", "getIncident", []obj{id}, jsonResponse("The feature.", mediaGeoJSON), "404")),
			"patch": secured(withBody(operation("Edit an incident; If-Match with its ETag answers 412 if it changed.", "patchIncident",
				[]obj{id, param("If-Match", "header", "ETag from GET.", str())}, jsonResponse("The feature.", mediaGeoJSON), "404"), body("Fields to change; location is [lon, lat]; sources replaces the whole list (as the sources property)."))),
		},
		"/api/incidents/{id}/audit": obj{"get": secured(operation("The audit history of an incident.", "incidentAudit", []obj{id}, ok("Entries, newest first."), "404"))},
		"/api/audit": obj{"get": secured(operation("The audit log (admins).", "auditLog", []obj{
			param("target_type", "query", "report, incident or user.", str()),
			param("target_id", "query", "Target id.", obj{"type": "integer"}),
			param("limit", "query", "1..1000.", obj{"type": "integer"}),
			param("before", "query", "Entries with a smaller id.", obj{"type": "integer"}),
		}, ok("Entries, newest first."), "400"))},
		"/api/users": obj{
			"get":  secured(operation("Users (admins).", "listUsers", nil, ok("Users."))),
			"post": secured(withBody(operation("Add a user (admins); the token is shown once.", "createUser", nil, ok("The user and token."), "409"), body("{name, role}"))),
		},
		"/api/users/{name}": obj{"delete": secured(operation("Revoke a user's token (admins).", "revokeUser",
			[]obj{param("name", "path", "User name.", str())}, obj{"description": "Revoked."}, "404"))},
	})
	for k, v := range corroborationPaths(id, secured, func(op obj, description string) obj { return withBody(op, body(description)) }) {
		paths[k] = v
	}
	return paths
}

func (s *Server) openapi(c echo.Context) error {
	ctx, cancel := s.requestContext(c)
	defer cancel()
	layers, err := s.deps.Features.Layers(ctx)
	if err != nil {
		return err
	}
	host := c.Scheme() + "://" + c.Request().Host
	doc := openAPIDocument(host)
	paths := doc["paths"].(obj)
	for k, v := range collectionPaths(layers) {
		paths[k] = v
	}
	c.Response().Header().Set(echo.HeaderContentType, mediaOpenAPI)
	return c.JSON(http.StatusOK, relativeToAPI(doc, host))
}

// relativeToAPI makes the API root the document's server, with paths
// relative to it (/collections/incidents/items), as OGC clients expect:
// GDAL looks a collection's parameters up under the path it requests
// below the landing page. The few routes outside /api keep their own
// server.
func relativeToAPI(doc obj, host string) obj {
	paths := obj{}
	for k, v := range doc["paths"].(obj) {
		switch {
		case k == "/api" || k == "/api/":
			paths["/"] = v
		case strings.HasPrefix(k, "/api/"):
			paths[strings.TrimPrefix(k, "/api")] = v
		default:
			item := v.(obj)
			item["servers"] = []obj{{"url": host}}
			paths[k] = item
		}
	}
	doc["paths"] = paths
	doc["servers"] = []obj{{"url": host + "/api"}}
	return doc
}
