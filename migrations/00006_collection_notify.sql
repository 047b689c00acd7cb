-- +goose Up
-- +goose StatementBegin
-- Every change of a collection's version is announced, so server instances
-- can cache versions (for ETags) and drop them the moment they change.
CREATE FUNCTION notify_collection_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('collection_versions', CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
    RETURN NULL;
END $$;
COMMENT ON FUNCTION notify_collection_version() IS 'Row trigger: NOTIFY collection_versions with the changed collection id.';
CREATE TRIGGER collection_versions_notify AFTER INSERT OR UPDATE OR DELETE ON collection_versions
    FOR EACH ROW EXECUTE FUNCTION notify_collection_version();
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TRIGGER collection_versions_notify ON collection_versions;
DROP FUNCTION notify_collection_version();
-- +goose StatementEnd
