package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
	"github.com/incidentmap/incidentmap/migrations"
)

var emptyDBCounter atomic.Int64

// openEmptyDB opens a database that has never been migrated.
func openEmptyDB(t *testing.T) *postgis.DB {
	t.Helper()
	ctx := context.Background()
	cluster := pgtest.Cluster()
	name := fmt.Sprintf("empty_%d", emptyDBCounter.Add(1))
	if err := cluster.CreateDatabase(ctx, name, ""); err != nil {
		t.Fatalf("create empty database: %v", err)
	}
	t.Cleanup(func() { cluster.DropDatabase(context.Background(), name) })
	db, err := postgis.Open(ctx, cluster.DSN(name), postgis.Options{})
	if err != nil {
		t.Fatalf("open empty database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tableExists(t *testing.T, db *postgis.DB, name string) bool {
	t.Helper()
	var exists bool
	if err := db.SQL().QueryRow(`SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
		t.Fatalf("check table %s: %v", name, err)
	}
	return exists
}

func TestMigrateUpDownUp(t *testing.T) {
	ctx := context.Background()
	db := openEmptyDB(t)

	if err := db.CheckReady(ctx); !errors.Is(err, geo.ErrMigrationsPending) {
		t.Fatalf("CheckReady on empty database = %v, want ErrMigrationsPending", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate up from empty: %v", err)
	}
	if !tableExists(t, db, "incidents") {
		t.Fatal("incidents table missing after migrate up")
	}
	if err := db.CheckReady(ctx); err != nil {
		t.Fatalf("CheckReady after migrate up = %v, want nil", err)
	}
	// Roll back every migration, one at a time, down to an empty schema.
	for i := migrationCount(t); i > 0; i-- {
		if err := db.MigrateDown(ctx); err != nil {
			t.Fatalf("migrate down (from version %d): %v", i, err)
		}
	}
	if tableExists(t, db, "incidents") {
		t.Fatal("incidents table still there after migrating all the way down")
	}
	if err := db.MigrateDown(ctx); !errors.Is(err, geo.ErrInvalid) {
		t.Fatalf("migrate down past zero = %v, want ErrInvalid", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate up again: %v", err)
	}
	if !tableExists(t, db, "incidents") {
		t.Fatal("incidents table missing after migrating up again")
	}
	statuses, err := db.MigrationStatuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		if !s.Applied {
			t.Errorf("migration %d %s not applied after up", s.Version, s.Name)
		}
	}
}

// Two instances starting at once: both call Migrate; the advisory lock
// makes one wait, and the second then finds nothing to do.
func TestMigrateConcurrent(t *testing.T) {
	ctx := context.Background()
	first := openEmptyDB(t)
	// A second pool on the same database, as a second server would have.
	second, err := postgis.Open(ctx, pgtest.Cluster().DSN(currentDatabase(t, first)), postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, db := range []*postgis.DB{first, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Migrate(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate %d: %v", i, err)
		}
	}
	var applied int64
	if err := first.SQL().QueryRow(`SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if want := migrationCount(t); applied != want {
		t.Errorf("goose_db_version has %d applied migrations, want %d (each exactly once)", applied, want)
	}
}

func currentDatabase(t *testing.T, db *postgis.DB) string {
	t.Helper()
	var name string
	if err := db.SQL().QueryRow(`SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

// The schema enforces the data model's ranges and enums even for writers
// that bypass the Go validation (imports, psql).
func TestIncidentConstraints(t *testing.T) {
	db := openTestDB(t)
	const insert = `INSERT INTO incidents (occurred_at, event_type, sub_event_type, title, geom, fatalities, time_precision, geo_precision, status)
		VALUES ($1, $2, $3, $4, ST_SetSRID(ST_MakePoint($5, $6), 4326), $7, $8, $9, $10)`
	type row struct {
		when          string
		typ, sub      any
		title         string
		lon, lat      float64
		fatal, tp, gp int
		status        string
	}
	good := row{"2020-10-18T04:00:00Z", "Explosions/Remote violence", "Shelling/artillery/missile attack", "Shelling near Jabrayil", 47.03, 39.40, 0, 1, 2, "verified"}
	if _, err := db.SQL().Exec(insert, good.when, good.typ, good.sub, good.title, good.lon, good.lat, good.fatal, good.tp, good.gp, good.status); err != nil {
		t.Fatalf("valid incident rejected: %v", err)
	}
	tests := []struct {
		name   string
		modify func(r *row)
	}{
		{"unknown event type", func(r *row) { r.typ = "Skirmish" }},
		{"unknown sub-event type", func(r *row) { r.sub = "Skirmish" }},
		{"empty title", func(r *row) { r.title = "" }},
		{"longitude out of range", func(r *row) { r.lon = 181 }},
		{"latitude out of range", func(r *row) { r.lat = -91 }},
		{"negative fatalities", func(r *row) { r.fatal = -1 }},
		{"time precision 4", func(r *row) { r.tp = 4 }},
		{"geo precision 0", func(r *row) { r.gp = 0 }},
		{"unknown status", func(r *row) { r.status = "pending" }},
		{"before 1900", func(r *row) { r.when = "1899-12-31T00:00:00Z" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.modify(&r)
			_, err := db.SQL().Exec(insert, r.when, r.typ, r.sub, r.title, r.lon, r.lat, r.fatal, r.tp, r.gp, r.status)
			if err == nil {
				t.Fatalf("insert with %s succeeded, want a constraint violation", tt.name)
			}
		})
	}
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM incidents`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("incidents rows = %d, want 1 (only the valid one)", n)
	}
}

// migrationCount is the number of embedded migrations: numbers are
// reserved per branch, so there may be gaps below the latest.
func migrationCount(t *testing.T) int64 {
	t.Helper()
	entries, err := migrations.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			n++
		}
	}
	return n
}

// Migrations are not cut by the pool's statement timeout (the server's
// request deadline): on a large table one statement may take minutes.
func TestMigrateIgnoresStatementTimeout(t *testing.T) {
	ctx := context.Background()
	empty := openEmptyDB(t)
	db, err := postgis.Open(ctx, pgtest.Cluster().DSN(currentDatabase(t, empty)), postgis.Options{StatementTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate up with a 1 ms statement timeout on the pool: %v, want nil", err)
	}
	// Rolling back rewrites tables too (00019 copies the tile sums back).
	if err := db.MigrateDown(ctx); err != nil {
		t.Fatalf("migrate down with a 1 ms statement timeout on the pool: %v, want nil", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate up again: %v, want nil", err)
	}
	var slept bool
	if err := db.SQL().QueryRow(`SELECT pg_sleep(0.05) IS NULL`).Scan(&slept); err == nil {
		t.Error("a 50 ms statement on the pool passed its 1 ms timeout, want it cancelled")
	}
}
