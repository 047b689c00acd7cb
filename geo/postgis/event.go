package postgis

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo"
)

// eventChannel is the NOTIFY channel the incidents trigger signals on.
const eventChannel = "incident_events"

// IncidentEvents returns up to limit live events with id > after, oldest
// first, each with the incident's current feature. Bulk imports' events
// (not live) are only in the changes feed (IncidentChanges).
func (db *DB) IncidentEvents(ctx context.Context, after int64, limit int) ([]geo.IncidentEvent, error) {
	// As one incident by id, claims included: a popup redrawn from an
	// event keeps them. (claimsJSON needs the table unaliased.)
	feature, _ := incidentFeatureSQL(singleIncidentProperties, geo.CRS84)
	rows, err := db.db.QueryContext(ctx, `
		SELECT e.id, e.type, e.incident_id, e.at, (SELECT `+feature+` FROM incidents WHERE incidents.id = e.incident_id)
		FROM incident_events e WHERE e.id > $1 AND e.live ORDER BY e.id LIMIT $2`, after, limit)
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var events []geo.IncidentEvent
	for rows.Next() {
		var e geo.IncidentEvent
		var feature []byte
		if err := rows.Scan(&e.ID, &e.Type, &e.IncidentID, &e.At, &feature); err != nil {
			return nil, mapError(err)
		}
		e.Feature = feature
		events = append(events, e)
	}
	return events, mapError(rows.Err())
}

// LatestEventID returns the id of the newest event (0 when none).
func (db *DB) LatestEventID(ctx context.Context) (int64, error) {
	var id int64
	err := db.db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM incident_events`).Scan(&id)
	return id, mapError(err)
}

// PruneEvents deletes events older than keep; Last-Event-ID resumes only
// within that window.
func (db *DB) PruneEvents(ctx context.Context, keep time.Duration) error {
	// Through a function: the public role may prune, not delete at will.
	_, err := db.db.ExecContext(ctx, `SELECT prune_incident_events($1::interval)`,
		fmt.Sprintf("%d seconds", int(keep.Seconds())))
	return mapError(err)
}

// versionChannel announces changed collection versions.
const versionChannel = "collection_versions"

// WatchEvents listens on its own connection (outside the pool) until ctx
// ends: onEvent on every new incident event, onCollection with the id of
// every collection whose version changed, and onConnection when the
// listener connects (true) or loses its connection (false). Whatever was
// cached from notifications must be dropped on either, since some may
// have been missed; onEvent is also called after a reconnection.
func (db *DB) WatchEvents(ctx context.Context, onEvent func(), onCollection func(id string), onConnection func(up bool)) error {
	listener := pq.NewListener(db.dsn, time.Second, 30*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventReconnected: // channels are listened to again by now
			db.logger.Info("event listener reconnected")
			onConnection(true)
			onEvent()
		case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
			db.logger.Warn("event listener connection lost", "err", err)
			onConnection(false)
		}
	})
	defer func() {
		onConnection(false)
		listener.Close()
	}()
	for _, ch := range []string{eventChannel, versionChannel} {
		if err := listener.Listen(ch); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	onConnection(true) // only now is no change missed
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-listener.Notify:
			switch {
			case n == nil: // reconnected: handled by the event callback
			case n.Channel == versionChannel:
				onCollection(n.Extra)
			default:
				onEvent()
			}
		case <-ping.C:
			// Detect a dead connection; a reconnect triggers the callbacks.
			go listener.Ping()
		}
	}
}
