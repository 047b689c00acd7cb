-- +goose Up
-- +goose StatementBegin
-- Copying the sums takes a while on a big table: not bound by the pool's
-- statement timeout (see 00017).
SET LOCAL statement_timeout = 0;

-- incident_tile_cells becomes one table per grid level, with two more
-- time buckets at the coarse levels (issue #17). Measured on a world tile
-- of 1M incidents over a window of 2.7 years starting and ending mid-month:
-- 00017's table read 51,000 rows on 44,000 pages, sorted them on disk and
-- took 112 ms.
-- - A tile reads one level, and each level now has its own statistics:
--   judged by all levels' histogram of cx, the planner expected 1,000 rows
--   for 50,000 and sorted instead of hashing.
-- - Each level's rows lie in the order they are read (below): 2,400 pages.
-- - A tile names its level's table, so the planner does not prune
--   partitions once per branch of the statement.
-- - Levels 7 and 9 are added: zooms 1 and 3 read the grid they cluster by
--   instead of one with four times the cells (level 8 and 10), about half
--   the rows where the data is dense.
-- - Levels 6 to 8 (zooms 0 to 2, whose tiles span continents) add dekads
--   (span 4: days 1-10, 11-20 and 21 to the month's end) and quarters
--   (span 5). The edges of a window are then at most 10 days, 2 dekads, 2
--   months and 3 quarters each instead of 30 days and 11 months: the
--   world tile above reads about half the rows. They add decades too
--   (span 6): the whole history reads one or two rows per cell instead of
--   one per year (a z1 tile over seven years: 50,000). Levels 9 to 12 hold few
--   incidents per cell and bucket, where more spans would mostly add rows
--   to write.
-- fillfactor leaves room on each page, so that adding an incident to an
-- existing cell rewrites its row in the same page (a HOT update) and the
-- order holds.

-- The template of 00017, kept under another name for migrate down.
ALTER FUNCTION incident_tile_cells_sql(text, text) RENAME TO incident_tile_cells_sql_00017;
COMMENT ON FUNCTION incident_tile_cells_sql_00017(text, text) IS 'Migration 00017''s incident_tile_cells_sql (levels 6 to 12 by day, month and year), kept for rolling back migration 00019.';

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
                SELECT ls.level, ls.span,
                       CASE ls.span WHEN 1 THEN d
                           WHEN 4 THEN date_trunc('month', d)::date + least((extract(day FROM d)::int - 1) / 10, 2) * 10
                           ELSE date_trunc(CASE ls.span WHEN 2 THEN 'month' WHEN 5 THEN 'quarter' WHEN 6 THEN 'decade' ELSE 'year' END, d)::date END AS t,
                       floor(u * (1 << ls.level))::int AS cx, floor(v * (1 << ls.level))::int AS cy,
                       event_type, status, sign, u, v, fatalities
                FROM (SELECT r.sign, (r.occurred_at AT TIME ZONE 'UTC')::date AS d, (ST_X(r.geom) + 180) / 360 AS u,
                             0.5 - ln(tan(radians(ST_Y(r.geom)) / 2 + pi() / 4)) / (2 * pi()) AS v,
                             r.event_type, r.status, r.fatalities
                      FROM (%s) r WHERE abs(ST_Y(r.geom)) <= 85.0511287798066) p
                CROSS JOIN (VALUES (6, 1), (6, 2), (6, 3), (6, 4), (6, 5), (6, 6), (7, 1), (7, 2), (7, 3), (7, 4), (7, 5), (7, 6),
                                   (8, 1), (8, 2), (8, 3), (8, 4), (8, 5), (8, 6), (9, 1), (9, 2), (9, 3),
                                   (10, 1), (10, 2), (10, 3), (12, 1), (12, 2), (12, 3)) ls(level, span)
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
COMMENT ON FUNCTION incident_tile_cells_sql(text, text) IS 'The statement that adds signed incident rows (sign, occurred_at, geom, event_type, status, fatalities) to incident_tile_cells, keys written in write_order: the template of incident_tile_cells_apply()''s statements (migration 00019; first 00017).';

CREATE FUNCTION incident_tile_cells_make_apply() RETURNS void
    LANGUAGE plpgsql AS $do$
BEGIN
    EXECUTE format($fn$
CREATE OR REPLACE FUNCTION incident_tile_cells_apply() RETURNS trigger
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
COMMENT ON FUNCTION incident_tile_cells_make_apply() IS 'Generates incident_tile_cells_apply() from incident_tile_cells_sql() (see migration 00017): a migration that changes the template calls it.';

REVOKE ALL ON FUNCTION incident_tile_cells_make_apply() FROM PUBLIC;
SELECT incident_tile_cells_make_apply();

ALTER TABLE incident_tile_cells RENAME TO incident_tile_cells_00017;
ALTER INDEX incident_tile_cells_pkey RENAME TO incident_tile_cells_00017_pkey;
ALTER INDEX incident_tile_cells_place_idx RENAME TO incident_tile_cells_00017_place_idx;

CREATE TABLE incident_tile_cells (LIKE incident_tile_cells_00017 INCLUDING DEFAULTS INCLUDING COMMENTS)
    PARTITION BY LIST (level);
ALTER TABLE incident_tile_cells ADD PRIMARY KEY (level, span, t, cx, cy, status),
    ADD CONSTRAINT incident_tile_cells_span_check CHECK (span BETWEEN 1 AND 6);
-- The primary key finds a window's buckets over an area (low zooms, short
-- windows); this one a tile's cells over all time (long windows).
CREATE INDEX incident_tile_cells_place_idx ON incident_tile_cells (level, span, cx, cy, t);
COMMENT ON TABLE incident_tile_cells IS 'Sums of incidents per grid cell, time bucket and status, in columns per event type (n_, su_, sv_, f_ with the type''s suffix: geo/postgis/tileagg.go), for cluster tiles below zoom 8; kept by the incidents_tile_cells_* triggers. One partition per grid level (geo/postgis TileCellLevels), which tiles read by name. Rows whose counts fell to 0 stay.';
COMMENT ON COLUMN incident_tile_cells.span IS 'Time bucket: 1 a UTC day, 2 a UTC month, 3 a UTC year; at levels 6 to 8 also 4 a dekad (days 1-10, 11-20, 21 to the month''s end) 5 a quarter and 6 a decade (years 2020-2029...).';

DO $$
DECLARE
    lvl int;
    sums text;
    dekad text := $d$date_trunc('month', t)::date + least((extract(day FROM t)::int - 1) / 10, 2) * 10$d$;
BEGIN
    FOREACH lvl IN ARRAY ARRAY[6, 7, 8, 9, 10, 12] LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF incident_tile_cells FOR VALUES IN (%s) WITH (fillfactor = 90)',
            'incident_tile_cells_' || lvl, lvl);
        EXECUTE format('COMMENT ON TABLE %I IS %L', 'incident_tile_cells_' || lvl,
            format('The rows of incident_tile_cells at grid level %s.', lvl));
        EXECUTE format('GRANT SELECT ON %I TO incidentmap_public, incidentmap_moderator', 'incident_tile_cells_' || lvl);
    END LOOP;
    -- The stored sums copied, and the new rows added up from them (no
    -- incident is read again): each (level, span) from a stored one whose
    -- cells nest in its own and whose buckets nest in its own.
    SELECT string_agg(format('sum(%I)', attname), ', ' ORDER BY attnum) INTO sums
    FROM pg_attribute WHERE attrelid = 'incident_tile_cells_00017'::regclass AND attnum > 0 AND NOT attisdropped
        AND attname ~ '^(n|su|sv|f)_';
    -- Days, dekads, months and quarters are read a few buckets at a time
    -- over an area (a window's edges): bucket by bucket, cells in key
    -- order. Years are read many at a time over a tile (long windows):
    -- cell by cell. A window's rows are neighbours either way. (Decades,
    -- few, either way.)
    EXECUTE format($q$
        INSERT INTO incident_tile_cells
        SELECT * FROM (
            SELECT * FROM incident_tile_cells_00017
            UNION ALL
            SELECT m.level, m.span,
                   CASE m.span WHEN 4 THEN %1$s WHEN 5 THEN date_trunc('quarter', t)::date
                               WHEN 6 THEN date_trunc('decade', t)::date ELSE t END AS bucket,
                   cx >> (o.level - m.level) AS mx, cy >> (o.level - m.level) AS my, status, %2$s
            FROM incident_tile_cells_00017 o
            JOIN (VALUES (6, 6, 4, 1), (6, 6, 5, 2), (6, 6, 6, 3),
                         (7, 8, 1, 1), (7, 8, 2, 2), (7, 8, 3, 3), (7, 8, 4, 1), (7, 8, 5, 2), (7, 8, 6, 3),
                         (8, 8, 4, 1), (8, 8, 5, 2), (8, 8, 6, 3),
                         (9, 10, 1, 1), (9, 10, 2, 2), (9, 10, 3, 3)) m(level, from_level, span, from_span)
              ON o.level = m.from_level AND o.span = m.from_span
            GROUP BY m.level, m.span, bucket, mx, my, status
        ) c
        ORDER BY level, span, CASE WHEN span = 3 THEN cx END, CASE WHEN span = 3 THEN cy END, t, cx, cy, status$q$, dekad, sums);
END $$;
DROP TABLE incident_tile_cells_00017;

GRANT SELECT ON incident_tile_cells TO incidentmap_public, incidentmap_moderator;
ANALYZE incident_tile_cells;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
SET LOCAL statement_timeout = 0;
DROP FUNCTION incident_tile_cells_sql(text, text);
ALTER FUNCTION incident_tile_cells_sql_00017(text, text) RENAME TO incident_tile_cells_sql;
COMMENT ON FUNCTION incident_tile_cells_sql(text, text) IS 'The statement that adds signed incident rows (sign, occurred_at, geom, event_type, status, fatalities) to incident_tile_cells, keys written in write_order: the template of incident_tile_cells_apply()''s statements and of the first build (migration 00017).';
SELECT incident_tile_cells_make_apply();
DROP FUNCTION incident_tile_cells_make_apply();

ALTER TABLE incident_tile_cells RENAME TO incident_tile_cells_00019;
ALTER INDEX incident_tile_cells_pkey RENAME TO incident_tile_cells_00019_pkey;
ALTER INDEX incident_tile_cells_place_idx RENAME TO incident_tile_cells_00019_place_idx;
CREATE TABLE incident_tile_cells (LIKE incident_tile_cells_00019 INCLUDING DEFAULTS INCLUDING COMMENTS);
ALTER TABLE incident_tile_cells ADD PRIMARY KEY (level, span, t, cx, cy, status),
    ADD CONSTRAINT incident_tile_cells_span_check CHECK (span BETWEEN 1 AND 3);
CREATE INDEX incident_tile_cells_place_idx ON incident_tile_cells (level, span, cx, cy, t);
COMMENT ON TABLE incident_tile_cells IS 'Sums of incidents per grid cell, time bucket and status, in columns per event type (n_, su_, sv_, f_ with the type''s suffix: geo/postgis/tileagg.go), for cluster tiles below zoom 8; kept by the incidents_tile_cells_* triggers. Rows whose counts fell to 0 stay.';
COMMENT ON COLUMN incident_tile_cells.span IS 'Time bucket length: 1 a UTC day, 2 a UTC month, 3 a UTC year.';
INSERT INTO incident_tile_cells SELECT * FROM incident_tile_cells_00019 WHERE span <= 3 ORDER BY level, span, cx, cy, t, status;
DROP TABLE incident_tile_cells_00019;
GRANT SELECT ON incident_tile_cells TO incidentmap_public, incidentmap_moderator;
ANALYZE incident_tile_cells;
-- +goose StatementEnd
