package postgis

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/incidentmap/incidentmap/geo"
)

// claimsJSON is the SQL of an incident feature's claims property: its
// claims in the order they were recorded, as the public sees them (row
// security hides those of retracted incidents from the public role). It
// names the table, so the feature must be selected FROM incidents
// unaliased.
const claimsJSON = `(SELECT coalesce(json_agg(json_build_object('id', c.id, 'party', c.party, 'actor_code', c.actor_code,
		'stance', c.stance, 'attributed_to', c.attributed_to, 'text', c.text, 'claimed_at', c.claimed_at,
		'source', json_strip_nulls(json_build_object('name', NULLIF(c.source_name, ''), 'url', c.source_url))) ORDER BY c.id), '[]')
	FROM incident_claims c WHERE c.incident_id = incidents.id)`

// singleIncidentProperties are the properties of one incident read by id:
// every public one, its claims (one look-up, where a list would pay it
// per feature) and duplicate_of (retractedListProperties).
var singleIncidentProperties = append(geo.IncidentProperties(), "claims", "duplicate_of")

// claimColumns are the columns of a claim, in scanClaim's order.
const claimColumns = `id, incident_id, party, coalesce(actor_code, ''), stance, coalesce(attributed_to, ''), text, claimed_at,
	coalesce(source_url, ''), source_name, version`

func scanClaim(row interface{ Scan(...any) error }) (geo.Claim, error) {
	var (
		c  geo.Claim
		at sql.NullTime
	)
	err := row.Scan(&c.ID, &c.IncidentID, &c.Party, &c.ActorCode, &c.Stance, &c.AttributedTo, &c.Text, &at,
		&c.Source.URL, &c.Source.Name, &c.Version)
	if at.Valid {
		t := at.Time.UTC()
		c.ClaimedAt = &t
	}
	return c, err
}

// Claims lists an incident's claims, oldest first, with their versions
// (for moderators). Returns ErrNotFound when there is no such incident.
func (db *DB) Claims(ctx context.Context, incidentID int64) ([]geo.Claim, error) {
	var exists bool
	if err := db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM incidents WHERE id = $1)`, incidentID).Scan(&exists); err != nil {
		return nil, fmt.Errorf("incident %d: %w", incidentID, mapError(err))
	}
	if !exists {
		return nil, fmt.Errorf("incident %d: %w", incidentID, geo.ErrNotFound)
	}
	return claimsOf(ctx, db.db, incidentID)
}

func claimsOf(ctx context.Context, q querier, incidentID int64) ([]geo.Claim, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+claimColumns+` FROM incident_claims WHERE incident_id = $1 ORDER BY id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("claims of incident %d: %w", incidentID, mapError(err))
	}
	defer rows.Close()
	claims := []geo.Claim{}
	for rows.Next() {
		c, err := scanClaim(rows)
		if err != nil {
			return nil, fmt.Errorf("claims of incident %d: %w", incidentID, mapError(err))
		}
		claims = append(claims, c)
	}
	return claims, mapError(rows.Err())
}

// claimArgs are c's values for INSERT and UPDATE, from party on.
func claimArgs(c *geo.Claim) []any {
	var at any
	if c.ClaimedAt != nil {
		at = *c.ClaimedAt
	}
	return []any{c.Party, c.ActorCode, c.Stance, c.AttributedTo, c.Text, at, c.Source.URL, c.Source.Name}
}

// insertClaim stores c on incident c.IncidentID and fills its ID and
// Version. The trigger recomputes the incident's contested flag.
func insertClaim(ctx context.Context, q querier, c *geo.Claim) error {
	err := q.QueryRowContext(ctx, `INSERT INTO incident_claims (incident_id, party, actor_code, stance, attributed_to, text,
			claimed_at, source_url, source_name)
		VALUES ($1, $2, NULLIF($3, ''), $4, NULLIF($5, ''), $6, $7, NULLIF($8, ''), $9) RETURNING id, version`,
		append([]any{c.IncidentID}, claimArgs(c)...)...).Scan(&c.ID, &c.Version)
	if err != nil {
		return fmt.Errorf("add claim to incident %d: %w", c.IncidentID, mapError(err))
	}
	return nil
}

// lockIncident locks incident id for a change of its claims: writers of
// one incident's claims take turns (ErrNotFound when there is none).
func lockIncident(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
		return fmt.Errorf("incident %d: %w", id, mapError(err))
	}
	return nil
}

// AddClaim validates c and adds it to incident c.IncidentID, auditing
// the change; fills its ID and Version. The incident's contested flag and
// version follow in the same transaction, and incident.updated goes out.
// Returns ErrInvalid (a *geo.ValidationError) or ErrNotFound.
func (db *DB) AddClaim(ctx context.Context, c *geo.Claim, by *geo.User) error {
	if err := c.Validate(time.Now(), ""); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := lockIncident(ctx, tx, c.IncidentID); err != nil {
			return err
		}
		if err := insertClaim(ctx, tx, c); err != nil {
			return err
		}
		return audit(ctx, tx, by, "claim.add", "incident", c.IncidentID, nil, c, fmt.Sprintf("claim %d", c.ID))
	})
}

// lockClaim reads claim id of incident incidentID for a change, checking
// its version (0: no check). Returns ErrNotFound or ErrPreconditionFailed.
func lockClaim(ctx context.Context, tx *sql.Tx, incidentID, id int64, ifVersion int) (geo.Claim, error) {
	if err := lockIncident(ctx, tx, incidentID); err != nil {
		return geo.Claim{}, err
	}
	c, err := scanClaim(tx.QueryRowContext(ctx, `SELECT `+claimColumns+` FROM incident_claims WHERE id = $1 AND incident_id = $2 FOR UPDATE`,
		id, incidentID))
	if err != nil {
		return c, fmt.Errorf("claim %d of incident %d: %w", id, incidentID, mapError(err))
	}
	if ifVersion != 0 && c.Version != ifVersion {
		return c, fmt.Errorf("claim %d is at version %d, not %d: %w", id, c.Version, ifVersion, geo.ErrPreconditionFailed)
	}
	return c, nil
}

// UpdateClaim changes claim id of incident incidentID with edit (applied to
// the stored claim, then validated) if its version is still ifVersion (0:
// no check), auditing before and after. Returns the claim as stored;
// ErrNotFound, ErrPreconditionFailed or ErrInvalid.
func (db *DB) UpdateClaim(ctx context.Context, incidentID, id int64, ifVersion int, edit func(*geo.Claim) error, by *geo.User) (geo.Claim, error) {
	var after geo.Claim
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		before, err := lockClaim(ctx, tx, incidentID, id, ifVersion)
		if err != nil {
			return err
		}
		after = before
		if err := edit(&after); err != nil {
			return err
		}
		after.ID, after.IncidentID = id, incidentID
		if err := after.Validate(time.Now(), ""); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `UPDATE incident_claims SET party = $3, actor_code = NULLIF($4, ''), stance = $5,
				attributed_to = NULLIF($6, ''), text = $7, claimed_at = $8, source_url = NULLIF($9, ''), source_name = $10,
				version = version + 1, updated_at = now()
			WHERE id = $1 AND incident_id = $2 RETURNING version`,
			append([]any{id, incidentID}, claimArgs(&after)...)...).Scan(&after.Version)
		if err != nil {
			return fmt.Errorf("update claim %d: %w", id, mapError(err))
		}
		return audit(ctx, tx, by, "claim.update", "incident", incidentID, before, after, fmt.Sprintf("claim %d", id))
	})
	return after, err
}

// DeleteClaim removes claim id of incident incidentID if its version is
// still ifVersion (0: no check), auditing what was removed. Returns
// ErrNotFound or ErrPreconditionFailed.
func (db *DB) DeleteClaim(ctx context.Context, incidentID, id int64, ifVersion int, by *geo.User) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		before, err := lockClaim(ctx, tx, incidentID, id, ifVersion)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM incident_claims WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete claim %d: %w", id, mapError(err))
		}
		return audit(ctx, tx, by, "claim.delete", "incident", incidentID, before, nil, fmt.Sprintf("claim %d", id))
	})
}

// insertIncidentWithClaims inserts inc and its claims (already validated)
// in tx, then reads back the version and contested flag they moved.
func insertIncidentWithClaims(ctx context.Context, tx *sql.Tx, inc *geo.Incident, sources []byte) error {
	if err := insertIncident(ctx, tx, inc, sources); err != nil {
		return err
	}
	for i := range inc.Claims {
		inc.Claims[i].IncidentID = inc.ID
		if err := insertClaim(ctx, tx, &inc.Claims[i]); err != nil {
			return err
		}
	}
	return tx.QueryRowContext(ctx, `SELECT version, contested, updated_at FROM incidents WHERE id = $1`, inc.ID).
		Scan(&inc.Version, &inc.Contested, &inc.UpdatedAt)
}

// AddMissingClaims gives the incident with externalID the claims given
// when it has none yet (the demo data, loaded before claims existed);
// claims a moderator has recorded or edited are left alone. Returns how
// many were added.
func (db *DB) AddMissingClaims(ctx context.Context, externalID string, claims []geo.Claim) (int, error) {
	added := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		var has bool
		err := tx.QueryRowContext(ctx, `SELECT id, EXISTS (SELECT 1 FROM incident_claims c WHERE c.incident_id = i.id)
			FROM incidents i WHERE external_id = $1 FOR UPDATE`, externalID).Scan(&id, &has)
		if err != nil {
			return fmt.Errorf("incident %s: %w", externalID, mapError(err))
		}
		if has {
			return nil
		}
		for _, c := range claims {
			c.IncidentID = id
			if err := insertClaim(ctx, tx, &c); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	return added, err
}

// importedClaims are the claims of an import's records that have a claims
// member, by external id (the first record of an id wins, as for the
// incident). Held in memory: few records carry claims.
type importedClaims map[string][]geo.Claim

func (m importedClaims) add(inc *geo.Incident) {
	if inc.Claims == nil {
		return // no claims member: the incident's claims stay as they are
	}
	if _, seen := m[inc.ExternalID]; !seen {
		m[inc.ExternalID] = inc.Claims
	}
}

// store makes each imported incident's claims those of its record, once
// the incidents are merged: unchanged claims are left alone (a second
// import of a file changes nothing), changed ones replaced whole.
func (m importedClaims) store(ctx context.Context, tx *sql.Tx) error {
	for externalID, claims := range m {
		var id int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM incidents WHERE external_id = $1`, externalID).Scan(&id); err != nil {
			return fmt.Errorf("import claims of %s: %w", externalID, mapError(err))
		}
		old, err := claimsOf(ctx, tx, id)
		if err != nil {
			return err
		}
		if sameClaims(old, claims) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM incident_claims WHERE incident_id = $1`, id); err != nil {
			return fmt.Errorf("import claims of %s: %w", externalID, mapError(err))
		}
		for _, c := range claims {
			c.IncidentID = id
			if err := insertClaim(ctx, tx, &c); err != nil {
				return err
			}
		}
	}
	return nil
}

// sameClaims compares what claims say, not their ids or versions.
func sameClaims(a, b []geo.Claim) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		x.ID, x.IncidentID, x.Version, y.ID, y.IncidentID, y.Version = 0, 0, 0, 0, 0, 0
		if (x.ClaimedAt == nil) != (y.ClaimedAt == nil) || x.ClaimedAt != nil && !x.ClaimedAt.Equal(*y.ClaimedAt) {
			return false
		}
		x.ClaimedAt, y.ClaimedAt = nil, nil
		if x != y {
			return false
		}
	}
	return true
}
