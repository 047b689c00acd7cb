package api

import "github.com/incidentmap/incidentmap/geo"

// claimSchema is a claim as moderators send and read it.
func claimSchema() obj {
	return obj{"type": "object", "properties": obj{
		"id":            obj{"type": "integer", "readOnly": true},
		"party":         obj{"type": "string", "maxLength": geo.MaxClaimParty, "description": "Who makes the claim."},
		"actor_code":    obj{"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,50}$", "description": "Optional short code of the party."},
		"stance":        obj{"type": "string", "enum": geo.ClaimStances()},
		"attributed_to": obj{"type": "string", "maxLength": geo.MaxClaimParty, "description": "The party blamed; only with stance attributes_to."},
		"text":          obj{"type": "string", "maxLength": geo.MaxClaimText},
		"claimed_at":    obj{"type": "string", "format": "date-time", "nullable": true, "description": "When the party said it, only when the source says."},
		"source": obj{"type": "object", "description": "Where the claim is reported: url, name or both.", "properties": obj{
			"name": obj{"type": "string", "maxLength": geo.MaxClaimSourceName},
			"url":  obj{"type": "string", "format": "uri", "description": "http or https."}}},
		"version": obj{"type": "integer", "readOnly": true, "description": "Send as If-Match \"v<version>\" to edit."},
	}}
}

// claimPaths documents the moderators' claim endpoints.
func claimPaths(id obj, secured func(obj) obj, invalid obj) obj {
	claimID := param("claim", "path", "Claim id.", obj{"type": "integer", "format": "int64", "minimum": 1})
	ifMatch := param("If-Match", "header", `The claim's ETag ("v<version>"); 412 if it changed.`, str())
	claimBody := func(required bool) obj {
		return obj{"required": required, "content": obj{mediaJSON: obj{"schema": claimSchema()}},
			"description": "A claim: party, stance and text required, and a source; PATCH sends only the fields to change."}
	}
	claimResponse := obj{"description": "The claim; ETag is its version.", "content": obj{mediaJSON: obj{"schema": claimSchema()}}}
	withErrors := func(op obj, codes ...string) obj {
		r := op["responses"].(obj)
		texts := map[string]string{"400": "A body that cannot be read (JSON syntax, an unknown or duplicate key).",
			"412": "If-Match names an older version.", "415": "Not application/json."}
		for _, c := range codes {
			r[c] = obj{"description": texts[c]}
		}
		r["422"] = invalid
		return op
	}
	add := withErrors(operation("Add a claim by one party to an incident (moderators): who says what, with its source. "+
		"The incident's contested flag and version follow; incident.updated goes out.", "addClaim", []obj{id}, claimResponse, "404"), "400", "415")
	delete(add["responses"].(obj), "200")
	add["responses"].(obj)["201"] = claimResponse
	add["requestBody"] = claimBody(true)
	patch := withErrors(operation("Edit a claim (moderators).", "patchClaim", []obj{id, claimID, ifMatch}, claimResponse, "404"), "400", "412", "415")
	patch["requestBody"] = claimBody(false)
	del := operation("Delete a claim (moderators).", "deleteClaim", []obj{id, claimID, ifMatch}, obj{"description": "Unused."}, "404")
	delete(del["responses"].(obj), "200")
	del["responses"].(obj)["204"] = obj{"description": "Deleted."}
	del["responses"].(obj)["412"] = obj{"description": "If-Match names an older version."}
	list := operation("An incident's claims with their versions, and whether they conflict (moderators; retracted incidents too).", "listClaims",
		[]obj{id}, obj{"description": "The claims.", "content": obj{mediaJSON: obj{"schema": obj{"type": "object", "properties": obj{
			"incident_id": obj{"type": "integer"}, "contested": obj{"type": "boolean"},
			"claims": obj{"type": "array", "items": claimSchema()}}}}}}, "404")
	return obj{
		"/api/incidents/{id}/claims":         obj{"get": secured(list), "post": secured(add)},
		"/api/incidents/{id}/claims/{claim}": obj{"patch": secured(patch), "delete": secured(del)},
	}
}
