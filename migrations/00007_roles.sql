-- +goose Up
-- +goose StatementBegin
-- Least privilege. The server runs public requests as incidentmap_public
-- and moderation as incidentmap_moderator; neither owns anything, so a bug
-- in a public query cannot read what the role is not granted. Roles are
-- cluster-wide: create them only if missing (a DBA may have made them).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'incidentmap_public') THEN
        CREATE ROLE incidentmap_public NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'incidentmap_moderator') THEN
        CREATE ROLE incidentmap_moderator NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- created concurrently by a migration of another database
END $$;
COMMENT ON ROLE incidentmap_public IS 'incidentmap: public reads and report submission; no private column.';
COMMENT ON ROLE incidentmap_moderator IS 'incidentmap: moderation, with access to reports'' private columns.';

GRANT USAGE ON SCHEMA public TO incidentmap_public, incidentmap_moderator;

-- What anyone may see on the map.
GRANT SELECT ON incidents, collection_versions, layers, layer_features,
    places, place_aliases, place_names, countries, country_parts, borders, border_parts,
    incident_events, goose_db_version
    TO incidentmap_public, incidentmap_moderator;
-- The key of the keyed client hash: the server hashes addresses with it
-- before anything is stored; alone it identifies no one.
GRANT SELECT ON settings TO incidentmap_public, incidentmap_moderator;

-- Submitting a report: only the fields a reporter supplies (status,
-- moderation note and incident link stay at their defaults) ...
GRANT INSERT (geom, occurred_at, event_type, sub_event_type, description, location_name,
    geo_precision, fatalities, source_urls, contact, idempotency_key, request_hash, client_hash, photo_hint)
    ON reports TO incidentmap_public;
GRANT INSERT ON report_photos TO incidentmap_public;
-- ... and reading back only what an idempotent retry needs. Not the
-- description, point, contact, client hash, or any photo.
GRANT SELECT (id, status, idempotency_key, request_hash, created_at, updated_at) ON reports TO incidentmap_public;

-- Moderation: everything about reports, incidents and users, and the
-- audit log (append-only: no UPDATE or DELETE, the trigger enforces the
-- same for owners).
GRANT SELECT, INSERT, UPDATE ON reports, report_photos, incidents, users TO incidentmap_moderator;
GRANT SELECT, INSERT ON audit_log TO incidentmap_moderator;
-- Written by triggers on incidents, which run as the moderator.
GRANT INSERT, UPDATE ON collection_versions TO incidentmap_moderator;
GRANT INSERT ON incident_events TO incidentmap_moderator;

-- Rate limit buckets are keyed by hashed client addresses: no role reads
-- them; take_token runs with its owner's rights and a fixed search_path.
ALTER FUNCTION take_token(text, float8, float8) SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION take_token(text, float8, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION take_token(text, float8, float8) TO incidentmap_public, incidentmap_moderator;

-- Pruning the live-update backlog is the one delete the public side does;
-- it gets exactly that and nothing else on incident_events.
CREATE FUNCTION prune_incident_events(keep interval) RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH gone AS (DELETE FROM incident_events WHERE at < now() - keep RETURNING 1)
    SELECT count(*) FROM gone;
$$;
COMMENT ON FUNCTION prune_incident_events(interval) IS 'Deletes live-update events older than keep; returns how many.';
REVOKE EXECUTE ON FUNCTION prune_incident_events(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION prune_incident_events(interval) TO incidentmap_public, incidentmap_moderator;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
-- The roles stay: other databases of the cluster may use them.
DROP FUNCTION prune_incident_events(interval);
GRANT EXECUTE ON FUNCTION take_token(text, float8, float8) TO PUBLIC;
ALTER FUNCTION take_token(text, float8, float8) SECURITY INVOKER RESET search_path;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM incidentmap_public, incidentmap_moderator;
REVOKE ALL ON FUNCTION take_token(text, float8, float8) FROM incidentmap_public, incidentmap_moderator;
REVOKE USAGE ON SCHEMA public FROM incidentmap_public, incidentmap_moderator;
-- +goose StatementEnd
