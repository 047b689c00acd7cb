-- +goose Up
-- +goose StatementBegin
CREATE TABLE reports (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    geom             geometry(Point, 4326) NOT NULL
                     CHECK (ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90),
    occurred_at      timestamptz NOT NULL CHECK (occurred_at >= '1900-01-01'),
    event_type       text NOT NULL,
    sub_event_type   text,
    description      text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
    location_name    text NOT NULL DEFAULT '' CHECK (length(location_name) <= 300),
    geo_precision    smallint NOT NULL DEFAULT 1 CHECK (geo_precision BETWEEN 1 AND 3),
    fatalities       integer CHECK (fatalities BETWEEN 0 AND 1000000),
    source_urls      text[] NOT NULL DEFAULT '{}' CHECK (cardinality(source_urls) <= 10),
    contact          text NOT NULL DEFAULT '' CHECK (length(contact) <= 300),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'rejected')),
    moderation_note  text NOT NULL DEFAULT '' CHECK (length(moderation_note) <= 2000),
    incident_id      bigint REFERENCES incidents (id),
    idempotency_key  text UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    request_hash     bytea,
    client_hash      bytea,
    photo_hint       jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_status_idx ON reports (status, created_at, id);
CREATE INDEX reports_geom_idx ON reports USING gist (geom);
COMMENT ON TABLE reports IS 'Reports submitted by the public; never public until a moderator verifies them into an incident.';
COMMENT ON COLUMN reports.id IS 'Report id.';
COMMENT ON COLUMN reports.geom IS 'Claimed location, WGS 84 lon/lat.';
COMMENT ON COLUMN reports.occurred_at IS 'Claimed time of the event.';
COMMENT ON COLUMN reports.event_type IS 'ACLED event type (validated by the application).';
COMMENT ON COLUMN reports.sub_event_type IS 'ACLED sub-event type, optional.';
COMMENT ON COLUMN reports.description IS 'What the reporter saw.';
COMMENT ON COLUMN reports.location_name IS 'Place name as reported.';
COMMENT ON COLUMN reports.geo_precision IS '1 exact, 2 near, 3 region.';
COMMENT ON COLUMN reports.fatalities IS 'Reported fatalities, if any were given.';
COMMENT ON COLUMN reports.source_urls IS 'Links to public sources (http/https).';
COMMENT ON COLUMN reports.contact IS 'PRIVATE: how moderators may reach the reporter. Never in any public output.';
COMMENT ON COLUMN reports.status IS 'pending, verified or rejected.';
COMMENT ON COLUMN reports.moderation_note IS 'Moderator''s note (reason for rejection).';
COMMENT ON COLUMN reports.incident_id IS 'The incident created from or merged with this report.';
COMMENT ON COLUMN reports.idempotency_key IS 'Client''s Idempotency-Key: a retry returns the first response.';
COMMENT ON COLUMN reports.request_hash IS 'SHA-256 of the request body, to tell a retry from a different request with the same key.';
COMMENT ON COLUMN reports.client_hash IS 'PRIVATE: keyed hash of the client address, for abuse handling.';
COMMENT ON COLUMN reports.photo_hint IS 'Location/time suggested by the photos'' EXIF and whether the claimed point agrees.';
COMMENT ON COLUMN reports.created_at IS 'When the report was received.';
COMMENT ON COLUMN reports.updated_at IS 'When the report was last moderated.';

ALTER TABLE incidents ADD CONSTRAINT incidents_report_fk FOREIGN KEY (report_id) REFERENCES reports (id);

CREATE TABLE report_photos (
    report_id    bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    position     smallint NOT NULL CHECK (position BETWEEN 1 AND 5),
    media_type   text NOT NULL,
    stripped     bytea NOT NULL,
    original     bytea NOT NULL,
    original_type text NOT NULL,
    width        integer NOT NULL,
    height       integer NOT NULL,
    exif         jsonb,
    PRIMARY KEY (report_id, position)
);
COMMENT ON TABLE report_photos IS 'Photos attached to reports.';
COMMENT ON COLUMN report_photos.report_id IS 'The report.';
COMMENT ON COLUMN report_photos.position IS '1-based position in the submission.';
COMMENT ON COLUMN report_photos.media_type IS 'Media type of the stripped copy.';
COMMENT ON COLUMN report_photos.stripped IS 'Re-encoded copy with every metadata block removed: the only one fit for public use.';
COMMENT ON COLUMN report_photos.original IS 'PRIVATE: the upload as received, for moderators only.';
COMMENT ON COLUMN report_photos.original_type IS 'Sniffed format of the original.';
COMMENT ON COLUMN report_photos.width IS 'Width in pixels.';
COMMENT ON COLUMN report_photos.height IS 'Height in pixels.';
COMMENT ON COLUMN report_photos.exif IS 'PRIVATE: EXIF GPS and time read from the original.';

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
    role        text NOT NULL CHECK (role IN ('moderator', 'admin')),
    token_hash  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
COMMENT ON TABLE users IS 'Moderators and admins. Only a hash of each bearer token is stored.';
COMMENT ON COLUMN users.id IS 'User id; also the first part of the token.';
COMMENT ON COLUMN users.name IS 'Login name.';
COMMENT ON COLUMN users.role IS 'moderator or admin.';
COMMENT ON COLUMN users.token_hash IS 'SHA-256 of the token secret.';
COMMENT ON COLUMN users.created_at IS 'When the user was added.';
COMMENT ON COLUMN users.revoked_at IS 'When the token was revoked; revoked users cannot sign in.';

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     bigint REFERENCES users (id),
    user_name   text NOT NULL,
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   bigint NOT NULL,
    before      jsonb,
    after       jsonb,
    note        text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id);
COMMENT ON TABLE audit_log IS 'Append-only record of every moderation action and incident change, written in the same transaction as the change.';
COMMENT ON COLUMN audit_log.id IS 'Entry id, in order of writing.';
COMMENT ON COLUMN audit_log.at IS 'When.';
COMMENT ON COLUMN audit_log.user_id IS 'Who (null for the command line).';
COMMENT ON COLUMN audit_log.user_name IS 'Who, by name (kept if the user is later removed).';
COMMENT ON COLUMN audit_log.action IS 'What: report.verify, report.reject, report.merge, incident.update, user.add, user.revoke ...';
COMMENT ON COLUMN audit_log.target_type IS 'report, incident or user.';
COMMENT ON COLUMN audit_log.target_id IS 'Id of the target.';
COMMENT ON COLUMN audit_log.before IS 'The target before the change.';
COMMENT ON COLUMN audit_log.after IS 'The target after the change.';
COMMENT ON COLUMN audit_log.note IS 'Moderator''s note.';

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE settings (
    name  text PRIMARY KEY,
    value text NOT NULL
);
COMMENT ON TABLE settings IS 'Server-wide values shared by every instance.';
COMMENT ON COLUMN settings.name IS 'Setting name.';
COMMENT ON COLUMN settings.value IS 'Setting value.';
-- The key of the keyed hash of client addresses: random, made once per database.
INSERT INTO settings (name, value) VALUES ('client_hash_key', gen_random_uuid()::text || gen_random_uuid()::text);

CREATE TABLE rate_limits (
    key        text PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE rate_limits IS 'Token buckets shared by every server instance (key: purpose and hashed client).';
COMMENT ON COLUMN rate_limits.key IS 'Purpose and keyed hash of the client address.';
COMMENT ON COLUMN rate_limits.tokens IS 'Tokens left at updated_at.';
COMMENT ON COLUMN rate_limits.updated_at IS 'When tokens was computed.';

-- take_token takes one token from bucket k (burst tokens, refilled at
-- per_second) and returns 0, or the seconds to wait when the bucket is
-- empty (nothing is taken then). Atomic under concurrency (row lock).
CREATE FUNCTION take_token(k text, burst float8, per_second float8) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    avail float8;
BEGIN
    INSERT INTO rate_limits (key, tokens, updated_at) VALUES (k, burst, clock_timestamp())
    ON CONFLICT (key) DO NOTHING;
    SELECT least(burst, tokens + extract(epoch FROM clock_timestamp() - updated_at) * per_second) INTO avail
    FROM rate_limits WHERE key = k FOR UPDATE;
    IF avail >= 1 THEN
        UPDATE rate_limits SET tokens = avail - 1, updated_at = clock_timestamp() WHERE key = k;
        RETURN 0;
    END IF;
    UPDATE rate_limits SET tokens = avail, updated_at = clock_timestamp() WHERE key = k;
    RETURN (1 - avail) / per_second;
END $$;
COMMENT ON FUNCTION take_token(text, float8, float8) IS 'Token-bucket rate limiting shared by every server instance.';

-- Live updates: a short backlog of incident changes. NOTIFY wakes every
-- server instance, which reads the new rows and streams them to clients;
-- Last-Event-ID resumes from here.
CREATE TABLE incident_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type        text NOT NULL CHECK (type IN ('incident.created', 'incident.updated', 'incident.retracted')),
    incident_id bigint NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE incident_events IS 'Backlog of incident changes for Server-Sent Events; pruned to a short window.';
COMMENT ON COLUMN incident_events.id IS 'Event id (SSE id; Last-Event-ID resumes after it).';
COMMENT ON COLUMN incident_events.type IS 'incident.created, incident.updated or incident.retracted.';
COMMENT ON COLUMN incident_events.incident_id IS 'The incident.';
COMMENT ON COLUMN incident_events.at IS 'When it happened.';

CREATE FUNCTION incident_event() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER incidents_event AFTER INSERT OR UPDATE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incident_event();
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TRIGGER incidents_event ON incidents;
DROP FUNCTION incident_event();
DROP TABLE incident_events;
DROP FUNCTION take_token(text, float8, float8);
DROP TABLE rate_limits;
DROP TABLE settings;
DROP TRIGGER audit_log_no_change ON audit_log;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE users;
DROP TABLE report_photos;
ALTER TABLE incidents DROP CONSTRAINT incidents_report_fk;
DROP TABLE reports;
-- +goose StatementEnd
