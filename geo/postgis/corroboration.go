package postgis

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// candidatesQuery lists the pending reports and public incidents within
// $3 metres and $5 seconds of the point ($1, $2) at time $4, nearest
// first, leaving out report $6 and incident $7 (the item itself). The
// geography casts match the partial indexes of migration 00014, and the
// status conditions their predicates, so each branch is an index scan.
const candidatesQuery = `
WITH origin AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography AS g, $4::timestamptz AS t, $5 * interval '1 second' AS span)
SELECT kind, id, title, status, occurred_at, lon, lat, distance_m, hours_apart, version FROM (
	SELECT 'report' AS kind, r.id,
		coalesce(nullif(r.sub_event_type, ''), r.event_type) || CASE WHEN r.location_name <> '' THEN ' near ' || r.location_name ELSE '' END AS title,
		r.status, r.occurred_at, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat,
		ST_Distance(r.geom::geography, o.g) AS distance_m,
		abs(extract(epoch FROM r.occurred_at - o.t)) / 3600 AS hours_apart, 0 AS version
	FROM reports r, origin o
	WHERE r.status = 'pending' AND ST_DWithin(r.geom::geography, o.g, $3)
		AND r.occurred_at BETWEEN o.t - o.span AND o.t + o.span AND r.id <> $6
	UNION ALL
	SELECT 'incident', i.id, i.title, i.status, i.occurred_at, ST_X(i.geom), ST_Y(i.geom),
		ST_Distance(i.geom::geography, o.g),
		abs(extract(epoch FROM i.occurred_at - o.t)) / 3600, i.version
	FROM incidents i, origin o
	WHERE i.status <> 'retracted' AND ST_DWithin(i.geom::geography, o.g, $3)
		AND i.occurred_at BETWEEN o.t - o.span AND o.t + o.span AND i.id <> $7
) c
ORDER BY distance_m, hours_apart, kind, id
LIMIT $8`

// ReportCandidates lists what may corroborate or duplicate report id
// within w: other pending reports and public incidents, nearest first.
func (db *DB) ReportCandidates(ctx context.Context, id int64, w geo.CorroborationWindow) ([]geo.Candidate, error) {
	var lon, lat float64
	var at sql.NullTime
	err := db.db.QueryRowContext(ctx, `SELECT ST_X(geom), ST_Y(geom), occurred_at FROM reports WHERE id = $1`, id).Scan(&lon, &lat, &at)
	if err != nil {
		return nil, fmt.Errorf("report %d: %w", id, mapError(err))
	}
	return db.candidates(ctx, orb.Point{lon, lat}, at, w, id, 0)
}

// IncidentCandidates lists what may corroborate or duplicate incident id
// within w: pending reports and other public incidents, nearest first.
func (db *DB) IncidentCandidates(ctx context.Context, id int64, w geo.CorroborationWindow) ([]geo.Candidate, error) {
	var lon, lat float64
	var at sql.NullTime
	err := db.db.QueryRowContext(ctx, `SELECT ST_X(geom), ST_Y(geom), occurred_at FROM incidents WHERE id = $1`, id).Scan(&lon, &lat, &at)
	if err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, mapError(err))
	}
	return db.candidates(ctx, orb.Point{lon, lat}, at, w, 0, id)
}

func (db *DB) candidates(ctx context.Context, pt orb.Point, at sql.NullTime, w geo.CorroborationWindow, report, incident int64) ([]geo.Candidate, error) {
	rows, err := db.db.QueryContext(ctx, candidatesQuery, pt.Lon(), pt.Lat(), w.Metres(), at.Time, w.Span().Seconds(), report, incident, geo.MaxCandidates)
	if err != nil {
		return nil, fmt.Errorf("corroboration candidates: %w", mapError(err))
	}
	defer rows.Close()
	out := []geo.Candidate{}
	for rows.Next() {
		var c geo.Candidate
		var lon, lat float64
		if err := rows.Scan(&c.Kind, &c.ID, &c.Title, &c.Status, &c.OccurredAt, &lon, &lat, &c.DistanceM, &c.HoursApart, &c.Version); err != nil {
			return nil, fmt.Errorf("corroboration candidates: %w", mapError(err))
		}
		c.Point = orb.Point{lon, lat}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("corroboration candidates: %w", mapError(err))
	}
	return out, nil
}

// MergeReport attaches pending report id to incident m.IncidentID as
// corroboration, the way VerifyReport merges (the report verified into the
// incident, its sources added there, both audited), but only while the
// incident is still at m.Version and public. ErrConflict when the report
// is no longer pending, the incident moved on or is retracted.
func (db *DB) MergeReport(ctx context.Context, id int64, m geo.ReportMerge, by *geo.User) (int, error) {
	var version int
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// Report first, then incident: the order VerifyReport locks them in.
		r, err := lockPendingReport(ctx, tx, id)
		if errors.Is(err, geo.ErrConflict) {
			return &geo.MergeConflict{Reason: fmt.Sprintf("report %d is already %s, no longer pending", id, r.Status)}
		}
		if err != nil {
			return err
		}
		if err := lockIncidentAt(ctx, tx, m.IncidentID, m.Version); err != nil {
			return err
		}
		into := m.IncidentID
		if _, err := publishReport(ctx, tx, r, geo.Verification{MergeInto: &into, Note: m.Note}, by); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT version FROM incidents WHERE id = $1`, into).Scan(&version)
	})
	return version, err
}

// lockIncidentAt locks a public incident, checking it is at version (0:
// any). ErrNotFound when it does not exist; ErrConflict when it is
// retracted or at another version.
func lockIncidentAt(ctx context.Context, tx *sql.Tx, id int64, version int) error {
	var (
		current int
		status  string
	)
	if err := tx.QueryRowContext(ctx, `SELECT version, status FROM incidents WHERE id = $1 FOR UPDATE`, id).Scan(&current, &status); err != nil {
		return fmt.Errorf("incident %d: %w", id, mapError(err))
	}
	if status == geo.StatusRetracted {
		return &geo.MergeConflict{Reason: fmt.Sprintf("incident %d is retracted", id)}
	}
	if version != 0 && current != version {
		return &geo.MergeConflict{Reason: fmt.Sprintf("incident %d changed: it is at version %d, not %d; reload it and retry", id, current, version)}
	}
	return nil
}

// MergeIncidents folds incident m.DuplicateID into incident into: the
// duplicate is retracted with duplicate_of set, its sources not already
// there are appended to into's, the reports verified into it now point to
// into (named in the merge's audit note), and both changes are audited. Returns
// into's new version. ErrConflict when either is retracted already or
// into is not at m.Version.
func (db *DB) MergeIncidents(ctx context.Context, into int64, m geo.IncidentMerge, by *geo.User) (int, error) {
	var version int
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// Lock both in id order so that two opposite merges cannot deadlock.
		first, second := into, m.DuplicateID
		if second < first {
			first, second = second, first
		}
		for _, id := range []int64{first, second} {
			v := 0
			if id == into {
				v = m.Version
			}
			if err := lockIncidentAt(ctx, tx, id, v); err != nil {
				return err
			}
		}
		beforeInto, err := snapshot(ctx, tx, into)
		if err != nil {
			return err
		}
		beforeDup, err := snapshot(ctx, tx, m.DuplicateID)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `UPDATE incidents i SET
				sources = i.sources || coalesce((SELECT jsonb_agg(s ORDER BY n) FROM incidents d, jsonb_array_elements(d.sources) WITH ORDINALITY AS e(s, n)
					WHERE d.id = $2 AND NOT i.sources @> jsonb_build_array(s)), '[]'),
				version = version + 1, updated_at = now()
			WHERE id = $1 RETURNING version`, into, m.DuplicateID).Scan(&version)
		if err != nil {
			return fmt.Errorf("merge incident %d into %d: %w", m.DuplicateID, into, mapError(err))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET status = 'retracted', duplicate_of = $2, version = version + 1, updated_at = now() WHERE id = $1`,
			m.DuplicateID, into); err != nil {
			return fmt.Errorf("retract incident %d as a duplicate: %w", m.DuplicateID, mapError(err))
		}
		moved, err := repointReports(ctx, tx, m.DuplicateID, into)
		if err != nil {
			return err
		}
		afterInto, err := snapshot(ctx, tx, into)
		if err != nil {
			return err
		}
		afterDup, err := snapshot(ctx, tx, m.DuplicateID)
		if err != nil {
			return err
		}
		note := func(s string) string {
			if m.Note != "" {
				return s + ": " + m.Note
			}
			return s
		}
		if err := audit(ctx, tx, by, "incident.merge", "incident", into, beforeInto, afterInto,
			note(fmt.Sprintf("merged duplicate incident %d%s", m.DuplicateID, movedReportsNote(moved)))); err != nil {
			return err
		}
		return audit(ctx, tx, by, "incident.retract", "incident", m.DuplicateID, beforeDup, afterDup, note(fmt.Sprintf("duplicate of incident %d", into)))
	})
	return version, err
}
