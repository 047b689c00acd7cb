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
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/incidentmap/incidentmap/geo"
)

// ReadinessChecker says whether the database answers and is migrated.
type ReadinessChecker interface {
	CheckReady(ctx context.Context) error
}

// Config holds the server's tunables. Zero values get sensible defaults.
type Config struct {
	ReadHeaderTimeout    time.Duration // default 5s
	ReadTimeout          time.Duration // default 30s
	WriteTimeout         time.Duration // default 60s
	IdleTimeout          time.Duration // default 120s
	RequestTimeout       time.Duration // per-request deadline for database work; default 15s
	ReadyTimeout         time.Duration // /readyz answers within this; default 1.5s
	BodyLimit            string        // default "1M" (report submissions with photos have their own)
	ReportRate           geo.RateLimit // reports per client; default burst 10, 10 per minute
	TrustedProxies       []string      // CIDRs whose X-Forwarded-For is believed; none by default
	MaxSSEClients        int           // live-update streams per instance; default 1000
	MaxSSEPerClient      int           // live-update streams per client address; default 20
	MaxBigPagesPerClient int           // pages of ≥ 1,000 features one client address may have in flight; default 4
	ClusterBelowZoom     int           // incident vector tiles below this zoom carry clusters; default 8
	TileURL              string        // the map's raster tile URL template; "" draws country outlines instead
	TileAttribution      string        // attribution the tile provider requires
	// FeaturesOnReplica says Deps.Features and Deps.Places read from a
	// streaming replica, which may lag the primary's NOTIFY: collection
	// versions (ETags) are then read per request, never cached.
	FeaturesOnReplica bool
	// ChangesKeep is how long incident events are kept: the history a
	// mirror's changes cursor (and a live stream's Last-Event-ID) can
	// resume from; default 30 days.
	ChangesKeep time.Duration
	// TileCacheBytes bounds the memory of rendered vector tiles kept
	// between requests; default 64 MiB, negative turns the cache off.
	TileCacheBytes int64
	// Corroboration is the default window of corroboration candidates; default 5 km, 24 h.
	Corroboration geo.CorroborationWindow
	Logger        *slog.Logger
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
	def(&c.ChangesKeep, 30*24*time.Hour)
	if c.BodyLimit == "" {
		c.BodyLimit = "1M"
	}
	if c.ReportRate.Burst <= 0 || c.ReportRate.PerMinute <= 0 {
		c.ReportRate = geo.RateLimit{Burst: 10, PerMinute: 10}
	}
	if c.ClusterBelowZoom <= 0 {
		c.ClusterBelowZoom = 8
	}
	if c.MaxSSEClients <= 0 {
		c.MaxSSEClients = 1000
	}
	if c.MaxSSEPerClient <= 0 {
		c.MaxSSEPerClient = 20
	}
	if c.MaxBigPagesPerClient <= 0 {
		c.MaxBigPagesPerClient = 4
	}
	if c.TileCacheBytes == 0 {
		c.TileCacheBytes = 64 << 20
	}
	c.Corroboration = c.Corroboration.OrDefault()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Deps are the services the handlers use.
type Deps struct {
	Ready      ReadinessChecker
	Features   FeatureStore
	Reports    ReportStore
	Moderation ModerationStore
	Events     EventStore
	Places     PlaceStore
}

// Server is the HTTP server of one incidentmap instance.
type Server struct {
	echo   *echo.Echo
	http   *http.Server
	cfg    Config
	deps   Deps
	hub    *eventHub
	logger *slog.Logger
	// photoSlots bounds concurrent photo re-encoding (CPU and memory heavy).
	photoSlots chan struct{}
	metrics    *metrics
	versions   versionCache
	tiles      *tileCache
	bigPages   *pageLimiter
	counts     countCache
}

// New builds a server with every route registered.
func New(cfg Config, deps Deps) *Server {
	cfg.setDefaults()
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{echo: e, cfg: cfg, deps: deps, logger: cfg.Logger, hub: newEventHub(deps.Events, cfg.MaxSSEClients, cfg.MaxSSEPerClient),
		photoSlots: make(chan struct{}, max(1, runtime.NumCPU()/2))}
	s.versions.off = cfg.FeaturesOnReplica
	s.bigPages = newPageLimiter(cfg.MaxBigPagesPerClient)
	s.hub.keep = cfg.ChangesKeep
	s.tiles = newTileCache(max(cfg.TileCacheBytes, 0))
	s.versions.onChange = s.tiles.changed
	s.metrics = newMetrics(s)
	s.metrics.registry.MustRegister(s.tiles)
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{TargetHeader: echo.HeaderXRequestID}))
	e.Use(s.logRequests)
	e.Use(s.metrics.observe)
	e.Use(securityHeaders)
	e.Use(s.recoverPanics)
	e.Use(strictQuery)
	e.Use(publicReadMiddleware()...)
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   cfg.BodyLimit,
		Skipper: func(c echo.Context) bool { return c.Path() == "/api/reports" && c.Request().Method == http.MethodPost },
	}))
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
	get := func(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		s.echo.Match(readMethods, path, h, m...)
	}
	get("/healthz", s.healthz)
	get("/readyz", s.readyz)
	get("/metrics", s.metrics.handler())
	// Public, read-only: any origin may read it, and responses compress
	// well. The middleware is the server's (publicReadMiddleware), not
	// the group's: echo gives a group with middleware catch-all routes
	// that answer 404 to every unknown method, where 405 is right.
	g := routeGroup{s.echo.Group("/api")}
	s.ogcRoutes(g)
	s.placeRoutes(g)
	s.labelRoutes(g)
	s.coreRoutes(g)
	s.histogramRoutes(g)
	s.tileRoutes(g)
	g.GET("/events", s.events)
	g.GET(changesPath, s.incidentChanges)

	// Writes and moderation: no CORS (same-origin browser app and API clients).
	s.echo.POST("/api/reports", s.submitReport, middleware.BodyLimit(strconv.Itoa(maxReportMultipart)))
	get("/api/reports/:id/status", s.reportStatus) // public, with the receipt's token
	// Route-level middleware, not groups: a group's catch-all would put
	// every unknown /api path (and CORS preflights) behind sign-in.
	mod, admin := s.requireRole(geo.RoleModerator), s.requireRole(geo.RoleAdmin)
	get("/api/reports", s.listReports, mod)
	get("/api/reports/:id", s.getReport, mod)
	get("/api/reports/:id/photos/:n", s.getReportPhoto, mod)
	s.echo.POST("/api/reports/:id/verify", s.verifyReport, mod)
	s.echo.POST("/api/reports/:id/reject", s.rejectReport, mod)
	get("/api/incidents/:id", s.getIncident, mod)
	s.echo.PATCH("/api/incidents/:id", s.patchIncident, mod)
	get("/api/incidents/:id/audit", s.incidentAudit, mod)
	s.claimRoutes(mod)
	s.corroborationRoutes(mod)
	get("/api/audit", s.auditLog, admin)
	get("/api/users", s.listUsers, admin)
	s.echo.POST("/api/users", s.createUser, admin)
	s.echo.DELETE("/api/users/:name", s.revokeUser, admin)
	s.frontendRoutes()
}

// readMethods are the methods of every read route: HEAD answers as GET
// does, and net/http drops the body.
var readMethods = []string{http.MethodGet, http.MethodHead}

// routeGroup registers the public read routes under /api.
type routeGroup struct{ g *echo.Group }

// GET registers h for GET and HEAD.
func (r routeGroup) GET(path string, h echo.HandlerFunc) { r.g.Match(readMethods, path, h) }

// moderationPaths are the /api paths behind sign-in: no CORS for them.
var moderationPaths = []string{"/api/reports", "/api/incidents", "/api/audit", "/api/users"}

// isPublicRead reports whether c is a read of the public API, or a CORS
// preflight for one.
func isPublicRead(c echo.Context) bool {
	r := c.Request()
	p := r.URL.Path
	if p != "/api" && !strings.HasPrefix(p, "/api/") {
		return false
	}
	for _, m := range moderationPaths {
		if p == m || strings.HasPrefix(p, m+"/") {
			return false
		}
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodOptions:
		m := r.Header.Get("Access-Control-Request-Method")
		return m == http.MethodGet || m == http.MethodHead
	}
	return false
}

// publicReadMiddleware is CORS for any origin and gzip, on public reads
// only. Tiles are compressed once per cached tile (api/tile.go), or not at
// all when it saves too little.
func publicReadMiddleware() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		middleware.CORSWithConfig(middleware.CORSConfig{
			Skipper:       func(c echo.Context) bool { return !isPublicRead(c) },
			AllowOrigins:  []string{"*"},
			AllowMethods:  []string{http.MethodGet, http.MethodHead},
			ExposeHeaders: []string{"ETag", "Warning"},
		}),
		middleware.GzipWithConfig(middleware.GzipConfig{
			Skipper: func(c echo.Context) bool { return !isPublicRead(c) || isTileRequest(c) },
		}),
	}
}

// ipExtractor picks the client address: the peer's, or with trusted
// proxies configured, the X-Forwarded-For hop just before them, so a
// client cannot choose its address by sending the header itself.
func ipExtractor(trusted []string) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, cidr := range trusted {
		if _, ipnet, err := net.ParseCIDR(cidr); err == nil {
			opts = append(opts, echo.TrustIPRange(ipnet))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// Run does the server's background work (live updates) until ctx ends.
func (s *Server) Run(ctx context.Context) {
	if s.deps.Events != nil {
		go s.refreshTiles(ctx)
		s.hub.run(ctx, &s.versions, s.logger)
	}
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
	s.hub.close() // SSE streams would otherwise hold shutdown for the whole grace
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
