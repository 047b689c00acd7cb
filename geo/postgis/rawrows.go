package postgis

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// eachRow runs query on q (nil: the pool) and, for every row, scans it into
// dest and calls row, until row returns false or an error. The bytes a
// *sql.RawBytes destination receives are valid only during that call.
//
// On the pool, when assignValue takes every destination, the rows are read
// from the driver directly (eachRowRaw): database/sql's per-row locking
// and conversions cost a tenth of an items page's server CPU, the
// database's own work aside.
func (db *DB) eachRow(ctx context.Context, q querier, query string, args []any, dest []any, row func() (bool, error)) error {
	if q == nil && rawScannable(dest) {
		return db.eachRowRaw(ctx, query, args, dest, row)
	}
	if q == nil {
		q = db.db
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		more, err := row()
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return rows.Err()
}

// badConnRetries is how many times eachRowRaw tries another connection
// when the pool hands it a broken one, as database/sql's QueryContext does.
const badConnRetries = 3

// eachRowRaw is eachRow on a pooled connection, through the driver.
func (db *DB) eachRowRaw(ctx context.Context, query string, args []any, dest []any, row func() (bool, error)) error {
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	var err error
	for try := 0; try < badConnRetries; try++ {
		started := false
		err = db.withRawConn(ctx, func(dc any) error {
			return eachDriverRow(ctx, dc, query, named, dest, func() (bool, error) {
				started = true
				return row()
			})
		})
		// A broken connection found before any row is retried on another
		// (database/sql has closed it); after a row, the caller has output.
		if started || !errors.Is(err, driver.ErrBadConn) {
			return err
		}
	}
	return err
}

// withRawConn runs f with a pooled connection's driver connection.
func (db *DB) withRawConn(ctx context.Context, f func(dc any) error) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(f)
}

// eachDriverRow is eachRow on driver connection dc. named holds the
// arguments as given; they are converted here as database/sql would.
func eachDriverRow(ctx context.Context, dc any, query string, named []driver.NamedValue, dest []any, row func() (bool, error)) error {
	qc, ok := dc.(driver.QueryerContext)
	if !ok {
		return fmt.Errorf("driver connection %T cannot run queries", dc)
	}
	args := make([]driver.NamedValue, len(named))
	for i, nv := range named {
		if err := convertArg(dc, &nv); err != nil {
			return fmt.Errorf("argument $%d: %w", i+1, err)
		}
		args[i] = nv
	}
	rows, err := qc.QueryContext(ctx, query, args)
	if err != nil {
		return err
	}
	defer rows.Close()
	if n := len(rows.Columns()); n != len(dest) {
		return fmt.Errorf("query returns %d columns, scanned into %d", n, len(dest))
	}
	vals := make([]driver.Value, len(dest))
	for {
		if err := rows.Next(vals); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		for i, v := range vals {
			if err := assignValue(dest[i], v); err != nil {
				return fmt.Errorf("column %d: %w", i+1, err)
			}
		}
		more, err := row()
		if err != nil || !more {
			return err
		}
	}
}

// convertArg turns an argument into a driver value: the connection's own
// check first, then database/sql's default conversion (which calls
// driver.Valuer, as for pq.Array).
func convertArg(dc any, nv *driver.NamedValue) error {
	if c, ok := dc.(driver.NamedValueChecker); ok {
		switch err := c.CheckNamedValue(nv); {
		case err == nil:
			return nil
		case !errors.Is(err, driver.ErrSkip):
			return err
		}
	}
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return err
	}
	nv.Value = v
	return nil
}

// rawScannable reports whether assignValue takes every destination.
func rawScannable(dest []any) bool {
	for _, d := range dest {
		switch d.(type) {
		case *sql.RawBytes, *int64, *string:
		default:
			return false
		}
	}
	return true
}

// assignValue stores driver value v in scan destination dest: the few
// destination types the paged queries use. A *sql.RawBytes gets the
// driver's own bytes, without a copy, as database/sql does.
func assignValue(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *sql.RawBytes:
		switch s := v.(type) {
		case []byte:
			*d = s
			return nil
		case string:
			*d = append((*d)[:0], s...)
			return nil
		case nil:
			*d = nil
			return nil
		}
	case *int64:
		if s, ok := v.(int64); ok {
			*d = s
			return nil
		}
	case *string:
		switch s := v.(type) {
		case string:
			*d = s
			return nil
		case []byte:
			*d = string(s)
			return nil
		}
	}
	return fmt.Errorf("cannot scan %T into %T", v, dest)
}
