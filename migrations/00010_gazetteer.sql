-- +goose Up
-- +goose StatementBegin
-- The gazetteer becomes GeoNames cities500 with every alternate name: the
-- feature code ranks capitals and administrative seats above villages of
-- the same size and sections of a city below, and each name is indexed
-- under the spellings transliteration gives it.
ALTER TABLE places
    ADD COLUMN feature_class text NOT NULL DEFAULT '' CHECK (feature_class ~ '^[A-Z]?$'),
    ADD COLUMN feature_code  text NOT NULL DEFAULT '' CHECK (feature_code ~ '^[A-Z0-9]{0,10}$');
COMMENT ON COLUMN places.feature_class IS 'GeoNames feature class (P: populated place); empty when unknown.';
COMMENT ON COLUMN places.feature_code IS 'GeoNames feature code: PPLC capital, PPLA..PPLA4 administrative seats, PPL, PPLX section of a place, PPLH/PPLQ/PPLW historical, abandoned, destroyed; empty when unknown.';

-- im_place_weight is how much a place's kind adds to its rank beside the
-- natural log of its population (see SearchPlaces): a capital counts as
-- if it were e^1.5 = 4.5 times as big, an administrative seat e = 2.7
-- times, a section of a city or a place that no longer exists as such
-- much less.
CREATE FUNCTION im_place_weight(feature_code text) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE
        WHEN feature_code = 'PPLC' THEN 1.5
        WHEN feature_code IN ('PPLA', 'PPLG') THEN 1.0
        WHEN feature_code = 'PPLA2' THEN 0.5
        WHEN feature_code IN ('PPLA3', 'PPLA4', 'PPLA5') THEN 0.25
        WHEN feature_code IN ('PPLX', 'PPLL', 'PPLF', 'PPLR', 'PPLS') THEN -1.0
        WHEN feature_code IN ('PPLH', 'PPLQ', 'PPLW', 'PPLCH') THEN -2.0
        ELSE 0 END;
COMMENT ON FUNCTION im_place_weight(text) IS 'Rank bonus of a GeoNames feature code, in units of ln(population).';

-- im_name_forms returns every normal form (im_normalize) a name is
-- indexed under. Names written with the letters of Azerbaijani (and
-- Turkish) Latin — ə ş ç ğ ı — are also indexed under their English and
-- Russian-style transliterations, each letter either way: ə as e or a,
-- ş as s or sh, ç as c or ch, ğ as g or gh, and, Azerbaijani letters
-- whose sound English writes otherwise, x as x or kh, c as c or j, q as q
-- or g (Cəbrayıl: cebrayil, jabrayil...; Naxçıvan: nakhchivan; Tərtər:
-- tartar, terter). Each letter is replaced throughout the name at once, so
-- a name has at most 2^7 forms and typically 2 to 8. Names without those
-- letters have one form. Other scripts (Cyrillic, Armenian) are matched
-- through GeoNames' alternate names, never transliterated here.
CREATE FUNCTION im_name_variants(name text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    l text := lower(name);
    forms text[] := ARRAY[l];
    -- Original Azerbaijani letters first (x, c, q), then the letters whose
    -- English forms contain them (ç → ch must not become jh).
    rules text[] := ARRAY['x', 'kh', 'c', 'j', 'q', 'g', 'ə', 'a', 'ş', 'sh', 'ç', 'ch', 'ğ', 'gh'];
    plain text[] := ARRAY['x', 'c', 'q', 'e', 's', 'c', 'g'];
    i int;
BEGIN
    FOR i IN 0 .. 6 LOOP
        IF position(rules[2 * i + 1] IN l) > 0 THEN
            forms := ARRAY(
                SELECT replace(f, rules[2 * i + 1], alt)
                FROM unnest(forms) f, unnest(ARRAY[plain[i + 1], rules[2 * i + 2]]) alt);
        END IF;
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT im_normalize(f) FROM unnest(forms) f);
END $$;
COMMENT ON FUNCTION im_name_variants(text) IS 'Normal forms of a name in Azerbaijani/Turkish Latin under each transliteration of its letters (see im_name_forms).';

CREATE FUNCTION im_name_forms(name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN lower(name) ~ '[əşçğı]' THEN im_name_variants(name) ELSE ARRAY[im_normalize(name)] END;
COMMENT ON FUNCTION im_name_forms(text) IS 'Every normal form a name is indexed under in place_names: im_normalize, plus transliterations of Azerbaijani/Turkish letters.';

-- Every form of every name; the unfolded form of a name wins a tie with
-- a folded form of another, then name before ascii, alias, alternate.
CREATE OR REPLACE FUNCTION refresh_place_names(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM place_names WHERE place_id = ANY(ids);
    INSERT INTO place_names (place_id, norm, name, kind, population)
    SELECT DISTINCT ON (n.place_id, n.norm) n.place_id, n.norm, n.name, n.kind, n.population
    FROM (
        SELECT p.id AS place_id, f.norm, v.name, v.kind, v.rank, f.norm <> im_normalize(v.name) AS folded, p.population
        FROM places p
        CROSS JOIN LATERAL (
            SELECT p.name, 'name', 1
            UNION ALL SELECT p.ascii_name, 'ascii', 2 WHERE p.ascii_name <> ''
            UNION ALL SELECT a.alias, 'alias', 3 FROM place_aliases a WHERE a.place_id = p.id
            UNION ALL SELECT u.n, 'alternate', 4 FROM unnest(p.alternate_names) u(n)
        ) v(name, kind, rank)
        CROSS JOIN LATERAL unnest(im_name_forms(v.name)) f(norm)
        WHERE p.id = ANY(ids)
    ) n
    WHERE n.norm <> ''
    ORDER BY n.place_id, n.norm, n.folded, n.rank;
$$;

COMMENT ON COLUMN place_names.norm IS 'A normal form of the name (im_name_forms: im_normalize, plus transliterations of Azerbaijani/Turkish letters): what searches compare (prefix and trigram indexes).';
COMMENT ON COLUMN place_names.kind IS 'name, ascii, alias (added locally: built-in or by a user) or alternate (GeoNames alternate names): where the name comes from (the first in this order wins a tie).';

-- Prefixes of one to three letters in every script: several thousand
-- distinct values, whose frequencies the planner must know to read the
-- common ones in population order rather than all of them.
ALTER INDEX place_names_prefix1_idx ALTER COLUMN 1 SET STATISTICS 1000;
ALTER INDEX place_names_prefix2_idx ALTER COLUMN 1 SET STATISTICS 1000;
ALTER INDEX place_names_prefix3_idx ALTER COLUMN 1 SET STATISTICS 1000;

-- Free-text incident search also finds incidents by their nearest place.
CREATE INDEX incidents_nearest_place_idx ON incidents (nearest_place_id);

SELECT refresh_place_names(ARRAY(SELECT id FROM places));
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP INDEX incidents_nearest_place_idx;
ALTER INDEX place_names_prefix1_idx ALTER COLUMN 1 SET STATISTICS -1;
ALTER INDEX place_names_prefix2_idx ALTER COLUMN 1 SET STATISTICS -1;
ALTER INDEX place_names_prefix3_idx ALTER COLUMN 1 SET STATISTICS -1;
CREATE OR REPLACE FUNCTION refresh_place_names(ids bigint[]) RETURNS void LANGUAGE sql AS $$
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
DROP FUNCTION im_name_forms(text);
DROP FUNCTION im_name_variants(text);
DROP FUNCTION im_place_weight(text);
ALTER TABLE places DROP COLUMN feature_code, DROP COLUMN feature_class;
SELECT refresh_place_names(ARRAY(SELECT id FROM places));
-- +goose StatementEnd
