package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"
)

// checkMergedDuplicate checks what the public and mirrors see of incident
// dup once it was merged into inc: duplicate_of in its single feature, in
// items with status=retracted and in its changes-feed tombstone, none on
// the survivor; and report (verified into dup) now belongs to inc.
func checkMergedDuplicate(t *testing.T, ts *testServer, inc, dup, report int64) {
	t.Helper()
	type feature struct {
		ID         int64          `json:"id"`
		Properties map[string]any `json:"properties"`
	}
	var one feature
	getJSON(t, fmt.Sprintf("%s/api/collections/incidents/items/%d", ts.URL, dup), &one)
	if one.Properties["status"] != "retracted" || one.Properties["duplicate_of"] != float64(inc) {
		t.Errorf("duplicate's feature: status %v, duplicate_of %v; want retracted, %d", one.Properties["status"], one.Properties["duplicate_of"], inc)
	}
	var survivor feature
	getJSON(t, fmt.Sprintf("%s/api/collections/incidents/items/%d", ts.URL, inc), &survivor)
	if v, ok := survivor.Properties["duplicate_of"]; !ok || v != nil {
		t.Errorf("survivor's duplicate_of = %v (present %v), want null", v, ok)
	}
	var list struct{ Features []feature }
	getJSON(t, ts.URL+"/api/collections/incidents/items?status=retracted", &list)
	if len(list.Features) != 1 || list.Features[0].ID != dup || list.Features[0].Properties["duplicate_of"] != float64(inc) {
		t.Errorf("items?status=retracted = %+v, want incident %d with duplicate_of %d", list.Features, dup, inc)
	}
	var public struct{ Features []feature }
	getJSON(t, ts.URL+"/api/collections/incidents/items", &public)
	for _, f := range public.Features {
		if _, ok := f.Properties["duplicate_of"]; ok {
			t.Errorf("default items: incident %d carries duplicate_of, want it only with status=retracted", f.ID)
		}
	}
	var changes struct {
		Features []struct {
			feature
			Geometry json.RawMessage `json:"geometry"`
		}
	}
	getJSON(t, ts.URL+"/api/collections/incidents/changes?since=0", &changes)
	found := false
	for _, f := range changes.Features {
		if f.ID == dup {
			found = true
			if string(f.Geometry) != "null" || f.Properties["duplicate_of"] != float64(inc) {
				t.Errorf("duplicate's tombstone = geometry %s, properties %v; want null and duplicate_of %d", f.Geometry, f.Properties, inc)
			}
		}
		if _, ok := f.Properties["duplicate_of"]; f.ID == inc && ok {
			t.Errorf("survivor's change carries duplicate_of: %v", f.Properties)
		}
	}
	if !found {
		t.Errorf("changes feed has no tombstone of incident %d", dup)
	}
	// A CSV export of retractions says which were duplicates, and of what.
	rows, err := csv.NewReader(bytes.NewReader(getOK(t, ts.URL+"/api/collections/incidents/items?f=csv&derived=true&status=retracted"))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV of retractions: %v, %d rows, want a header and one row", err, len(rows))
	}
	if col := slices.Index(rows[0], "duplicate_of"); col < 0 || rows[1][col] != strconv.FormatInt(inc, 10) || rows[1][slices.Index(rows[0], "id")] != strconv.FormatInt(dup, 10) {
		t.Errorf("CSV of retractions: header %v, row %v; want incident %d with duplicate_of %d", rows[0], rows[1], dup, inc)
	}
	// A browser following the live stream learns where the duplicate went.
	events, stop := openEvents(t, ts.URL, "Last-Event-ID: 0")
	defer stop()
	for {
		e := nextEvent(t, events, 10*time.Second)
		if e.event != "incident.retracted" {
			continue
		}
		var live feature
		if err := json.Unmarshal([]byte(e.data), &live); err != nil || live.ID != dup {
			t.Fatalf("retraction event %s: %v, want incident %d", e.data, err, dup)
		}
		if live.Properties["status"] != "retracted" || live.Properties["duplicate_of"] != float64(inc) {
			t.Errorf("live retraction of the duplicate = %v, want status retracted, duplicate_of %d", live.Properties, inc)
		}
		break
	}
	var moved int64
	ts.DB.SQL().QueryRow(`SELECT incident_id FROM reports WHERE id = $1`, report).Scan(&moved)
	if moved != inc {
		t.Errorf("report %d (verified into the duplicate) belongs to incident %d after the merge, want %d", report, moved, inc)
	}
	var note string
	ts.DB.SQL().QueryRow(`SELECT note FROM audit_log WHERE target_type = 'incident' AND target_id = $1 AND action = 'incident.merge'`, inc).Scan(&note)
	if want := fmt.Sprintf("merged duplicate incident %d; its report %d now points here: same event", dup, report); note != want {
		t.Errorf("merge audit note = %q, want %q", note, want)
	}
}
