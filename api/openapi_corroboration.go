package api

// corroborationPaths documents the moderators' corroboration candidates
// and merges; id, secured and withBody are writePaths' helpers.
func corroborationPaths(id obj, secured func(obj) obj, withBody func(op obj, description string) obj) obj {
	window := []obj{
		id,
		param("km", "query", "Distance in km, above 0 and at most 100; default the server's --corroboration-km (5).", obj{"type": "number"}),
		param("hours", "query", "Hours either side, above 0 and at most 720; default the server's --corroboration-hours (24).", obj{"type": "number"}),
	}
	list := func(what, opID string) obj {
		op := operation("Pending reports and public incidents near this "+what+" in space and time, nearest first (at most 50): "+
			"kind (report or incident), id, title, status, occurred_at, distance_m, hours_apart, geometry, and an incident's version for merging.",
			opID, window, jsonResponse("{km, hours, candidates: [...]}; for an incident also its own version, for merges into it.", mediaJSON), "400", "404")
		op["responses"].(obj)["422"] = obj{"description": "km or hours out of bounds."}
		return secured(op)
	}
	conflict := func(op obj, text string) obj {
		op["responses"].(obj)["409"] = obj{"description": text}
		op["responses"].(obj)["422"] = obj{"description": "Missing or invalid ids, version or note: errors[] names each field."}
		return op
	}
	return obj{
		"/api/reports/{id}/candidates":   obj{"get": list("report", "reportCandidates")},
		"/api/incidents/{id}/candidates": obj{"get": list("incident", "incidentCandidates")},
		"/api/reports/{id}/merge": obj{"post": secured(withBody(conflict(operation(
			"Attach a pending report to an incident as corroboration: the report is verified into it, its links become the incident's sources; audited, and a live incident.updated event.",
			"mergeReport", []obj{id}, jsonResponse("{report_id, status, incident_id, version}: the incident's new version.", mediaJSON), "404"),
			"The report is no longer pending, or the incident is retracted or no longer at version: the description says which."),
			"{incident_id, version, note}: version is the incident's version as read (a candidate's version, or the ETag's number)."))},
		"/api/incidents/{id}/merge": obj{"post": secured(withBody(conflict(operation(
			"Merge a duplicate incident into this one: the duplicate is retracted with duplicate_of set to this id, its sources not already here are added; both audited.",
			"mergeIncidents", []obj{id}, jsonResponse("{incident_id, duplicate_id, version}: this incident's new version.", mediaJSON), "404"),
			"Either incident is retracted, or this one is no longer at version."),
			"{duplicate_id, version (optional), note}."))},
	}
}
