-- +goose Up
-- +goose StatementBegin

-- Sources as evidence (issue 14). A source is now
-- {url, publisher, title, published_at, accessed_at, archive_url, sha256,
-- kind}; the first shape {name, url, date} becomes publisher and
-- published_at. The rewrite changes no fact, so it bumps no version and
-- sends no live event (incidentmap.bulk, as imports do).
SET LOCAL incidentmap.bulk = 'on';
UPDATE incidents SET sources = (
    SELECT coalesce(jsonb_agg(
        CASE WHEN jsonb_typeof(s) <> 'object' THEN s
             ELSE (s - 'name' - 'date')
                  || CASE WHEN s ? 'name' AND NOT s ? 'publisher' THEN jsonb_build_object('publisher', s -> 'name') ELSE '{}' END
                  || CASE WHEN s ? 'date' AND NOT s ? 'published_at' THEN jsonb_build_object('published_at', s -> 'date') ELSE '{}' END
        END ORDER BY n), '[]'::jsonb)
    FROM jsonb_array_elements(sources) WITH ORDINALITY AS e(s, n))
WHERE jsonb_path_exists(sources, '$[*] ? (exists(@.name) || exists(@.date))');
SET LOCAL incidentmap.bulk = 'off';

-- im_publisher_name is the form publishers are compared in when counting
-- independent sources: the publisher (or the old name) lower-cased, its
-- white space runs (the characters Go's unicode.IsSpace knows) made one
-- space and trimmed; NULL when empty. im_source_host is the host of the
-- source's http(s) URL, lower-cased, less "www."; NULL when none.
-- geo.Source computes the same (PublisherKey), and a store test checks
-- that they agree.
CREATE FUNCTION im_publisher_name(source jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN nullif(btrim(lower(regexp_replace(coalesce(source ->> 'publisher', source ->> 'name', ''),
        E'[\t\n\x0b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+', ' ', 'g')), ' '), '');
COMMENT ON FUNCTION im_publisher_name(jsonb) IS 'Normal form of a source''s publisher for counting independent sources: lower case, white space runs as one space; NULL when none.';
CREATE FUNCTION im_source_host(source jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (regexp_match(lower(coalesce(source ->> 'url', '')), '^https?://(?:[^@/?#]*@)?(?:www\.)?([^:/?#]+)'))[1];
COMMENT ON FUNCTION im_source_host(jsonb) IS 'Host of a source''s http(s) URL, lower case, without www.; NULL when none.';
-- im_publisher_key is a source's key alone: its publisher, else its host.
CREATE FUNCTION im_publisher_key(source jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(im_publisher_name(source), im_source_host(source));
COMMENT ON FUNCTION im_publisher_key(jsonb) IS 'A source''s publisher in normal form (im_publisher_name), else its URL''s host (im_source_host).';

-- im_independent_sources counts the distinct publishers of sources; a
-- source without publisher counts as its URL's host, unless a source with
-- a publisher has that host (the same site, counted already); plus the
-- report an incident was verified from ("incidentmap report N", the
-- publisher of the source that report becomes: listed or not, it counts
-- once).
CREATE FUNCTION im_independent_sources(sources jsonb, report_id bigint) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (WITH e AS (
                SELECT im_publisher_name(s) AS p, im_source_host(s) AS h
                FROM jsonb_array_elements(CASE WHEN jsonb_typeof(sources) = 'array' THEN sources ELSE '[]'::jsonb END) AS a(s))
            SELECT count(DISTINCT k)::integer FROM (
                SELECT p AS k FROM e WHERE p IS NOT NULL
                UNION ALL
                SELECT h FROM e WHERE p IS NULL AND h IS NOT NULL
                    AND h NOT IN (SELECT h FROM e WHERE p IS NOT NULL AND h IS NOT NULL)
                UNION ALL
                SELECT 'incidentmap report ' || report_id WHERE report_id IS NOT NULL) keys);
COMMENT ON FUNCTION im_independent_sources(jsonb, bigint) IS 'How many independent sources support an incident: distinct publishers (im_publisher_name), a source without one as its host unless a published source has it, the report it was verified from as one.';

ALTER TABLE incidents
    ADD COLUMN independent_sources integer NOT NULL
        GENERATED ALWAYS AS (im_independent_sources(sources, report_id)) STORED;
COMMENT ON COLUMN incidents.independent_sources IS 'Derived: distinct publishers among sources (case and spacing ignored; a source without publisher counts as its URL''s host unless a source with a publisher has that host), plus one for the report the incident was verified from. Kept current on every write (generated).';
-- min_sources= filters on it.
CREATE INDEX incidents_independent_sources_idx ON incidents (independent_sources);
-- Public, like the other columns the API shows (00009 lists them).
GRANT SELECT (independent_sources) ON incidents TO incidentmap_public;

-- reported: published but not verified ("reportedly").
ALTER TABLE incidents DROP CONSTRAINT incidents_status_check,
    ADD CONSTRAINT incidents_status_check CHECK (status IN ('verified', 'disputed', 'retracted', 'reported'));
COMMENT ON COLUMN incidents.status IS 'Verification state: verified, disputed, reported (published, not verified) or retracted; retracted incidents are hidden by default.';
COMMENT ON COLUMN incidents.sources IS 'JSON array of sources the incident rests on: {url, publisher, title, published_at, accessed_at, archive_url, sha256, kind} (geo.Source).';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
-- The old schema has no reported status: such incidents become disputed.
SET LOCAL incidentmap.bulk = 'on';
UPDATE incidents SET status = 'disputed' WHERE status = 'reported';
ALTER TABLE incidents DROP CONSTRAINT incidents_status_check,
    ADD CONSTRAINT incidents_status_check CHECK (status IN ('verified', 'disputed', 'retracted'));
COMMENT ON COLUMN incidents.status IS 'verified, disputed or retracted; retracted incidents are hidden by default.';
REVOKE SELECT (independent_sources) ON incidents FROM incidentmap_public;
ALTER TABLE incidents DROP COLUMN independent_sources;
DROP FUNCTION im_independent_sources(jsonb, bigint);
DROP FUNCTION im_publisher_key(jsonb);
DROP FUNCTION im_source_host(jsonb);
DROP FUNCTION im_publisher_name(jsonb);
UPDATE incidents SET sources = (
    SELECT coalesce(jsonb_agg(
        CASE WHEN jsonb_typeof(s) <> 'object' THEN s
             ELSE (s - 'publisher' - 'published_at')
                  || CASE WHEN s ? 'publisher' THEN jsonb_build_object('name', s -> 'publisher') ELSE '{}' END
                  || CASE WHEN s ? 'published_at' THEN jsonb_build_object('date', s -> 'published_at') ELSE '{}' END
        END ORDER BY n), '[]'::jsonb)
    FROM jsonb_array_elements(sources) WITH ORDINALITY AS e(s, n))
WHERE jsonb_path_exists(sources, '$[*] ? (exists(@.publisher) || exists(@.published_at))');
SET LOCAL incidentmap.bulk = 'off';
COMMENT ON COLUMN incidents.sources IS 'JSON array of {name, url, date} the incident rests on.';
-- +goose StatementEnd
