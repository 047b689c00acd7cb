-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION incident_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    event_id bigint;
BEGIN
    -- Bulk imports set incidentmap.bulk to skip per-row events.
    IF coalesce(current_setting('incidentmap.bulk', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'retracted' THEN RETURN NULL; END IF;
        kind := 'incident.created';
    ELSIF NEW.status = 'retracted' AND OLD.status <> 'retracted' THEN
        kind := 'incident.retracted';
    ELSIF NEW.status = 'retracted' THEN
        RETURN NULL;
    ELSIF OLD.status = 'retracted' THEN
        kind := 'incident.created';
    ELSE
        kind := 'incident.updated';
    END IF;
    -- Event ids must rise in commit order: readers resume after the last id
    -- they saw, so an event numbered before one already read but committed
    -- after it would never be delivered. Writers of events take turns,
    -- from their first event until they commit (moderation rates; bulk
    -- imports skip events).
    PERFORM pg_advisory_xact_lock(hashtext('incidentmap.incident_events'));
    INSERT INTO incident_events (type, incident_id) VALUES (kind, NEW.id) RETURNING id INTO event_id;
    PERFORM pg_notify('incident_events', event_id::text);
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION incident_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    event_id bigint;
BEGIN
    -- Bulk imports set incidentmap.bulk to skip per-row events.
    IF coalesce(current_setting('incidentmap.bulk', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'retracted' THEN RETURN NULL; END IF;
        kind := 'incident.created';
    ELSIF NEW.status = 'retracted' AND OLD.status <> 'retracted' THEN
        kind := 'incident.retracted';
    ELSIF NEW.status = 'retracted' THEN
        RETURN NULL;
    ELSIF OLD.status = 'retracted' THEN
        kind := 'incident.created';
    ELSE
        kind := 'incident.updated';
    END IF;
    INSERT INTO incident_events (type, incident_id) VALUES (kind, NEW.id) RETURNING id INTO event_id;
    PERFORM pg_notify('incident_events', event_id::text);
    RETURN NULL;
END $$;
-- +goose StatementEnd
