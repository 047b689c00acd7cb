package api

import (
	"slices"

	"github.com/incidentmap/incidentmap/geo"
)

// collectionPaths documents one items path (and one feature path) per
// collection, with the parameters that collection really takes, their
// types and enums, and the schema of its features. GIS clients read them:
// GDAL pushes an attribute filter to the server only when it finds a query
// parameter of that name on the collection's own path.
func collectionPaths(layers []geo.Layer) obj {
	paths := obj{}
	add := func(id, title string, params []obj, properties obj) {
		op := operation("Features of "+title+", streamed as GeoJSON, paged by cursor.", "getFeatures_"+id,
			params, featureCollectionResponse(properties), "400", "503")
		paths["/api/collections/"+id+"/items"] = obj{"get": op}
		one := operation("One feature of "+title+".", "getFeature_"+id,
			[]obj{featureIDParam(), formatParam("json", "html"), crsParam()}, featureResponse(properties), "400", "404", "503")
		paths["/api/collections/"+id+"/items/{featureId}"] = obj{"get": one}
	}
	add(incidentsCollection, "the incidents", incidentItemsParams(), incidentPropertySchemas())
	add(placesCollectionID, "the gazetteer", commonItemsParams(false, "json", "html"), obj{
		"name": str(), "ascii_name": str(), "country_code": str(), "admin1": str(),
		"population": obj{"type": "integer"},
	})
	for _, l := range layers {
		add(l.ID, l.Title, commonItemsParams(l.TimeProperty != "", "json", "html"), obj{})
	}
	return paths
}

func crsParam() obj {
	return param("crs", "query", "CRS of the geometries written (default CRS84; Content-Crs names it).",
		obj{"type": "string", "enum": geo.SupportedCRS()})
}

func featureIDParam() obj {
	return param("featureId", "path", "Feature id.", obj{"type": "integer", "format": "int64", "minimum": 1})
}

func formatParam(formats ...string) obj {
	return param("f", "query", "Output format (json is the default; html for browsers).", obj{"type": "string", "enum": formats})
}

// listOf is a comma-separated query parameter whose items are one of enum.
func listOf(name, description string, enum []string) obj {
	p := param(name, "query", description, obj{"type": "array", "items": obj{"type": "string", "enum": enum}})
	p["style"], p["explode"] = "form", false
	return p
}

// commonItemsParams are the parameters of every collection's items.
func commonItemsParams(datetime bool, formats ...string) []obj {
	// bbox is one comma-separated value (form, not exploded), as OGC API –
	// Features defines it; OpenAPI's default would repeat the parameter.
	bbox := param("bbox", "query", "minLon,minLat,maxLon,maxLat in CRS84 (or in bbox-crs); minLon > maxLon crosses the antimeridian.",
		obj{"type": "array", "items": obj{"type": "number"}, "minItems": 4, "maxItems": 6})
	bbox["style"], bbox["explode"] = "form", false
	ps := []obj{
		bbox,
		param("bbox-crs", "query", "CRS of bbox (default CRS84; EPSG:4326 is latitude first; EPSG:3857 in metres).",
			obj{"type": "string", "enum": geo.SupportedCRS()}),
		crsParam(),
		// maximum tells clients such as GDAL how large a page they may ask
		// for, so they do not page through a layer 10 features at a time.
		param("limit", "query", "Features per page (larger values are clamped).",
			obj{"type": "integer", "minimum": 1, "maximum": geo.ItemsMaxLimit, "default": geo.ItemsDefaultLimit}),
		param("cursor", "query", "Opaque paging position from a next or prev link.", str()),
		formatParam(formats...),
	}
	if datetime {
		ps = append(ps, param("datetime", "query",
			"RFC 3339 instant or closed interval a/b; '..' or empty for an open end; a date means its whole UTC day.", str()))
	}
	return ps
}

// incidentItemsParams are the parameters of the incidents' items.
func incidentItemsParams() []obj {
	ps := append(commonItemsParams(true, "json", "geojson", "csv", "html"),
		listOf("event_type", "ACLED event types.", geo.EventTypes()),
		listOf("sub_event_type", "ACLED sub-event types.", geo.SubEventTypes()),
		listOf("status", "Statuses (default verified,disputed,reported: all but retracted).", geo.IncidentStatuses()),
		minSourcesParam(),
		param("country", "query", "Comma-separated ISO 3166-1 alpha-2 codes.", str()),
		param("actor", "query", "Substring of actor1 or actor2.", str()),
		param("q", "query", "Full-text search in title, notes and location, and place names in any spelling.", str()),
		param("near_border_km", "query", "At most this many km from an international land border.", obj{"type": "number", "minimum": 0}),
		param("updated_since", "query", "RFC 3339 time: incidents created or changed at or after it (updated_at). "+
			"Retractions are not seen this way: mirrors follow /collections/incidents/changes.", obj{"type": "string", "format": "date-time"}),
		param("near_place", "query", "Gazetteer place id; with within_km (default 10).", obj{"type": "integer"}),
		param("within_km", "query", "Radius around near_place in km.", obj{"type": "number", "minimum": 0}),
		param("sortby", "query", "occurred_at or fatalities, prefixed with + or - (default -occurred_at).",
			obj{"type": "string", "enum": sortByValues()}),
		listOf("geo_check", "Where the derived geography disagrees with the source: country_mismatch, no_country.", geo.GeoChecks()),
		param("derived", "query", "f=csv only: true adds the derived columns (country by polygon, nearest place, border distance, geo_check, contested, duplicate_of: what a retracted duplicate was merged into).",
			obj{"type": "boolean"}),
		listOf("properties", "Property names to return (source_record only when named).",
			append(geo.IncidentProperties(), geo.IncidentOnRequestProperties()...)),
		param("filter", "query", "A CQL2 filter on the queryables (see /collections/incidents/queryables): "+
			"comparisons, LIKE, IN, BETWEEN, IS NULL, S_INTERSECTS/S_WITHIN/S_DWITHIN on geometry, T_* on any timestamp.", str()),
		// No schema default: clients that send every default (Swagger UI's
		// "Try it out") would send filter-lang without a filter, a 400.
		param("filter-lang", "query", "cql2-text (the default) or cql2-json; cql-text is read as cql2-text. Only with filter.",
			obj{"type": "string", "enum": geo.FilterLangs()}),
		param("filter-crs", "query", "Only "+crs84+".", obj{"type": "string", "enum": []string{crs84}}),
	)
	// Every other queryable as a parameter meaning equality (Part 1's
	// filtering on properties): GDAL treats a property as one it may send
	// to the server only when it finds it here.
	queryables := geo.IncidentQueryables()
	for _, name := range geo.IncidentPropertyParams() {
		schema := queryableSchema(name, queryables[name])
		delete(schema, "x-ogc-role")
		ps = append(ps, param(name, "query", "Incidents whose "+name+" equals this value.", schema))
	}
	return ps
}

func sortByValues() []string {
	var out []string
	for _, f := range geo.IncidentSortFields() {
		out = append(out, f, "+"+f, "-"+f)
	}
	return out
}

// incidentPropertyTypes gives each public incident property its schema;
// a property missing here is documented as a string (a test insists none is).
var incidentPropertyTypes = map[string]obj{
	"external_id": str(), "occurred_at": {"type": "string", "format": "date-time"},
	"time_precision": {"type": "integer", "enum": []int{1, 2, 3}}, "event_type": {"type": "string", "enum": geo.EventTypes()},
	"sub_event_type": {"type": "string", "enum": geo.SubEventTypes()}, "actor1": str(), "actor2": str(),
	"fatalities": {"type": "integer", "minimum": 0}, "title": str(), "notes": str(), "location_name": str(),
	"geo_precision": {"type": "integer", "enum": []int{1, 2, 3}}, "status": {"type": "string", "enum": geo.IncidentStatuses()},
	"sources":   {"type": "array", "items": sourceSchema()},
	"report_id": {"type": "integer", "nullable": true}, "country_code": {"type": "string", "nullable": true},
	"admin1": str(), "nearest_place_id": {"type": "integer", "nullable": true},
	"nearest_place_name":       {"type": "string", "nullable": true},
	"nearest_place_distance_m": {"type": "number", "nullable": true}, "border_distance_m": {"type": "number", "nullable": true},
	"demo": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"},
	"updated_at": {"type": "string", "format": "date-time"},
	// Stated by the source, as given.
	"country": str(), "iso": str(), "stated_country_code": {"type": "string", "nullable": true},
	"admin2": str(), "admin3": str(), "original_event_type": str(), "original_sub_event_type": str(),
	"source_dataset": str(),
	"source_record":  {"type": "object", "additionalProperties": obj{"type": "string"}},
	// Derived.
	"geo_check":           {"type": "array", "items": obj{"type": "string", "enum": geo.GeoChecks()}},
	"independent_sources": {"type": "integer", "minimum": 0},
	"contested": {"type": "boolean", "description": "The claims conflict: an asserts or attributes_to and a denies, two parties blaming each other, " +
		"or a party blaming another while a different party declines to confirm (no_comment)."},
	// A merged duplicate: where it went (single features; lists with status=retracted).
	"duplicate_of": {"type": "integer", "nullable": true, "description": "On a retracted incident a moderator merged into another as its duplicate: " +
		"that incident's id (null otherwise). A single feature carries it, and lists that ask for status=retracted."},
	// Claims per party (public form: no version); lists carry them with properties=claims.
	"claims": {"type": "array", "items": obj{"type": "object", "properties": obj{
		"id": obj{"type": "integer"}, "party": str(), "actor_code": obj{"type": "string", "nullable": true},
		"stance": obj{"type": "string", "enum": geo.ClaimStances()}, "attributed_to": obj{"type": "string", "nullable": true},
		"text": str(), "claimed_at": obj{"type": "string", "format": "date-time", "nullable": true},
		"source": obj{"type": "object", "properties": obj{"name": str(), "url": obj{"type": "string", "format": "uri"}}}}}},
}

func incidentPropertySchemas() obj {
	props := obj{}
	for _, name := range append(geo.IncidentProperties(), geo.IncidentOnRequestProperties()...) {
		if s, ok := incidentPropertyTypes[name]; ok {
			props[name] = s
		} else {
			props[name] = str()
		}
	}
	return props
}

// featureSchema is a GeoJSON Feature whose properties are properties.
func featureSchema(properties obj) obj {
	return obj{"type": "object", "required": []string{"type", "geometry", "properties"}, "properties": obj{
		"type":       obj{"type": "string", "enum": []string{"Feature"}},
		"id":         obj{"type": "integer"},
		"geometry":   obj{"type": "object", "nullable": true},
		"properties": obj{"type": "object", "properties": properties},
	}}
}

func featureResponse(properties obj) obj {
	return obj{"description": "A GeoJSON Feature.", "content": obj{mediaGeoJSON: obj{"schema": featureSchema(properties)}}}
}

func featureCollectionResponse(properties obj) obj {
	return obj{"description": "A GeoJSON FeatureCollection.", "content": obj{mediaGeoJSON: obj{"schema": obj{
		"type": "object", "required": []string{"type", "features"}, "properties": obj{
			"type":           obj{"type": "string", "enum": []string{"FeatureCollection"}},
			"features":       obj{"type": "array", "items": featureSchema(properties)},
			"numberMatched":  obj{"type": "integer", "minimum": 0},
			"numberReturned": obj{"type": "integer", "minimum": 0},
			"timeStamp":      obj{"type": "string", "format": "date-time"},
			"links":          obj{"type": "array", "items": obj{"type": "object"}},
		}}}}}
}

// undocumentedIncidentProperties lists public properties without a schema
// of their own, for the test that keeps the two lists in step.
func undocumentedIncidentProperties() []string {
	var out []string
	for _, name := range geo.IncidentProperties() {
		if _, ok := incidentPropertyTypes[name]; !ok {
			out = append(out, name)
		}
	}
	return slices.Clip(out)
}
