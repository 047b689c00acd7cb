package postgis_test

import (
	"context"
	"testing"

	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, postgis.MigrateURL)
}

// openTestDB opens a fresh, migrated database for one test.
func openTestDB(t *testing.T) *postgis.DB {
	t.Helper()
	db, err := postgis.Open(context.Background(), pgtest.NewDB(t), postgis.Options{})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
