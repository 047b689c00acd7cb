package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// ClaimStore keeps what each party says about an incident; moderators
// edit it. Each method audits its change and returns ErrNotFound,
// ErrPreconditionFailed (stale version) or ErrInvalid.
type ClaimStore interface {
	Claims(ctx context.Context, incidentID int64) ([]geo.Claim, error)
	AddClaim(ctx context.Context, c *geo.Claim, by *geo.User) error
	UpdateClaim(ctx context.Context, incidentID, id int64, ifVersion int, edit func(*geo.Claim) error, by *geo.User) (geo.Claim, error)
	DeleteClaim(ctx context.Context, incidentID, id int64, ifVersion int, by *geo.User) error
}

// claimShape is the JSON of a claim a moderator sends.
var claimShape = jsonShape{
	"":       {"party", "actor_code", "stance", "attributed_to", "text", "claimed_at", "source"},
	"source": {"name", "url"},
}

// claimInput is a claim's JSON as sent: a field left out keeps its value
// (PATCH) or stays empty (POST); claimed_at null clears it.
type claimInput struct {
	Party        *string          `json:"party"`
	ActorCode    *string          `json:"actor_code"`
	Stance       *string          `json:"stance"`
	AttributedTo *string          `json:"attributed_to"`
	Text         *string          `json:"text"`
	ClaimedAt    json.RawMessage  `json:"claimed_at"`
	Source       *geo.ClaimSource `json:"source"`
}

// apply writes the fields given onto c.
func (in *claimInput) apply(c *geo.Claim) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.Party, in.Party)
	set(&c.ActorCode, in.ActorCode)
	set(&c.Stance, in.Stance)
	set(&c.Text, in.Text)
	set(&c.AttributedTo, in.AttributedTo)
	if in.Stance != nil && *in.Stance != geo.StanceAttributesTo && in.AttributedTo == nil {
		c.AttributedTo = "" // blames no one any more
	}
	if in.Source != nil {
		c.Source = *in.Source
	}
	if in.ClaimedAt != nil {
		if bytes.Equal(bytes.TrimSpace(in.ClaimedAt), []byte("null")) {
			c.ClaimedAt = nil
			return nil
		}
		var s string
		if err := json.Unmarshal(in.ClaimedAt, &s); err != nil {
			return fieldError("claimed_at", "wrong type: want an RFC 3339 time as a string, or null")
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fieldError("claimed_at", "want an RFC 3339 time such as 2020-10-18T06:00:00+04:00, got %s", quoteForMessage(s))
		}
		t = t.UTC()
		c.ClaimedAt = &t
	}
	return nil
}

// claimRoutes registers the moderators' claim endpoints behind mod.
func (s *Server) claimRoutes(mod echo.MiddlewareFunc) {
	s.echo.Match(readMethods, "/api/incidents/:id/claims", s.listClaims, mod)
	s.echo.POST("/api/incidents/:id/claims", s.addClaim, mod)
	s.echo.PATCH("/api/incidents/:id/claims/:claim", s.patchClaim, mod)
	s.echo.DELETE("/api/incidents/:id/claims/:claim", s.deleteClaim, mod)
}

func (s *Server) listClaims(c echo.Context) error {
	if err := rejectParams(c); err != nil {
		return err
	}
	id, err := pathID(c, "id", "incident")
	if err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	claims, err := s.deps.Moderation.Claims(ctx, id)
	if err != nil {
		return notFoundAs(err, fmt.Sprintf("no incident %d", id))
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"incident_id": id, "claims": claims, "contested": geo.ContestedOf(claims)})
}

func (s *Server) addClaim(c echo.Context) error {
	id, err := pathID(c, "id", "incident")
	if err != nil {
		return err
	}
	var in claimInput
	if err := readBody(c, claimShape, &in); err != nil {
		return err
	}
	claim := geo.Claim{IncidentID: id}
	if err := in.apply(&claim); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	if err := s.deps.Moderation.AddClaim(ctx, &claim, currentUser(c)); err != nil {
		return notFoundAs(err, fmt.Sprintf("no incident %d", id))
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/incidents/%d/claims/%d", id, claim.ID))
	return sendClaim(c, http.StatusCreated, claim)
}

func (s *Server) patchClaim(c echo.Context) error {
	id, claimID, ifVersion, err := claimTarget(c)
	if err != nil {
		return err
	}
	var in claimInput
	if err := readBody(c, claimShape, &in); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	claim, err := s.deps.Moderation.UpdateClaim(ctx, id, claimID, ifVersion, in.apply, currentUser(c))
	if err != nil {
		return claimError(err, id, claimID)
	}
	return sendClaim(c, http.StatusOK, claim)
}

func (s *Server) deleteClaim(c echo.Context) error {
	id, claimID, ifVersion, err := claimTarget(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	if err := s.deps.Moderation.DeleteClaim(ctx, id, claimID, ifVersion, currentUser(c)); err != nil {
		return claimError(err, id, claimID)
	}
	return c.NoContent(http.StatusNoContent)
}

// claimTarget reads the incident and claim ids of the path and the
// version of If-Match ("v3"; 0 when absent or *).
func claimTarget(c echo.Context) (id, claimID int64, ifVersion int, err error) {
	if id, err = pathID(c, "id", "incident"); err != nil {
		return
	}
	if claimID, err = pathID(c, "claim", "claim"); err != nil {
		return
	}
	if m := c.Request().Header.Get("If-Match"); m != "" && m != "*" {
		n, convErr := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m, `"v`), `"`))
		if convErr != nil || n <= 0 {
			return 0, 0, 0, fieldError("If-Match", `want the claim's ETag such as "v3"`)
		}
		ifVersion = n
	}
	return id, claimID, ifVersion, nil
}

// claimError explains a failed claim change.
func claimError(err error, id, claimID int64) error {
	if errors.Is(err, geo.ErrPreconditionFailed) {
		return refuse(geo.ErrPreconditionFailed, "the claim changed since you read it; reload and retry")
	}
	return notFoundAs(err, fmt.Sprintf("no claim %d on incident %d", claimID, id))
}

// sendClaim answers with a claim and its strong ETag, for If-Match.
func sendClaim(c echo.Context, status int, claim geo.Claim) error {
	c.Response().Header().Set("ETag", incidentETag(claim.Version))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, claim)
}
