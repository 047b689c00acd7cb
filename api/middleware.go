package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/incidentmap/incidentmap/geo"
)

// logRequests writes one structured line per request.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			// Let the error handler write the response now so the status is known.
			c.Error(err)
		}
		res := c.Response()
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		}
		s.logger.LogAttrs(c.Request().Context(), level, "request",
			slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.Int("status", res.Status),
			slog.Duration("duration", time.Since(start)),
			slog.Int64("bytes", res.Size),
			slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
		)
		return nil
	}
}

// recoverPanics turns a handler panic into a 500 and logs the stack; the
// client never sees it.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r) // deliberate: net/http aborts the connection quietly
				}
				s.logger.Error("handler panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()),
					"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
				err = fmt.Errorf("handler panic: %v", r)
			}
		}()
		return next(c)
	}
}

// securityHeaders sets safe defaults on every response; the map's pages
// replace the Content-Security-Policy with their own. API responses are
// data, never documents: nothing may run or be framed.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
		return next(c)
	}
}

// strictQuery refuses a query string that does not parse whole. echo's
// QueryParams drops the parse error (a raw ";", more than 10,000
// parameters) and hands handlers what it could read, so a client that
// asked for a filter would get the unfiltered collection.
func strictQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := url.ParseQuery(c.Request().URL.RawQuery); err != nil {
			return geo.Invalidf("query", "malformed query string (%v); separate parameters with & and percent-encode ; as %%3B", err)
		}
		return next(c)
	}
}
