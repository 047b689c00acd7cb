package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// ModerationStore is what moderators and admins work on.
type ModerationStore interface {
	CorroborationStore
	Authenticate(ctx context.Context, token string) (geo.User, error)
	Reports(ctx context.Context, f geo.ReportFilter) ([]geo.Report, error)
	Report(ctx context.Context, id int64) (geo.Report, error)
	ReportPhoto(ctx context.Context, reportID int64, position int, original bool) ([]byte, string, error)
	VerifyReport(ctx context.Context, id int64, v geo.Verification, by *geo.User) (int64, error)
	RejectReport(ctx context.Context, id int64, reason string, by *geo.User) error
	PatchIncident(ctx context.Context, id int64, ifVersion int, p geo.IncidentPatch, by *geo.User) (int, error)
	IncidentVersion(ctx context.Context, id int64) (int, error)
	Users(ctx context.Context) ([]geo.User, error)
	CreateUser(ctx context.Context, name, role string, by *geo.User) (geo.User, string, error)
	RevokeUser(ctx context.Context, name string, by *geo.User) error
	AuditLog(ctx context.Context, f geo.AuditFilter) ([]geo.AuditEntry, error)
	ClaimStore // claims per party (claim.go)
}

// authLimit caps failed sign-ins per client: enough for typos, far too
// few to guess a 256-bit token (which is hopeless anyway) or to use the
// check as a load amplifier.
var authLimit = geo.RateLimit{Burst: 10, PerMinute: 5}

const userKey = "incidentmap.user"

// requireRole authenticates the bearer token and checks the role. Admins
// may do everything moderators may.
func (s *Server) requireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := s.requestContext(c)
			defer cancel()
			token, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			var (
				u   geo.User
				err = geo.ErrUnauthorized
			)
			if ok {
				u, err = s.deps.Moderation.Authenticate(ctx, token)
			}
			if errors.Is(err, geo.ErrUnauthorized) {
				return s.authFailed(ctx, c)
			}
			if err != nil {
				return err
			}
			if role == geo.RoleAdmin && u.Role != geo.RoleAdmin {
				return geo.ErrForbidden
			}
			c.Set(userKey, &u)
			return next(c)
		}
	}
}

// maxTokenLen bounds what is looked up: tokens are 43 characters.
const maxTokenLen = 200

// bearerToken reads the token of an Authorization header of the Bearer
// scheme (RFC 6750): the scheme name in any case, then spaces, then a
// token68 (letters, digits and -._~+/ with trailing =). Anything else is
// no token.
func bearerToken(header string) (string, bool) {
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token := strings.Trim(rest, " ")
	if token == "" || len(token) > maxTokenLen {
		return "", false
	}
	body := strings.TrimRight(token, "=")
	if body == "" {
		return "", false
	}
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return "", false
		}
	}
	return token, true
}

// authFailed answers 401, or 429 once a client has failed too often.
func (s *Server) authFailed(ctx context.Context, c echo.Context) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="incidentmap"`)
	hash, err := s.deps.Reports.ClientHash(ctx, c.RealIP())
	if err != nil {
		return err
	}
	ok, wait, err := s.deps.Reports.Allow(ctx, fmt.Sprintf("authfail:%x", hash), authLimit)
	if err != nil {
		return err
	}
	if !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
		return refuse(geo.ErrRateLimited, "too many failed sign-ins; retry later")
	}
	return geo.ErrUnauthorized
}

func currentUser(c echo.Context) *geo.User {
	u, _ := c.Get(userKey).(*geo.User)
	return u
}

// reportJSON is a report as moderators see it, private fields included.
func reportJSON(r geo.Report, base string) map[string]any {
	photos := []map[string]any{}
	for _, p := range r.Photos {
		photos = append(photos, map[string]any{
			"position": p.Position, "width": p.Width, "height": p.Height, "media_type": p.MediaType,
			"gps": p.GPS, "taken_at": p.TakenAt,
			"href":          fmt.Sprintf("%s/api/reports/%d/photos/%d", base, r.ID, p.Position),
			"original_href": fmt.Sprintf("%s/api/reports/%d/photos/%d?original=true", base, r.ID, p.Position),
		})
	}
	return map[string]any{
		"type":     "Feature",
		"id":       r.ID,
		"geometry": map[string]any{"type": "Point", "coordinates": []float64{r.Point.Lon(), r.Point.Lat()}},
		"properties": map[string]any{
			"occurred_at": r.OccurredAt, "event_type": r.EventType, "sub_event_type": r.SubEventType,
			"description": r.Description, "location_name": r.LocationName, "geo_precision": r.GeoPrecision,
			"fatalities": r.Fatalities, "source_urls": r.SourceURLs, "contact": r.Contact, "status": r.Status,
			"moderation_note": r.ModerationNote, "incident_id": r.IncidentID, "photo_hint": r.PhotoHint,
			"photos": photos, "created_at": r.CreatedAt, "updated_at": r.UpdatedAt,
		},
	}
}

func (s *Server) listReports(c echo.Context) error {
	if err := rejectParams(c, "status", "limit", "after"); err != nil {
		return err
	}
	f := geo.ReportFilter{Status: c.QueryParam("status"), Limit: 100}
	if f.Status != "" && f.Status != geo.ReportPending && f.Status != geo.ReportVerified && f.Status != geo.ReportRejected {
		return geo.Invalidf("status", "want pending, verified or rejected")
	}
	var err error
	if v := c.QueryParam("limit"); v != "" {
		if f.Limit, _, err = geo.ParseLimit(v, 100, 500); err != nil {
			return err
		}
	}
	if v := c.QueryParam("after"); v != "" {
		if f.After, err = strconv.ParseInt(v, 10, 64); err != nil || f.After < 0 {
			return geo.Invalidf("after", "want a report id")
		}
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	reports, err := s.deps.Moderation.Reports(ctx, f)
	if err != nil {
		return err
	}
	base := c.Scheme() + "://" + c.Request().Host
	features := make([]map[string]any, len(reports))
	for i, r := range reports {
		features[i] = reportJSON(r, base)
	}
	body := map[string]any{"type": "FeatureCollection", "features": features}
	if len(reports) == f.Limit {
		q := c.QueryParams()
		q.Set("after", strconv.FormatInt(reports[len(reports)-1].ID, 10))
		body["links"] = []link{{Href: base + "/api/reports?" + q.Encode(), Rel: "next", Type: mediaGeoJSON}}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, body)
}

// pathID parses a positive id path parameter; anything else is a 404.
func pathID(c echo.Context, name, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, &PublicError{Msg: "no " + what + " " + quoteForMessage(c.Param(name)), Err: geo.ErrNotFound}
	}
	return id, nil
}

func (s *Server) getReport(c echo.Context) error {
	if err := rejectParams(c); err != nil {
		return err
	}
	id, err := pathID(c, "id", "report")
	if err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	r, err := s.deps.Moderation.Report(ctx, id)
	if err != nil {
		return notFoundAs(err, fmt.Sprintf("no report %d", id))
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, reportJSON(r, c.Scheme()+"://"+c.Request().Host))
}

func (s *Server) getReportPhoto(c echo.Context) error {
	if err := rejectParams(c, "original"); err != nil {
		return err
	}
	id, err := pathID(c, "id", "report")
	if err != nil {
		return err
	}
	pos, err := strconv.Atoi(c.Param("n"))
	if err != nil || pos < 1 || pos > geo.MaxPhotos {
		return &PublicError{Msg: "no such photo", Err: geo.ErrNotFound}
	}
	original := c.QueryParam("original") == "true"
	ctx, cancel := s.requestContext(c)
	defer cancel()
	data, mediaType, err := s.deps.Moderation.ReportPhoto(ctx, id, pos, original)
	if err != nil {
		return notFoundAs(err, "no such photo")
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`inline; filename="report-%d-photo-%d"`, id, pos))
	return c.Blob(http.StatusOK, mediaType, data)
}

func notFoundAs(err error, msg string) error {
	if errors.Is(err, geo.ErrNotFound) {
		return &PublicError{Msg: msg, Err: err}
	}
	return err
}

// readBody reads a small JSON body (moderation actions) strictly.
func readBody(c echo.Context, shape jsonShape, v any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
		mediaType, params, err := mime.ParseMediaType(ct)
		if err != nil || mediaType != mediaJSON {
			return refuse(errMediaType, "send application/json")
		}
		if err := checkCharset(params); err != nil {
			return err
		}
	}
	if c.Request().ContentLength > maxReportJSON {
		return tooLarge("the body", maxReportJSON)
	}
	data, err := io.ReadAll(io.LimitReader(c.Request().Body, maxReportJSON+1))
	if err != nil {
		return bodyReadError(err)
	}
	if len(data) > maxReportJSON {
		return refuse(errBodyTooLarge, "body too large")
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil // every field optional
	}
	return decodeStrict(data, shape, v)
}

var incidentFields = []string{"title", "notes", "occurred_at", "time_precision", "event_type", "sub_event_type",
	"actor1", "actor2", "fatalities", "location_name", "geo_precision", "status", "location", "sources"}

// patchInput is the JSON of an incident patch; location is [lon, lat].
type patchInput struct {
	geo.IncidentPatch
	Location []float64 `json:"location,omitempty"`
}

// toPatch converts and validates the input.
func (p *patchInput) toPatch() (geo.IncidentPatch, error) {
	patch := p.IncidentPatch
	if p.Location != nil {
		if len(p.Location) != 2 {
			return patch, fieldError("location", "want [longitude, latitude]")
		}
		pt := orb.Point{p.Location[0], p.Location[1]}
		patch.Point = &pt
	}
	return patch, patch.Validate(time.Now(), "")
}

var verifyShape = jsonShape{"": append([]string{"merge_into", "note"}, incidentFields...), "sources": sourceFields}

func (s *Server) verifyReport(c echo.Context) error {
	id, err := pathID(c, "id", "report")
	if err != nil {
		return err
	}
	var in struct {
		patchInput
		MergeInto *int64 `json:"merge_into"`
		Note      string `json:"note"`
	}
	if err := readBody(c, verifyShape, &in); err != nil {
		return err
	}
	patch, err := in.toPatch()
	if err != nil {
		return err
	}
	if len(in.Note) > geo.MaxNoteLen {
		return fieldError("note", "at most %d characters", geo.MaxNoteLen)
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	incidentID, err := s.deps.Moderation.VerifyReport(ctx, id, geo.Verification{Patch: patch, MergeInto: in.MergeInto, Note: in.Note}, currentUser(c))
	if err != nil {
		return moderationError(err, id)
	}
	return c.JSON(http.StatusOK, map[string]any{"report_id": id, "status": geo.ReportVerified, "incident_id": incidentID})
}

// moderationError explains 404s and 409s of report actions.
func moderationError(err error, id int64) error {
	switch {
	case errors.Is(err, geo.ErrNotFound):
		return &PublicError{Msg: fmt.Sprintf("no report %d (or no incident to merge into)", id), Err: err}
	case errors.Is(err, geo.ErrConflict):
		return &PublicError{Msg: fmt.Sprintf("report %d was already moderated", id), Err: err}
	}
	return err
}

var rejectShape = jsonShape{"": {"reason"}}

func (s *Server) rejectReport(c echo.Context) error {
	id, err := pathID(c, "id", "report")
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := readBody(c, rejectShape, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Reason) == "" || len(in.Reason) > geo.MaxNoteLen {
		return fieldError("reason", "required, at most %d characters", geo.MaxNoteLen)
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	if err := s.deps.Moderation.RejectReport(ctx, id, in.Reason, currentUser(c)); err != nil {
		return moderationError(err, id)
	}
	return c.JSON(http.StatusOK, map[string]any{"report_id": id, "status": geo.ReportRejected})
}

var patchShape = jsonShape{"": incidentFields, "sources": sourceFields}

// incidentETag is the strong ETag of an incident version, for If-Match.
func incidentETag(version int) string { return fmt.Sprintf(`"v%d"`, version) }

func (s *Server) patchIncident(c echo.Context) error {
	id, err := pathID(c, "id", "incident")
	if err != nil {
		return err
	}
	ifVersion := 0
	if m := c.Request().Header.Get("If-Match"); m != "" && m != "*" {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m, `"v`), `"`))
		if err != nil || n <= 0 {
			return fieldError("If-Match", `want an ETag such as "v3" from GET /api/incidents/{id}`)
		}
		ifVersion = n
	}
	var in patchInput
	if err := readBody(c, patchShape, &in); err != nil {
		return err
	}
	patch, err := in.toPatch()
	if err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	version, err := s.deps.Moderation.PatchIncident(ctx, id, ifVersion, patch, currentUser(c))
	if err != nil {
		if errors.Is(err, geo.ErrPreconditionFailed) {
			return refuse(geo.ErrPreconditionFailed, "the incident changed since you read it; reload and retry")
		}
		return notFoundAs(err, fmt.Sprintf("no incident %d", id))
	}
	return s.sendIncident(ctx, c, id, version)
}

// getIncident answers GET /api/incidents/{id} for moderators: the feature
// with a strong ETag to send back in If-Match.
func (s *Server) getIncident(c echo.Context) error {
	id, err := pathID(c, "id", "incident")
	if err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	version, err := s.deps.Moderation.IncidentVersion(ctx, id)
	if err != nil {
		return notFoundAs(err, fmt.Sprintf("no incident %d", id))
	}
	return s.sendIncident(ctx, c, id, version)
}

func (s *Server) sendIncident(ctx context.Context, c echo.Context, id int64, version int) error {
	feature, err := s.deps.Features.IncidentFeature(ctx, id, geo.CRS84)
	if err != nil {
		return notFoundAs(err, fmt.Sprintf("no incident %d", id))
	}
	c.Response().Header().Set("ETag", incidentETag(version))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, mediaGeoJSON, feature)
}

func (s *Server) incidentAudit(c echo.Context) error {
	id, err := pathID(c, "id", "incident")
	if err != nil {
		return err
	}
	return s.sendAudit(c, geo.AuditFilter{TargetType: "incident", TargetID: id, Limit: 200})
}

func (s *Server) auditLog(c echo.Context) error {
	if err := rejectParams(c, "target_type", "target_id", "limit", "before"); err != nil {
		return err
	}
	f := geo.AuditFilter{TargetType: c.QueryParam("target_type"), Limit: 100}
	if f.TargetType != "" && f.TargetType != "report" && f.TargetType != "incident" && f.TargetType != "user" {
		return geo.Invalidf("target_type", "want report, incident or user")
	}
	for name, dst := range map[string]*int64{"target_id": &f.TargetID, "before": &f.Before} {
		if v := c.QueryParam(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return geo.Invalidf(name, "want a positive integer")
			}
			*dst = n
		}
	}
	if v := c.QueryParam("limit"); v != "" {
		var err error
		if f.Limit, _, err = geo.ParseLimit(v, 100, 1000); err != nil {
			return err
		}
	}
	return s.sendAudit(c, f)
}

func (s *Server) sendAudit(c echo.Context, f geo.AuditFilter) error {
	ctx, cancel := s.requestContext(c)
	defer cancel()
	entries, err := s.deps.Moderation.AuditLog(ctx, f)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"entries": entries})
}

func userJSON(u geo.User) map[string]any {
	return map[string]any{"id": u.ID, "name": u.Name, "role": u.Role, "created_at": u.CreatedAt, "revoked_at": u.RevokedAt}
}

func (s *Server) listUsers(c echo.Context) error {
	ctx, cancel := s.requestContext(c)
	defer cancel()
	users, err := s.deps.Moderation.Users(ctx)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(users))
	for i, u := range users {
		out[i] = userJSON(u)
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

var userShape = jsonShape{"": {"name", "role"}}

func (s *Server) createUser(c echo.Context) error {
	var in struct{ Name, Role string }
	if err := readBody(c, userShape, &in); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	u, token, err := s.deps.Moderation.CreateUser(ctx, in.Name, in.Role, currentUser(c))
	if err != nil {
		if errors.Is(err, geo.ErrConflict) {
			return &PublicError{Msg: "a user named " + quoteForMessage(in.Name) + " exists", Err: err}
		}
		return err
	}
	body := userJSON(u)
	body["token"] = token
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, body)
}

func (s *Server) revokeUser(c echo.Context) error {
	ctx, cancel := s.requestContext(c)
	defer cancel()
	name := c.Param("name")
	if err := s.deps.Moderation.RevokeUser(ctx, name, currentUser(c)); err != nil {
		return notFoundAs(err, "no active user "+quoteForMessage(name))
	}
	return c.NoContent(http.StatusNoContent)
}
