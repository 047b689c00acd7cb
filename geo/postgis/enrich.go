package postgis

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// reEnrichBatch is the number of incident ids one ReEnrich statement
// covers: small enough to finish well within the statement timeout and to
// hold row locks only briefly.
const reEnrichBatch = 2000

// reEnrichWorkers bounds the batches ReEnrich runs at once (and the CPUs
// of the database it keeps busy).
const reEnrichWorkers = 4

// Enrichment
//
// Every incident's derived geography — country_code, nearest_place_id,
// nearest_place_name, nearest_place_distance_m and border_distance_m — is
// computed by PostgreSQL (SQL function incident_geography, migration
// 00005): the BEFORE INSERT OR UPDATE OF geom trigger incidents_enrich
// fills it for each written row, so every writer (the API, imports, psql)
// gets it. A derived value is only replaced by one that was found: with no
// countries loaded, or at sea more than 10 km from any country, the
// country_code the writer supplied (e.g. ACLED's) stays.
//
// Bulk imports that would rather not pay for it row by row set
// incidentmap.enrich = 'off' in their transaction (SET LOCAL) and call
// ReEnrich afterwards.

// ReEnrich recomputes the derived geography of every incident, set-based,
// in batches of incident ids, each its own transaction (so it can run
// while the server serves; live-update events are not sent for it), with
// up to four batches at a time on their own connections. Each distinct
// location of a batch is computed once. Run it after loading places or
// borders, or after a bulk import with enrichment off. It returns the
// number of incidents that changed.
func (db *DB) ReEnrich(ctx context.Context) (int64, error) {
	var lo, hi sql.NullInt64
	if err := db.db.QueryRowContext(ctx, `SELECT min(id), max(id) FROM incidents`).Scan(&lo, &hi); err != nil {
		return 0, fmt.Errorf("re-enrich incidents: %w", mapError(err))
	}
	if !lo.Valid {
		return 0, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		changed, done atomic.Int64
		errOnce       sync.Once
		firstErr      error
		wg            sync.WaitGroup
	)
	ranges := make(chan int64)
	workers := min(reEnrichWorkers, runtime.NumCPU(), int((hi.Int64-lo.Int64)/reEnrichBatch)+1)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for from := range ranges {
				n, err := db.reEnrichRange(ctx, from, from+reEnrichBatch-1)
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				changed.Add(n)
				done.Add(1)
			}
		}()
	}
	start := time.Now()
	last := start
	batches := (hi.Int64-lo.Int64)/reEnrichBatch + 1
feed:
	for from := lo.Int64; from <= hi.Int64; from += reEnrichBatch {
		select {
		case ranges <- from:
		case <-ctx.Done():
			break feed
		}
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			db.logger.Info("re-enriching incidents", "batches_done", done.Load(), "batches", batches,
				"changed", changed.Load(), "elapsed", time.Since(start).Round(time.Second))
		}
	}
	close(ranges)
	wg.Wait()
	if firstErr != nil {
		return changed.Load(), firstErr
	}
	if err := ctx.Err(); err != nil {
		return changed.Load(), fmt.Errorf("re-enrich incidents: %w", err)
	}
	return changed.Load(), nil
}

// reEnrichRange recomputes the incidents with ids in [from, to].
func (db *DB) reEnrichRange(ctx context.Context, from, to int64) (int64, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("re-enrich incidents: %w", mapError(err))
	}
	defer tx.Rollback()
	// Derived fields are not news: no live-update event per row.
	if _, err := tx.ExecContext(ctx, `SET LOCAL incidentmap.bulk = 'on'`); err != nil {
		return 0, fmt.Errorf("re-enrich incidents: %w", mapError(err))
	}
	// Incidents share locations (a town's every event): each distinct
	// point of the range is computed once.
	res, err := tx.ExecContext(ctx, `
		WITH pts AS (
			SELECT x, y, ST_SetSRID(ST_MakePoint(x, y), 4326) AS geom
			FROM (SELECT DISTINCT ST_X(geom) AS x, ST_Y(geom) AS y FROM incidents WHERE id BETWEEN $1 AND $2) d),
		g AS (
			SELECT pts.x, pts.y, e.* FROM pts CROSS JOIN LATERAL incident_geography(pts.geom) e),
		e AS (
			SELECT s.id,
			       coalesce(g.country_code, s.country_code) AS country_code,
			       coalesce(g.place_id, s.nearest_place_id) AS place_id,
			       CASE WHEN g.place_id IS NULL THEN s.nearest_place_name ELSE g.place_name END AS place_name,
			       CASE WHEN g.place_id IS NULL THEN s.nearest_place_distance_m ELSE g.place_distance_m END AS place_distance_m,
			       coalesce(g.border_distance_m, s.border_distance_m) AS border_distance_m
			FROM incidents s JOIN g ON g.x = ST_X(s.geom) AND g.y = ST_Y(s.geom)
			WHERE s.id BETWEEN $1 AND $2)
		UPDATE incidents i SET country_code = e.country_code, nearest_place_id = e.place_id,
			nearest_place_name = e.place_name, nearest_place_distance_m = e.place_distance_m,
			border_distance_m = e.border_distance_m
		FROM e
		WHERE i.id = e.id
		  AND (i.country_code, i.nearest_place_id, i.nearest_place_name, i.nearest_place_distance_m, i.border_distance_m)
		      IS DISTINCT FROM
		      (e.country_code, e.place_id, e.place_name, e.place_distance_m, e.border_distance_m)`, from, to)
	if err != nil {
		return 0, fmt.Errorf("re-enrich incidents %d..%d: %w", from, to, mapError(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("re-enrich incidents: %w", mapError(err))
	}
	if err := commit(ctx, tx); err != nil {
		return 0, fmt.Errorf("re-enrich incidents: commit: %w", mapError(err))
	}
	return n, nil
}
