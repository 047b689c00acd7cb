package postgis

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/incidentmap/incidentmap/geo"
)

// prunedThroughSetting names the settings row where prune_incident_events
// (migration 00015) records the newest event id it deleted.
const prunedThroughSetting = "incident_events_pruned_through"

// eventLockSQL takes the lock writers of incident events hold from their
// first event until they commit, so event ids rise in commit order
// (migration 00008).
const eventLockSQL = `SELECT pg_advisory_xact_lock(hashtext('incidentmap.incident_events'))`

// IncidentChanges returns the page of the changes feed after q.Since: up
// to q.Limit events in commit order, collapsed to the latest event of
// each incident, with each incident's current public state (or a
// tombstone). The history bounds and the page are read from one snapshot,
// so a prune running meanwhile cannot hide events from a cursor it
// accepted. Returns a *geo.CursorExpiredError when q.Since is older than
// the retained history or newer than its end.
func (db *DB) IncidentChanges(ctx context.Context, q geo.ChangesQuery) (geo.ChangePage, error) {
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return geo.ChangePage{}, fmt.Errorf("incident changes: %w", mapError(err))
	}
	defer tx.Rollback()
	var pruned, latest int64
	err = tx.QueryRowContext(ctx, `
		SELECT p.v, greatest(p.v, (SELECT coalesce(max(id), 0) FROM incident_events))
		FROM (SELECT coalesce((SELECT value::bigint FROM settings WHERE name = $1), 0) AS v) p`,
		prunedThroughSetting).Scan(&pruned, &latest)
	if err != nil {
		return geo.ChangePage{}, fmt.Errorf("incident changes: history bounds: %w", mapError(err))
	}
	if q.Latest {
		return geo.ChangePage{Next: latest}, nil
	}
	if q.Since < pruned || q.Since > latest {
		return geo.ChangePage{}, &geo.CursorExpiredError{Since: q.Since, PrunedThrough: pruned, Latest: latest}
	}
	page := geo.ChangePage{Next: q.Since}
	if page.Changes, err = changesAfter(ctx, tx, q.Since, q.Limit); err != nil {
		return geo.ChangePage{}, err
	}
	for _, c := range page.Changes {
		page.Next = max(page.Next, c.EventID)
	}
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM incident_events WHERE id > $1)`,
		page.Next).Scan(&page.More); err != nil {
		return geo.ChangePage{}, fmt.Errorf("incident changes: %w", mapError(err))
	}
	return page, nil
}

// changesAfter reads the limit events after since and collapses them to
// each incident's latest, in the order of those latest events. Public
// means not retracted: the states the live stream announces as created.
func changesAfter(ctx context.Context, tx *sql.Tx, since int64, limit int) ([]geo.Change, error) {
	feature, _ := incidentFeatureSQL(nil, geo.CRS84)
	rows, err := tx.QueryContext(ctx, `
		WITH page AS (SELECT id, type, incident_id, at FROM incident_events WHERE id > $1 ORDER BY id LIMIT $2),
		last AS (SELECT DISTINCT ON (incident_id) id, type, incident_id, at FROM page ORDER BY incident_id, id DESC)
		SELECT l.id, l.type, l.incident_id, l.at, coalesce(c.public, false), c.updated_at, c.feature, c.duplicate_of
		FROM last l LEFT JOIN LATERAL (
			SELECT status <> 'retracted' AS public, updated_at, duplicate_of,
			       CASE WHEN status <> 'retracted' THEN `+feature+` END AS feature
			FROM incidents WHERE id = l.incident_id) c ON true
		ORDER BY l.id`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("incident changes: %w", mapError(err))
	}
	defer rows.Close()
	var changes []geo.Change
	for rows.Next() {
		var (
			c       geo.Change
			public  bool
			updated sql.NullTime
			feature []byte
			dupOf   sql.NullInt64
		)
		if err := rows.Scan(&c.EventID, &c.Type, &c.IncidentID, &c.At, &public, &updated, &feature, &dupOf); err != nil {
			return nil, fmt.Errorf("incident changes: %w", mapError(err))
		}
		c.Type = geo.EffectiveChangeType(c.Type, public)
		if public {
			c.Feature = feature
		} else {
			at := c.At // a deleted row: the event's time
			if updated.Valid {
				at = updated.Time
			}
			at = at.UTC()
			c.RetractedAt = &at
			if dupOf.Valid {
				c.DuplicateOf = &dupOf.Int64
			}
		}
		c.At = c.At.UTC()
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident changes: %w", mapError(err))
	}
	return changes, nil
}

// writeImportEvents records one event per incident the import wrote
// (noted in import_changed), set-based, as events the live stream skips
// (live = false): mirrors following the changes feed learn of every
// imported row, browsers are not sent a hundred thousand events. Written
// last, just before the commit, so the event lock (eventLockSQL) that
// keeps ids in commit order is held only briefly.
func writeImportEvents(ctx context.Context, tx *sql.Tx) (int64, error) {
	if _, err := tx.ExecContext(ctx, eventLockSQL); err != nil {
		return 0, fmt.Errorf("import incidents: lock events: %w", mapError(err))
	}
	res, err := tx.ExecContext(ctx, `
		INSERT INTO incident_events (type, incident_id, live)
		SELECT type, id, false FROM import_changed ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("import incidents: write events: %w", mapError(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("import incidents: write events: %w", mapError(err))
	}
	return n, nil
}

// importChangedSQL creates the list of incidents a bulk import wrote,
// with the event each gets (writeImportEvents).
const importChangedSQL = `CREATE TEMP TABLE import_changed (
	id   bigint NOT NULL,
	type text NOT NULL
) ON COMMIT DROP`
