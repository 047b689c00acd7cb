-- +goose Up
-- +goose StatementBegin
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TABLE places (
    id              bigint PRIMARY KEY,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    ascii_name      text NOT NULL DEFAULT '',
    alternate_names text[] NOT NULL DEFAULT '{}',
    country_code    char(2) CHECK (country_code ~ '^[A-Z]{2}$'),
    admin1          text NOT NULL DEFAULT '',
    population      bigint NOT NULL DEFAULT 0 CHECK (population >= 0),
    geom            geometry(Point, 4326) NOT NULL
);
CREATE INDEX places_geom_idx ON places USING gist (geom);
COMMENT ON TABLE places IS 'Gazetteer of populated places (GeoNames).';
COMMENT ON COLUMN places.id IS 'GeoNames id.';
COMMENT ON COLUMN places.name IS 'Name as GeoNames gives it.';
COMMENT ON COLUMN places.ascii_name IS 'ASCII transliteration of name.';
COMMENT ON COLUMN places.alternate_names IS 'Other names and spellings from GeoNames.';
COMMENT ON COLUMN places.country_code IS 'ISO 3166-1 alpha-2 country code.';
COMMENT ON COLUMN places.admin1 IS 'First-level administrative division code.';
COMMENT ON COLUMN places.population IS 'Population as GeoNames gives it.';
COMMENT ON COLUMN places.geom IS 'Location, WGS 84 lon/lat.';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE places;
-- +goose StatementEnd
