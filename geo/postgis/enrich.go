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
// geo_check (migration 00009) compares the derived country with the
// stated one; enrichment never writes a stated column.
//
// Imports set incidentmap.enrich = 'off' in their transaction (SET LOCAL)
// and enrich the points they stage set-based before writing the rows
// (enrichStagedPoints), in the same transaction.

// ReEnrich recomputes the derived geography of every incident, set-based,
// in batches of incident ids, each its own transaction (so it can run
// while the server serves; live-update events are not sent for it, but
// each changed row gets a changes-feed event for mirrors), with
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
			       coalesce(g.border_distance_m, s.border_distance_m) AS border_distance_m,
			       incident_geo_check(s.stated_country_code, g.country_code, EXISTS (SELECT 1 FROM country_parts)) AS geo_check
			FROM incidents s JOIN g ON g.x = ST_X(s.geom) AND g.y = ST_Y(s.geom)
			WHERE s.id BETWEEN $1 AND $2)
		UPDATE incidents i SET country_code = e.country_code, nearest_place_id = e.place_id,
			nearest_place_name = e.place_name, nearest_place_distance_m = e.place_distance_m,
			border_distance_m = e.border_distance_m, geo_check = e.geo_check
		FROM e
		WHERE i.id = e.id
		  AND (i.country_code, i.nearest_place_id, i.nearest_place_name, i.nearest_place_distance_m, i.border_distance_m,
		       i.geo_check)
		      IS DISTINCT FROM
		      (e.country_code, e.place_id, e.place_name, e.place_distance_m, e.border_distance_m, e.geo_check)`, from, to)
	if err != nil {
		return 0, fmt.Errorf("re-enrich incidents %d..%d: %w", from, to, mapError(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("re-enrich incidents: %w", mapError(err))
	}
	if n > 0 {
		// Derived fields are public properties: mirrors following the
		// changes feed get a feed-only event per changed row (the rows
		// this transaction wrote), under the event lock, just before
		// the commit.
		if _, err := tx.ExecContext(ctx, eventLockSQL); err != nil {
			return 0, fmt.Errorf("re-enrich incidents: lock events: %w", mapError(err))
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO incident_events (type, incident_id, live)
			SELECT 'incident.updated', id, false FROM incidents
			WHERE id BETWEEN $1 AND $2 AND xmin = pg_current_xact_id()::xid ORDER BY id`, from, to); err != nil {
			return 0, fmt.Errorf("re-enrich incidents %d..%d: write events: %w", from, to, mapError(err))
		}
	}
	if err := commit(ctx, tx); err != nil {
		return 0, fmt.Errorf("re-enrich incidents: commit: %w", mapError(err))
	}
	return n, nil
}

// Enrichment steps of an import, as reported to its progress.
const (
	EnrichCountry = "country"       // the country polygon holding each point
	EnrichCoast   = "coast"         // points in no polygon: a country within 10 km
	EnrichPlace   = "nearest place" // the nearest gazetteer place
	EnrichBorder  = "border"        // distance to the nearest land border
)

// enrichStepsSQL compute the derived geography of every row of
// import_points, one set-based statement per step, with the same rules
// as incident_geography (migration 00005), which the trigger uses for
// single rows: the country polygon holding the point ('--' marks an area
// without a code, which must not fall through to the coastal search),
// else the nearest country within 10 km; the nearest place, exact on the
// spheroid among the candidates planar KNN finds; the nearest border
// piece likewise (geography KNN far from any border). Each lookup is an
// index scan per distinct point.
var enrichStepsSQL = []struct{ step, sql string }{
	{EnrichCountry, `UPDATE import_points p SET country_code = (
		SELECT coalesce(cp.code, '--') FROM country_parts cp WHERE ST_Intersects(cp.geom, p.geom)
		ORDER BY cp.code NULLS LAST LIMIT 1)`},
	{EnrichCoast, `UPDATE import_points p SET country_code = CASE WHEN p.country_code = '--' THEN NULL ELSE (
		SELECT cp.code FROM country_parts cp
		WHERE cp.geom && im_search_box(p.geom, 10000) AND ST_DWithin(cp.boundary, p.geog, 10000, false)
		ORDER BY ST_Distance(cp.boundary, p.geog, false) LIMIT 1) END
	WHERE p.country_code IS NULL OR p.country_code = '--'`},
	{EnrichPlace, `UPDATE import_points p SET (place_id, place_name, place_distance_m) = (
		SELECT n.id, n.name, ST_Distance(n.geom::geography, p.geog) AS m
		FROM (SELECT ST_Distance(pl.geom::geography, p.geog, false) AS d FROM places pl ORDER BY pl.geom <-> p.geom LIMIT 1) first
		CROSS JOIN LATERAL (
			SELECT pl.id, pl.name, pl.geom FROM places pl WHERE pl.geom && im_search_box(p.geom, first.d)
			ORDER BY ST_Distance(pl.geom::geography, p.geog, false) LIMIT 3) n
		ORDER BY m, n.id LIMIT 1)`},
	{EnrichBorder, `UPDATE import_points p SET border_distance_m = (
		SELECT min(ST_Distance(n.geog, p.geog))
		FROM (SELECT ST_Distance(bp.geog, p.geog, false) AS d FROM border_parts bp ORDER BY bp.geom <-> p.geom LIMIT 1) first
		CROSS JOIN LATERAL (
			(SELECT bp.geog FROM border_parts bp
			 WHERE first.d <= 100000 AND bp.geom && im_search_box(p.geom, first.d)
			 ORDER BY ST_Distance(bp.geog, p.geog, false) LIMIT 3)
			UNION ALL
			(SELECT bp.geog FROM border_parts bp WHERE first.d > 100000 ORDER BY bp.geog <-> p.geog LIMIT 3)) n)`},
}

// enrichStagedPoints fills the temporary table import_points with the
// distinct locations of the staged rows that are new or moved, and their
// derived geography, step by step (see enrichStepsSQL; a step whose table
// is empty is skipped). It reports each step to step and returns whether
// countries are loaded (without them no geo check can be made). The
// table exists afterwards even when empty: the merge joins it.
func enrichStagedPoints(ctx context.Context, tx *sql.Tx, staged int64, step func(name string, points int64)) (bool, error) {
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE import_points (
		x double precision NOT NULL,
		y double precision NOT NULL,
		geom geometry(Point, 4326) NOT NULL,
		geog geography(Point, 4326) NOT NULL,
		country_code text,
		place_id bigint,
		place_name text,
		place_distance_m double precision,
		border_distance_m double precision,
		PRIMARY KEY (x, y)
	) ON COMMIT DROP`); err != nil {
		return false, fmt.Errorf("import incidents: enrich: %w", mapError(err))
	}
	var places, countries, borders bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM places), EXISTS (SELECT 1 FROM country_parts),
		EXISTS (SELECT 1 FROM border_parts)`).Scan(&places, &countries, &borders); err != nil {
		return false, fmt.Errorf("import incidents: enrich: %w", mapError(err))
	}
	if staged == 0 || !(places || countries || borders) {
		return countries, nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO import_points (x, y, geom, geog)
		SELECT x, y, pt, pt::geography FROM (
			SELECT DISTINCT s.lon AS x, s.lat AS y, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS pt
			FROM import_staging s LEFT JOIN incidents i ON i.external_id = s.external_id
			WHERE i.id IS NULL OR ST_X(i.geom) <> s.lon OR ST_Y(i.geom) <> s.lat) d`)
	if err != nil {
		return countries, fmt.Errorf("import incidents: enrich: collect points: %w", mapError(err))
	}
	points, err := res.RowsAffected()
	if err != nil {
		return countries, fmt.Errorf("import incidents: enrich: %w", mapError(err))
	}
	if points == 0 {
		return countries, nil
	}
	if _, err := tx.ExecContext(ctx, `ANALYZE import_points`); err != nil {
		return countries, fmt.Errorf("import incidents: enrich: %w", mapError(err))
	}
	for _, s := range enrichStepsSQL {
		switch s.step {
		case EnrichCountry, EnrichCoast:
			if !countries {
				continue
			}
		case EnrichPlace:
			if !places {
				continue
			}
		case EnrichBorder:
			if !borders {
				continue
			}
		}
		step(s.step, points)
		if _, err := tx.ExecContext(ctx, s.sql); err != nil {
			return countries, fmt.Errorf("import incidents: enrich (%s): %w", s.step, mapError(err))
		}
	}
	return countries, nil
}
