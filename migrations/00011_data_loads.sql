-- +goose Up
-- +goose StatementBegin
CREATE TABLE data_loads (
    name        text PRIMARY KEY CHECK (name IN ('places', 'borders')),
    fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE data_loads IS 'Which version of each reference data set was last loaded whole, so that `make run` can skip a reload of unchanged data (`places load --if-changed`).';
COMMENT ON COLUMN data_loads.name IS 'The data set: places (GeoNames) or borders (Natural Earth).';
COMMENT ON COLUMN data_loads.fingerprint IS 'SHA-256 of the loader version and the source files, hex.';
COMMENT ON COLUMN data_loads.loaded_at IS 'When that load finished.';
COMMENT ON TABLE countries IS 'Admin-0 countries and areas (Natural Earth 1:10m via world-atlas, public domain), replaced as a whole by `incidentmap borders load`.';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
COMMENT ON TABLE countries IS 'Admin-0 countries and areas (Natural Earth 1:50m via world-atlas, public domain), replaced as a whole by `incidentmap borders load`.';
DROP TABLE data_loads;
-- +goose StatementEnd
