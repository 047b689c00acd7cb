package api

import "github.com/incidentmap/incidentmap/geo"

// sourceSchema is one source of an incident (geo.Source) as published.
func sourceSchema() obj {
	return obj{"type": "object", "properties": obj{
		"url":       obj{"type": "string", "format": "uri", "description": "The source (http or https)."},
		"publisher": obj{"type": "string", "maxLength": geo.MaxSourcePublisher, "description": "Who published it."},
		"title":     obj{"type": "string", "maxLength": geo.MaxSourceTitle},
		"published_at": obj{"type": "string", "description": "YYYY-MM-DD or RFC 3339 date-time; only when the source says " +
			"(never guessed)."},
		"accessed_at": obj{"type": "string", "description": "When it was read: YYYY-MM-DD or RFC 3339 date-time."},
		"archive_url": obj{"type": "string", "format": "uri", "description": "An archived copy (http or https)."},
		"sha256":      obj{"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the archived copy."},
		"kind":        obj{"type": "string", "enum": geo.SourceKinds()},
	}}
}

// minSourcesParam is the items' min_sources parameter.
func minSourcesParam() obj {
	return param("min_sources", "query", "At least this many independent sources (distinct publishers, case and spacing "+
		"ignored; a source without publisher counts as its URL's host unless a source with a publisher has that host; "+
		"the report an incident was verified from counts as one).",
		obj{"type": "integer", "minimum": 0, "maximum": geo.MaxMinSources})
}
