package geo

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// checkFuzzRow fails unless row is consistent: errors carry its line and a
// reason; a row without errors holds an incident the incidents table
// accepts.
func checkFuzzRow(t *testing.T, row IncidentRow) {
	t.Helper()
	if row.Line < 2 {
		t.Fatalf("row on line %d, before the first record", row.Line)
	}
	for _, e := range row.Errors {
		if e.Line != row.Line || e.Reason == "" {
			t.Fatalf("row error %+v of row on line %d", e, row.Line)
		}
	}
	if len(row.Errors) == 0 {
		if errs := ValidateImportedIncident(&row.Incident, row.Line); len(errs) > 0 {
			t.Fatalf("valid row %+v fails validation: %v", row.Incident, errs)
		}
	}
}

// roundTrips fails unless inc, written in its own layout, reads back equal
// (fields, stated values, provenance and source record).
// Carriage returns are left out: CSV readers turn "\r\n" inside a quoted
// field into "\n".
func roundTrips(t *testing.T, inc Incident) {
	t.Helper()
	for _, s := range []string{inc.Actor1, inc.Actor2, inc.Notes, inc.LocationName, inc.Admin1, inc.Title} {
		if strings.ContainsRune(s, '\r') {
			return
		}
	}
	var b bytes.Buffer
	layout := NewACLEDLayout()
	layout.Observe(&inc)
	w := NewACLEDColumnsWriter(&b, layout.Columns())
	if err := errors.Join(w.WriteHeader(), w.Write(&inc), w.Flush()); err != nil {
		t.Fatalf("write %+v: %v", inc, err)
	}
	r, err := NewACLEDReader(&b)
	if err != nil {
		t.Fatalf("read back the header: %v", err)
	}
	row, err := r.Next()
	if err != nil || len(row.Errors) > 0 {
		t.Fatalf("read back %+v: %v %v", inc, err, row.Errors)
	}
	// The data set is told by the header: incidentmap's own columns are
	// written only when a row needs them.
	row.Incident.SourceDataset = inc.SourceDataset
	if !incidentsEqualFull(row.Incident, inc) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", row.Incident, inc)
	}
}

// FuzzParseACLEDFile reads arbitrary CSV bodies under a full ACLED header:
// no panic, every row consistent, every valid row round-trips.
func FuzzParseACLEDFile(f *testing.F) {
	f.Add("AZE4521,18 October 2020,2020,1,Political violence,Explosions/Remote violence,Shelling/artillery/missile attack," +
		"Military Forces of Armenia (2018-),,1,Civilians (Azerbaijan),,7,17,Civilian targeting,31,Caucasus and Central Asia," +
		"Azerbaijan,Ganja,,,Ganja,40.6828,46.3606,1,Azerbaijani Ministry of Defence; Reuters,National,\"Missile strike, 13 killed\",13,,1603065600\n")
	f.Add("ARM1,2020-10-18,,,,battles,armed CLASH,,,,,,,,,,,,,,,Goris,39.5111,46.3381,,,,,,,\n")
	f.Add("X,2020-13-45,,9,,Skirmish,,,,,,,,,,,,,,,,,95,-181,0,,,,-1,,\n")
	f.Add("\"a\"b\",c\n\n,,,\n")
	f.Add("'=x,2020-10-18,,,,Riots,Mob violence,'+cmd,,,'@SUM(1),,,,,,,,'\tx,,,'-1,-0,-0.0,3,;;,,\"\",0,,\n")
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 1<<16 {
			return
		}
		r, err := NewACLEDReader(strings.NewReader(strings.Join(acledColumns, ",") + "\n" + body))
		if err != nil {
			t.Fatalf("header: %v", err)
		}
		for range 1000 {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				return // I/O-level CSV errors end the file
			}
			checkFuzzRow(t, row)
			if len(row.Errors) == 0 {
				roundTrips(t, row.Incident)
			}
		}
	})
}

// FuzzParseACLEDRow feeds arbitrary values to the columns that carry
// meaning: no panic, errors name real columns, valid rows are valid
// incidents and round-trip.
func FuzzParseACLEDRow(f *testing.F) {
	f.Add("AZE4521", "18 October 2020", "Explosions/Remote violence", "Shelling/artillery/missile attack", "40.6828", "46.3606", "13", "1", "1", "Ganja", "A; B", "notes", "")
	f.Add("ARM1", "2020-10-18", "protests", "", "-33.4569", "-70.6483", "", "", "", "", "", "-1+1", "2020-10-18T04:30:00Z")
	f.Add("", "18-Oct-2020", "Battles", "Agreement", "95", "181", "-1", "4", "0", "\x00", "\xff", "=HYPERLINK()", "bad")
	f.Add(" id ", "29 February 2020", "Riots", "mob violence", "1e2", "+1.5", "007", " 2 ", "3", "\tx", ";", "'=x", "2020-02-29T23:00:00-02:00")
	f.Fuzz(func(t *testing.T, id, date, eventType, sub, lat, lon, fatalities, tp, gp, loc, source, notes, occurredAt string) {
		header := []string{"event_id_cnty", "event_date", "event_type", "sub_event_type", "latitude", "longitude",
			"fatalities", "time_precision", "geo_precision", "location", "source", "notes", "occurred_at"}
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(header)
		w.Write([]string{id, date, eventType, sub, lat, lon, fatalities, tp, gp, loc, source, notes, occurredAt})
		w.Flush()
		r, err := NewACLEDReader(&b)
		if err != nil {
			t.Fatalf("header: %v", err)
		}
		for {
			row, err := r.Next()
			if err != nil {
				return
			}
			checkFuzzRow(t, row)
			for _, e := range row.Errors {
				if e.Column != "" && !slices.Contains(header, e.Column) {
					t.Fatalf("error names unknown column %q", e.Column)
				}
			}
			if len(row.Errors) == 0 {
				roundTrips(t, row.Incident)
			}
		}
	})
}
