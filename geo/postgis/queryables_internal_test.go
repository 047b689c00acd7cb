package postgis

import (
	"maps"
	"slices"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// Every queryable the domain offers has SQL here, and nothing else does:
// the two lists change together.
func TestIncidentQueryablesHaveSQL(t *testing.T) {
	domain := slices.Sorted(maps.Keys(geo.IncidentQueryables()))
	store := slices.Sorted(maps.Keys(incidentQueryableSQL))
	if !slices.Equal(domain, store) {
		t.Errorf("geo.IncidentQueryables() %v\nincidentQueryableSQL     %v", domain, store)
	}
}
