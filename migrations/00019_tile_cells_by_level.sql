-- +goose Up
-- +goose StatementBegin
-- Copying the sums takes a while on a big table: not bound by the pool's
-- statement timeout (see 00017).
SET LOCAL statement_timeout = 0;

-- incident_tile_cells becomes one table per grid level (issue #17). A tile
-- reads one level only, so:
-- - each level has its own statistics: with all levels in one table the
--   planner judged a world tile's cells by the mixed histogram of cx,
--   expected ~1,000 rows for 50,000, and sorted them on disk instead of
--   hashing them;
-- - each level's rows lie together, in the order they are read (below):
--   00017's single table fetched about one page per row of a window's
--   days and months (44,000 pages for a world tile of 51,000 rows; 2,400
--   now, and half the time);
-- - a tile names its level's table, and the planner does not prune
--   partitions for each of the statement's branches.
-- fillfactor leaves room on each page, so that adding an incident to an
-- existing cell rewrites its row in the same page (a HOT update) and the
-- order holds.
-- The triggers and incident_tile_cells_sql() of 00017 write through the
-- parent by name and are unchanged.
ALTER TABLE incident_tile_cells RENAME TO incident_tile_cells_00017;
ALTER INDEX incident_tile_cells_pkey RENAME TO incident_tile_cells_00017_pkey;
ALTER INDEX incident_tile_cells_place_idx RENAME TO incident_tile_cells_00017_place_idx;

CREATE TABLE incident_tile_cells (LIKE incident_tile_cells_00017 INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS)
    PARTITION BY LIST (level);
ALTER TABLE incident_tile_cells ADD PRIMARY KEY (level, span, t, cx, cy, status);
-- The primary key finds a window's buckets over an area (low zooms, short
-- windows); this one a tile's cells over all time (long windows).
CREATE INDEX incident_tile_cells_place_idx ON incident_tile_cells (level, span, cx, cy, t);
COMMENT ON TABLE incident_tile_cells IS 'Sums of incidents per grid cell, time bucket and status, in columns per event type (n_, su_, sv_, f_ with the type''s suffix: geo/postgis/tileagg.go), for cluster tiles below zoom 8; kept by the incidents_tile_cells_* triggers. One partition per grid level (geo/postgis TileCellLevels). Rows whose counts fell to 0 stay.';

DO $$
DECLARE
    lvl int;
BEGIN
    FOREACH lvl IN ARRAY ARRAY[6, 8, 10, 12] LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF incident_tile_cells FOR VALUES IN (%s) WITH (fillfactor = 90)',
            'incident_tile_cells_' || lvl, lvl);
        EXECUTE format('COMMENT ON TABLE %I IS %L', 'incident_tile_cells_' || lvl,
            format('The rows of incident_tile_cells at grid level %s; cluster tiles read it by name.', lvl));
        EXECUTE format('GRANT SELECT ON %I TO incidentmap_public, incidentmap_moderator', 'incident_tile_cells_' || lvl);
    END LOOP;
END $$;

-- Days and months are read a few buckets at a time over an area (the
-- edges of a window): bucket by bucket, cells in key order. Years are read
-- many at a time over a tile (long windows): cell by cell. So a window's
-- rows are neighbours either way.
INSERT INTO incident_tile_cells SELECT * FROM incident_tile_cells_00017
    ORDER BY level, span, CASE WHEN span = 3 THEN cx END, CASE WHEN span = 3 THEN cy END, t, cx, cy, status;
DROP TABLE incident_tile_cells_00017;

GRANT SELECT ON incident_tile_cells TO incidentmap_public, incidentmap_moderator;
ANALYZE incident_tile_cells;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
SET LOCAL statement_timeout = 0;
ALTER TABLE incident_tile_cells RENAME TO incident_tile_cells_00019;
ALTER INDEX incident_tile_cells_pkey RENAME TO incident_tile_cells_00019_pkey;
ALTER INDEX incident_tile_cells_place_idx RENAME TO incident_tile_cells_00019_place_idx;
CREATE TABLE incident_tile_cells (LIKE incident_tile_cells_00019 INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS);
ALTER TABLE incident_tile_cells ADD PRIMARY KEY (level, span, t, cx, cy, status);
CREATE INDEX incident_tile_cells_place_idx ON incident_tile_cells (level, span, cx, cy, t);
INSERT INTO incident_tile_cells SELECT * FROM incident_tile_cells_00019 ORDER BY level, span, cx, cy, t, status;
DROP TABLE incident_tile_cells_00019;
GRANT SELECT ON incident_tile_cells TO incidentmap_public, incidentmap_moderator;
ANALYZE incident_tile_cells;
-- +goose StatementEnd
