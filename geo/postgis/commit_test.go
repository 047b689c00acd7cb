package postgis

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// A deadline that passes just before COMMIT is a timeout (503), not an
// internal error: database/sql has rolled back and only says "done".
func TestCommitAfterDeadlineIsUnavailable(t *testing.T) {
	db, err := Open(context.Background(), pgtest.NewDB(t), Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('commit-test', 'x')`); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	time.Sleep(100 * time.Millisecond) // database/sql rolls back in the background
	err = mapError(commit(ctx, tx))
	if !errors.Is(err, geo.ErrUnavailable) {
		t.Errorf("commit after the deadline = %v, want ErrUnavailable", err)
	}
	var n int
	db.db.QueryRow(`SELECT count(*) FROM settings WHERE name = 'commit-test'`).Scan(&n)
	if n != 0 {
		t.Errorf("the rolled-back row is stored")
	}
}
