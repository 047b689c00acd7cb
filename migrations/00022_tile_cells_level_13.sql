-- +goose Up
-- +goose StatementBegin
-- Building the new level reads every incident: not bound by the pool's
-- statement timeout (see 00017).
SET LOCAL statement_timeout = 0;

-- Grid level 13 (issue #17): cluster tiles at zoom 7 group by it and had
-- no level of their own, so they scanned the points. On 10M incidents a
-- year at a hotspot's zoom-7 tile read ~9,000 incidents, one table page
-- each: 530-680 ms with a cold cache. Level 13 stores days, months and
-- years, as levels 9 to 12 do.
--
-- The template keeps 00020's statement and only extends its list of
-- (level, span) pairs, so the statement is not written out a third time.

ALTER FUNCTION incident_tile_cells_sql(text, text) RENAME TO incident_tile_cells_sql_00020;
COMMENT ON FUNCTION incident_tile_cells_sql_00020(text, text) IS 'Migration 00020''s incident_tile_cells_sql (levels 6 to 12), the statement incident_tile_cells_sql_for() rewrites; also what migrating down restores.';

CREATE FUNCTION incident_tile_cells_sql_for(signed_rows text, write_order text, level_spans text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE
    q text := incident_tile_cells_sql_00020(signed_rows, write_order);
    pairs constant text := '\(VALUES \(6, 1\)[^a-z]*\) ls\(level, span\)';
BEGIN
    IF (SELECT count(*) FROM regexp_matches(q, pairs, 'g')) <> 1 THEN
        RAISE EXCEPTION 'incident_tile_cells_sql_00020 does not list its (level, span) pairs as migration 00022 expects';
    END IF;
    RETURN regexp_replace(q, pairs, format('(VALUES %s) ls(level, span)', level_spans));
END $f$;
COMMENT ON FUNCTION incident_tile_cells_sql_for(text, text, text) IS 'incident_tile_cells_sql() for the given (level, span) pairs, written as SQL VALUES rows: 00020''s statement with its list replaced (migration 00022).';

CREATE FUNCTION incident_tile_cells_sql(signed_rows text, write_order text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $f$
SELECT incident_tile_cells_sql_for(signed_rows, write_order,
    '(6, 1), (6, 2), (6, 3), (6, 4), (6, 5), (6, 6), (7, 1), (7, 2), (7, 3), (7, 4), (7, 5), (7, 6), '
    '(8, 1), (8, 2), (8, 3), (8, 4), (8, 5), (8, 6), (9, 1), (9, 2), (9, 3), (10, 1), (10, 2), (10, 3), '
    '(12, 1), (12, 2), (12, 3), (13, 1), (13, 2), (13, 3)')
$f$;
COMMENT ON FUNCTION incident_tile_cells_sql(text, text) IS 'The statement that adds signed incident rows (sign, occurred_at, geom, event_type, status, fatalities) to incident_tile_cells, keys written in write_order, absent types as NULL: the template of incident_tile_cells_apply()''s statements (migration 00022: levels 6 to 10, 12 and 13; first 00017).';

-- Under a share lock on incidents (writers wait until the migration
-- commits), level 13 is filled from the incidents, then the triggers are
-- regenerated to keep it: no write can fall in between.
LOCK TABLE incidents IN SHARE MODE;
CREATE TABLE incident_tile_cells_13 PARTITION OF incident_tile_cells FOR VALUES IN (13) WITH (fillfactor = 90);
COMMENT ON TABLE incident_tile_cells_13 IS 'The rows of incident_tile_cells at grid level 13.';
GRANT SELECT ON incident_tile_cells_13 TO incidentmap_public, incidentmap_moderator;
SET LOCAL work_mem = '256MB';
DO $$
BEGIN
    -- Stored as 00019 stores a level: days and months bucket by bucket,
    -- cells in key order (a window's edges over an area); years cell by
    -- cell (long windows over a tile).
    EXECUTE incident_tile_cells_sql_for(
        'SELECT 1 AS sign, occurred_at, geom, event_type, status, fatalities FROM incidents',
        'level, span, CASE WHEN span = 3 THEN cx END, CASE WHEN span = 3 THEN cy END, t, cx, cy, status',
        '(13, 1), (13, 2), (13, 3)');
END $$;
SELECT incident_tile_cells_make_apply();
ANALYZE incident_tile_cells_13;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE incident_tile_cells_13;
DROP FUNCTION incident_tile_cells_sql(text, text);
DROP FUNCTION incident_tile_cells_sql_for(text, text, text);
ALTER FUNCTION incident_tile_cells_sql_00020(text, text) RENAME TO incident_tile_cells_sql;
COMMENT ON FUNCTION incident_tile_cells_sql(text, text) IS 'The statement that adds signed incident rows (sign, occurred_at, geom, event_type, status, fatalities) to incident_tile_cells, keys written in write_order, absent types as NULL: the template of incident_tile_cells_apply()''s statements (migration 00020; first 00017).';
SELECT incident_tile_cells_make_apply();
-- +goose StatementEnd
