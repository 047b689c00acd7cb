package geo

import (
	"strings"
	"testing"
)

// Imports take sources as the API does: ACLED's source column as one
// source per publisher, kind left unknown; a GeoJSON file's sources
// checked field by field, a javascript: link refused.
func TestImportedSources(t *testing.T) {
	row := acledTestRow()
	row["source"] = "Armenian Ministry of Defence; Azatutyun;  "
	rows := readACLED(t, acledText(nil, row))
	want := []Source{{Publisher: "Armenian Ministry of Defence"}, {Publisher: "Azatutyun"}}
	if got := rows[0].Incident.Sources; len(rows[0].Errors) > 0 || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ACLED sources = %+v (errors %v), want %+v", got, rows[0].Errors, want)
	}
	row["source"] = strings.Repeat("p", MaxSourcePublisher+1)
	rows = readACLED(t, acledText(nil, row))
	if errs := rows[0].Errors; len(errs) != 1 || errs[0].Column != "source" || errs[0].Kind != KindBadSources {
		t.Errorf("ACLED publisher of %d characters: errors %+v, want one on source", MaxSourcePublisher+1, errs)
	}

	bad := strings.Replace(geojsonFeatureOK, `"sources":[{"name":"MoD","date":"2020-10-18"}]`,
		`"sources":[{"publisher":"x","url":"javascript:alert(1)"},{"name":"MoD","kind":"rumour"},{"publisher":"ok","kind":"ngo"}]`, 1)
	got, err := readGeoJSON(t, `{"type":"FeatureCollection","features":[`+bad+`]}`)
	if err != nil || len(got) != 1 {
		t.Fatalf("rows %d, err %v", len(got), err)
	}
	var reasons []string
	for _, e := range got[0].Errors {
		if e.Column != "properties.sources" || e.Kind != KindBadSources {
			t.Errorf("error %+v, want on properties.sources, kind %q", e, KindBadSources)
		}
		reasons = append(reasons, e.Reason)
	}
	if len(reasons) != 2 || !strings.HasPrefix(reasons[0], "sources[0].url: not an absolute URL") ||
		!strings.HasPrefix(reasons[1], "sources[1].kind: unknown kind") {
		t.Errorf("reasons %q, want sources[0].url and sources[1].kind", reasons)
	}
}
