package postgis

import (
	"database/sql"
	"testing"

	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// OpenOwner opens a fresh migrated database as its owner, for tests of
// the schema itself (internal ones and, through this test-only export,
// postgis_test's).
func OpenOwner(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", pgtest.NewDB(t))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
