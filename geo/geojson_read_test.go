package geo

import (
	"maps"
	"strings"
	"testing"
)

// A GeoJSON export's provenance, stated geography, original type and
// source record read back.
func TestGeoJSONIncidentReaderProvenance(t *testing.T) {
	feature := strings.NewReplacer(`"external_id":"AZE1000"`, `"external_id":"AZE1166","country":"Azerbaijan","iso":31,`+
		`"admin2":"Tartar","admin3":null,"source_dataset":"ACLED","source_file":"acled-2020.csv",`+
		`"original_event_type":"Remote violence","original_sub_event_type":null,`+
		`"source_record":{"event_date":"16-October-2020","inter1":"1","region":"Caucasus and Central Asia"}`,
		`"event_type":"Explosions/Remote violence","sub_event_type":"Air/drone strike"`, `"event_type":"Explosions/Remote violence","sub_event_type":null`,
	).Replace(geojsonFeatureOK)
	rows, err := readGeoJSON(t, `{"type":"FeatureCollection","features":[`+feature+`,`+geojsonFeatureOK+`]}`)
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %+v, err %v", rows, err)
	}
	inc := rows[0].Incident
	if len(rows[0].Errors) > 0 || inc.StatedCountry != "Azerbaijan" || inc.StatedISO != "31" || inc.StatedCountryCode != "AZ" ||
		inc.Admin2 != "Tartar" || inc.SourceDataset != DatasetACLED || inc.SourceFile != "acled-2020.csv" ||
		inc.OriginalEventType != "Remote violence" || inc.EventType != "Explosions/Remote violence" ||
		!maps.Equal(inc.SourceRecord, map[string]string{"event_date": "16-October-2020", "inter1": "1", "region": "Caucasus and Central Asia"}) {
		t.Errorf("feature 1 = %+v", rows[0])
	}
	if got := rows[1].Incident.SourceDataset; got != DatasetGeoJSON {
		t.Errorf("feature without source_dataset: %q, want GeoJSON", got)
	}

	for prop, bad := range map[string]string{"source_record": `["x"]`, "iso": `true`, "country": `3`} {
		f := strings.Replace(geojsonFeatureOK, `"external_id":"AZE1000"`, `"external_id":"AZE1000","`+prop+`":`+bad, 1)
		rows, err := readGeoJSON(t, `{"type":"FeatureCollection","features":[`+f+`]}`)
		if err != nil || len(rows) != 1 || len(rows[0].Errors) != 1 || rows[0].Errors[0].Column != "properties."+prop {
			t.Errorf("%s = %s: rows %+v, err %v", prop, bad, rows, err)
		}
	}
}
