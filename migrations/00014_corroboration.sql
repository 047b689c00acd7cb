-- +goose Up
-- +goose StatementBegin

-- Corroboration: moderators see, for a pending report or an incident, the
-- other pending reports and public incidents within a few kilometres and
-- hours (ST_DWithin on geography, true metres). These indexes serve that
-- search; they are on the geography cast, as the query writes it.
CREATE INDEX incidents_geog_idx ON incidents USING gist ((geom::geography)) WHERE status <> 'retracted';
CREATE INDEX reports_pending_geog_idx ON reports USING gist ((geom::geography)) WHERE status = 'pending';
COMMENT ON INDEX incidents_geog_idx IS 'Corroboration candidates: public incidents within a distance in metres (ST_DWithin on geography).';
COMMENT ON INDEX reports_pending_geog_idx IS 'Corroboration candidates: pending reports within a distance in metres (ST_DWithin on geography).';

-- A duplicate incident merged into another is retracted and says which.
ALTER TABLE incidents ADD COLUMN duplicate_of bigint REFERENCES incidents (id)
    CONSTRAINT incidents_duplicate_of_check CHECK (duplicate_of IS NULL OR (duplicate_of <> id AND status = 'retracted'));
COMMENT ON COLUMN incidents.duplicate_of IS 'For an incident a moderator merged into another as its duplicate: that other incident (this one is then retracted and its sources were added there).';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
ALTER TABLE incidents DROP COLUMN duplicate_of;
DROP INDEX reports_pending_geog_idx;
DROP INDEX incidents_geog_idx;
-- +goose StatementEnd
