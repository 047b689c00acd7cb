-- +goose Up
-- +goose StatementBegin

-- Real geography: a searchable gazetteer (places + aliases), admin-0
-- countries and the land borders between them, and the enrichment of every
-- incident from them (country, nearest place, distance to a land border).

-- im_normalize is the form names are compared in: accents removed
-- (unaccent), Azerbaijani schwa as e, lower case, apostrophes dropped and
-- runs of spaces and punctuation made one space. unaccent is only STABLE
-- (its dictionary could change), so it cannot index; this wrapper names
-- the function and dictionary of the unaccent extension, wherever it was
-- installed, with no search_path lookup at run time (the SQL-standard body
-- is bound when created), and is declared IMMUTABLE so it can. Reindex the
-- name indexes if the unaccent rules are ever changed.
DO $do$
DECLARE
    s text := (SELECT quote_ident(extnamespace::regnamespace::text) FROM pg_extension WHERE extname = 'unaccent');
BEGIN
    EXECUTE format($f$
        CREATE FUNCTION im_normalize(name text) RETURNS text
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            RETURN btrim(regexp_replace(
                replace(lower(%1$s.unaccent(%2$L::regdictionary, translate(name, 'əƏ', 'eE'))), '''', ''),
                '[[:space:][:punct:]]+', ' ', 'g'))$f$, s, s || '.unaccent');
END $do$;
COMMENT ON FUNCTION im_normalize(text) IS 'Normal form of a name for matching: unaccented, lower case, without apostrophes, punctuation and space runs as one space.';

CREATE TABLE place_aliases (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    place_id   bigint NOT NULL REFERENCES places (id) ON DELETE CASCADE,
    alias      text NOT NULL CHECK (length(alias) BETWEEN 1 AND 200 AND im_normalize(alias) <> ''),
    note       text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX place_aliases_place_alias_idx ON place_aliases (place_id, im_normalize(alias));
COMMENT ON TABLE place_aliases IS 'Other names of gazetteer places: contested, historical or transliterated (Jabrayil/Jebrail/Cebrayıl, Stepanakert/Xankandi, Shushi/Shusha).';
COMMENT ON COLUMN place_aliases.id IS 'Alias id.';
COMMENT ON COLUMN place_aliases.place_id IS 'The place this is another name of.';
COMMENT ON COLUMN place_aliases.alias IS 'The name as written; unique per place in normal form (im_normalize).';
COMMENT ON COLUMN place_aliases.note IS 'Why the alias exists or who uses it (e.g. "Armenian name").';
COMMENT ON COLUMN place_aliases.created_at IS 'When the alias was added.';

-- place_names holds every searchable name of every place in normal form,
-- one row per distinct normal form: the search index. Triggers on places
-- and place_aliases keep it in step, whoever writes them.
CREATE TABLE place_names (
    place_id   bigint NOT NULL REFERENCES places (id) ON DELETE CASCADE,
    norm       text NOT NULL,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('name', 'ascii', 'alias', 'alternate')),
    population bigint NOT NULL,
    PRIMARY KEY (place_id, norm)
);
-- Trigrams for typos and words inside names; byte order for exact names
-- and long prefixes; and, for the one-to-three-character prefixes that
-- match thousands of names, their most populous first without a sort.
CREATE INDEX place_names_trgm_idx ON place_names USING gin (norm gin_trgm_ops);
CREATE INDEX place_names_norm_idx ON place_names (norm text_pattern_ops);
CREATE INDEX place_names_prefix1_idx ON place_names (left(norm, 1), population DESC);
CREATE INDEX place_names_prefix2_idx ON place_names (left(norm, 2), population DESC);
CREATE INDEX place_names_prefix3_idx ON place_names (left(norm, 3), population DESC);
COMMENT ON TABLE place_names IS 'Derived search index: each distinct normalised name, ASCII name, alias and alternate name of each place. Maintained by triggers; never written directly.';
COMMENT ON COLUMN place_names.place_id IS 'The place.';
COMMENT ON COLUMN place_names.norm IS 'im_normalize of the name: what searches compare (prefix and trigram indexes).';
COMMENT ON COLUMN place_names.name IS 'The name as written, reported as what matched.';
COMMENT ON COLUMN place_names.kind IS 'name, ascii, alias or alternate: where the name comes from (the first in this order wins a tie).';
COMMENT ON COLUMN place_names.population IS 'Copy of places.population, so ranking needs no join.';

-- refresh_place_names rebuilds the search names of the given places.
CREATE FUNCTION refresh_place_names(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM place_names WHERE place_id = ANY(ids);
    INSERT INTO place_names (place_id, norm, name, kind, population)
    SELECT DISTINCT ON (n.place_id, n.norm) n.place_id, n.norm, n.name, n.kind, n.population
    FROM (
        SELECT p.id AS place_id, im_normalize(v.name) AS norm, v.name, v.kind, v.rank, p.population
        FROM places p
        CROSS JOIN LATERAL (
            SELECT p.name, 'name', 1
            UNION ALL SELECT p.ascii_name, 'ascii', 2 WHERE p.ascii_name <> ''
            UNION ALL SELECT a.alias, 'alias', 3 FROM place_aliases a WHERE a.place_id = p.id
            UNION ALL SELECT u.n, 'alternate', 4 FROM unnest(p.alternate_names) u(n)
        ) v(name, kind, rank)
        WHERE p.id = ANY(ids)
    ) n
    WHERE n.norm <> ''
    ORDER BY n.place_id, n.norm, n.rank;
$$;
COMMENT ON FUNCTION refresh_place_names(bigint[]) IS 'Rebuilds the place_names rows of the given places from places and place_aliases.';

-- Statement triggers with transition tables: a load of 140k places
-- refreshes their names in one set-based statement, not row by row.
CREATE FUNCTION places_names_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM refresh_place_names(ARRAY(SELECT id FROM changed_places));
    RETURN NULL;
END $$;
CREATE TRIGGER places_names_insert AFTER INSERT ON places REFERENCING NEW TABLE AS changed_places
    FOR EACH STATEMENT EXECUTE FUNCTION places_names_changed();
CREATE TRIGGER places_names_update AFTER UPDATE ON places REFERENCING NEW TABLE AS changed_places
    FOR EACH STATEMENT EXECUTE FUNCTION places_names_changed();

CREATE FUNCTION place_aliases_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM refresh_place_names(ARRAY[OLD.place_id]);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM refresh_place_names(ARRAY[NEW.place_id]);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER place_aliases_names AFTER INSERT OR UPDATE OR DELETE ON place_aliases
    FOR EACH ROW EXECUTE FUNCTION place_aliases_changed();
-- Places loaded before this migration become searchable too.
SELECT refresh_place_names(ARRAY(SELECT id FROM places));

-- The places collection (its ETags) changes with places and aliases.
CREATE TRIGGER places_bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON places
    FOR EACH STATEMENT EXECUTE FUNCTION bump_collection_version('places');
CREATE TRIGGER place_aliases_bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON place_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION bump_collection_version('places');
INSERT INTO collection_versions (id) VALUES ('places') ON CONFLICT (id) DO NOTHING;

CREATE TABLE countries (
    id           integer PRIMARY KEY CHECK (id > 0),
    code         char(2) CHECK (code ~ '^[A-Z]{2}$'),
    iso_numeric  char(3) CHECK (iso_numeric ~ '^[0-9]{3}$'),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    geom         geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX countries_geom_idx ON countries USING gist (geom);
CREATE INDEX countries_code_idx ON countries (code);
COMMENT ON TABLE countries IS 'Admin-0 countries and areas (Natural Earth 1:50m via world-atlas, public domain), replaced as a whole by `incidentmap borders load`.';
COMMENT ON COLUMN countries.id IS 'Position of the area in the source file (1-based).';
COMMENT ON COLUMN countries.code IS 'ISO 3166-1 alpha-2; NULL for areas without one (Kosovo, N. Cyprus, Somaliland...). Not unique: an area may come in several records.';
COMMENT ON COLUMN countries.iso_numeric IS 'ISO 3166-1 numeric code as given by the source.';
COMMENT ON COLUMN countries.name IS 'Name as given by the source.';
COMMENT ON COLUMN countries.geom IS 'Area, WGS 84 lon/lat, made valid (ST_MakeValid) where the source is not.';

-- Point-in-polygon and distance tests against whole countries (Russia has
-- thousands of vertices) are slow; against pieces of at most 256 vertices
-- they are fast and the index boxes are tight.
CREATE TABLE country_parts (
    country_id integer NOT NULL REFERENCES countries (id) ON DELETE CASCADE,
    code       char(2),
    geom       geometry(Polygon, 4326) NOT NULL,
    boundary   geography(MultiLineString, 4326) NOT NULL
);
CREATE INDEX country_parts_geom_idx ON country_parts USING gist (geom);
COMMENT ON TABLE country_parts IS 'Derived: countries cut into small polygons (ST_Subdivide) for fast point-in-polygon and distance tests.';
COMMENT ON COLUMN country_parts.country_id IS 'The country this is part of.';
COMMENT ON COLUMN country_parts.code IS 'Copy of countries.code.';
COMMENT ON COLUMN country_parts.geom IS 'The piece, WGS 84 lon/lat.';
COMMENT ON COLUMN country_parts.boundary IS 'The piece''s boundary as geography (densified to follow the lon/lat edges), for distances in metres from points outside every country: lines, not areas, as no point-in-polygon test is needed there, which makes them much faster.';

CREATE TABLE borders (
    id        integer PRIMARY KEY CHECK (id > 0),
    country_a char(2) CHECK (country_a ~ '^[A-Z]{2}$'),
    country_b char(2) CHECK (country_b ~ '^[A-Z]{2}$'),
    name_a    text NOT NULL,
    name_b    text NOT NULL,
    geom      geometry(MultiLineString, 4326) NOT NULL,
    length_m  double precision NOT NULL CHECK (length_m >= 0)
);
CREATE INDEX borders_geom_idx ON borders USING gist (geom);
COMMENT ON TABLE borders IS 'International land borders: the boundary lines two countries share (no coastlines), one row per pair of countries; replaced as a whole by `incidentmap borders load`.';
COMMENT ON COLUMN borders.id IS 'Border id.';
COMMENT ON COLUMN borders.country_a IS 'ISO 3166-1 alpha-2 of one side (the smaller code); NULL for an area without one.';
COMMENT ON COLUMN borders.country_b IS 'ISO 3166-1 alpha-2 of the other side; NULL for an area without one.';
COMMENT ON COLUMN borders.name_a IS 'Name of the country_a side.';
COMMENT ON COLUMN borders.name_b IS 'Name of the country_b side.';
COMMENT ON COLUMN borders.geom IS 'The shared boundary, WGS 84 lon/lat, merged into as few lines as possible.';
COMMENT ON COLUMN borders.length_m IS 'Length on the spheroid, metres.';

CREATE TABLE border_parts (
    border_id integer NOT NULL REFERENCES borders (id) ON DELETE CASCADE,
    geom      geometry(LineString, 4326) NOT NULL,
    geog      geography(LineString, 4326) NOT NULL
);
CREATE INDEX border_parts_geom_idx ON border_parts USING gist (geom);
CREATE INDEX border_parts_geog_idx ON border_parts USING gist (geog);
COMMENT ON TABLE border_parts IS 'Derived: borders cut into short lines (ST_Subdivide) so that nearest-border searches read few, small candidates (2D index near borders, geography KNN far from them).';
COMMENT ON COLUMN border_parts.border_id IS 'The border this is part of.';
COMMENT ON COLUMN border_parts.geom IS 'The piece, WGS 84 lon/lat.';
COMMENT ON COLUMN border_parts.geog IS 'The piece as geography (densified to follow the lon/lat edges), for distances in metres.';

-- im_search_box returns a lon/lat box that holds every point within
-- metres of pt on the spheroid: the latitude span uses the shortest
-- degree of latitude (110.574 km) plus 1%, the longitude span widens by
-- 1/cos of the latitude furthest from the equator, and near a pole or the
-- antimeridian the box spans every longitude. With it, a search that
-- found some candidate at distance D by planar KNN can find the true
-- nearest among the few features whose boxes meet im_search_box(pt, D):
-- exact at any latitude, through the ordinary 2D GiST index.
CREATE FUNCTION im_search_box(pt geometry, metres double precision) RETURNS geometry
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT CASE
        WHEN abs(ST_Y(pt)) + r >= 89.9 OR abs(ST_X(pt)) + dlon >= 180
            THEN ST_MakeEnvelope(-180, greatest(-90, ST_Y(pt) - r), 180, least(90, ST_Y(pt) + r), 4326)
        ELSE ST_MakeEnvelope(ST_X(pt) - dlon, ST_Y(pt) - r, ST_X(pt) + dlon, ST_Y(pt) + r, 4326)
        END
    FROM (SELECT r, r / cos(radians(least(89.9, abs(ST_Y(pt)) + r))) AS dlon
          FROM (SELECT metres / 110574.0 * 1.01 + 1e-7 AS r) a) b);
COMMENT ON FUNCTION im_search_box(geometry, double precision) IS 'A lon/lat box holding every point within the given metres of pt (for exact nearest searches on 2D indexes).';

-- incident_geography computes the derived fields of an incident at pt:
--   country_code: the country whose polygon contains pt, else the nearest
--     one within 10 km (coastal points); NULL when none, or when that area
--     has no ISO code;
--   nearest place, with its distance on the spheroid in metres;
--   border_distance_m: metres on the spheroid to the nearest land border.
-- Nearest searches are exact at any latitude yet mostly use the 2D
-- indexes: KNN in degrees finds a candidate at distance D, and the true
-- nearest is then looked for among the features within
-- im_search_box(pt, D), which are few: the three nearest on the sphere
-- (cheap), of which the nearest on the spheroid wins (the two differ by
-- under 0.5%, so only near-ties can swap, and three cover them). Far from
-- any border (D over 100 km) such a box holds many border pieces, and KNN
-- on the geography index (true sphere distance) is cheaper. Each field is
-- NULL when its table is empty. The trigger and ReEnrich share this
-- function; it runs three statements.
CREATE FUNCTION incident_geography(pt geometry,
    OUT country_code char(2), OUT place_id bigint, OUT place_name text,
    OUT place_distance_m double precision, OUT border_distance_m double precision)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    g geography := pt::geography;
BEGIN
    -- COALESCE only evaluates the coastal search when no polygon holds pt;
    -- '--' stands for an area without a code, which must not fall through.
    country_code := NULLIF(coalesce(
        (SELECT coalesce(cp.code, '--') FROM country_parts cp WHERE ST_Intersects(cp.geom, pt)
         ORDER BY cp.code NULLS LAST LIMIT 1),
        (SELECT cp.code FROM country_parts cp
         WHERE cp.geom && im_search_box(pt, 10000) AND ST_DWithin(cp.boundary, g, 10000, false)
         ORDER BY ST_Distance(cp.boundary, g, false) LIMIT 1)), '--');

    SELECT n.id, n.name, ST_Distance(n.geom::geography, g) AS m
    INTO place_id, place_name, place_distance_m
    FROM (SELECT ST_Distance(p.geom::geography, g, false) AS d FROM places p ORDER BY p.geom <-> pt LIMIT 1) first
    CROSS JOIN LATERAL (
        SELECT p.id, p.name, p.geom FROM places p WHERE p.geom && im_search_box(pt, first.d)
        ORDER BY ST_Distance(p.geom::geography, g, false) LIMIT 3) n
    ORDER BY m, n.id LIMIT 1;

    SELECT min(ST_Distance(n.geog, g)) INTO border_distance_m
    FROM (SELECT ST_Distance(bp.geog, g, false) AS d FROM border_parts bp ORDER BY bp.geom <-> pt LIMIT 1) first
    CROSS JOIN LATERAL (
        (SELECT bp.geog FROM border_parts bp
         WHERE first.d <= 100000 AND bp.geom && im_search_box(pt, first.d)
         ORDER BY ST_Distance(bp.geog, g, false) LIMIT 3)
        UNION ALL
        (SELECT bp.geog FROM border_parts bp WHERE first.d > 100000 ORDER BY bp.geog <-> g LIMIT 3)) n;
END $$;
COMMENT ON FUNCTION incident_geography(geometry) IS 'Derived geography of a point: country code, nearest place and distance, distance to the nearest land border.';

-- The trigger sets the derived columns of every inserted incident and of
-- every update that sets geom. A value is only replaced by one that was
-- found: with no countries loaded, or for a point at sea further than
-- 10 km from any country, the country_code the writer gave (e.g. ACLED's)
-- stays. Bulk imports may set incidentmap.enrich = 'off' for their
-- transaction and call ReEnrich (`incidentmap places reenrich`) after.
CREATE FUNCTION enrich_incident() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER incidents_enrich BEFORE INSERT OR UPDATE OF geom ON incidents
    FOR EACH ROW EXECUTE FUNCTION enrich_incident();

CREATE INDEX incidents_country_code_idx ON incidents (country_code);
CREATE INDEX incidents_border_distance_idx ON incidents (border_distance_m);

COMMENT ON COLUMN incidents.country_code IS 'Derived: ISO 3166-1 alpha-2 of the country containing geom (or within 10 km of it); the imported code stays when no country is found.';
COMMENT ON COLUMN incidents.nearest_place_id IS 'Derived: nearest gazetteer place (places.id).';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
COMMENT ON COLUMN incidents.country_code IS 'Derived: ISO 3166-1 alpha-2 of the country containing geom.';
COMMENT ON COLUMN incidents.nearest_place_id IS 'Derived: nearest gazetteer place.';
DROP INDEX incidents_border_distance_idx;
DROP INDEX incidents_country_code_idx;
DROP TRIGGER incidents_enrich ON incidents;
DROP FUNCTION enrich_incident();
DROP FUNCTION incident_geography(geometry);
DROP FUNCTION im_search_box(geometry, double precision);
DROP TABLE border_parts;
DROP TABLE borders;
DROP TABLE country_parts;
DROP TABLE countries;
DELETE FROM collection_versions WHERE id = 'places';
DROP TRIGGER place_aliases_bump_version ON place_aliases;
DROP TRIGGER places_bump_version ON places;
DROP TRIGGER place_aliases_names ON place_aliases;
DROP FUNCTION place_aliases_changed();
DROP TRIGGER places_names_update ON places;
DROP TRIGGER places_names_insert ON places;
DROP FUNCTION places_names_changed();
DROP FUNCTION refresh_place_names(bigint[]);
DROP TABLE place_names;
DROP TABLE place_aliases;
DROP FUNCTION im_normalize(text);
-- +goose StatementEnd
