-- +goose Up
-- +goose StatementBegin

-- Provenance, the source's own statements, and derived checks beside them.
-- What a source states (ACLED's country, iso, admin1-3, location, its
-- event types) is kept as given; enrichment only ever writes the derived
-- columns (country_code, nearest place, border distance, geo_check), so a
-- point the 1:10m polygons put a few hundred metres across a border keeps
-- the country its source gave, and carries a flag instead.
ALTER TABLE incidents
    ADD COLUMN source_dataset          text NOT NULL DEFAULT '' CHECK (length(source_dataset) <= 100),
    ADD COLUMN source_file             text NOT NULL DEFAULT ''
                                       CHECK (length(source_file) <= 255 AND strpos(source_file, '/') = 0),
    ADD COLUMN source_record           jsonb NOT NULL DEFAULT '{}'
                                       CHECK (jsonb_typeof(source_record) = 'object'
                                              AND NOT jsonb_path_exists(source_record, '$.* ? (@.type() != "string")')),
    ADD COLUMN stated_country          text NOT NULL DEFAULT '' CHECK (length(stated_country) <= 200),
    ADD COLUMN stated_iso              text NOT NULL DEFAULT '' CHECK (length(stated_iso) <= 20),
    ADD COLUMN stated_country_code     char(2) CHECK (stated_country_code ~ '^[A-Z]{2}$'),
    ADD COLUMN admin2                  text NOT NULL DEFAULT '' CHECK (length(admin2) <= 300),
    ADD COLUMN admin3                  text NOT NULL DEFAULT '' CHECK (length(admin3) <= 300),
    ADD COLUMN original_event_type     text NOT NULL DEFAULT '' CHECK (length(original_event_type) <= 200),
    ADD COLUMN original_sub_event_type text NOT NULL DEFAULT '' CHECK (length(original_sub_event_type) <= 200),
    ADD COLUMN geo_check               text[] NOT NULL DEFAULT '{}'
                                       CHECK (geo_check <@ ARRAY['country_mismatch', 'no_country']::text[]);

COMMENT ON COLUMN incidents.source_dataset IS 'Provenance: the data set the record was imported from (e.g. ACLED); empty when entered here.';
COMMENT ON COLUMN incidents.source_file IS 'Provenance: base name of the file whose import last wrote the record; empty when not imported from a file. Not public.';
COMMENT ON COLUMN incidents.source_record IS 'Stated: the source row''s values the other columns do not reproduce exactly (columns without a field here, original spellings), as an object of text keyed by lower-case column name. Public only when asked for (properties=source_record).';
COMMENT ON COLUMN incidents.stated_country IS 'Stated: country as the source wrote it (ACLED country); never overwritten by enrichment.';
COMMENT ON COLUMN incidents.stated_iso IS 'Stated: ISO 3166-1 numeric code as the source wrote it (ACLED iso).';
COMMENT ON COLUMN incidents.stated_country_code IS 'Stated: ISO 3166-1 alpha-2 read from stated_iso or stated_country; NULL when they name none.';
COMMENT ON COLUMN incidents.admin1 IS 'Stated: first-level administrative division as the source gave it (ACLED admin1).';
COMMENT ON COLUMN incidents.admin2 IS 'Stated: second-level administrative division (ACLED admin2).';
COMMENT ON COLUMN incidents.admin3 IS 'Stated: third-level administrative division (ACLED admin3).';
COMMENT ON COLUMN incidents.original_event_type IS 'Stated: the source''s event type when event_type was mapped from an older taxonomy (pre-2019 ACLED); empty otherwise.';
COMMENT ON COLUMN incidents.original_sub_event_type IS 'Stated: the source''s sub-event type when sub_event_type was mapped from an older taxonomy; empty otherwise.';
COMMENT ON COLUMN incidents.geo_check IS 'Derived: where derived and stated geography disagree: country_mismatch (the polygon holding geom is another country than stated_country_code), no_country (a country is stated, but no coded country polygon lies within 10 km). Empty when they agree or nothing is stated.';
COMMENT ON COLUMN incidents.country_code IS 'Derived: ISO 3166-1 alpha-2 of the country polygon containing geom (or within 10 km of it); kept when none is found. The source''s country is stated_country_code.';

-- Filtering on a check (moderators look for the flagged few): only
-- flagged rows are indexed, so the index stays small however large the
-- table. Queries repeat the predicate so the planner may use it.
CREATE INDEX incidents_geo_check_idx ON incidents USING gin (geo_check) WHERE geo_check <> '{}';
-- country= means the source's country where one is stated, else the
-- derived one: users expect ACLED's country, not a polygon's.
CREATE INDEX incidents_country_idx ON incidents ((coalesce(stated_country_code, country_code)));

-- incident_geo_check compares the stated country with the one derived
-- from the polygons (NULL: none found). With no countries loaded nothing
-- can be checked.
CREATE FUNCTION incident_geo_check(stated char(2), derived char(2), countries_loaded boolean) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN stated IS NULL OR NOT coalesce(countries_loaded, false) THEN '{}'::text[]
        WHEN derived IS NULL THEN ARRAY['no_country']
        WHEN derived <> stated THEN ARRAY['country_mismatch']
        ELSE '{}'::text[] END;
COMMENT ON FUNCTION incident_geo_check(char, char, boolean) IS 'geo_check of an incident from its stated and derived country codes.';

-- The trigger now also computes geo_check, and runs when the stated
-- country changes. It writes derived columns only. Imports switch it off
-- for their transaction (incidentmap.enrich = off) and enrich set-based.
CREATE OR REPLACE FUNCTION enrich_incident() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF coalesce(current_setting('incidentmap.enrich', true), '') = 'off' THEN
        RETURN NEW;
    END IF;
    r := incident_geography(NEW.geom);
    IF r.country_code IS NOT NULL THEN
        NEW.country_code := r.country_code;
    END IF;
    IF r.place_id IS NOT NULL THEN
        NEW.nearest_place_id := r.place_id;
        NEW.nearest_place_name := r.place_name;
        NEW.nearest_place_distance_m := r.place_distance_m;
    END IF;
    IF r.border_distance_m IS NOT NULL THEN
        NEW.border_distance_m := r.border_distance_m;
    END IF;
    NEW.geo_check := incident_geo_check(NEW.stated_country_code, r.country_code,
        EXISTS (SELECT 1 FROM country_parts));
    RETURN NEW;
END $$;
COMMENT ON FUNCTION enrich_incident() IS 'Trigger for single-row writes: fills an incident''s derived geography (incident_geography) and geo_check, never a stated column; skipped when incidentmap.enrich is off (imports enrich set-based).';
DROP TRIGGER incidents_enrich ON incidents;
CREATE TRIGGER incidents_enrich BEFORE INSERT OR UPDATE OF geom, stated_country_code ON incidents
    FOR EACH ROW EXECUTE FUNCTION enrich_incident();

-- Least privilege, in the style of 00007: the public role reads the
-- columns the map and the API show, listed, so that a column added later
-- is private until a migration decides otherwise. source_record is
-- readable because the API returns it when asked (properties=
-- source_record); source_file (a local file name) is not public.
REVOKE SELECT ON incidents FROM incidentmap_public;
GRANT SELECT (id, external_id, occurred_at, time_precision, event_type, sub_event_type, actor1, actor2,
    fatalities, title, notes, location_name, geom, geo_precision, country_code, admin1, nearest_place_id,
    nearest_place_name, nearest_place_distance_m, border_distance_m, status, sources, report_id, demo,
    version, created_at, updated_at, search,
    source_dataset, source_record, stated_country, stated_iso, stated_country_code, admin2, admin3,
    original_event_type, original_sub_event_type, geo_check)
    ON incidents TO incidentmap_public;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
REVOKE SELECT ON incidents FROM incidentmap_public;
GRANT SELECT ON incidents TO incidentmap_public;
DROP TRIGGER incidents_enrich ON incidents;
CREATE TRIGGER incidents_enrich BEFORE INSERT OR UPDATE OF geom ON incidents
    FOR EACH ROW EXECUTE FUNCTION enrich_incident();
CREATE OR REPLACE FUNCTION enrich_incident() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF coalesce(current_setting('incidentmap.enrich', true), '') = 'off' THEN
        RETURN NEW;
    END IF;
    r := incident_geography(NEW.geom);
    IF r.country_code IS NOT NULL THEN
        NEW.country_code := r.country_code;
    END IF;
    IF r.place_id IS NOT NULL THEN
        NEW.nearest_place_id := r.place_id;
        NEW.nearest_place_name := r.place_name;
        NEW.nearest_place_distance_m := r.place_distance_m;
    END IF;
    IF r.border_distance_m IS NOT NULL THEN
        NEW.border_distance_m := r.border_distance_m;
    END IF;
    RETURN NEW;
END $$;
COMMENT ON FUNCTION enrich_incident() IS 'Trigger: fills an incident''s derived geography (incident_geography); skipped when incidentmap.enrich is off.';
DROP FUNCTION incident_geo_check(char, char, boolean);
DROP INDEX incidents_country_idx;
DROP INDEX incidents_geo_check_idx;
COMMENT ON COLUMN incidents.admin1 IS 'Derived or imported first-level administrative division.';
COMMENT ON COLUMN incidents.country_code IS 'Derived: ISO 3166-1 alpha-2 of the country containing geom (or within 10 km of it); the imported code stays when no country is found.';
ALTER TABLE incidents
    DROP COLUMN geo_check,
    DROP COLUMN original_sub_event_type,
    DROP COLUMN original_event_type,
    DROP COLUMN admin3,
    DROP COLUMN admin2,
    DROP COLUMN stated_country_code,
    DROP COLUMN stated_iso,
    DROP COLUMN stated_country,
    DROP COLUMN source_record,
    DROP COLUMN source_file,
    DROP COLUMN source_dataset;
-- +goose StatementEnd
