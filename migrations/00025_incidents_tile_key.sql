-- +goose Up
-- +goose StatementBegin
SET LOCAL statement_timeout = 0;

-- Point tiles (zoom 8 to 18) read their incidents from one index that
-- holds everything they show (issue #17). Through the index on place, the
-- densest zoom-8 tile of 10M incidents over all of time read a table page
-- per point: 6,183 pages, 476-679 ms once other tiles had pushed them out
-- of memory. An index-only scan of this one reads 600-odd index pages in
-- key order: 85-90 ms with every cache dropped.
--
-- The key is the Morton code of the point's cell among 2^24 x 2^24 Web
-- Mercator cells (the tiles of zoom 24), so the points of any tile up to
-- zoom 24 are one range of keys, and its buffer (a ring of cells of zoom
-- z+6) a few more (geo/postgis tileKeyCover computes the same code).
-- SQL-standard bodies: the PostGIS functions are bound when created, so
-- the index rebuilds under any search_path (pg_restore's is empty).
CREATE FUNCTION im_tile_key_step(v bigint, s integer, m bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (v | (v << s)) & m;
-- im_tile_key_spread moves bit i of v (i < 32) to bit 2i.
CREATE FUNCTION im_tile_key_spread(v bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN im_tile_key_step(im_tile_key_step(im_tile_key_step(im_tile_key_step(im_tile_key_step(
        v, 16, 281470681808895), 8, 71777214294589695), 4, 1085102592571150095), 2, 3689348814741910323), 1, 6148914691236517205);
CREATE FUNCTION im_tile_key_cell(x bigint, y bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN im_tile_key_spread(x) | (im_tile_key_spread(y) << 1);
-- Latitudes past ±89.9° (no tile shows them) are clamped so the logarithm
-- stays finite.
CREATE FUNCTION im_tile_key(g geometry) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN im_tile_key_cell(
        least(greatest(floor((ST_X(g) + 180) / 360 * 16777216), 0), 16777215)::bigint,
        least(greatest(floor((1 - ln(tan(radians(least(greatest(ST_Y(g), -89.9), 89.9)) / 2 + pi() / 4)) / pi()) / 2 * 16777216), 0), 16777215)::bigint);
COMMENT ON FUNCTION im_tile_key(geometry) IS 'Morton code of the zoom-24 Web Mercator tile holding a point: a tile of zoom z is a range of keys (geo/postgis tileKeyRange).';

SET LOCAL maintenance_work_mem = '1GB';
CREATE INDEX incidents_tile_key_idx ON incidents (im_tile_key(geom))
    INCLUDE (id, geom, title, event_type, status, fatalities, geo_precision, occurred_at)
    WHERE abs(ST_Y(geom)) < 85.06;
COMMENT ON INDEX incidents_tile_key_idx IS 'Point tiles by key range, index-only: every column a point tile shows is here (geo/postgis pointTileByKeySQL).';

-- 00023's index by place and time served point tiles over a window; they
-- now read this one (a window filters its time column).
DROP INDEX incidents_point_tile_idx;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
SET LOCAL statement_timeout = 0;
CREATE INDEX incidents_point_tile_idx ON incidents USING gist (geom, occurred_at)
    WHERE abs(ST_Y(geom)) < 85.06;
COMMENT ON INDEX incidents_point_tile_idx IS 'Incidents by place and time for point tiles over a window (geo/postgis pointTileIndexed); its predicate is their condition, so no other statement uses it.';
DROP INDEX incidents_tile_key_idx;
DROP FUNCTION im_tile_key(geometry);
DROP FUNCTION im_tile_key_cell(bigint, bigint);
DROP FUNCTION im_tile_key_spread(bigint);
DROP FUNCTION im_tile_key_step(bigint, integer, bigint);
-- +goose StatementEnd
