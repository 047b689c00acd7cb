-- +goose Up
-- +goose StatementBegin

-- A merged duplicate says where it went (migration 00014's duplicate_of):
-- the public role reads it, as the single feature, lists of retracted
-- incidents and the changes feed's tombstones show it.
GRANT SELECT (duplicate_of) ON incidents TO incidentmap_public;

-- Merging a duplicate moves the reports verified into it to the surviving
-- incident (UPDATE reports ... WHERE incident_id = the duplicate). Partial:
-- pending reports (incident_id null) cost submissions nothing.
CREATE INDEX reports_incident_idx ON reports (incident_id) WHERE incident_id IS NOT NULL;
COMMENT ON INDEX reports_incident_idx IS 'The reports verified into an incident (merging a duplicate moves them to the surviving incident).';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP INDEX reports_incident_idx;
REVOKE SELECT (duplicate_of) ON incidents FROM incidentmap_public;
-- +goose StatementEnd
