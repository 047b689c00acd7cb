package postgis_test

import (
	"database/sql"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
)

// The incident vocabulary is written twice, in geo (what the API accepts)
// and in the CHECK constraints of the migrated schema (what the database
// stores). These tests read the live constraints, so a migration that
// changes one list without geo, or the reverse, fails here by name.

// TestEventTypesMatchSchema ties geo.EventTypes() to the CHECK constraint
// on incidents.event_type.
func TestEventTypesMatchSchema(t *testing.T) {
	db := openOwner(t)
	compareVocabulary(t, "event type",
		"geo.EventTypes()", geo.EventTypes(),
		"the CHECK constraint on incidents.event_type", checkValues(t, db, "incidents", "event_type"))
}

// TestSubEventTypesMatchSchema ties geo.SubEventTypes() to the CHECK
// constraint on incidents.sub_event_type.
func TestSubEventTypesMatchSchema(t *testing.T) {
	db := openOwner(t)
	compareVocabulary(t, "sub-event type",
		"geo.SubEventTypes()", geo.SubEventTypes(),
		"the CHECK constraint on incidents.sub_event_type", checkValues(t, db, "incidents", "sub_event_type"))
}

// TestIncidentStatusesMatchSchema ties geo.IncidentStatuses() to the
// CHECK constraint on incidents.status.
func TestIncidentStatusesMatchSchema(t *testing.T) {
	db := openOwner(t)
	compareVocabulary(t, "incident status",
		"geo.IncidentStatuses()", geo.IncidentStatuses(),
		"the CHECK constraint on incidents.status", checkValues(t, db, "incidents", "status"))
}

// openOwner opens a fresh migrated database as its owner.
func openOwner(t *testing.T) *sql.DB { return postgis.OpenOwner(t) }

// checkValueRE matches one text literal of a CHECK constraint as
// pg_get_constraintdef prints it: 'Riots'::text (a quote doubled).
var checkValueRE = regexp.MustCompile(`'((?:[^']|'')*)'::text`)

// checkValues returns the values allowed by the one CHECK constraint on
// table.column alone (col = ANY (ARRAY[...]), as PostgreSQL keeps an IN
// list), read from pg_constraint. Constraints over several columns (such
// as incidents_duplicate_of_check) are not lists of the column's values.
func checkValues(t *testing.T, db *sql.DB, table, column string) []string {
	t.Helper()
	rows, err := db.Query(`
		SELECT c.conname, pg_get_constraintdef(c.oid)
		FROM pg_constraint c
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
		WHERE c.contype = 'c' AND c.conrelid = $1::regclass AND cardinality(c.conkey) = 1 AND a.attname = $2`,
		table, column)
	if err != nil {
		t.Fatalf("read CHECK constraints of %s.%s: %v", table, column, err)
	}
	defer rows.Close()
	var lists [][]string
	var names []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatalf("scan constraint of %s.%s: %v", table, column, err)
		}
		if !strings.Contains(def, "= ANY (ARRAY[") {
			continue // a length or range check, not a list
		}
		var values []string
		for _, m := range checkValueRE.FindAllStringSubmatch(def, -1) {
			values = append(values, strings.ReplaceAll(m[1], "''", "'"))
		}
		lists = append(lists, values)
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read CHECK constraints of %s.%s: %v", table, column, err)
	}
	if len(lists) != 1 {
		t.Fatalf("%s.%s: got %d CHECK constraints listing its values (%v), want 1", table, column, len(lists), names)
	}
	return lists[0]
}

// compareVocabulary reports every value one side has and the other lacks,
// naming both sides, and duplicates on either side. Order is not compared:
// a CHECK constraint's order means nothing.
func compareVocabulary(t *testing.T, what, goName string, goValues []string, sqlName string, sqlValues []string) {
	t.Helper()
	if len(goValues) == 0 || len(sqlValues) == 0 {
		t.Fatalf("%s: got %d values in %s and %d in %s, want some in each", what, len(goValues), goName, len(sqlValues), sqlName)
	}
	for _, v := range goValues {
		if !slices.Contains(sqlValues, v) {
			t.Errorf("%s %q is in %s but missing from %s", what, v, goName, sqlName)
		}
	}
	for _, v := range sqlValues {
		if !slices.Contains(goValues, v) {
			t.Errorf("%s %q is in %s but missing from %s", what, v, sqlName, goName)
		}
	}
	for _, side := range []struct {
		name   string
		values []string
	}{{goName, goValues}, {sqlName, sqlValues}} {
		sorted := slices.Sorted(slices.Values(side.values))
		for i := 1; i < len(sorted); i++ {
			if sorted[i] == sorted[i-1] {
				t.Errorf("%s %q is listed twice in %s", what, sorted[i], side.name)
			}
		}
	}
}
