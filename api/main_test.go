package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, postgis.MigrateURL)
}

// quietLogger discards logs; tests that check logs pass their own.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testServer is an API server on a fresh migrated database.
type testServer struct {
	*httptest.Server
	DB  *postgis.DB
	DSN string
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerOn(t, pgtest.NewDB(t), api.Config{})
}

// newTestServerOn starts a server instance on the database dsn, with its
// own connection pool and background work, as a separate process would.
func newTestServerOn(t testing.TB, dsn string, cfg api.Config) *testServer {
	t.Helper()
	db, deps := serverDeps(t, dsn)
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	srv := api.New(cfg, deps)
	ctx, cancel := context.WithCancel(context.Background())
	go srv.Run(ctx)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		ts.Close()
		cancel()
	})
	return &testServer{Server: ts, DB: db, DSN: dsn}
}

// serverDeps opens the pools a server runs on, as it does in production:
// public requests on a login that is only a member of the public role,
// moderation on another, so every test also proves those roles were
// granted enough (and no test passes on the owner's rights). owner is for
// fixtures.
func serverDeps(t testing.TB, dsn string) (owner *postgis.DB, deps api.Deps) {
	t.Helper()
	owner = openTestDB(t, dsn, "", "")
	public := openTestDB(t, dsn, postgis.LoginPublic, postgis.RolePublic)
	moderation := openTestDB(t, dsn, postgis.LoginModerator, postgis.RoleModerator)
	return owner, api.Deps{Ready: public, Features: public, Reports: public, Moderation: moderation, Events: public, Places: public}
}

// openTestDB opens dsn, as login with role when login is not empty.
func openTestDB(t testing.TB, dsn, login, role string) *postgis.DB {
	t.Helper()
	if login != "" {
		var err error
		if dsn, err = postgis.WithUser(dsn, login); err != nil {
			t.Fatal(err)
		}
	}
	db, err := postgis.Open(context.Background(), dsn, postgis.Options{Role: role, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("open test database as %q: %v", login, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// pgtestNewDB gives a fresh migrated database for tests that start
// several server instances on it.
func pgtestNewDB(t *testing.T) string { return pgtest.NewDB(t) }
