-- +goose Up
-- +goose StatementBegin
-- Building the sums reads every incident (about a minute per million on
-- a small machine): not bound by the pool's statement timeout (the
-- server's request timeout), which would fail the first start on a big
-- table. SET LOCAL ends with the migration's transaction.
SET LOCAL statement_timeout = 0;

-- Cluster tiles below zoom 8 from stored partial sums (issue #17): a tile
-- at zoom z groups its incidents into cells of the world grid of 2^(z+6)
-- cells per side, and a window of time is whole years, whole months and
-- whole days plus at most two partial days. So the sums per cell of a few
-- grids (levels 6, 8, 10 and 12: a zoom uses the coarsest one at least
-- z+6, whose cells nest exactly in its own) and per UTC year, month and day
-- answer any window with a bounded number of rows, and the partial days
-- come from the points (geo/postgis/tileagg.go). The same transaction
-- that writes an incident keeps them current (statement triggers below),
-- so they are never stale.
CREATE TABLE incident_tile_cells (
    level      smallint NOT NULL,
    span       smallint NOT NULL CHECK (span BETWEEN 1 AND 3),
    t          date NOT NULL,
    cx         integer NOT NULL,
    cy         integer NOT NULL,
    event_type text NOT NULL,
    status     text NOT NULL,
    n          bigint NOT NULL,
    su         double precision NOT NULL,
    sv         double precision NOT NULL,
    fatalities bigint NOT NULL,
    PRIMARY KEY (level, span, t, cx, cy, event_type, status)
);
-- The primary key finds a window's buckets over the world (low zooms,
-- short windows); this one a tile's columns over all time (long windows).
CREATE INDEX incident_tile_cells_place_idx ON incident_tile_cells (level, span, cx, cy, t);
COMMENT ON TABLE incident_tile_cells IS 'Sums of incidents per grid cell, time bucket, event type and status, for cluster tiles below zoom 8; kept by the incidents_tile_cells_* triggers. Rows whose n fell to 0 stay (n > 0 selects the live ones).';
COMMENT ON COLUMN incident_tile_cells.level IS 'Grid level: the world in Web Mercator is 2^level cells per side.';
COMMENT ON COLUMN incident_tile_cells.span IS 'Time bucket length: 1 a UTC day, 2 a UTC month, 3 a UTC year.';
COMMENT ON COLUMN incident_tile_cells.t IS 'First day (UTC) of the time bucket.';
COMMENT ON COLUMN incident_tile_cells.cx IS 'Cell column: floor(u · 2^level), u = (lon + 180) / 360 from 0 (180°W) to 1.';
COMMENT ON COLUMN incident_tile_cells.cy IS 'Cell row: floor(v · 2^level), v the Mercator y from 0 (85.05°N) to 1 (85.05°S).';
COMMENT ON COLUMN incident_tile_cells.event_type IS 'The incidents'' event_type.';
COMMENT ON COLUMN incident_tile_cells.status IS 'The incidents'' status.';
COMMENT ON COLUMN incident_tile_cells.n IS 'Number of incidents.';
COMMENT ON COLUMN incident_tile_cells.su IS 'Sum of the incidents'' u (see cx): the centroid is su / n.';
COMMENT ON COLUMN incident_tile_cells.sv IS 'Sum of the incidents'' v (see cy).';
COMMENT ON COLUMN incident_tile_cells.fatalities IS 'Sum of the incidents'' fatalities.';

-- The triggers' sums: each row signed (+1 added, -1 removed) at every
-- level and span. Points beyond Web Mercator's ±85.05° are in no tile.
CREATE FUNCTION incident_tile_cells_apply() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    -- One upsert per statement, whatever its rows: bulk imports aggregate
    -- as a set. Keys are written in primary key order, so concurrent
    -- writers lock shared rows in the same order and cannot deadlock.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO incident_tile_cells AS c (level, span, t, cx, cy, event_type, status, n, su, sv, fatalities)
        SELECT level, span, t, cx, cy, event_type, status, sum(dn), sum(du), sum(dv), sum(df)
        FROM (
            SELECT l.level, s.span,
                   CASE s.span WHEN 1 THEN d ELSE date_trunc(CASE s.span WHEN 2 THEN 'month' ELSE 'year' END, d)::date END AS t,
                   floor(u * (1 << l.level))::int AS cx, floor(v * (1 << l.level))::int AS cy,
                   event_type, status, 1 AS dn, u AS du, v AS dv, fatalities AS df
            FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS d, (ST_X(geom) + 180) / 360 AS u,
                         0.5 - ln(tan(radians(ST_Y(geom)) / 2 + pi() / 4)) / (2 * pi()) AS v,
                         event_type, status, fatalities
                  FROM incident_tile_new WHERE abs(ST_Y(geom)) <= 85.0511287798066) p
            CROSS JOIN (VALUES (6), (8), (10), (12)) l(level) CROSS JOIN (VALUES (1), (2), (3)) s(span)
        ) x
        GROUP BY level, span, t, cx, cy, event_type, status
        ORDER BY level, span, t, cx, cy, event_type, status
        ON CONFLICT (level, span, t, cx, cy, event_type, status) DO UPDATE
        SET n = c.n + excluded.n, su = c.su + excluded.su, sv = c.sv + excluded.sv, fatalities = c.fatalities + excluded.fatalities;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO incident_tile_cells AS c (level, span, t, cx, cy, event_type, status, n, su, sv, fatalities)
        SELECT level, span, t, cx, cy, event_type, status, sum(dn), sum(du), sum(dv), sum(df)
        FROM (
            SELECT l.level, s.span,
                   CASE s.span WHEN 1 THEN d ELSE date_trunc(CASE s.span WHEN 2 THEN 'month' ELSE 'year' END, d)::date END AS t,
                   floor(u * (1 << l.level))::int AS cx, floor(v * (1 << l.level))::int AS cy,
                   event_type, status, -1 AS dn, -u AS du, -v AS dv, -fatalities AS df
            FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS d, (ST_X(geom) + 180) / 360 AS u,
                         0.5 - ln(tan(radians(ST_Y(geom)) / 2 + pi() / 4)) / (2 * pi()) AS v,
                         event_type, status, fatalities
                  FROM incident_tile_old WHERE abs(ST_Y(geom)) <= 85.0511287798066) p
            CROSS JOIN (VALUES (6), (8), (10), (12)) l(level) CROSS JOIN (VALUES (1), (2), (3)) s(span)
        ) x
        GROUP BY level, span, t, cx, cy, event_type, status
        ORDER BY level, span, t, cx, cy, event_type, status
        ON CONFLICT (level, span, t, cx, cy, event_type, status) DO UPDATE
        SET n = c.n + excluded.n, su = c.su + excluded.su, sv = c.sv + excluded.sv, fatalities = c.fatalities + excluded.fatalities;
    ELSE
        -- Updates: only rows whose place, time, type, status or
        -- fatalities changed, the old row subtracted and the new added.
        INSERT INTO incident_tile_cells AS c (level, span, t, cx, cy, event_type, status, n, su, sv, fatalities)
        SELECT level, span, t, cx, cy, event_type, status, sum(dn), sum(du), sum(dv), sum(df)
        FROM (
            SELECT l.level, s.span,
                   CASE s.span WHEN 1 THEN d ELSE date_trunc(CASE s.span WHEN 2 THEN 'month' ELSE 'year' END, d)::date END AS t,
                   floor(u * (1 << l.level))::int AS cx, floor(v * (1 << l.level))::int AS cy,
                   event_type, status, sign AS dn, sign * u AS du, sign * v AS dv, sign * fatalities AS df
            FROM (SELECT r.sign, (r.occurred_at AT TIME ZONE 'UTC')::date AS d, (ST_X(r.geom) + 180) / 360 AS u,
                         0.5 - ln(tan(radians(ST_Y(r.geom)) / 2 + pi() / 4)) / (2 * pi()) AS v,
                         r.event_type, r.status, r.fatalities
                  FROM incident_tile_old o JOIN incident_tile_new w ON w.id = o.id
                  CROSS JOIN LATERAL (VALUES (-1, o.occurred_at, o.geom, o.event_type, o.status, o.fatalities),
                                             (1, w.occurred_at, w.geom, w.event_type, w.status, w.fatalities))
                       r(sign, occurred_at, geom, event_type, status, fatalities)
                  WHERE (o.occurred_at, ST_X(o.geom), ST_Y(o.geom), o.event_type, o.status, o.fatalities)
                        IS DISTINCT FROM (w.occurred_at, ST_X(w.geom), ST_Y(w.geom), w.event_type, w.status, w.fatalities)
                    AND abs(ST_Y(r.geom)) <= 85.0511287798066) p
            CROSS JOIN (VALUES (6), (8), (10), (12)) l(level) CROSS JOIN (VALUES (1), (2), (3)) s(span)
        ) x
        GROUP BY level, span, t, cx, cy, event_type, status
        HAVING sum(dn) <> 0 OR sum(df) <> 0 OR sum(du) <> 0 OR sum(dv) <> 0
        ORDER BY level, span, t, cx, cy, event_type, status
        ON CONFLICT (level, span, t, cx, cy, event_type, status) DO UPDATE
        SET n = c.n + excluded.n, su = c.su + excluded.su, sv = c.sv + excluded.sv, fatalities = c.fatalities + excluded.fatalities;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION incident_tile_cells_apply() IS 'Statement trigger of incidents: adds the inserted rows to incident_tile_cells, subtracts the deleted ones, and for updates subtracts the old and adds the new rows whose geom, occurred_at, event_type, status or fatalities changed. Runs with its owner''s rights: the roles that write incidents cannot write the sums directly.';

CREATE FUNCTION incident_tile_cells_truncate() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    TRUNCATE incident_tile_cells;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION incident_tile_cells_truncate() IS 'Statement trigger of incidents: TRUNCATE incidents empties incident_tile_cells too.';

-- A trigger with transition tables has one event each.
CREATE TRIGGER incidents_tile_cells_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS incident_tile_new
    FOR EACH STATEMENT EXECUTE FUNCTION incident_tile_cells_apply();
CREATE TRIGGER incidents_tile_cells_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS incident_tile_old NEW TABLE AS incident_tile_new
    FOR EACH STATEMENT EXECUTE FUNCTION incident_tile_cells_apply();
CREATE TRIGGER incidents_tile_cells_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS incident_tile_old
    FOR EACH STATEMENT EXECUTE FUNCTION incident_tile_cells_apply();
CREATE TRIGGER incidents_tile_cells_truncate AFTER TRUNCATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION incident_tile_cells_truncate();
COMMENT ON TRIGGER incidents_tile_cells_insert ON incidents IS 'Keeps incident_tile_cells current: inserted rows.';
COMMENT ON TRIGGER incidents_tile_cells_update ON incidents IS 'Keeps incident_tile_cells current: updated rows.';
COMMENT ON TRIGGER incidents_tile_cells_delete ON incidents IS 'Keeps incident_tile_cells current: deleted rows.';
COMMENT ON TRIGGER incidents_tile_cells_truncate ON incidents IS 'Keeps incident_tile_cells current: TRUNCATE.';

-- Cluster tiles are public reads; only the triggers write.
REVOKE ALL ON FUNCTION incident_tile_cells_apply() FROM PUBLIC;
REVOKE ALL ON FUNCTION incident_tile_cells_truncate() FROM PUBLIC;
GRANT SELECT ON incident_tile_cells TO incidentmap_public, incidentmap_moderator;

-- The sums of the incidents already stored, in one set-based statement
-- (the insert trigger's, over the whole table).
INSERT INTO incident_tile_cells (level, span, t, cx, cy, event_type, status, n, su, sv, fatalities)
SELECT level, span, t, cx, cy, event_type, status, count(*), sum(u), sum(v), sum(fatalities)
FROM (
    SELECT l.level, s.span,
           CASE s.span WHEN 1 THEN d ELSE date_trunc(CASE s.span WHEN 2 THEN 'month' ELSE 'year' END, d)::date END AS t,
           floor(u * (1 << l.level))::int AS cx, floor(v * (1 << l.level))::int AS cy, event_type, status, u, v, fatalities
    FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS d, (ST_X(geom) + 180) / 360 AS u,
                 0.5 - ln(tan(radians(ST_Y(geom)) / 2 + pi() / 4)) / (2 * pi()) AS v,
                 event_type, status, fatalities
          FROM incidents WHERE abs(ST_Y(geom)) <= 85.0511287798066) p
    CROSS JOIN (VALUES (6), (8), (10), (12)) l(level) CROSS JOIN (VALUES (1), (2), (3)) s(span)
) x
GROUP BY level, span, t, cx, cy, event_type, status
-- Written in key order, a bucket's cells lie together on disk: the world
-- tile for a year reads a few hundred pages instead of tens of thousands.
ORDER BY level, span, t, cx, cy, event_type, status;
ANALYZE incident_tile_cells;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TRIGGER incidents_tile_cells_truncate ON incidents;
DROP TRIGGER incidents_tile_cells_delete ON incidents;
DROP TRIGGER incidents_tile_cells_update ON incidents;
DROP TRIGGER incidents_tile_cells_insert ON incidents;
DROP FUNCTION incident_tile_cells_truncate();
DROP FUNCTION incident_tile_cells_apply();
DROP TABLE incident_tile_cells;
-- +goose StatementEnd
