-- +goose Up
-- +goose StatementBegin

-- Full-text search over an incident's words. 'simple' does no stemming: the
-- data is multilingual and place names must match as written.
ALTER TABLE incidents ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', title || ' ' || notes || ' ' || location_name)) STORED;
CREATE INDEX incidents_search_idx ON incidents USING gin (search);
CREATE INDEX incidents_status_idx ON incidents (status);
CREATE INDEX incidents_fatalities_idx ON incidents (fatalities DESC, id DESC);
COMMENT ON COLUMN incidents.search IS 'Derived: words of title, notes and location_name for full-text search.';

CREATE TABLE collection_versions (
    id         text PRIMARY KEY,
    version    bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE collection_versions IS 'A counter per collection, bumped by every change to it; ETags of responses derive from it so caches never serve stale data.';
COMMENT ON COLUMN collection_versions.id IS 'Collection id (incidents, or a layer id).';
COMMENT ON COLUMN collection_versions.version IS 'Incremented on every statement that changes the collection.';
COMMENT ON COLUMN collection_versions.updated_at IS 'When the collection last changed.';

CREATE FUNCTION bump_collection_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO collection_versions (id) VALUES (TG_ARGV[0])
    ON CONFLICT (id) DO UPDATE SET version = collection_versions.version + 1, updated_at = now();
    RETURN NULL;
END $$;
COMMENT ON FUNCTION bump_collection_version() IS 'Statement trigger: bumps the version of the collection named by its argument.';

CREATE TRIGGER incidents_bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION bump_collection_version('incidents');
INSERT INTO collection_versions (id) VALUES ('incidents');

CREATE TABLE layers (
    id            text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_-]{0,62}$'),
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description   text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    time_property text CHECK (time_property ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
    feature_count bigint NOT NULL DEFAULT 0 CHECK (feature_count >= 0),
    extent        double precision[] CHECK (extent IS NULL OR cardinality(extent) = 4),
    time_start    timestamptz,
    time_end      timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE layers IS 'Named GeoJSON collections of any geometry type (a line of contact, a ceasefire zone), served like incidents.';
COMMENT ON COLUMN layers.id IS 'Collection id used in URLs.';
COMMENT ON COLUMN layers.title IS 'Human-readable title.';
COMMENT ON COLUMN layers.description IS 'What the layer shows and where it comes from.';
COMMENT ON COLUMN layers.time_property IS 'Name of the feature property holding a time, if any; enables datetime filtering.';
COMMENT ON COLUMN layers.feature_count IS 'Number of features, kept by the import.';
COMMENT ON COLUMN layers.extent IS 'Bounding box {minlon, minlat, maxlon, maxlat} of the features, kept by the import.';
COMMENT ON COLUMN layers.time_start IS 'Earliest value of the time property, kept by the import.';
COMMENT ON COLUMN layers.time_end IS 'Latest value of the time property, kept by the import.';
COMMENT ON COLUMN layers.created_at IS 'When the layer was first imported.';
COMMENT ON COLUMN layers.updated_at IS 'When the layer was last replaced.';

CREATE TABLE layer_features (
    layer_id    text NOT NULL REFERENCES layers (id) ON DELETE CASCADE,
    id          bigint NOT NULL CHECK (id > 0),
    geom        geometry(Geometry, 4326) NOT NULL,
    properties  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
    occurred_at timestamptz,
    PRIMARY KEY (layer_id, id)
);
CREATE INDEX layer_features_geom_idx ON layer_features USING gist (geom);
CREATE INDEX layer_features_time_idx ON layer_features (layer_id, occurred_at);
COMMENT ON TABLE layer_features IS 'Features of the layers; properties kept as given.';
COMMENT ON COLUMN layer_features.layer_id IS 'The layer this feature belongs to.';
COMMENT ON COLUMN layer_features.id IS 'Feature id within the layer: its 1-based position in the imported file.';
COMMENT ON COLUMN layer_features.geom IS 'Geometry, WGS 84 lon/lat.';
COMMENT ON COLUMN layer_features.properties IS 'The feature''s properties as imported.';
COMMENT ON COLUMN layer_features.occurred_at IS 'The value of the layer''s time property, when it has one.';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE layer_features;
DROP TABLE layers;
DROP TRIGGER incidents_bump_version ON incidents;
DROP FUNCTION bump_collection_version();
DROP TABLE collection_versions;
DROP INDEX incidents_fatalities_idx;
DROP INDEX incidents_status_idx;
ALTER TABLE incidents DROP COLUMN search;
-- +goose StatementEnd
