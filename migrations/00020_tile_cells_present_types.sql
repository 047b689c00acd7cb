-- +goose Up
-- +goose StatementBegin
-- Copying the sums takes a while on a big table: not bound by the pool's
-- statement timeout (see 00017).
SET LOCAL statement_timeout = 0;

-- incident_tile_cells stores only the event types present in a row; the
-- columns of the others are NULL (issue #17). A row held all six types'
-- sums, 192 bytes of a 250-byte row, but holds 1.15 types on average at
-- level 12, 1.2 at level 10 and 1.8 at level 6 (10M incidents). PostgreSQL
-- stores a NULL as one bit, so a row of one type shrinks to about 100
-- bytes: on 10M incidents the sums were 21.9 GB, which with the incidents
-- did not fit in memory, and every tile not read before went to the disk.
-- The four columns of a type are NULL together or not at all. A type
-- whose count fell back to zero keeps its zeros until the row is copied
-- again (as below).

-- 00019's template, kept under another name for migrate down.
ALTER FUNCTION incident_tile_cells_sql(text, text) RENAME TO incident_tile_cells_sql_00019;
COMMENT ON FUNCTION incident_tile_cells_sql_00019(text, text) IS 'Migration 00019''s incident_tile_cells_sql (every type''s sums stored, zero when absent), kept for rolling back migration 00020.';

-- The statement's type columns are generated from one list, with 00019's
-- buckets: a type absent from the written rows is inserted as NULL, and
-- an upsert adds to a NULL by taking the other side.
CREATE FUNCTION incident_tile_cells_sql(signed_rows text, write_order text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $f$
SELECT format($q$
        INSERT INTO incident_tile_cells AS c (level, span, t, cx, cy, status, %3$s)
        SELECT level, span, t, cx, cy, status, %4$s
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
                      FROM (%1$s) r WHERE abs(ST_Y(r.geom)) <= 85.0511287798066) p
                CROSS JOIN (VALUES (6, 1), (6, 2), (6, 3), (6, 4), (6, 5), (6, 6), (7, 1), (7, 2), (7, 3), (7, 4), (7, 5), (7, 6),
                                   (8, 1), (8, 2), (8, 3), (8, 4), (8, 5), (8, 6), (9, 1), (9, 2), (9, 3),
                                   (10, 1), (10, 2), (10, 3), (12, 1), (12, 2), (12, 3)) ls(level, span)
            ) x
            GROUP BY level, span, t, cx, cy, event_type, status
            HAVING sum(sign) <> 0 OR sum(sign * fatalities) <> 0 OR sum(sign * u) <> 0 OR sum(sign * v) <> 0
        ) d
        GROUP BY level, span, t, cx, cy, status
        ORDER BY %2$s
        ON CONFLICT (level, span, t, cx, cy, status) DO UPDATE
        SET %5$s$q$, signed_rows, write_order, cols.names, cols.sums, cols.adds)
FROM (
    SELECT string_agg(col, ', ' ORDER BY i, j) AS names,
           string_agg(format('sum(%s) FILTER (WHERE event_type = %L)', q, event_type), ', ' ORDER BY i, j) AS sums,
           string_agg(format('%1$s = coalesce(c.%1$s + excluded.%1$s, c.%1$s, excluded.%1$s)', col), ', ' ORDER BY i, j) AS adds
    FROM (VALUES (1, 'Battles', 'battles'), (2, 'Explosions/Remote violence', 'explosions'),
                 (3, 'Violence against civilians', 'civilians'), (4, 'Protests', 'protests'), (5, 'Riots', 'riots'),
                 (6, 'Strategic developments', 'strategic')) ty(i, event_type, suffix)
    CROSS JOIN (VALUES (1, 'n'), (2, 'su'), (3, 'sv'), (4, 'f')) qu(j, q)
    CROSS JOIN LATERAL (SELECT q || '_' || suffix AS col) named
) cols
$f$;
COMMENT ON FUNCTION incident_tile_cells_sql(text, text) IS 'The statement that adds signed incident rows (sign, occurred_at, geom, event_type, status, fatalities) to incident_tile_cells, keys written in write_order, absent types as NULL: the template of incident_tile_cells_apply()''s statements (migration 00020; first 00017).';
SELECT incident_tile_cells_make_apply();

-- The table copied level by level in its stored order (a sequential scan
-- keeps 00019's order), zeros of absent types as NULL, rows of no type
-- left out. Indexes are built once the rows are in.
ALTER TABLE incident_tile_cells RENAME TO incident_tile_cells_00019;
CREATE TABLE incident_tile_cells (LIKE incident_tile_cells_00019 INCLUDING COMMENTS) PARTITION BY LIST (level);
ALTER TABLE incident_tile_cells ADD CONSTRAINT incident_tile_cells_span_check CHECK (span BETWEEN 1 AND 6);
DO $$
DECLARE
    lvl int;
    col text;
    cols text;   -- the copied columns: a type's sums, or NULL when all four are zero
    counts text; -- the count columns, NULL where the type is absent
BEGIN
    SELECT string_agg(CASE WHEN attname ~ '^(n|su|sv|f)_'
                           THEN format('CASE WHEN %1$I <> 0 OR %2$I <> 0 OR %3$I <> 0 OR %4$I <> 0 THEN %5$I END AS %5$I',
                                       'n_' || sfx, 'su_' || sfx, 'sv_' || sfx, 'f_' || sfx, attname)
                           ELSE quote_ident(attname) END, ', ' ORDER BY attnum),
           string_agg(quote_ident(attname), ', ' ORDER BY attnum) FILTER (WHERE attname ~ '^n_')
    INTO cols, counts
    FROM pg_attribute CROSS JOIN LATERAL (SELECT substring(attname FROM '^[a-z]+_(.*)$') AS sfx) x
    WHERE attrelid = 'incident_tile_cells_00019'::regclass AND attnum > 0 AND NOT attisdropped;
    FOR col IN SELECT attname FROM pg_attribute
               WHERE attrelid = 'incident_tile_cells'::regclass AND attnum > 0 AND NOT attisdropped AND attname ~ '^(n|su|sv|f)_' LOOP
        EXECUTE format('ALTER TABLE incident_tile_cells ALTER COLUMN %I DROP NOT NULL', col);
    END LOOP;
    FOREACH lvl IN ARRAY ARRAY[6, 7, 8, 9, 10, 12] LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', 'incident_tile_cells_' || lvl, 'incident_tile_cells_00019_' || lvl);
        EXECUTE format('CREATE TABLE %I PARTITION OF incident_tile_cells FOR VALUES IN (%s) WITH (fillfactor = 90)',
            'incident_tile_cells_' || lvl, lvl);
        EXECUTE format('COMMENT ON TABLE %I IS %L', 'incident_tile_cells_' || lvl,
            format('The rows of incident_tile_cells at grid level %s.', lvl));
        EXECUTE format('GRANT SELECT ON %I TO incidentmap_public, incidentmap_moderator', 'incident_tile_cells_' || lvl);
        EXECUTE format('INSERT INTO %I SELECT * FROM (SELECT %s FROM %I) c WHERE num_nonnulls(%s) > 0',
            'incident_tile_cells_' || lvl, cols, 'incident_tile_cells_00019_' || lvl, counts);
    END LOOP;
END $$;
DROP TABLE incident_tile_cells_00019;
ALTER TABLE incident_tile_cells ADD PRIMARY KEY (level, span, t, cx, cy, status);
-- The primary key finds a window's buckets over an area (low zooms, short
-- windows); this one a tile's cells over all time (long windows).
CREATE INDEX incident_tile_cells_place_idx ON incident_tile_cells (level, span, cx, cy, t);
COMMENT ON TABLE incident_tile_cells IS 'Sums of incidents per grid cell, time bucket and status, in columns per event type (n_, su_, sv_, f_ with the type''s suffix: geo/postgis/tileagg.go), NULL for a type the row never held, for cluster tiles below zoom 8; kept by the incidents_tile_cells_* triggers. One partition per grid level (geo/postgis TileCellLevels), which tiles read by name. Rows whose counts fell to 0 stay.';
GRANT SELECT ON incident_tile_cells TO incidentmap_public, incidentmap_moderator;
ANALYZE incident_tile_cells;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
SET LOCAL statement_timeout = 0;
DROP FUNCTION incident_tile_cells_sql(text, text);
ALTER FUNCTION incident_tile_cells_sql_00019(text, text) RENAME TO incident_tile_cells_sql;
COMMENT ON FUNCTION incident_tile_cells_sql(text, text) IS 'The statement that adds signed incident rows (sign, occurred_at, geom, event_type, status, fatalities) to incident_tile_cells, keys written in write_order: the template of incident_tile_cells_apply()''s statements (migration 00019; first 00017).';
SELECT incident_tile_cells_make_apply();
-- In place: every row is rewritten once (VACUUM gives the space back
-- later, outside the migration's transaction).
DO $$
DECLARE
    sets text;
    alters text;
BEGIN
    SELECT string_agg(format('%1$I = coalesce(%1$I, 0)', attname), ', ' ORDER BY attnum),
           string_agg(format('ALTER COLUMN %1$I SET DEFAULT 0, ALTER COLUMN %1$I SET NOT NULL', attname), ', ' ORDER BY attnum)
    INTO sets, alters
    FROM pg_attribute WHERE attrelid = 'incident_tile_cells'::regclass AND attnum > 0 AND NOT attisdropped AND attname ~ '^(n|su|sv|f)_';
    EXECUTE format('UPDATE incident_tile_cells SET %s', sets);
    EXECUTE format('ALTER TABLE incident_tile_cells %s', alters);
END $$;
COMMENT ON TABLE incident_tile_cells IS 'Sums of incidents per grid cell, time bucket and status, in columns per event type (n_, su_, sv_, f_ with the type''s suffix: geo/postgis/tileagg.go), for cluster tiles below zoom 8; kept by the incidents_tile_cells_* triggers. One partition per grid level (geo/postgis TileCellLevels), which tiles read by name. Rows whose counts fell to 0 stay.';
ANALYZE incident_tile_cells;
-- +goose StatementEnd
