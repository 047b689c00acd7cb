package postgis_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/postgis"
	"github.com/incidentmap/incidentmap/geo/postgis/pgtest"
)

// claimIncident stores a plain incident and returns its id.
func claimIncident(t *testing.T, db *postgis.DB, key string) int64 {
	t.Helper()
	inc := geo.Incident{ExternalID: key, OccurredAt: time.Date(2020, 10, 18, 0, 0, 0, 0, time.UTC),
		EventType: "Explosions/Remote violence", Title: key, Point: orb.Point{46.9, 39.4}, Status: geo.StatusDisputed}
	if err := db.CreateIncident(context.Background(), &inc); err != nil {
		t.Fatalf("create incident %s: %v", key, err)
	}
	return inc.ID
}

// incidentState reads what the claims change on an incident.
func incidentState(t *testing.T, db *postgis.DB, id int64) (contested bool, version int) {
	t.Helper()
	if err := db.SQL().QueryRow(`SELECT contested, version FROM incidents WHERE id = $1`, id).Scan(&contested, &version); err != nil {
		t.Fatal(err)
	}
	return contested, version
}

func newClaim(incidentID int64, party, stance, blamed string) *geo.Claim {
	return &geo.Claim{IncidentID: incidentID, Party: party, Stance: stance, AttributedTo: blamed,
		Text: party + " says so", Source: geo.ClaimSource{Name: "Global Research"}}
}

// Adding, editing and deleting claims keeps contested current, moves the
// incident's version (and so emits incident.updated), audits each change,
// and refuses a stale version.
func TestClaimLifecycle(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	user, _, err := db.CreateUser(ctx, "mod", geo.RoleModerator, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := claimIncident(t, db, "claims-1")
	_, v0 := incidentState(t, db, id)
	events0, err := db.LatestEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}

	arm := newClaim(id, "Ministry of Defence of Armenia", geo.StanceAttributesTo, "Azerbaijan")
	if err := db.AddClaim(ctx, arm, &user); err != nil {
		t.Fatalf("AddClaim: %v", err)
	}
	if arm.ID == 0 || arm.Version != 1 {
		t.Errorf("added claim id %d version %d, want an id and version 1", arm.ID, arm.Version)
	}
	if c, v := incidentState(t, db, id); c || v != v0+1 {
		t.Errorf("after an accusation: contested %v version %d, want false %d", c, v, v0+1)
	}
	baku := newClaim(id, "Azerbaijan", geo.StanceNoComment, "")
	if err := db.AddClaim(ctx, baku, &user); err != nil {
		t.Fatal(err)
	}
	if c, _ := incidentState(t, db, id); !c {
		t.Errorf("accusation and the accused's no comment: contested false, want true")
	}

	// Baku answers: a denial keeps the incident contested.
	updated, err := db.UpdateClaim(ctx, id, baku.ID, 1, func(c *geo.Claim) error {
		c.Stance, c.Text = geo.StanceDenies, "denies it"
		return nil
	}, &user)
	if err != nil {
		t.Fatalf("UpdateClaim: %v", err)
	}
	if updated.Version != 2 || updated.Stance != geo.StanceDenies || updated.Party != "Azerbaijan" {
		t.Errorf("updated claim = %+v, want version 2, stance denies, party kept", updated)
	}
	if c, _ := incidentState(t, db, id); !c {
		t.Errorf("accusation and denial: contested false, want true")
	}

	// A stale version is refused and changes nothing.
	_, err = db.UpdateClaim(ctx, id, baku.ID, 1, func(c *geo.Claim) error { c.Text = "stale"; return nil }, &user)
	if !errors.Is(err, geo.ErrPreconditionFailed) {
		t.Errorf("UpdateClaim with version 1 of 2: err = %v, want ErrPreconditionFailed", err)
	}
	if err := db.DeleteClaim(ctx, id, baku.ID, 1, &user); !errors.Is(err, geo.ErrPreconditionFailed) {
		t.Errorf("DeleteClaim with version 1 of 2: err = %v, want ErrPreconditionFailed", err)
	}
	// An invalid edit is refused whole.
	_, err = db.UpdateClaim(ctx, id, baku.ID, 2, func(c *geo.Claim) error { c.Stance = "shrugs"; return nil }, &user)
	var ve *geo.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("UpdateClaim to stance shrugs: err = %v, want a ValidationError", err)
	}
	// Another incident's claim id is not found here.
	other := claimIncident(t, db, "claims-2")
	if err := db.DeleteClaim(ctx, other, baku.ID, 0, &user); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("DeleteClaim via another incident: err = %v, want ErrNotFound", err)
	}

	if err := db.DeleteClaim(ctx, id, baku.ID, 2, &user); err != nil {
		t.Fatalf("DeleteClaim: %v", err)
	}
	if c, _ := incidentState(t, db, id); c {
		t.Errorf("after deleting the denial: contested true, want false")
	}
	claims, err := db.Claims(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 1 || claims[0].ID != arm.ID || claims[0].AttributedTo != "Azerbaijan" {
		t.Errorf("Claims() = %+v, want only the Armenian claim", claims)
	}
	if _, err := db.Claims(ctx, 999999); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("Claims(no incident): err = %v, want ErrNotFound", err)
	}

	// Each change is audited against the incident, by its moderator.
	entries, err := db.AuditLog(ctx, geo.AuditFilter{TargetType: "incident", TargetID: id, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.UserName != "mod" {
			t.Errorf("audit entry %s by %q, want mod", e.Action, e.UserName)
		}
		actions = append(actions, e.Action)
	}
	if got, want := strings.Join(actions, ","), "claim.delete,claim.update,claim.add,claim.add"; got != want {
		t.Errorf("audit actions (newest first) = %s, want %s", got, want)
	}

	// Every change emitted incident.updated.
	events, err := db.IncidentEvents(ctx, events0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var updates int
	for _, e := range events {
		if e.IncidentID != id {
			continue // the other incident's creation
		}
		updates++
		if e.Type != "incident.updated" {
			t.Errorf("event %s on %d, want incident.updated", e.Type, e.IncidentID)
		}
	}
	if updates != 4 {
		t.Errorf("%d events after 4 claim changes, want 4", updates)
	}
}

// The schema's rule (incident_claims_contested) and the domain's
// (geo.ContestedOf) agree.
func TestContestedSQLMatchesDomain(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	sets := map[string][]*geo.Claim{
		"assert+deny":       {newClaim(0, "A", geo.StanceAsserts, ""), newClaim(0, "B", geo.StanceDenies, "")},
		"blame+silence":     {newClaim(0, "A", geo.StanceAttributesTo, "B"), newClaim(0, "B", geo.StanceNoComment, "")},
		"mutual blame":      {newClaim(0, "A", geo.StanceAttributesTo, "b"), newClaim(0, "B", geo.StanceAttributesTo, " a ")},
		"blame a third":     {newClaim(0, "A", geo.StanceAttributesTo, "C"), newClaim(0, "B", geo.StanceAttributesTo, "C")},
		"deny alone":        {newClaim(0, "B", geo.StanceDenies, "")},
		"assert+silence":    {newClaim(0, "A", geo.StanceAsserts, ""), newClaim(0, "B", geo.StanceNoComment, "")},
		"blame+own silence": {{Party: "Armenia MoD", ActorCode: "ARM", Stance: geo.StanceAttributesTo, AttributedTo: "AZE", Text: "x", Source: geo.ClaimSource{Name: "n"}}, {Party: "Armenian government", ActorCode: "arm", Stance: geo.StanceNoComment, Text: "y", Source: geo.ClaimSource{Name: "n"}}},
		"code mutual blame": {{Party: "Armenia", ActorCode: "ARM", Stance: geo.StanceAttributesTo, AttributedTo: "aze", Text: "x", Source: geo.ClaimSource{Name: "n"}}, {Party: "Azerbaijan", ActorCode: "AZE", Stance: geo.StanceAttributesTo, AttributedTo: "ARM", Text: "y", Source: geo.ClaimSource{Name: "n"}}},
	}
	for name, claims := range sets {
		id := claimIncident(t, db, name)
		var domain []geo.Claim
		for _, c := range claims {
			c.IncidentID = id
			if err := db.AddClaim(ctx, c, nil); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			domain = append(domain, *c)
		}
		if got, want := mustContested(t, db, id), geo.ContestedOf(domain); got != want {
			t.Errorf("%s: contested in SQL %v, ContestedOf %v", name, got, want)
		}
	}
}

func mustContested(t *testing.T, db *postgis.DB, id int64) bool {
	t.Helper()
	c, _ := incidentState(t, db, id)
	return c
}

// The public role reads the claims of public incidents and none of a
// retracted one; it cannot write claims. The single feature carries
// them, a list only on request.
func TestClaimsPublicRead(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDB(t)
	owner, err := postgis.Open(ctx, dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	shown := claimIncident(t, owner, "shown")
	hidden := claimIncident(t, owner, "hidden")
	for _, id := range []int64{shown, hidden} {
		if err := owner.AddClaim(ctx, newClaim(id, "Armenia", geo.StanceAsserts, ""), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := owner.SQL().Exec(`UPDATE incidents SET status = 'retracted' WHERE id = $1`, hidden); err != nil {
		t.Fatal(err)
	}
	publicDSN, err := postgis.WithUser(dsn, postgis.LoginPublic)
	if err != nil {
		t.Fatal(err)
	}
	public, err := postgis.Open(ctx, publicDSN, postgis.Options{Role: postgis.RolePublic})
	if err != nil {
		t.Fatal(err)
	}
	defer public.Close()
	claimsOf := func(id int64) []map[string]any {
		t.Helper()
		raw, err := public.IncidentFeature(ctx, id, geo.CRS84)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Properties struct {
				Claims    []map[string]any `json:"claims"`
				Contested *bool            `json:"contested"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		if f.Properties.Contested == nil {
			t.Errorf("incident %d: no contested property", id)
		}
		return f.Properties.Claims
	}
	if got := claimsOf(shown); len(got) != 1 || got[0]["party"] != "Armenia" || got[0]["stance"] != "asserts" {
		t.Errorf("public claims of a disputed incident = %v, want Armenia's assertion", got)
	}
	if got := claimsOf(hidden); len(got) != 0 {
		t.Errorf("public claims of a retracted incident = %v, want none", got)
	}
	if _, err := public.SQL().Exec(`DELETE FROM incident_claims`); sqlState(err) != "42501" {
		t.Errorf("public DELETE FROM incident_claims: err = %v, want permission denied", err)
	}
	if _, err := public.SQL().Exec(`INSERT INTO incident_claims (incident_id, party, stance, text, source_name) VALUES ($1, 'x', 'denies', 'x', 'x')`, shown); sqlState(err) != "42501" {
		t.Errorf("public INSERT INTO incident_claims: err = %v, want permission denied", err)
	}
}

// importGeoJSON imports a FeatureCollection text.
func importGeoJSON(t *testing.T, db *postgis.DB, text string) (postgis.ImportResult, error) {
	t.Helper()
	r, err := geo.NewGeoJSONIncidentReader(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return db.ImportIncidents(context.Background(), r, postgis.ImportOptions{})
}

// claimFeature is a GeoJSON incident with the given claims member ("" for none).
func claimFeature(key, claims string) string {
	member := ""
	if claims != "" {
		member = `,"claims":` + claims
	}
	return `{"type":"Feature","geometry":{"type":"Point","coordinates":[46.98,39.40]},"properties":{"external_id":"` + key +
		`","occurred_at":"2020-10-18T00:00:00Z","event_type":"Explosions/Remote violence","title":"` + key + `"` + member + `}}`
}

// GeoJSON imports carry claims: stored with the incident, contested
// derived; a second import of the same file changes nothing; changed
// claims replace the old; a record without claims leaves them; a bad
// claim fails the import with its reason, writing nothing.
func TestImportGeoJSONClaims(t *testing.T) {
	db := openTestDB(t)
	conflict := `[{"party":"Armenia MoD","stance":"attributes_to","attributed_to":"Azerbaijan MoD","text":"they shelled","source":{"name":"n"}},
		{"party":"Azerbaijan MoD","stance":"denies","text":"we did not","source":{"url":"https://example.org/az"}}]`
	file := func(features ...string) string {
		return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
	}
	if _, err := importGeoJSON(t, db, file(claimFeature("G1", conflict), claimFeature("G2", ""))); err != nil {
		t.Fatalf("import: %v", err)
	}
	id := int64(queryInt(t, db, `SELECT id FROM incidents WHERE external_id = 'G1'`))
	contested, version := incidentState(t, db, id)
	if !contested || queryInt(t, db, `SELECT count(*) FROM incident_claims`) != 2 {
		t.Fatalf("after import: contested %v, %d claims; want contested with 2", contested, queryInt(t, db, `SELECT count(*) FROM incident_claims`))
	}
	if _, err := importGeoJSON(t, db, file(claimFeature("G1", conflict), claimFeature("G2", ""))); err != nil {
		t.Fatal(err)
	}
	if _, v := incidentState(t, db, id); v != version {
		t.Errorf("re-import of the same claims moved the version %d to %d", version, v)
	}
	// The record without claims leaves them; one with [] removes them.
	if _, err := importGeoJSON(t, db, file(claimFeature("G1", ""))); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM incident_claims`); n != 2 {
		t.Errorf("import without a claims member left %d claims, want 2", n)
	}
	if _, err := importGeoJSON(t, db, file(claimFeature("G1", `[{"party":"Armenia MoD","stance":"asserts","text":"x","source":{"name":"n"}}]`))); err != nil {
		t.Fatal(err)
	}
	if c, _ := incidentState(t, db, id); c || queryInt(t, db, `SELECT count(*) FROM incident_claims`) != 1 {
		t.Errorf("after replacing the claims: contested %v, want false with 1 claim", c)
	}
	// A bad claim: the import fails naming it and writes nothing.
	_, err := importGeoJSON(t, db, file(claimFeature("G3", `[{"party":"x","stance":"insists","text":"t","source":{"name":"n"}}]`)))
	var rowsErr *geo.InvalidRowsError
	if !errors.As(err, &rowsErr) || len(rowsErr.Errors) != 1 || rowsErr.Errors[0].Column != "properties.claims[0].stance" {
		t.Fatalf("import with a bad claim: err = %v, want one row error on properties.claims[0].stance", err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM incidents WHERE external_id = 'G3'`); n != 0 {
		t.Errorf("a failed import wrote %d incidents", n)
	}
}

// AddMissingClaims gives an incident loaded before claims existed its
// claims, once, and leaves claims a moderator recorded alone.
func TestAddMissingClaims(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	id := claimIncident(t, db, "demo-old")
	claims := []geo.Claim{*newClaim(0, "Armenia", geo.StanceAsserts, ""), *newClaim(0, "Azerbaijan", geo.StanceDenies, "")}
	for round, want := range []int{2, 0} {
		n, err := db.AddMissingClaims(ctx, "demo-old", claims)
		if err != nil || n != want {
			t.Errorf("round %d: AddMissingClaims = %d, %v; want %d", round, n, err, want)
		}
	}
	if c, _ := incidentState(t, db, id); !c || queryInt(t, db, `SELECT count(*) FROM incident_claims`) != 2 {
		t.Errorf("after AddMissingClaims: contested %v, want true with 2 claims", c)
	}
	if _, err := db.AddMissingClaims(ctx, "no-such", claims); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("AddMissingClaims(no-such) = %v, want ErrNotFound", err)
	}
}
