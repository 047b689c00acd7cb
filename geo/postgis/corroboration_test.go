package postgis_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

var corroborationT0 = time.Date(2020, 10, 18, 0, 30, 0, 0, time.UTC)

// addReport inserts a pending report at lon/lat, hours after corroborationT0.
func addReport(t *testing.T, db *postgis.DB, lon, lat, hours float64) int64 {
	t.Helper()
	var id int64
	err := db.SQL().QueryRow(`INSERT INTO reports (geom, occurred_at, event_type, description, location_name, source_urls)
		VALUES (ST_SetSRID(ST_MakePoint($1, $2), 4326), $3, 'Explosions/Remote violence', 'Shelling heard near the river.', 'Jabrayil',
		ARRAY['https://example.org/' || $4::text]) RETURNING id`,
		lon, lat, corroborationT0.Add(time.Duration(hours*float64(time.Hour))), lon).Scan(&id)
	if err != nil {
		t.Fatalf("insert report: %v", err)
	}
	return id
}

func candidateIDs(cs []geo.Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Kind + ":" + itoa(c.ID)
	}
	return out
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestCorroborationCandidates(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	w := geo.DefaultCorroborationWindow()
	// 0.018° of latitude is 2.0 km; 0.45° is 50 km.
	a := addReport(t, db, 47.03, 39.40, 0)
	b := addReport(t, db, 47.03, 39.418, 3)     // 2 km, 3 h
	far := addReport(t, db, 47.03, 39.85, 0)    // 50 km
	late := addReport(t, db, 47.03, 39.405, 30) // 0.6 km, 30 h
	near := addReport(t, db, 47.03, 39.409, -1) // 1 km, 1 h before

	got, err := db.ReportCandidates(ctx, a, w)
	if err != nil {
		t.Fatal(err)
	}
	ids := candidateIDs(got)
	want := []string{"report:" + itoa(near), "report:" + itoa(b)}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("candidates of report %d = %v, want %v (nearest first; not the 50 km or the 30 h one)", a, ids, want)
	}
	if c := got[1]; c.DistanceM < 1950 || c.DistanceM > 2050 || c.HoursApart < 2.99 || c.HoursApart > 3.01 {
		t.Errorf("report %d as candidate: %.0f m, %.2f h apart, want about 2000 m and 3 h", b, c.DistanceM, c.HoursApart)
	}
	back, err := db.ReportCandidates(ctx, b, w)
	if err != nil {
		t.Fatal(err)
	}
	if ids := candidateIDs(back); !contains(ids, "report:"+itoa(a)) {
		t.Errorf("candidates of report %d = %v, want report %d among them", b, ids, a)
	}
	wide, err := db.ReportCandidates(ctx, a, geo.CorroborationWindow{Km: 60, Hours: 48})
	if err != nil {
		t.Fatal(err)
	}
	if ids := candidateIDs(wide); !contains(ids, "report:"+itoa(far)) || !contains(ids, "report:"+itoa(late)) {
		t.Errorf("candidates within 60 km and 48 h = %v, want the 50 km and 30 h reports too", ids)
	}

	// A published incident is a candidate of a report, and a report of an
	// incident; a decided report and a retracted incident are not.
	inc, err := db.VerifyReport(ctx, near, geo.Verification{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = db.ReportCandidates(ctx, a, w)
	if ids := candidateIDs(got); !contains(ids, "incident:"+itoa(inc)) || contains(ids, "report:"+itoa(near)) {
		t.Errorf("after verifying report %d into incident %d, candidates of %d = %v", near, inc, a, ids)
	}
	got, err = db.IncidentCandidates(ctx, inc, w)
	if err != nil {
		t.Fatal(err)
	}
	if ids := candidateIDs(got); !contains(ids, "report:"+itoa(a)) || contains(ids, "incident:"+itoa(inc)) {
		t.Errorf("candidates of incident %d = %v, want report %d and not itself", inc, ids, a)
	}
	if _, err := db.SQL().Exec(`UPDATE incidents SET status = 'retracted' WHERE id = $1`, inc); err != nil {
		t.Fatal(err)
	}
	got, _ = db.ReportCandidates(ctx, a, w)
	if ids := candidateIDs(got); contains(ids, "incident:"+itoa(inc)) {
		t.Errorf("a retracted incident is still a candidate: %v", ids)
	}
	if _, err := db.ReportCandidates(ctx, 999999, w); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("candidates of a missing report: err = %v, want ErrNotFound", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The candidate search reads the geography indexes of migration 00014,
// not every row: EXPLAIN on 5,000 incidents and reports spread over the
// region.
func TestCorroborationUsesIndexes(t *testing.T) {
	db := openTestDB(t)
	const n = 5000
	tx, err := db.SQL().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		// As a bulk import does: no live event per row.
		`SET LOCAL incidentmap.bulk = 'on'`,
		`INSERT INTO incidents (occurred_at, event_type, title, geom)
			SELECT timestamptz '2020-01-01' + n * interval '37 minutes', 'Battles', 'clash ' || n,
				ST_SetSRID(ST_MakePoint(44 + mod(n, 200) * 0.03, 38 + (n / 200) * 0.03), 4326)
			FROM generate_series(1, $1::int) n`,
		`INSERT INTO reports (geom, occurred_at, event_type, description)
			SELECT ST_SetSRID(ST_MakePoint(44 + mod(n, 200) * 0.03, 38 + (n / 200) * 0.03), 4326),
				timestamptz '2020-01-01' + n * interval '37 minutes', 'Battles', 'seen ' || n
			FROM generate_series(1, $1::int) n`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, n)
		}
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`ANALYZE incidents`, `ANALYZE reports`} {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	// EXPLAIN ANALYZE returns one row per line of the plan.
	rows, err := db.SQL().Query(`EXPLAIN (ANALYZE, FORMAT TEXT) `+postgis.CandidatesQuery,
		47.0, 38.3, 5000.0, timestamptz("2020-02-15T00:00:00Z"), 86400.0, 0, 0, geo.MaxCandidates)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		rows.Scan(&line)
		lines = append(lines, line)
	}
	plan := strings.Join(lines, "\n")
	t.Logf("plan:\n%s", plan)
	for _, index := range []string{"incidents_geog_idx", "reports_pending_geog_idx"} {
		if !strings.Contains(plan, index) {
			t.Errorf("the plan does not use %s:\n%s", index, plan)
		}
	}
	if strings.Contains(plan, "Seq Scan on incidents") || strings.Contains(plan, "Seq Scan on reports") {
		t.Errorf("the plan reads a whole table:\n%s", plan)
	}
}

func TestMergeReportAndIncidents(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	var mod *geo.User // the command line: no users row needed
	a := addReport(t, db, 47.03, 39.40, 0)
	b := addReport(t, db, 47.03, 39.418, 3)
	inc, err := db.VerifyReport(ctx, a, geo.Verification{}, mod)
	if err != nil {
		t.Fatal(err)
	}
	// A stale version is refused and changes nothing.
	_, err = db.MergeReport(ctx, b, geo.ReportMerge{IncidentID: inc, Version: 7}, mod)
	var mc *geo.MergeConflict
	if !errors.As(err, &mc) || !strings.Contains(mc.Reason, "version 1, not 7") {
		t.Fatalf("merge at a stale version: err = %v, want a MergeConflict naming the versions", err)
	}
	var status string
	db.SQL().QueryRow(`SELECT status FROM reports WHERE id = $1`, b).Scan(&status)
	if status != geo.ReportPending {
		t.Errorf("report %d is %s after a refused merge, want pending", b, status)
	}
	v, err := db.MergeReport(ctx, b, geo.ReportMerge{IncidentID: inc, Version: 1, Note: "same shelling"}, mod)
	if err != nil {
		t.Fatal(err)
	}
	if v != 2 {
		t.Errorf("incident version after the merge = %d, want 2", v)
	}
	var (
		reportIncident sql.NullInt64
		sources        string
	)
	db.SQL().QueryRow(`SELECT status, incident_id FROM reports WHERE id = $1`, b).Scan(&status, &reportIncident)
	db.SQL().QueryRow(`SELECT sources::text FROM incidents WHERE id = $1`, inc).Scan(&sources)
	if status != geo.ReportVerified || reportIncident.Int64 != inc {
		t.Errorf("merged report: %s into %v, want verified into %d", status, reportIncident, inc)
	}
	if !strings.Contains(sources, "incidentmap report "+itoa(b)) {
		t.Errorf("incident sources = %s, want report %d among them", sources, b)
	}
	// Again: the report is no longer pending.
	_, err = db.MergeReport(ctx, b, geo.ReportMerge{IncidentID: inc, Version: 2}, mod)
	if !errors.As(err, &mc) || !strings.Contains(mc.Reason, "already verified") {
		t.Errorf("second merge: err = %v, want a MergeConflict saying it is already verified", err)
	}
	var audits int
	db.SQL().QueryRow(`SELECT count(*) FROM audit_log WHERE (target_type, target_id, action) IN (('report', $1, 'report.merge'), ('incident', $2, 'incident.update'))`, b, inc).Scan(&audits)
	if audits != 2 {
		t.Errorf("audit entries of the merge = %d, want 2 (report.merge, incident.update)", audits)
	}

	// Two incidents: the duplicate is retracted, its sources move over once.
	c := addReport(t, db, 47.031, 39.401, 1)
	dup, err := db.VerifyReport(ctx, c, geo.Verification{}, mod)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`UPDATE incidents SET sources = sources || (SELECT sources -> 0 FROM incidents WHERE id = $1) WHERE id = $2`, inc, dup); err != nil {
		t.Fatal(err)
	}
	v, err = db.MergeIncidents(ctx, inc, geo.IncidentMerge{DuplicateID: dup, Version: 2}, mod)
	if err != nil {
		t.Fatal(err)
	}
	var (
		dupStatus string
		dupOf     sql.NullInt64
		count     int
	)
	db.SQL().QueryRow(`SELECT status, duplicate_of FROM incidents WHERE id = $1`, dup).Scan(&dupStatus, &dupOf)
	if dupStatus != geo.StatusRetracted || dupOf.Int64 != inc {
		t.Errorf("duplicate incident: %s, duplicate_of %v; want retracted, %d", dupStatus, dupOf, inc)
	}
	db.SQL().QueryRow(`SELECT jsonb_array_length(sources) FROM incidents WHERE id = $1`, inc).Scan(&count)
	if count != 6 { // report a and its link, report b and its link, report c and its link (a's copy not twice)
		db.SQL().QueryRow(`SELECT sources::text FROM incidents WHERE id = $1`, inc).Scan(&sources)
		t.Errorf("sources after merging the duplicate = %d, want 6: %s", count, sources)
	}
	if v != 3 {
		t.Errorf("version after merging the duplicate = %d, want 3", v)
	}
	// Report c was verified into the duplicate: it now points to the survivor, and the merge's note says so.
	db.SQL().QueryRow(`SELECT incident_id FROM reports WHERE id = $1`, c).Scan(&reportIncident)
	if reportIncident.Int64 != inc {
		t.Errorf("report %d verified into the duplicate points to incident %v after the merge, want %d", c, reportIncident, inc)
	}
	var mergeNote string
	db.SQL().QueryRow(`SELECT note FROM audit_log WHERE target_type = 'incident' AND target_id = $1 AND action = 'incident.merge'`, inc).Scan(&mergeNote)
	if want := fmt.Sprintf("merged duplicate incident %d; its report %d now points here", dup, c); mergeNote != want {
		t.Errorf("merge audit note = %q, want %q", mergeNote, want)
	}
	if _, err := db.MergeIncidents(ctx, inc, geo.IncidentMerge{DuplicateID: dup}, mod); !errors.As(err, &mc) {
		t.Errorf("merging a retracted duplicate again: err = %v, want a MergeConflict", err)
	}
	var events int
	db.SQL().QueryRow(`SELECT count(*) FROM incident_events WHERE incident_id = $1 AND type = 'incident.retracted'`, dup).Scan(&events)
	if events != 1 {
		t.Errorf("incident.retracted events of the duplicate = %d, want 1", events)
	}
}

func timestamptz(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
