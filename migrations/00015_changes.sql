-- +goose Up
-- +goose StatementBegin

-- Changes feed for mirrors (GET /api/collections/incidents/changes): the
-- live-update backlog becomes the history mirrors follow. Bulk writes
-- (imports) record their changes too, as events the live stream skips:
-- a mirror must learn of every imported row, a browser must not be
-- flooded with a hundred thousand of them.
ALTER TABLE incident_events ADD COLUMN live boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN incident_events.live IS 'False for events of bulk writes (imports): in the changes feed, not in the live stream.';
COMMENT ON TABLE incident_events IS 'Incident changes in commit order: the live stream (SSE) and the changes feed for mirrors; pruned to a retention window.';
-- The live stream reads only live events: past a bulk import's events
-- without scanning them.
CREATE INDEX incident_events_live_idx ON incident_events (id) WHERE live;

-- items?updated_since= (mirrors that poll instead of following changes).
CREATE INDEX incidents_updated_at_idx ON incidents (updated_at, id);

-- Pruning records how far it went, so a mirror's cursor older than that
-- is refused (410) instead of silently skipping what was pruned. Ids
-- rise in commit order but not in time order (a long import's events get
-- its start time), so everything up to the newest expired id goes.
CREATE OR REPLACE FUNCTION prune_incident_events(keep interval) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    top bigint;
    n bigint;
BEGIN
    SELECT max(id) INTO top FROM incident_events WHERE at < now() - keep;
    IF top IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM incident_events WHERE id <= top;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO settings (name, value) VALUES ('incident_events_pruned_through', top::text)
    ON CONFLICT (name) DO UPDATE SET value = greatest(settings.value::bigint, excluded.value::bigint)::text;
    RETURN n;
END $$;
COMMENT ON FUNCTION prune_incident_events(interval) IS 'Deletes incident events up to the newest older than keep; records the id pruned through in settings (incident_events_pruned_through); returns how many.';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION prune_incident_events(keep interval) RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH gone AS (DELETE FROM incident_events WHERE at < now() - keep RETURNING 1)
    SELECT count(*) FROM gone;
$$;
COMMENT ON FUNCTION prune_incident_events(interval) IS 'Deletes live-update events older than keep; returns how many.';
DELETE FROM settings WHERE name = 'incident_events_pruned_through';
DROP INDEX incidents_updated_at_idx;
DROP INDEX incident_events_live_idx;
COMMENT ON TABLE incident_events IS 'Backlog of incident changes for Server-Sent Events; pruned to a short window.';
ALTER TABLE incident_events DROP COLUMN live;
-- +goose StatementEnd
