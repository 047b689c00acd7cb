-- +goose Up
-- +goose StatementBegin

-- Every foreign key gets an index on its columns (geo/postgis's
-- TestForeignKeysIndexed keeps it so). Without one, deleting or re-keying a
-- referenced row checks the referencing table by scanning all of it: one
-- deleted report or merged incident read every incident. The incident
-- columns are mostly null, so the indexes are partial and cost writes of
-- ordinary incidents nothing.
CREATE INDEX incidents_report_idx ON incidents (report_id) WHERE report_id IS NOT NULL;
COMMENT ON INDEX incidents_report_idx IS 'The incident a report was verified into (the foreign key to reports; deleting a report checks it).';
CREATE INDEX incidents_duplicate_of_idx ON incidents (duplicate_of) WHERE duplicate_of IS NOT NULL;
COMMENT ON INDEX incidents_duplicate_of_idx IS 'The duplicates merged into an incident (the foreign key to incidents; deleting an incident checks it).';
CREATE INDEX audit_log_user_idx ON audit_log (user_id) WHERE user_id IS NOT NULL;
COMMENT ON INDEX audit_log_user_idx IS 'What each moderator did (the foreign key to users; deleting a user checks it).';
CREATE INDEX country_parts_country_idx ON country_parts (country_id);
COMMENT ON INDEX country_parts_country_idx IS 'The polygons of a country (reloading borders deletes countries, cascading to their parts).';
CREATE INDEX border_parts_border_idx ON border_parts (border_id);
COMMENT ON INDEX border_parts_border_idx IS 'The lines of a border (reloading borders deletes borders, cascading to their parts).';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP INDEX border_parts_border_idx;
DROP INDEX country_parts_country_idx;
DROP INDEX audit_log_user_idx;
DROP INDEX incidents_duplicate_of_idx;
DROP INDEX incidents_report_idx;
-- +goose StatementEnd
