-- +goose Up
-- +goose StatementBegin
SET LOCAL statement_timeout = 0;

-- Point tiles (zoom 8 and above) over a window of time find their
-- incidents by place and time at once (issue #17). With one index for each,
-- two months at a hotspot's zoom-8 tile on 10M incidents intersected
-- 28,000 places with 227,000 instants to keep 595: 2,100 pages, 195 ms
-- with a cold cache. The predicate keeps the index to point tiles, which
-- alone write it (geo/postgis/tile.go): a GiST index's second column does
-- not narrow a search the first does not, and on a first try (reverted
-- in a789192) the planner took such an index for a cluster tile's partial
-- days over the whole world and read all of it.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE INDEX incidents_point_tile_idx ON incidents USING gist (geom, occurred_at)
    WHERE abs(ST_Y(geom)) < 85.06;
COMMENT ON INDEX incidents_point_tile_idx IS 'Incidents by place and time for point tiles over a window (geo/postgis pointTileIndexed); its predicate is their condition, so no other statement uses it.';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP INDEX incidents_point_tile_idx;
-- +goose StatementEnd
