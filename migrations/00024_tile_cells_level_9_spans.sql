-- +goose Up
-- +goose StatementBegin
SET LOCAL statement_timeout = 0;

-- Level 9 (zoom 3) also stores dekads, quarters and decades, as levels 6
-- to 8 do (issue #17). Its cells are still large (78 km at the equator),
-- so these rows are few, but without them a window's edges were read as
-- up to 11 months a side: on 10M incidents a two-year window at a
-- hotspot's zoom-3 tile read 18,800 rows from 3,970 pages (148 ms with a
-- cold cache), 10,300 of them months at the edges.

ALTER FUNCTION incident_tile_cells_sql(text, text) RENAME TO incident_tile_cells_sql_00022;
COMMENT ON FUNCTION incident_tile_cells_sql_00022(text, text) IS 'Migration 00022''s incident_tile_cells_sql (levels 6 to 10, 12 and 13), kept for rolling back migration 00024.';
CREATE FUNCTION incident_tile_cells_sql(signed_rows text, write_order text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $f$
SELECT incident_tile_cells_sql_for(signed_rows, write_order,
    '(6, 1), (6, 2), (6, 3), (6, 4), (6, 5), (6, 6), (7, 1), (7, 2), (7, 3), (7, 4), (7, 5), (7, 6), '
    '(8, 1), (8, 2), (8, 3), (8, 4), (8, 5), (8, 6), (9, 1), (9, 2), (9, 3), (9, 4), (9, 5), (9, 6), '
    '(10, 1), (10, 2), (10, 3), (12, 1), (12, 2), (12, 3), (13, 1), (13, 2), (13, 3)')
$f$;
COMMENT ON FUNCTION incident_tile_cells_sql(text, text) IS 'The statement that adds signed incident rows (sign, occurred_at, geom, event_type, status, fatalities) to incident_tile_cells, keys written in write_order, absent types as NULL: the template of incident_tile_cells_apply()''s statements (migration 00024: levels 6 to 10, 12 and 13, all spans at levels 6 to 9; first 00017).';
COMMENT ON COLUMN incident_tile_cells.span IS 'Time bucket: 1 a UTC day, 2 a UTC month, 3 a UTC year; at levels 6 to 9 also 4 a dekad (days 1-10, 11-20, 21 to the month''s end) 5 a quarter and 6 a decade (years 2020-2029...).';

-- The new rows added up from level 9's stored days, months and years (no
-- incident is read), under a share lock on incidents so that no write
-- falls between them and the regenerated triggers. A type absent from
-- every summed row stays NULL (sum of NULLs). Decades are stored cell by
-- cell, as years are (read many at a time over a tile).
LOCK TABLE incidents IN SHARE MODE;
DO $$
DECLARE
    sums text;
BEGIN
    SELECT string_agg(format('sum(%I)', attname), ', ' ORDER BY attnum) INTO sums
    FROM pg_attribute WHERE attrelid = 'incident_tile_cells_9'::regclass AND attnum > 0 AND NOT attisdropped
        AND attname ~ '^(n|su|sv|f)_';
    EXECUTE format($q$
        INSERT INTO incident_tile_cells_9
        SELECT 9, m.span,
               CASE m.span WHEN 4 THEN date_trunc('month', t)::date + least((extract(day FROM t)::int - 1) / 10, 2) * 10
                           WHEN 5 THEN date_trunc('quarter', t)::date ELSE date_trunc('decade', t)::date END AS bucket,
               cx, cy, status, %s
        FROM incident_tile_cells_9 o JOIN (VALUES (4, 1), (5, 2), (6, 3)) m(span, from_span) ON o.span = m.from_span
        GROUP BY m.span, bucket, cx, cy, status
        ORDER BY m.span, CASE WHEN m.span = 6 THEN cx END, CASE WHEN m.span = 6 THEN cy END, bucket, cx, cy, status$q$, sums);
END $$;
SELECT incident_tile_cells_make_apply();
ANALYZE incident_tile_cells_9;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
SET LOCAL statement_timeout = 0;
DROP FUNCTION incident_tile_cells_sql(text, text);
ALTER FUNCTION incident_tile_cells_sql_00022(text, text) RENAME TO incident_tile_cells_sql;
COMMENT ON FUNCTION incident_tile_cells_sql(text, text) IS 'The statement that adds signed incident rows (sign, occurred_at, geom, event_type, status, fatalities) to incident_tile_cells, keys written in write_order, absent types as NULL: the template of incident_tile_cells_apply()''s statements (migration 00022: levels 6 to 10, 12 and 13; first 00017).';
COMMENT ON COLUMN incident_tile_cells.span IS 'Time bucket: 1 a UTC day, 2 a UTC month, 3 a UTC year; at levels 6 to 8 also 4 a dekad (days 1-10, 11-20, 21 to the month''s end) 5 a quarter and 6 a decade (years 2020-2029...).';
SELECT incident_tile_cells_make_apply();
DELETE FROM incident_tile_cells_9 WHERE span > 3;
-- +goose StatementEnd
