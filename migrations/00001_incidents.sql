-- +goose Up
-- +goose StatementBegin
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE incidents (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id              text UNIQUE CHECK (external_id <> '' AND length(external_id) <= 100),
    occurred_at              timestamptz NOT NULL
                             CHECK (occurred_at >= '1900-01-01' AND occurred_at < '2200-01-01'),
    time_precision           smallint NOT NULL DEFAULT 1 CHECK (time_precision BETWEEN 1 AND 3),
    event_type               text NOT NULL CHECK (event_type IN (
                                 'Battles', 'Explosions/Remote violence', 'Violence against civilians',
                                 'Protests', 'Riots', 'Strategic developments')),
    sub_event_type           text CHECK (sub_event_type IN (
                                 'Armed clash', 'Government regains territory', 'Non-state actor overtakes territory',
                                 'Chemical weapon', 'Air/drone strike', 'Suicide bomb',
                                 'Shelling/artillery/missile attack', 'Remote explosive/landmine/IED', 'Grenade',
                                 'Sexual violence', 'Attack', 'Abduction/forced disappearance',
                                 'Peaceful protest', 'Protest with intervention', 'Excessive force against protesters',
                                 'Violent demonstration', 'Mob violence',
                                 'Agreement', 'Arrests', 'Change to group/activity', 'Disrupted weapons use',
                                 'Headquarters or base established', 'Looting/property destruction',
                                 'Non-violent transfer of territory', 'Other')),
    actor1                   text NOT NULL DEFAULT '' CHECK (length(actor1) <= 300),
    actor2                   text NOT NULL DEFAULT '' CHECK (length(actor2) <= 300),
    fatalities               integer NOT NULL DEFAULT 0 CHECK (fatalities BETWEEN 0 AND 1000000),
    title                    text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    notes                    text NOT NULL DEFAULT '' CHECK (length(notes) <= 20000),
    location_name            text NOT NULL DEFAULT '' CHECK (length(location_name) <= 300),
    geom                     geometry(Point, 4326) NOT NULL
                             CHECK (ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90),
    geo_precision            smallint NOT NULL DEFAULT 1 CHECK (geo_precision BETWEEN 1 AND 3),
    country_code             char(2) CHECK (country_code ~ '^[A-Z]{2}$'),
    admin1                   text NOT NULL DEFAULT '',
    nearest_place_id         bigint,
    nearest_place_name       text,
    nearest_place_distance_m double precision CHECK (nearest_place_distance_m >= 0),
    border_distance_m        double precision CHECK (border_distance_m >= 0),
    status                   text NOT NULL DEFAULT 'verified'
                             CHECK (status IN ('verified', 'disputed', 'retracted')),
    sources                  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(sources) = 'array'),
    report_id                bigint,
    demo                     boolean NOT NULL DEFAULT false,
    version                  integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX incidents_geom_idx ON incidents USING gist (geom);
CREATE INDEX incidents_occurred_at_idx ON incidents (occurred_at DESC, id DESC);

COMMENT ON TABLE incidents IS 'Public incident records: one event at one place and time. Field names follow ACLED where it has one.';
COMMENT ON COLUMN incidents.id IS 'Stable feature id.';
COMMENT ON COLUMN incidents.external_id IS 'Id in the source data set (e.g. ACLED event_id_cnty); unique, makes imports idempotent.';
COMMENT ON COLUMN incidents.occurred_at IS 'When the event happened, to time_precision.';
COMMENT ON COLUMN incidents.time_precision IS 'ACLED time precision: 1 day, 2 week, 3 month.';
COMMENT ON COLUMN incidents.event_type IS 'ACLED event type.';
COMMENT ON COLUMN incidents.sub_event_type IS 'ACLED sub-event type, belonging to event_type.';
COMMENT ON COLUMN incidents.actor1 IS 'Main actor (ACLED actor1).';
COMMENT ON COLUMN incidents.actor2 IS 'Other actor (ACLED actor2).';
COMMENT ON COLUMN incidents.fatalities IS 'Reported fatalities (conservative estimate).';
COMMENT ON COLUMN incidents.title IS 'One-line summary shown on the map.';
COMMENT ON COLUMN incidents.notes IS 'Longer description (ACLED notes).';
COMMENT ON COLUMN incidents.location_name IS 'Place name as reported.';
COMMENT ON COLUMN incidents.geom IS 'Location, WGS 84 lon/lat.';
COMMENT ON COLUMN incidents.geo_precision IS 'ACLED geo precision: 1 exact, 2 near, 3 region.';
COMMENT ON COLUMN incidents.country_code IS 'Derived: ISO 3166-1 alpha-2 of the country containing geom.';
COMMENT ON COLUMN incidents.admin1 IS 'Derived or imported first-level administrative division.';
COMMENT ON COLUMN incidents.nearest_place_id IS 'Derived: nearest gazetteer place.';
COMMENT ON COLUMN incidents.nearest_place_name IS 'Derived: name of the nearest gazetteer place.';
COMMENT ON COLUMN incidents.nearest_place_distance_m IS 'Derived: metres to the nearest gazetteer place.';
COMMENT ON COLUMN incidents.border_distance_m IS 'Derived: metres to the nearest international land border.';
COMMENT ON COLUMN incidents.status IS 'verified, disputed or retracted; retracted incidents are hidden by default.';
COMMENT ON COLUMN incidents.sources IS 'JSON array of {name, url, date} the incident rests on.';
COMMENT ON COLUMN incidents.report_id IS 'The submitted report this incident was verified from, if any.';
COMMENT ON COLUMN incidents.demo IS 'True for the bundled demonstration data set.';
COMMENT ON COLUMN incidents.version IS 'Incremented on every update; used for optimistic locking and ETags.';
COMMENT ON COLUMN incidents.created_at IS 'When the record was created.';
COMMENT ON COLUMN incidents.updated_at IS 'When the record was last changed.';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE incidents;
-- +goose StatementEnd
