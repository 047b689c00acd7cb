package postgis

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DataLoad returns the fingerprint of the last complete load of the
// reference data set name ("places", "borders"), and when it finished; ""
// when it was never loaded whole.
func (db *DB) DataLoad(ctx context.Context, name string) (fingerprint string, at time.Time, err error) {
	err = db.db.QueryRowContext(ctx, `SELECT fingerprint, loaded_at FROM data_loads WHERE name = $1`, name).Scan(&fingerprint, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("read last load of %s: %w", name, mapError(err))
	}
	return fingerprint, at, nil
}

// RecordDataLoad notes that data set name was loaded whole from the
// sources of fingerprint.
func (db *DB) RecordDataLoad(ctx context.Context, name, fingerprint string) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO data_loads (name, fingerprint) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, loaded_at = now()`, name, fingerprint)
	if err != nil {
		return fmt.Errorf("record load of %s: %w", name, mapError(err))
	}
	return nil
}
