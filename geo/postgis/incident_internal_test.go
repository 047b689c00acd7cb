package postgis

import (
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// The feature expression of every public property is built once per CRS,
// the same as built afresh, and costs a list request nothing.
func TestIncidentDefaultFeatureSQL(t *testing.T) {
	for _, crs := range []geo.CRS{geo.CRS84, geo.EPSG4326, geo.EPSG3857} {
		got, err := incidentFeatureSQL(nil, crs)
		if err != nil {
			t.Fatal(err)
		}
		want, err := incidentFeatureJSON(nil, crs)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("CRS %d: cached feature SQL differs from a fresh one:\n%s\nwant\n%s", crs, got, want)
		}
	}
	if allocs := testing.AllocsPerRun(50, func() { _, _ = incidentFeatureSQL(nil, geo.CRS84) }); allocs != 0 {
		t.Errorf("default feature SQL: %.0f allocations per request, want 0", allocs)
	}
	// A property list is still honoured.
	some, err := incidentFeatureSQL([]string{"title"}, geo.CRS84)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := incidentFeatureJSON([]string{"title"}, geo.CRS84); some != want {
		t.Errorf("feature SQL of properties=title: got %s, want %s", some, want)
	}
}
