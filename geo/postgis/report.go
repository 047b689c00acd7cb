package postgis

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/geo"
)

// CreateReport stores s.Report (already validated) and its photos in one
// transaction and returns once it is committed. With an idempotency key
// already used for the same request it returns the first report and
// replayed=true; for a different request, ErrIdempotencyMismatch.
func (db *DB) CreateReport(ctx context.Context, s geo.Submission) (replayed bool, err error) {
	r := s.Report
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return false, mapError(err)
	}
	defer tx.Rollback()
	var hint []byte
	if r.PhotoHint != nil {
		if hint, err = json.Marshal(r.PhotoHint); err != nil {
			return false, fmt.Errorf("encode photo hint: %w", err)
		}
	}
	var key any
	if s.IdempotencyKey != "" {
		key = s.IdempotencyKey
	}
	sourceURLs := r.SourceURLs
	if sourceURLs == nil {
		sourceURLs = []string{}
	}
	err = tx.QueryRowContext(ctx, `
		INSERT INTO reports (geom, occurred_at, event_type, sub_event_type, description, location_name,
			geo_precision, fatalities, source_urls, contact, idempotency_key, request_hash, client_hash, photo_hint)
		VALUES (ST_SetSRID(ST_MakePoint($1, $2), 4326), $3, $4, NULLIF($5, ''), $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING id, status, created_at, updated_at`,
		r.Point.Lon(), r.Point.Lat(), r.OccurredAt, r.EventType, r.SubEventType, r.Description, r.LocationName,
		r.GeoPrecision, r.Fatalities, pq.Array(sourceURLs), r.Contact, key, s.RequestHash, s.ClientHash, nullJSON(hint),
	).Scan(&r.ID, &r.Status, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) && s.IdempotencyKey != "" {
		return true, db.replay(ctx, tx, s)
	}
	if err != nil {
		return false, fmt.Errorf("create report: %w", mapError(err))
	}
	for _, p := range r.Photos {
		exif, _ := json.Marshal(map[string]any{"gps": p.GPS, "taken_at": p.TakenAt})
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO report_photos (report_id, position, media_type, stripped, original, original_type, width, height, exif)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			r.ID, p.Position, p.MediaType, p.Stripped, p.Original, p.OriginalType, p.Width, p.Height, string(exif)); err != nil {
			return false, fmt.Errorf("store photo %d: %w", p.Position, mapError(err))
		}
	}
	if err := commit(ctx, tx); err != nil {
		return false, fmt.Errorf("commit report: %w", mapError(err))
	}
	return false, nil
}

// ReplayReport fills s.Report with the report first stored under s's
// idempotency key and returns true; ErrNotFound when the key is unknown,
// ErrIdempotencyMismatch when it was used for a different request.
func (db *DB) ReplayReport(ctx context.Context, s geo.Submission) (bool, error) {
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return false, mapError(err)
	}
	defer tx.Rollback()
	if err := db.replay(ctx, tx, s); err != nil {
		return false, err
	}
	return true, nil
}

// replay loads the report first stored under s's idempotency key.
func (db *DB) replay(ctx context.Context, tx *sql.Tx, s geo.Submission) error {
	var hash []byte
	r := s.Report
	err := tx.QueryRowContext(ctx, `SELECT id, status, created_at, updated_at, request_hash FROM reports WHERE idempotency_key = $1`,
		s.IdempotencyKey).Scan(&r.ID, &r.Status, &r.CreatedAt, &r.UpdatedAt, &hash)
	if err != nil {
		return fmt.Errorf("load idempotent report: %w", mapError(err))
	}
	if !hmac.Equal(hash, s.RequestHash) {
		return geo.ErrIdempotencyMismatch
	}
	return nil
}

func nullJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b) // as text: []byte would travel as binary jsonb
}

// ClientHash returns a keyed hash of a client address. The key lives in
// the database so every instance hashes alike, and addresses are never
// stored in the clear.
func (db *DB) ClientHash(ctx context.Context, addr string) ([]byte, error) {
	var key string
	if err := db.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'client_hash_key'`).Scan(&key); err != nil {
		return nil, fmt.Errorf("read client hash key: %w", mapError(err))
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(addr))
	return m.Sum(nil), nil
}

// Allow takes one token from the bucket named key, shared by every server
// instance through PostgreSQL. When the bucket is empty it returns false
// and how long until a token is available; nothing is taken then, so a
// client that waits as told gets through.
func (db *DB) Allow(ctx context.Context, key string, limit geo.RateLimit) (bool, time.Duration, error) {
	var wait float64
	err := db.db.QueryRowContext(ctx, `SELECT take_token($1, $2, $3)`, key, limit.Burst, limit.PerMinute/60).Scan(&wait)
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", mapError(err))
	}
	if wait <= 0 {
		return true, 0, nil
	}
	return false, time.Duration(math.Ceil(wait)) * time.Second, nil
}
