package postgis

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/incidentmap/incidentmap/geo"
)

// audit appends one entry to the audit log inside tx, so the record and
// the change commit or fail together. by nil means the command line.
func audit(ctx context.Context, tx *sql.Tx, by *geo.User, action, targetType string, targetID int64, before, after any, note string) error {
	var userID any
	userName := "cli"
	if by != nil {
		userID, userName = by.ID, by.Name
	}
	b, err := snapshotJSON(before)
	if err != nil {
		return err
	}
	a, err := snapshotJSON(after)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (user_id, user_name, action, target_type, target_id, before, after, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, userID, userName, action, targetType, targetID, b, a, note)
	if err != nil {
		return fmt.Errorf("write audit log: %w", mapError(err))
	}
	return nil
}

// snapshotJSON encodes a before/after value; raw JSON from the database
// passes through.
func snapshotJSON(v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return string(v), nil // as text: []byte would travel as binary jsonb
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode audit snapshot: %w", err)
	}
	return string(b), nil
}

// incidentSnapshot is the SQL for an incident's state as audit JSON.
const incidentSnapshot = `SELECT (to_jsonb(i) - 'search' - 'geom') || jsonb_build_object('geometry', ST_AsGeoJSON(i.geom, 6)::jsonb)
	FROM incidents i WHERE id = $1`

// AuditLog lists entries, newest first.
func (db *DB) AuditLog(ctx context.Context, f geo.AuditFilter) ([]geo.AuditEntry, error) {
	w := &where{}
	if f.TargetType != "" {
		w.add("target_type = %s", f.TargetType)
	}
	if f.TargetID != 0 {
		w.add("target_id = %s", f.TargetID)
	}
	if f.Before > 0 {
		w.add("id < %s", f.Before)
	}
	limit := w.arg(max(1, min(f.Limit, 1000)))
	rows, err := db.db.QueryContext(ctx, `SELECT id, at, user_name, action, target_type, target_id, before, after, note
		FROM audit_log `+w.sql()+` ORDER BY id DESC LIMIT `+limit, w.args...)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	entries := []geo.AuditEntry{}
	for rows.Next() {
		var (
			e             geo.AuditEntry
			before, after []byte
		)
		if err := rows.Scan(&e.ID, &e.At, &e.UserName, &e.Action, &e.TargetType, &e.TargetID, &before, &after, &e.Note); err != nil {
			return nil, mapError(err)
		}
		if before != nil {
			e.Before = json.RawMessage(before)
		}
		if after != nil {
			e.After = json.RawMessage(after)
		}
		entries = append(entries, e)
	}
	return entries, mapError(rows.Err())
}
