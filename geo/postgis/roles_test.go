package postgis_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// openAs opens dsn as one of the server's logins, switched to its role.
func openAs(t *testing.T, dsn, login, role string) *sql.DB {
	t.Helper()
	dsn, err := postgis.WithUser(dsn, login)
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgis.Open(context.Background(), dsn, postgis.Options{Role: role, MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("open as %s: %v", login, err)
	}
	t.Cleanup(func() { db.Close() })
	return db.SQL()
}

// seedPrivateReport stores a report with a contact, a client hash and a
// photo, as the owner, and returns its id.
func seedPrivateReport(t *testing.T, owner *sql.DB) int64 {
	t.Helper()
	var id int64
	if err := owner.QueryRow(`
		INSERT INTO reports (geom, occurred_at, event_type, description, contact, client_hash, idempotency_key, request_hash)
		VALUES (ST_SetSRID(ST_MakePoint(47.19, 39.40), 4326), now(), 'Battles', 'shelling near the river',
		        'reporter@example.org', '\x01', 'key-1', '\x02') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(`
		INSERT INTO report_photos (report_id, position, media_type, stripped, original, original_type, width, height, exif)
		VALUES ($1, 1, 'image/jpeg', '\x03', '\x04', 'image/jpeg', 1, 1, '{"gps": [47.19, 39.40]}')`, id); err != nil {
		t.Fatal(err)
	}
	return id
}

func sqlState(err error) string {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return string(pqErr.Code)
	}
	return ""
}

// The public role, which serves every unauthenticated request, cannot
// read reporters' private data or write anything but a new report, and
// cannot switch to the moderator role; the moderator role can read what
// moderation needs and still cannot rewrite the audit log.
func TestPublicRoleCannotReadPrivateData(t *testing.T) {
	dsn := pgtest.NewDB(t)
	ownerDB, err := postgis.Open(context.Background(), dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ownerDB.Close()
	seedPrivateReport(t, ownerDB.SQL())
	public := openAs(t, dsn, postgis.LoginPublic, postgis.RolePublic)
	moderator := openAs(t, dsn, postgis.LoginModerator, postgis.RoleModerator)

	denied := []string{
		`SELECT contact FROM reports`,
		`SELECT client_hash FROM reports`,
		`SELECT description, geom FROM reports`, // pending reports are not public either
		`SELECT * FROM reports`,
		`SELECT original FROM report_photos`,
		`SELECT stripped FROM report_photos`,
		`SELECT exif FROM report_photos`,
		`SELECT token_hash FROM users`,
		`SELECT name FROM users`,
		`SELECT * FROM audit_log`,
		`SELECT * FROM rate_limits`,
		`COPY reports (contact) TO STDOUT`,
		`INSERT INTO reports (geom, occurred_at, event_type, description, status)
		 VALUES (ST_SetSRID(ST_MakePoint(1, 1), 4326), now(), 'Battles', 'x', 'verified')`,
		`UPDATE reports SET status = 'verified'`,
		`INSERT INTO incidents (occurred_at, event_type, title, geom) VALUES (now(), 'Battles', 'x', ST_SetSRID(ST_MakePoint(1, 1), 4326))`,
		`UPDATE incidents SET title = 'x'`,
		`DELETE FROM incidents`,
		`DELETE FROM incident_events`,
		`UPDATE collection_versions SET version = 1`,
		`INSERT INTO users (name, role, token_hash) VALUES ('eve', 'admin', '\x00')`,
		`UPDATE settings SET value = 'x'`,
		`DELETE FROM layers`,
		`CREATE TABLE stolen (x int)`,
		`SET ROLE incidentmap_moderator`,
		`SET ROLE postgres`,
	}
	for _, stmt := range denied {
		_, err := public.Exec(stmt)
		if sqlState(err) != "42501" {
			t.Errorf("public role: %s\n  err = %v, want permission denied (42501)", stmt, err)
		}
	}
	// RESET ROLE only returns to the public login, which is no better.
	if _, err := public.Exec(`RESET ROLE`); err != nil {
		t.Fatal(err)
	}
	if _, err := public.Exec(`SELECT contact FROM reports`); sqlState(err) != "42501" {
		t.Errorf("public login after RESET ROLE read contact: err = %v", err)
	}

	allowed := []string{
		`SELECT count(*) FROM incidents`,
		`SELECT id, status, created_at, updated_at, request_hash FROM reports WHERE idempotency_key = 'key-1'`,
		`INSERT INTO reports (geom, occurred_at, event_type, description, contact)
		 VALUES (ST_SetSRID(ST_MakePoint(1, 1), 4326), now(), 'Battles', 'seen', 'me@example.org')`,
		`SELECT take_token('test', 5, 1)`,
		`SELECT prune_incident_events('1 hour')`,
		`SELECT count(*) FROM places, countries, borders, layers`,
	}
	for _, stmt := range allowed {
		if _, err := public.Exec(stmt); err != nil {
			t.Errorf("public role: %s: %v", stmt, err)
		}
	}

	var contact string
	if err := moderator.QueryRow(`SELECT contact FROM reports WHERE idempotency_key = 'key-1'`).Scan(&contact); err != nil || contact != "reporter@example.org" {
		t.Errorf("moderator reads contact = %q, %v", contact, err)
	}
	var original []byte
	if err := moderator.QueryRow(`SELECT original FROM report_photos`).Scan(&original); err != nil || len(original) != 1 {
		t.Errorf("moderator reads original photo = %x, %v", original, err)
	}
	for _, stmt := range []string{`DELETE FROM audit_log`, `SELECT * FROM rate_limits`, `DELETE FROM reports`, `SET ROLE postgres`} {
		if _, err := moderator.Exec(stmt); sqlState(err) != "42501" {
			t.Errorf("moderator role: %s: err = %v, want 42501", stmt, err)
		}
	}
}

// Every table has a decided place in the privilege model: a table added
// later without a GRANT decision fails here instead of being silently
// unreadable (or, worse, granted by a blanket rule).
func TestEveryTableHasPrivilegeDecision(t *testing.T) {
	db := openTestDB(t).SQL()
	publicRead := map[string]bool{
		"collection_versions": true, "layers": true, "layer_features": true,
		"places": true, "place_aliases": true, "place_names": true, "countries": true,
		"country_parts": true, "borders": true, "border_parts": true, "incident_events": true,
		"goose_db_version": true, "settings": true,
		"spatial_ref_sys": true, "geometry_columns": true, "geography_columns": true, // PostGIS
		// Sums per cell for cluster tiles (migration 00017), of every status, as incidents;
		// tiles read their level's partition by name (00019).
		"incident_tile_cells": true,
	}
	for _, level := range postgis.TileCellLevels {
		publicRead[fmt.Sprintf("incident_tile_cells_%d", level)] = true
	}
	// Tables the public role reads column by column (listed in the GRANT):
	// a column added later stays private until a migration decides.
	// incident_claims: its public columns, and only rows of incidents
	// that are not retracted (row security, migration 00012).
	publicColumns := map[string]bool{"incidents": true, "incident_claims": true}
	private := map[string]bool{ // no SELECT on the table for the public role
		"reports": true, "report_photos": true, "users": true, "audit_log": true, "rate_limits": true,
		"data_loads": true, // the command line's bookkeeping, read by the owner only
	}
	rows, err := db.Query(`
		SELECT c.relname, has_table_privilege($1, c.oid, 'SELECT')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')`, postgis.RolePublic)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var canRead bool
		if err := rows.Scan(&name, &canRead); err != nil {
			t.Fatal(err)
		}
		switch {
		case publicRead[name]:
			if !canRead {
				t.Errorf("table %s: the public role cannot read it, but the map needs it", name)
			}
		case publicColumns[name]:
			if canRead {
				t.Errorf("table %s: the public role reads the whole table, want a column list", name)
			}
		case private[name]:
			if canRead {
				t.Errorf("table %s is private, but the public role can read all of it", name)
			}
		default:
			t.Errorf("table %s has no privilege decision: add it to migrations' GRANTs and to this test", name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		col  string
		want bool
	}{
		{"title", true}, {"geom", true}, {"search", true}, {"stated_country_code", true}, {"geo_check", true},
		{"source_record", true}, // the API returns it when asked for
		{"source_file", false},  // a local file name
	} {
		var can bool
		if err := db.QueryRow(`SELECT has_column_privilege($1, 'incidents', $2, 'SELECT')`, postgis.RolePublic, tc.col).Scan(&can); err != nil || can != tc.want {
			t.Errorf("public role can read incidents.%s = %v (%v), want %v", tc.col, can, err, tc.want)
		}
	}
	for _, col := range []string{"contact", "client_hash", "description", "geom"} {
		var can bool
		if err := db.QueryRow(`SELECT has_column_privilege($1, 'reports', $2, 'SELECT')`, postgis.RolePublic, col).Scan(&can); err != nil || can {
			t.Errorf("public role can read reports.%s (%v)", col, err)
		}
	}
}

// PrivilegeWarnings tells an operator when the login behind a pool could
// reach beyond its role.
func TestPrivilegeWarnings(t *testing.T) {
	dsn := pgtest.NewDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		login, role, want string
	}{
		{"", postgis.RolePublic, "superuser"},
		{postgis.LoginPublic, postgis.RolePublic, ""},
		{postgis.LoginModerator, postgis.RoleModerator, ""},
	} {
		d := dsn
		if tc.login != "" {
			d, _ = postgis.WithUser(dsn, tc.login)
		}
		db, err := postgis.Open(ctx, d, postgis.Options{Role: tc.role, MaxOpenConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		warnings, err := db.PrivilegeWarnings(ctx)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(warnings, "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("login %q role %s: warnings %q, want containing %q", tc.login, tc.role, got, tc.want)
		}
	}
}
