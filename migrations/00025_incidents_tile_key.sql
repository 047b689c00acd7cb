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
-- im_tile_key is an SQL-standard body, so the PostGIS functions are bound
-- when it is created and the index rebuilds under any search_path
-- (pg_restore's is empty); the bits are interleaved in PL/pgSQL, which
-- names nothing outside itself: as nested SQL functions, which PostgreSQL
-- calls without inlining when an argument is used twice, building the
-- index on 10M incidents went about seven times slower (its progress after
-- 40 s, against 38 s for all of it this way).
CREATE FUNCTION im_tile_key_cell(x bigint, y bigint) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $f$
BEGIN
    -- Bit i of x goes to bit 2i, of y to bit 2i + 1.
    x := (x | (x << 16)) & 281470681808895;      -- 0x0000FFFF0000FFFF
    x := (x | (x << 8)) & 71777214294589695;     -- 0x00FF00FF00FF00FF
    x := (x | (x << 4)) & 1085102592571150095;   -- 0x0F0F0F0F0F0F0F0F
    x := (x | (x << 2)) & 3689348814741910323;   -- 0x3333333333333333
    x := (x | (x << 1)) & 6148914691236517205;   -- 0x5555555555555555
    y := (y | (y << 16)) & 281470681808895;
    y := (y | (y << 8)) & 71777214294589695;
    y := (y | (y << 4)) & 1085102592571150095;
    y := (y | (y << 2)) & 3689348814741910323;
    y := (y | (y << 1)) & 6148914691236517205;
    RETURN x | (y << 1);
END
$f$;
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
-- +goose StatementEnd
