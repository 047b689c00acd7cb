package postgis

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

func openInternalDB(t *testing.T, conns int) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.NewDB(t), Options{MaxOpenConns: conns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rowsOf collects the rows of query through eachRow on q (nil: the pool,
// read through the driver).
func rowsOf(t *testing.T, db *DB, q querier, query string, args ...any) []string {
	t.Helper()
	var (
		text sql.RawBytes
		n    int64
		s    string
		out  []string
	)
	err := db.eachRow(context.Background(), q, query, args, []any{&text, &n, &s}, func() (bool, error) {
		out = append(out, string(text)+"|"+s+"|"+time.Duration(n).String())
		return true, nil
	})
	if err != nil {
		t.Fatalf("eachRow: %v", err)
	}
	return out
}

func TestEachRowRawMatchesDatabaseSQL(t *testing.T) {
	db := openInternalDB(t, 2)
	query := `SELECT json_build_object('n', g, 'pad', repeat('x', g * 300)), g::bigint, ('t' || g)::text
		FROM generate_series(1, 40) g WHERE g <= $1 AND 'a' = ANY($2) ORDER BY g`
	args := []any{35, pq.Array([]string{"a", "b"})}
	raw := rowsOf(t, db, nil, query, args...)
	viaSQL := rowsOf(t, db, db.db, query, args...)
	if len(raw) != 35 {
		t.Fatalf("got %d rows through the driver, want 35", len(raw))
	}
	if strings.Join(raw, "\n") != strings.Join(viaSQL, "\n") {
		t.Fatalf("rows through the driver differ from database/sql's:\n%s\nwant\n%s", raw[0], viaSQL[0])
	}
}

func TestEachRowRawStopsEarlyAndFreesTheConnection(t *testing.T) {
	db := openInternalDB(t, 1) // a leaked connection would block the next query
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var text sql.RawBytes
		var n int64
		seen, last := 0, ""
		err := db.eachRow(ctx, nil, `SELECT g::text::json AS j, g::bigint AS n FROM generate_series(1, 1000) g ORDER BY 2`, nil,
			[]any{&text, &n}, func() (bool, error) {
				seen++
				last = string(text) // valid only during the call
				return n < 3, nil
			})
		cancel()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if seen != 3 || last != "3" {
			t.Fatalf("round %d: got %d rows ending at %q, want 3 ending at \"3\"", i, seen, last)
		}
	}
}

func TestEachRowRawRetriesABrokenConnection(t *testing.T) {
	db := openInternalDB(t, 1)
	var pid int
	if err := db.db.QueryRow(`SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("postgres", pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var killed bool
	if err := admin.QueryRow(`SELECT pg_terminate_backend($1)`, pid).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the pool's backend: %v, %v", killed, err)
	}
	time.Sleep(100 * time.Millisecond) // the backend is gone
	got := rowsOf(t, db, nil, `SELECT '{}'::json, pg_backend_pid()::bigint, 'x'::text`)
	if len(got) != 1 {
		t.Fatalf("got %d rows after the pool's connection broke, want 1", len(got))
	}
}

func TestEachRowFallsBackForOtherDestinations(t *testing.T) {
	db := openInternalDB(t, 1)
	var at time.Time
	var text sql.RawBytes
	err := db.eachRow(context.Background(), nil, `SELECT '1'::json, '2024-05-06T07:08:09Z'::timestamptz`, nil, []any{&text, &at},
		func() (bool, error) { return true, nil })
	if err != nil {
		t.Fatalf("eachRow with a *time.Time: %v", err)
	}
	if want := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC); !at.Equal(want) {
		t.Fatalf("got %v, want %v", at, want)
	}
}

func TestEachRowRawColumnMismatch(t *testing.T) {
	db := openInternalDB(t, 1)
	var text sql.RawBytes
	err := db.eachRow(context.Background(), nil, `SELECT '1'::json, 2::bigint`, nil, []any{&text},
		func() (bool, error) { return true, nil })
	if err == nil || !strings.Contains(err.Error(), "returns 2 columns, scanned into 1") {
		t.Fatalf("got %v, want a column count error", err)
	}
}

func TestAssignValue(t *testing.T) {
	var (
		raw sql.RawBytes
		n   int64
		s   string
	)
	b := []byte("abc")
	for _, c := range []struct {
		dest any
		v    driver.Value
		ok   bool
	}{
		{&raw, b, true}, {&raw, "str", true}, {&raw, nil, true},
		{&n, int64(7), true}, {&n, "7", false},
		{&s, "x", true}, {&s, []byte("y"), true}, {&s, int64(1), false},
		{new(float64), 1.5, false},
	} {
		err := assignValue(c.dest, c.v)
		if (err == nil) != c.ok {
			t.Errorf("assign %T into %T: got error %v, want ok=%v", c.v, c.dest, err, c.ok)
		}
	}
	if err := assignValue(&raw, b); err != nil || &raw[0] != &b[0] {
		t.Errorf("a []byte into *sql.RawBytes was copied (%v), want the driver's bytes", err)
	}
	if n != 7 || s != "y" {
		t.Errorf("got n=%d s=%q, want 7 and \"y\"", n, s)
	}
}
