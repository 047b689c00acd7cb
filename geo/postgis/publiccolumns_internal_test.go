package postgis

import (
	"context"
	"database/sql"
	"maps"
	"regexp"
	"slices"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
)

// incidentColumnsNotProperties are the columns of incidents the public
// role reads that no property shows, and why.
var incidentColumnsNotProperties = map[string]string{
	"id":      "the feature's id",
	"geom":    "the feature's geometry",
	"version": "the ETag and If-Match",
	"search":  "full-text search (q=)",
}

// sqlIdentRE matches the words of an SQL expression; those naming a column
// of incidents are the columns a property reads.
var sqlIdentRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// The public incident properties are written three times: in geo (the
// allow-list of properties=), in incidentPropertySQL (how each is read),
// and in the migrations' column grants to incidentmap_public (what a
// public request may read). A property the public role cannot read fails
// every public request that asks for it; a public column no property shows
// is a grant nobody decided on. Either fails here, naming the column.
func TestIncidentPropertiesMatchPublicGrants(t *testing.T) {
	ctx := context.Background()
	db := OpenOwner(t)

	columns := queryStrings(t, db, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = 'incidents'`)
	public := queryStrings(t, db, `SELECT column_name FROM information_schema.column_privileges
		WHERE table_schema = 'public' AND table_name = 'incidents'
		  AND grantee = 'incidentmap_public' AND privilege_type = 'SELECT'`)
	if len(columns) == 0 || len(public) == 0 {
		t.Fatalf("got %d columns of incidents, %d readable by incidentmap_public; want some of each", len(columns), len(public))
	}

	props := slices.Concat(geo.IncidentProperties(), geo.IncidentOnRequestProperties())
	for _, p := range slices.Sorted(maps.Keys(incidentPropertySQL)) {
		if !slices.Contains(props, p) {
			t.Errorf("property %q is in incidentPropertySQL but missing from geo.IncidentProperties() and geo.IncidentOnRequestProperties()", p)
		}
	}

	shown := map[string]bool{} // columns some property reads
	for _, p := range props {
		expr, ok := incidentPropertySQL[p]
		if !ok {
			t.Errorf("property %q is in geo's incident properties but missing from incidentPropertySQL", p)
			continue
		}
		for _, word := range sqlIdentRE.FindAllString(expr, -1) {
			if !slices.Contains(columns, word) {
				continue
			}
			shown[word] = true
			if !slices.Contains(public, word) {
				t.Errorf("property %q reads incidents.%s, which is missing from incidentmap_public's SELECT grants", p, word)
			}
		}
		// The expression as a public request runs it: also catches tables
		// other than incidents (claims) the role may not read.
		if err := selectAsPublic(ctx, db, expr); err != nil {
			t.Errorf("property %q: incidentmap_public cannot read %s: %v", p, expr, err)
		}
	}

	for _, c := range public {
		if _, ok := incidentColumnsNotProperties[c]; !ok && !shown[c] {
			t.Errorf("column incidents.%s is granted to incidentmap_public but missing from geo's incident properties (add the property or revoke the grant)", c)
		}
	}
	for _, c := range slices.Sorted(maps.Keys(incidentColumnsNotProperties)) {
		if !slices.Contains(public, c) {
			t.Errorf("column incidents.%s (%s) is in incidentColumnsNotProperties but missing from incidentmap_public's SELECT grants", c, incidentColumnsNotProperties[c])
		}
	}
}

// selectAsPublic evaluates expr over incidents as incidentmap_public, in a
// transaction rolled back afterwards.
func selectAsPublic(ctx context.Context, db *sql.DB, expr string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL ROLE incidentmap_public`); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+expr+` FROM incidents LIMIT 0`)
	if err != nil {
		return err
	}
	return rows.Close()
}

// queryStrings returns the one text column of a query's rows.
func queryStrings(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}
