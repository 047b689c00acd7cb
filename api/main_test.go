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
	pgtest.Main(m, func(ctx context.Context, dsn string) error {
		db, err := postgis.Open(ctx, dsn, postgis.Options{})
		if err != nil {
			return err
		}
		defer db.Close()
		return db.Migrate(ctx)
	})
}

// quietLogger discards logs; tests that check logs pass their own.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testServer is an API server on a fresh migrated database.
type testServer struct {
	*httptest.Server
	DB *postgis.DB
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	db, err := postgis.Open(context.Background(), pgtest.NewDB(t), postgis.Options{})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	srv := api.New(api.Config{Logger: quietLogger()}, api.Deps{Ready: db, Features: db})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, DB: db}
}
