package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// CorroborationStore finds what may corroborate or duplicate a report or
// an incident, and merges them. Part of ModerationStore.
type CorroborationStore interface {
	ReportCandidates(ctx context.Context, id int64, w geo.CorroborationWindow) ([]geo.Candidate, error)
	IncidentCandidates(ctx context.Context, id int64, w geo.CorroborationWindow) ([]geo.Candidate, error)
	MergeReport(ctx context.Context, id int64, m geo.ReportMerge, by *geo.User) (int, error)
	MergeIncidents(ctx context.Context, into int64, m geo.IncidentMerge, by *geo.User) (int, error)
}

// corroborationRoutes registers the moderators' candidate lists and merges.
func (s *Server) corroborationRoutes(mod echo.MiddlewareFunc) {
	s.echo.Match(readMethods, "/api/reports/:id/candidates", s.reportCandidates, mod)
	s.echo.Match(readMethods, "/api/incidents/:id/candidates", s.incidentCandidates, mod)
	s.echo.POST("/api/reports/:id/merge", s.mergeReport, mod)
	s.echo.POST("/api/incidents/:id/merge", s.mergeIncidents, mod)
}

// corroborationWindow reads km and hours, each defaulting to the server's
// configured window: 400 when not a number, 422 out of bounds.
func (s *Server) corroborationWindow(c echo.Context) (geo.CorroborationWindow, error) {
	if err := rejectParams(c, "km", "hours"); err != nil {
		return geo.CorroborationWindow{}, err
	}
	w := s.cfg.Corroboration
	for name, dst := range map[string]*float64{"km": &w.Km, "hours": &w.Hours} {
		if v := c.QueryParam(name); v != "" {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
				return w, geo.Invalidf(name, "want a number, not %s", quoteForMessage(v))
			}
			*dst = x
		}
	}
	return w, w.Validate()
}

func (s *Server) reportCandidates(c echo.Context) error {
	return s.sendCandidates(c, "report", s.deps.Moderation.ReportCandidates)
}

func (s *Server) incidentCandidates(c echo.Context) error {
	return s.sendCandidates(c, "incident", s.deps.Moderation.IncidentCandidates)
}

func (s *Server) sendCandidates(c echo.Context, what string, list func(context.Context, int64, geo.CorroborationWindow) ([]geo.Candidate, error)) error {
	id, err := pathID(c, "id", what)
	if err != nil {
		return err
	}
	w, err := s.corroborationWindow(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	found, err := list(ctx, id, w)
	if err != nil {
		return notFoundAs(err, fmt.Sprintf("no %s %d", what, id))
	}
	out := make([]map[string]any, len(found))
	for i, k := range found {
		m := map[string]any{
			"kind": k.Kind, "id": k.ID, "title": k.Title, "status": k.Status, "occurred_at": k.OccurredAt,
			"distance_m": math.Round(k.DistanceM), "hours_apart": math.Round(k.HoursApart*10) / 10,
			"geometry": map[string]any{"type": "Point", "coordinates": []float64{k.Point.Lon(), k.Point.Lat()}},
		}
		if k.Kind == geo.CandidateIncident {
			m["version"] = k.Version
		}
		out[i] = m
	}
	body := map[string]any{"km": w.Km, "hours": w.Hours, "candidates": out}
	if what == "incident" {
		// The version a merge into this incident must name.
		v, err := s.deps.Moderation.IncidentVersion(ctx, id)
		if err != nil {
			return notFoundAs(err, fmt.Sprintf("no incident %d", id))
		}
		body["version"] = v
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, body)
}

var mergeReportShape = jsonShape{"": {"incident_id", "version", "note"}}

// mergeReport attaches a pending report to an incident as corroboration.
func (s *Server) mergeReport(c echo.Context) error {
	id, err := pathID(c, "id", "report")
	if err != nil {
		return err
	}
	var in struct {
		IncidentID int64  `json:"incident_id"`
		Version    int    `json:"version"`
		Note       string `json:"note"`
	}
	if err := readBody(c, mergeReportShape, &in); err != nil {
		return err
	}
	m := geo.ReportMerge{IncidentID: in.IncidentID, Version: in.Version, Note: in.Note}
	if err := m.Validate(); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	version, err := s.deps.Moderation.MergeReport(ctx, id, m, currentUser(c))
	if err != nil {
		return mergeError(err, fmt.Sprintf("no report %d, or no incident %d", id, m.IncidentID))
	}
	return c.JSON(http.StatusOK, map[string]any{"report_id": id, "status": geo.ReportVerified, "incident_id": m.IncidentID, "version": version})
}

var mergeIncidentsShape = jsonShape{"": {"duplicate_id", "version", "note"}}

// mergeIncidents folds a duplicate incident into the incident of the path.
func (s *Server) mergeIncidents(c echo.Context) error {
	id, err := pathID(c, "id", "incident")
	if err != nil {
		return err
	}
	var in struct {
		DuplicateID int64  `json:"duplicate_id"`
		Version     int    `json:"version"`
		Note        string `json:"note"`
	}
	if err := readBody(c, mergeIncidentsShape, &in); err != nil {
		return err
	}
	m := geo.IncidentMerge{DuplicateID: in.DuplicateID, Version: in.Version, Note: in.Note}
	if err := m.Validate(id); err != nil {
		return err
	}
	ctx, cancel := s.requestContext(c)
	defer cancel()
	version, err := s.deps.Moderation.MergeIncidents(ctx, id, m, currentUser(c))
	if err != nil {
		return mergeError(err, fmt.Sprintf("no incident %d, or no incident %d", id, m.DuplicateID))
	}
	return c.JSON(http.StatusOK, map[string]any{"incident_id": id, "duplicate_id": m.DuplicateID, "version": version})
}

// mergeError explains a merge's 404 and 409 in words.
func mergeError(err error, notFound string) error {
	var mc *geo.MergeConflict
	switch {
	case errors.As(err, &mc):
		return &PublicError{Msg: mc.Reason, Err: err}
	case errors.Is(err, geo.ErrNotFound):
		return &PublicError{Msg: notFound, Err: err}
	}
	return err
}
