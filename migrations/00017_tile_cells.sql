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
    status     text NOT NULL,
    n_battles bigint NOT NULL DEFAULT 0,
    su_battles double precision NOT NULL DEFAULT 0,
    sv_battles double precision NOT NULL DEFAULT 0,
    f_battles bigint NOT NULL DEFAULT 0,
    n_explosions bigint NOT NULL DEFAULT 0,
    su_explosions double precision NOT NULL DEFAULT 0,
    sv_explosions double precision NOT NULL DEFAULT 0,
    f_explosions bigint NOT NULL DEFAULT 0,
    n_civilians bigint NOT NULL DEFAULT 0,
    su_civilians double precision NOT NULL DEFAULT 0,
    sv_civilians double precision NOT NULL DEFAULT 0,
    f_civilians bigint NOT NULL DEFAULT 0,
    n_protests bigint NOT NULL DEFAULT 0,
    su_protests double precision NOT NULL DEFAULT 0,
    sv_protests double precision NOT NULL DEFAULT 0,
    f_protests bigint NOT NULL DEFAULT 0,
    n_riots bigint NOT NULL DEFAULT 0,
    su_riots double precision NOT NULL DEFAULT 0,
    sv_riots double precision NOT NULL DEFAULT 0,
    f_riots bigint NOT NULL DEFAULT 0,
    n_strategic bigint NOT NULL DEFAULT 0,
    su_strategic double precision NOT NULL DEFAULT 0,
    sv_strategic double precision NOT NULL DEFAULT 0,
    f_strategic bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (level, span, t, cx, cy, status)
);
-- The primary key finds a window's buckets over the world (low zooms,
-- short windows); this one a tile's columns over all time (long windows).
CREATE INDEX incident_tile_cells_place_idx ON incident_tile_cells (level, span, cx, cy, t);
COMMENT ON TABLE incident_tile_cells IS 'Sums of incidents per grid cell, time bucket and status, in columns per event type (n_, su_, sv_, f_ with the type''s suffix: geo/postgis/tileagg.go), for cluster tiles below zoom 8; kept by the incidents_tile_cells_* triggers. Rows whose counts fell to 0 stay.';
COMMENT ON COLUMN incident_tile_cells.level IS 'Grid level: the world in Web Mercator is 2^level cells per side.';
COMMENT ON COLUMN incident_tile_cells.span IS 'Time bucket length: 1 a UTC day, 2 a UTC month, 3 a UTC year.';
COMMENT ON COLUMN incident_tile_cells.t IS 'First day (UTC) of the time bucket.';
COMMENT ON COLUMN incident_tile_cells.cx IS 'Cell column: floor(u · 2^level), u = (lon + 180) / 360 from 0 (180°W) to 1.';
COMMENT ON COLUMN incident_tile_cells.cy IS 'Cell row: floor(v · 2^level), v the Mercator y from 0 (85.05°N) to 1 (85.05°S).';
COMMENT ON COLUMN incident_tile_cells.status IS 'The incidents'' status.';
COMMENT ON COLUMN incident_tile_cells.n_battles IS 'Number of incidents of event_type ''Battles''.';
COMMENT ON COLUMN incident_tile_cells.su_battles IS 'Sum of the u (see cx) of the incidents of event_type ''Battles'': their centroid is su_battles / n_battles.';
COMMENT ON COLUMN incident_tile_cells.sv_battles IS 'Sum of the v (see cy) of the incidents of event_type ''Battles''.';
COMMENT ON COLUMN incident_tile_cells.f_battles IS 'Sum of the fatalities of the incidents of event_type ''Battles''.';
COMMENT ON COLUMN incident_tile_cells.n_explosions IS 'Number of incidents of event_type ''Explosions/Remote violence''.';
COMMENT ON COLUMN incident_tile_cells.su_explosions IS 'Sum of the u (see cx) of the incidents of event_type ''Explosions/Remote violence'': their centroid is su_explosions / n_explosions.';
COMMENT ON COLUMN incident_tile_cells.sv_explosions IS 'Sum of the v (see cy) of the incidents of event_type ''Explosions/Remote violence''.';
COMMENT ON COLUMN incident_tile_cells.f_explosions IS 'Sum of the fatalities of the incidents of event_type ''Explosions/Remote violence''.';
COMMENT ON COLUMN incident_tile_cells.n_civilians IS 'Number of incidents of event_type ''Violence against civilians''.';
COMMENT ON COLUMN incident_tile_cells.su_civilians IS 'Sum of the u (see cx) of the incidents of event_type ''Violence against civilians'': their centroid is su_civilians / n_civilians.';
COMMENT ON COLUMN incident_tile_cells.sv_civilians IS 'Sum of the v (see cy) of the incidents of event_type ''Violence against civilians''.';
COMMENT ON COLUMN incident_tile_cells.f_civilians IS 'Sum of the fatalities of the incidents of event_type ''Violence against civilians''.';
COMMENT ON COLUMN incident_tile_cells.n_protests IS 'Number of incidents of event_type ''Protests''.';
COMMENT ON COLUMN incident_tile_cells.su_protests IS 'Sum of the u (see cx) of the incidents of event_type ''Protests'': their centroid is su_protests / n_protests.';
COMMENT ON COLUMN incident_tile_cells.sv_protests IS 'Sum of the v (see cy) of the incidents of event_type ''Protests''.';
COMMENT ON COLUMN incident_tile_cells.f_protests IS 'Sum of the fatalities of the incidents of event_type ''Protests''.';
COMMENT ON COLUMN incident_tile_cells.n_riots IS 'Number of incidents of event_type ''Riots''.';
COMMENT ON COLUMN incident_tile_cells.su_riots IS 'Sum of the u (see cx) of the incidents of event_type ''Riots'': their centroid is su_riots / n_riots.';
COMMENT ON COLUMN incident_tile_cells.sv_riots IS 'Sum of the v (see cy) of the incidents of event_type ''Riots''.';
COMMENT ON COLUMN incident_tile_cells.f_riots IS 'Sum of the fatalities of the incidents of event_type ''Riots''.';
COMMENT ON COLUMN incident_tile_cells.n_strategic IS 'Number of incidents of event_type ''Strategic developments''.';
COMMENT ON COLUMN incident_tile_cells.su_strategic IS 'Sum of the u (see cx) of the incidents of event_type ''Strategic developments'': their centroid is su_strategic / n_strategic.';
COMMENT ON COLUMN incident_tile_cells.sv_strategic IS 'Sum of the v (see cy) of the incidents of event_type ''Strategic developments''.';
COMMENT ON COLUMN incident_tile_cells.f_strategic IS 'Sum of the fatalities of the incidents of event_type ''Strategic developments''.';

-- incident_tile_cells_sql is the one statement that adds incidents to the
-- sums: signed_rows is a query of (sign, occurred_at, geom, event_type,
-- status, fatalities), +1 for a row added and -1 for a row removed; each is
-- counted at every level and span, types pivoted into their columns, and
-- the keys written in write_order. Returned as text, so that the insert,
-- update and delete branches of the trigger function (generated from it
-- below) and the first build share one statement. Points beyond Web Mercator's ±85.05° are in no tile. Groups
-- whose deltas cancel (an update that moved nothing) write nothing.
CREATE FUNCTION incident_tile_cells_sql(signed_rows text, write_order text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $f$
SELECT format($q$
        INSERT INTO incident_tile_cells AS c (level, span, t, cx, cy, status,
            n_battles, su_battles, sv_battles, f_battles,
            n_explosions, su_explosions, sv_explosions, f_explosions,
            n_civilians, su_civilians, sv_civilians, f_civilians,
            n_protests, su_protests, sv_protests, f_protests,
            n_riots, su_riots, sv_riots, f_riots,
            n_strategic, su_strategic, sv_strategic, f_strategic)
        SELECT level, span, t, cx, cy, status,
               coalesce(sum(n) FILTER (WHERE event_type = 'Battles'), 0),
               coalesce(sum(su) FILTER (WHERE event_type = 'Battles'), 0),
               coalesce(sum(sv) FILTER (WHERE event_type = 'Battles'), 0),
               coalesce(sum(f) FILTER (WHERE event_type = 'Battles'), 0),
               coalesce(sum(n) FILTER (WHERE event_type = 'Explosions/Remote violence'), 0),
               coalesce(sum(su) FILTER (WHERE event_type = 'Explosions/Remote violence'), 0),
               coalesce(sum(sv) FILTER (WHERE event_type = 'Explosions/Remote violence'), 0),
               coalesce(sum(f) FILTER (WHERE event_type = 'Explosions/Remote violence'), 0),
               coalesce(sum(n) FILTER (WHERE event_type = 'Violence against civilians'), 0),
               coalesce(sum(su) FILTER (WHERE event_type = 'Violence against civilians'), 0),
               coalesce(sum(sv) FILTER (WHERE event_type = 'Violence against civilians'), 0),
               coalesce(sum(f) FILTER (WHERE event_type = 'Violence against civilians'), 0),
               coalesce(sum(n) FILTER (WHERE event_type = 'Protests'), 0),
               coalesce(sum(su) FILTER (WHERE event_type = 'Protests'), 0),
               coalesce(sum(sv) FILTER (WHERE event_type = 'Protests'), 0),
               coalesce(sum(f) FILTER (WHERE event_type = 'Protests'), 0),
               coalesce(sum(n) FILTER (WHERE event_type = 'Riots'), 0),
               coalesce(sum(su) FILTER (WHERE event_type = 'Riots'), 0),
               coalesce(sum(sv) FILTER (WHERE event_type = 'Riots'), 0),
               coalesce(sum(f) FILTER (WHERE event_type = 'Riots'), 0),
               coalesce(sum(n) FILTER (WHERE event_type = 'Strategic developments'), 0),
               coalesce(sum(su) FILTER (WHERE event_type = 'Strategic developments'), 0),
               coalesce(sum(sv) FILTER (WHERE event_type = 'Strategic developments'), 0),
               coalesce(sum(f) FILTER (WHERE event_type = 'Strategic developments'), 0)
        FROM (
            SELECT level, span, t, cx, cy, event_type, status,
                   sum(sign) AS n, sum(sign * u) AS su, sum(sign * v) AS sv, sum(sign * fatalities) AS f
            FROM (
                SELECT l.level, s.span,
                       CASE s.span WHEN 1 THEN d ELSE date_trunc(CASE s.span WHEN 2 THEN 'month' ELSE 'year' END, d)::date END AS t,
                       floor(u * (1 << l.level))::int AS cx, floor(v * (1 << l.level))::int AS cy,
                       event_type, status, sign, u, v, fatalities
                FROM (SELECT r.sign, (r.occurred_at AT TIME ZONE 'UTC')::date AS d, (ST_X(r.geom) + 180) / 360 AS u,
                             0.5 - ln(tan(radians(ST_Y(r.geom)) / 2 + pi() / 4)) / (2 * pi()) AS v,
                             r.event_type, r.status, r.fatalities
                      FROM (%s) r WHERE abs(ST_Y(r.geom)) <= 85.0511287798066) p
                CROSS JOIN (VALUES (6), (8), (10), (12)) l(level) CROSS JOIN (VALUES (1), (2), (3)) s(span)
            ) x
            GROUP BY level, span, t, cx, cy, event_type, status
            HAVING sum(sign) <> 0 OR sum(sign * fatalities) <> 0 OR sum(sign * u) <> 0 OR sum(sign * v) <> 0
        ) d
        GROUP BY level, span, t, cx, cy, status
        ORDER BY %s
        ON CONFLICT (level, span, t, cx, cy, status) DO UPDATE
        SET n_battles = c.n_battles + excluded.n_battles,
            su_battles = c.su_battles + excluded.su_battles,
            sv_battles = c.sv_battles + excluded.sv_battles,
            f_battles = c.f_battles + excluded.f_battles,
            n_explosions = c.n_explosions + excluded.n_explosions,
            su_explosions = c.su_explosions + excluded.su_explosions,
            sv_explosions = c.sv_explosions + excluded.sv_explosions,
            f_explosions = c.f_explosions + excluded.f_explosions,
            n_civilians = c.n_civilians + excluded.n_civilians,
            su_civilians = c.su_civilians + excluded.su_civilians,
            sv_civilians = c.sv_civilians + excluded.sv_civilians,
            f_civilians = c.f_civilians + excluded.f_civilians,
            n_protests = c.n_protests + excluded.n_protests,
            su_protests = c.su_protests + excluded.su_protests,
            sv_protests = c.sv_protests + excluded.sv_protests,
            f_protests = c.f_protests + excluded.f_protests,
            n_riots = c.n_riots + excluded.n_riots,
            su_riots = c.su_riots + excluded.su_riots,
            sv_riots = c.sv_riots + excluded.sv_riots,
            f_riots = c.f_riots + excluded.f_riots,
            n_strategic = c.n_strategic + excluded.n_strategic,
            su_strategic = c.su_strategic + excluded.su_strategic,
            sv_strategic = c.sv_strategic + excluded.sv_strategic,
            f_strategic = c.f_strategic + excluded.f_strategic$q$, signed_rows, write_order)
$f$;
COMMENT ON FUNCTION incident_tile_cells_sql(text, text) IS 'The statement that adds signed incident rows (sign, occurred_at, geom, event_type, status, fatalities) to incident_tile_cells, keys written in write_order: the template of incident_tile_cells_apply()''s statements and of the first build (migration 00017).';

-- The trigger function runs the statement above as static SQL, once per
-- transition-table shape: generated here from the one template, because
-- EXECUTE of the template at every write would plan it each time
-- (measured: +0.7 ms per single insert, +1 ms per update, about half of
-- the write's cost again); static statements keep their plans.
DO $do$
BEGIN
    EXECUTE format($fn$
CREATE FUNCTION incident_tile_cells_apply() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $body$
BEGIN
    -- One upsert per statement, whatever its rows: bulk imports aggregate
    -- as a set. Keys are written in primary key order, so concurrent
    -- writers lock shared rows in the same order and cannot deadlock.
    IF TG_OP = 'INSERT' THEN
        %s;
    ELSIF TG_OP = 'DELETE' THEN
        %s;
    ELSE
        -- Updates: only rows whose place, time, type, status or
        -- fatalities changed, the old row subtracted and the new added.
        %s;
    END IF;
    RETURN NULL;
END $body$$fn$,
        incident_tile_cells_sql('SELECT 1 AS sign, occurred_at, geom, event_type, status, fatalities FROM incident_tile_new',
            'level, span, t, cx, cy, status'),
        incident_tile_cells_sql('SELECT -1 AS sign, occurred_at, geom, event_type, status, fatalities FROM incident_tile_old',
            'level, span, t, cx, cy, status'),
        incident_tile_cells_sql('
            SELECT r.* FROM incident_tile_old o JOIN incident_tile_new w ON w.id = o.id
            CROSS JOIN LATERAL (VALUES (-1, o.occurred_at, o.geom, o.event_type, o.status, o.fatalities),
                                       (1, w.occurred_at, w.geom, w.event_type, w.status, w.fatalities))
                 r(sign, occurred_at, geom, event_type, status, fatalities)
            WHERE (o.occurred_at, ST_X(o.geom), ST_Y(o.geom), o.event_type, o.status, o.fatalities)
                  IS DISTINCT FROM (w.occurred_at, ST_X(w.geom), ST_Y(w.geom), w.event_type, w.status, w.fatalities)',
            'level, span, t, cx, cy, status'));
END $do$;
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
-- (the insert trigger's, over the whole table), written in the place
-- index's order: a level's cells of one span then lie together on disk, so
-- the world tile over all time reads about a thousand pages instead of one
-- per row (27,000 at a million incidents), and a short window's few rows
-- stay cheap to fetch.
DO $$
BEGIN
    EXECUTE incident_tile_cells_sql(
        'SELECT 1 AS sign, occurred_at, geom, event_type, status, fatalities FROM incidents',
        'level, span, cx, cy, t, status');
END $$;
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
DROP FUNCTION incident_tile_cells_sql(text, text);
DROP TABLE incident_tile_cells;
-- +goose StatementEnd
