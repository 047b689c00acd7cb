// Package api is incidentmap's HTTP interface: routing, parameter parsing,
// content negotiation, middleware and the mapping of domain errors to
// status codes. It depends on small interfaces it defines itself.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// ReadinessChecker says whether the database answers and is migrated.
type ReadinessChecker interface {
	CheckReady(ctx context.Context) error
}

// Config holds the server's tunables. Zero values get sensible defaults.
type Config struct {
	ReadHeaderTimeout time.Duration // default 5s
	ReadTimeout       time.Duration // default 30s
	WriteTimeout      time.Duration // default 60s
	IdleTimeout       time.Duration // default 120s
	RequestTimeout    time.Duration // per-request deadline for database work; default 15s
	ReadyTimeout      time.Duration // /readyz answers within this; default 1.5s
	BodyLimit         string        // default "1M"
	Logger            *slog.Logger
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ReadHeaderTimeout, 5*time.Second)
	def(&c.ReadTimeout, 30*time.Second)
	def(&c.WriteTimeout, 60*time.Second)
	def(&c.IdleTimeout, 120*time.Second)
	def(&c.RequestTimeout, 15*time.Second)
	def(&c.ReadyTimeout, 1500*time.Millisecond)
	if c.BodyLimit == "" {
		c.BodyLimit = "1M"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Deps are the services the handlers use.
type Deps struct {
	Ready    ReadinessChecker
	Features FeatureStore
}

// Server is the HTTP server of one incidentmap instance.
type Server struct {
	echo   *echo.Echo
	http   *http.Server
	cfg    Config
	deps   Deps
	logger *slog.Logger
}

// New builds a server with every route registered.
func New(cfg Config, deps Deps) *Server {
	cfg.setDefaults()
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{echo: e, cfg: cfg, deps: deps, logger: cfg.Logger}
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}))
	e.Use(s.logRequests)
	e.Use(s.recoverPanics)
	e.Use(middleware.BodyLimit(cfg.BodyLimit))
	s.routes()
	s.http = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

func (s *Server) routes() {
	s.echo.GET("/healthz", s.healthz)
	s.echo.GET("/readyz", s.readyz)
	// Public, read-only: any origin may read it, and responses compress well.
	g := s.echo.Group("/api",
		middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  []string{"*"},
			AllowMethods:  []string{http.MethodGet, http.MethodHead},
			ExposeHeaders: []string{"ETag", "Warning"},
		}),
		middleware.Gzip(),
	)
	s.ogcRoutes(g)
	s.frontendRoutes()
}

// Routes lists the registered routes (for documentation checks).
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// Handler exposes the router, for tests with httptest.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve accepts connections on l until Shutdown is called.
func (s *Server) Serve(l net.Listener) error {
	if err := s.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
