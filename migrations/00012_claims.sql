-- +goose Up
-- +goose StatementBegin

-- Claims per party: in a war each side tells its own story, so an incident
-- keeps who said what about it (asserts, denies, no comment, blames
-- someone) beside its one record. Claims are stated by their parties and
-- kept as given; whether they conflict is derived (incidents.contested).
CREATE TABLE incident_claims (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id   bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    party         text NOT NULL CHECK (btrim(party) <> '' AND length(party) <= 200),
    actor_code    text CHECK (actor_code ~ '^[A-Za-z0-9._:-]{1,50}$'),
    stance        text NOT NULL CHECK (stance IN ('asserts', 'denies', 'no_comment', 'attributes_to')),
    attributed_to text CHECK (btrim(attributed_to) <> '' AND length(attributed_to) <= 200),
    text          text NOT NULL CHECK (btrim(text) <> '' AND length(text) <= 2000),
    claimed_at    timestamptz CHECK (claimed_at >= '1900-01-01' AND claimed_at < '2200-01-01'),
    source_url    text CHECK (source_url ~ '^https?://' AND length(source_url) <= 2000),
    source_name   text NOT NULL DEFAULT '' CHECK (length(source_name) <= 300),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    -- Only a claim that blames someone names whom.
    CHECK ((stance = 'attributes_to') = (attributed_to IS NOT NULL)),
    -- A claim without a source is hearsay.
    CHECK (source_url IS NOT NULL OR source_name <> '')
);
CREATE INDEX incident_claims_incident_idx ON incident_claims (incident_id, id);

COMMENT ON TABLE incident_claims IS 'Stated: what each party says about an incident (asserts, denies, no comment, blames another party), with the source it comes from. Public for incidents that are not retracted.';
COMMENT ON COLUMN incident_claims.id IS 'Claim id.';
COMMENT ON COLUMN incident_claims.incident_id IS 'The incident the claim is about; claims go with it when it is deleted.';
COMMENT ON COLUMN incident_claims.party IS 'Who makes the claim, as free text (e.g. Ministry of Defence of Armenia).';
COMMENT ON COLUMN incident_claims.actor_code IS 'Optional short code of the party (letters, digits, . _ : -), matched before the name when telling parties apart.';
COMMENT ON COLUMN incident_claims.stance IS 'asserts (the event happened as stated), denies, no_comment (declined or did not respond), attributes_to (asserts it and blames attributed_to).';
COMMENT ON COLUMN incident_claims.attributed_to IS 'The party blamed, for stance attributes_to only; matched against other claims'' party or actor_code, case-insensitively.';
COMMENT ON COLUMN incident_claims.text IS 'The claim, as the party made it (quoted or closely paraphrased from the source).';
COMMENT ON COLUMN incident_claims.claimed_at IS 'When the party made the claim, only when the source says; NULL otherwise (never invented).';
COMMENT ON COLUMN incident_claims.source_url IS 'Where the claim is reported (http or https URL), when it has one.';
COMMENT ON COLUMN incident_claims.source_name IS 'Who reports the claim (publisher, article); at least one of source_url and source_name is given.';
COMMENT ON COLUMN incident_claims.created_at IS 'When the claim was recorded here.';
COMMENT ON COLUMN incident_claims.updated_at IS 'When the claim was last edited here.';
COMMENT ON COLUMN incident_claims.version IS 'Incremented on every edit; edits name the version they read (If-Match).';

ALTER TABLE incidents ADD COLUMN contested boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN incidents.contested IS 'Derived from incident_claims (incident_claims_contested): the claims conflict. Kept current by the incident_claims trigger in the same transaction.';
-- Contested incidents are few: only they are indexed.
CREATE INDEX incidents_contested_idx ON incidents (occurred_at DESC, id) WHERE contested;

-- claim_party_matches: does name (an attributed_to) name the party of a
-- claim, by its actor code or its party text, ignoring case and outer spaces?
CREATE FUNCTION claim_party_matches(name text, party text, actor_code text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN lower(btrim(name)) IN (lower(btrim(party)), lower(btrim(coalesce(actor_code, ''))));
COMMENT ON FUNCTION claim_party_matches(text, text, text) IS 'Whether an attributed_to names a claim''s party (its actor_code or party text, case-insensitively).';

-- incident_claims_contested is the rule of geo.ContestedOf, in SQL: the
-- claims conflict when one asserts the event (asserts, or attributes_to,
-- which asserts it and blames someone) and another denies it, or when two
-- parties blame each other (A attributes it to B and B to A), or when one
-- party blames another and a different party is on record declining to
-- confirm (no_comment). A no-comment beside a bare assertion is no contest.
CREATE FUNCTION incident_claims_contested(incident bigint) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (EXISTS (SELECT 1 FROM incident_claims WHERE incident_id = incident AND stance IN ('asserts', 'attributes_to'))
            AND EXISTS (SELECT 1 FROM incident_claims WHERE incident_id = incident AND stance = 'denies'))
        OR EXISTS (SELECT 1 FROM incident_claims a JOIN incident_claims b ON b.incident_id = a.incident_id AND b.id <> a.id
            WHERE a.incident_id = incident AND a.stance = 'attributes_to' AND b.stance = 'attributes_to'
              AND lower(btrim(coalesce(a.actor_code, a.party))) <> lower(btrim(coalesce(b.actor_code, b.party)))
              AND claim_party_matches(a.attributed_to, b.party, b.actor_code)
              AND claim_party_matches(b.attributed_to, a.party, a.actor_code))
        OR EXISTS (SELECT 1 FROM incident_claims a JOIN incident_claims b ON b.incident_id = a.incident_id
            WHERE a.incident_id = incident AND a.stance = 'attributes_to' AND b.stance = 'no_comment'
              AND lower(btrim(coalesce(a.actor_code, a.party))) <> lower(btrim(coalesce(b.actor_code, b.party))));
COMMENT ON FUNCTION incident_claims_contested(bigint) IS 'Whether an incident''s claims conflict: an asserts or attributes_to together with a denies, two parties attributing it to each other, or a party attributing it to another while a different party declines to confirm (no_comment) (geo.ContestedOf).';

-- A claim changed: its incident changed. Recompute contested and move the
-- incident's version and updated_at, which also emits incident.updated
-- (incident_event trigger) and bumps the collection's ETag version.
CREATE FUNCTION incident_claims_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE incidents SET contested = incident_claims_contested(id), version = version + 1, updated_at = now()
            WHERE id = OLD.incident_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.incident_id <> OLD.incident_id) THEN
        UPDATE incidents SET contested = incident_claims_contested(id), version = version + 1, updated_at = now()
            WHERE id = NEW.incident_id;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION incident_claims_changed() IS 'Trigger: a claim was added, edited or deleted; recomputes its incident''s contested flag and bumps the incident''s version (emitting incident.updated).';
CREATE TRIGGER incident_claims_changed AFTER INSERT OR UPDATE OR DELETE ON incident_claims
    FOR EACH ROW EXECUTE FUNCTION incident_claims_changed();

-- Least privilege, as 00007 and 00009: the public role reads the contested
-- flag and the claims of incidents that are not retracted (row security;
-- the owner, used by imports and the command line, is not bound by it);
-- moderators read and write every claim.
GRANT SELECT (contested) ON incidents TO incidentmap_public;
GRANT SELECT (id, incident_id, party, actor_code, stance, attributed_to, text, claimed_at, source_url, source_name)
    ON incident_claims TO incidentmap_public;
GRANT SELECT, INSERT, UPDATE, DELETE ON incident_claims TO incidentmap_moderator;
ALTER TABLE incident_claims ENABLE ROW LEVEL SECURITY;
CREATE POLICY incident_claims_public_read ON incident_claims FOR SELECT TO incidentmap_public
    USING (EXISTS (SELECT 1 FROM incidents i WHERE i.id = incident_id AND i.status <> 'retracted'));
COMMENT ON POLICY incident_claims_public_read ON incident_claims IS 'The public sees the claims of incidents that are not retracted.';
CREATE POLICY incident_claims_moderate ON incident_claims TO incidentmap_moderator USING (true) WITH CHECK (true);
COMMENT ON POLICY incident_claims_moderate ON incident_claims IS 'Moderators read and write every claim.';
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
-- The rule's function depends on the table; the trigger function only
-- names it at run time.
DROP FUNCTION incident_claims_contested(bigint);
DROP TABLE incident_claims;
DROP FUNCTION incident_claims_changed();
DROP FUNCTION claim_party_matches(text, text, text);
DROP INDEX incidents_contested_idx;
ALTER TABLE incidents DROP COLUMN contested;
-- +goose StatementEnd
