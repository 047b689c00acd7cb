package api

import "testing"

// Every public incident property has a schema of its own in the OpenAPI
// document: the two lists must change together.
func TestIncidentPropertiesDocumented(t *testing.T) {
	if missing := undocumentedIncidentProperties(); len(missing) > 0 {
		t.Errorf("incident properties without an OpenAPI schema (add them to incidentPropertyTypes): %v", missing)
	}
}
