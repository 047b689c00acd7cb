package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// healthz answers 200 while the process runs, whatever the database does,
// so an orchestrator restarts the process only when the process is broken.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database answers and is fully migrated, 503
// with the reason otherwise. It answers within ReadyTimeout even when the
// database hangs: the check runs aside and is abandoned at the deadline.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.ReadyTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.deps.Ready.CheckReady(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		c.Response().Header().Set("Retry-After", "5")
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": readinessReason(err)})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// readinessReason says why the server is not ready without leaking
// connection strings or SQL.
func readinessReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "database did not answer in time"
	case errors.Is(err, geo.ErrMigrationsPending):
		return "database migrations pending"
	}
	return "database unreachable"
}
