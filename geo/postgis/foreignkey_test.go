package postgis_test

import (
	"strings"
	"testing"
)

// TestForeignKeysIndexed: every foreign key has an index that starts with
// its columns. Without one, deleting or re-keying a referenced row scans
// the whole referencing table under lock (deleting one incident scanned a
// million for incidents.duplicate_of), and a merge that moves rows by the
// key scans too.
func TestForeignKeysIndexed(t *testing.T) {
	db := openTestDB(t)
	rows, err := db.SQL().Query(`
		SELECT c.conrelid::regclass::text, c.conname,
		       (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a
		        WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey))
		FROM pg_constraint c
		WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
		  AND NOT EXISTS (
			SELECT 1 FROM pg_index i
			WHERE i.indrelid = c.conrelid
			  AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] @> c.conkey
			  AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] <@ c.conkey)
		ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var missing []string
	for rows.Next() {
		var table, name, cols string
		if err := rows.Scan(&table, &name, &cols); err != nil {
			t.Fatal(err)
		}
		missing = append(missing, table+" ("+cols+") for "+name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("foreign keys without an index on their columns:\n%s", strings.Join(missing, "\n"))
	}
}
