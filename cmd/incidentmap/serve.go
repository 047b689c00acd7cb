package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/incidentmap/incidentmap/api"
	"github.com/incidentmap/incidentmap/geo"
)

// parseCIDRs reads a comma-separated CIDR list; a bare address means /32 or /128.
func parseCIDRs(list string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			if ip := net.ParseIP(item); ip != nil && ip.To4() != nil {
				item += "/32"
			} else {
				item += "/128"
			}
		}
		if _, _, err := net.ParseCIDR(item); err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not a CIDR", item)
		}
		out = append(out, item)
	}
	return out, nil
}

// serveConfig is the configuration of `incidentmap serve`.
type serveConfig struct {
	db                dbConfig
	addr              string
	shutdownGrace     time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	proxies           string
	reportBurst       float64
	reportPerMin      float64
	ssePerClient      int
	changesKeep       time.Duration
	bigPagesPerClient int
	goProcs           int
	tileURL           string
	tileAttrib        string
	moderationURL     string
	tileCacheMB       int
	readURL           string
	corroboration     geo.CorroborationWindow
}

func runServe(ctx context.Context, env *environment, args []string) error {
	var cfg serveConfig
	fs := newFlagSet(env, "serve", "serve [flags]")
	cfg.register(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	logger, err := newLogger(env.stderr, cfg.db.LogLevel)
	if err != nil {
		return err
	}
	proxies, err := parseCIDRs(cfg.proxies)
	if err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return err
	}
	procs := goProcs(cfg.goProcs, cfg.db.URL == "", env.getenv)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs)) // restored for a caller that runs serve in-process
	// Listen first: a taken port is a configuration error worth reporting
	// before the database starts.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	defer ln.Close()

	db, err := openDatabase(ctx, cfg.db, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	warnings, err := db.DurabilityWarnings(ctx)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		logger.Warn("database durability", "problem", w)
	}
	pools, err := db.openServing(ctx, cfg.db, cfg.moderationURL, cfg.readURL)
	if err != nil {
		return err
	}
	defer pools.Close()

	srv := api.New(cfg.apiConfig(logger, proxies, pools.read != nil), api.Deps{Ready: pools, Features: pools.features(), Reports: pools.public,
		Moderation: pools.moderation, Events: pools.public, Places: pools.features()})

	bgCtx, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()
	go srv.Run(bgCtx)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("serving", "url", "http://"+ln.Addr().String()+"/", "go_procs", procs, "cpus", runtime.NumCPU())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", cfg.shutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return <-errc
}

// register declares the serve flags, their defaults read from env.
func (cfg *serveConfig) register(fs *flag.FlagSet, env *environment) {
	cfg.db.register(fs, env)
	if env.getenv("INCIDENTMAP_LOG_LEVEL") == "" {
		fs.Lookup("log-level").DefValue = "info"
		fs.Set("log-level", "info")
	}
	fs.StringVar(&cfg.addr, "addr", envOr(env, "INCIDENTMAP_ADDR", "127.0.0.1:8080"),
		"host:port to listen on (env INCIDENTMAP_ADDR); use :8080 to listen on every interface")
	fs.DurationVar(&cfg.shutdownGrace, "shutdown-grace", 15*time.Second,
		"how long SIGINT/SIGTERM waits for in-flight requests before closing them")
	fs.DurationVar(&cfg.db.RequestTimeout, "request-timeout", 15*time.Second,
		"deadline of a request's database work; a stalled database answers 503 after it")
	fs.DurationVar(&cfg.readTimeout, "read-timeout", 30*time.Second, "maximum time to read a whole request")
	fs.DurationVar(&cfg.writeTimeout, "write-timeout", 60*time.Second, "maximum time to write a response")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
	fs.StringVar(&cfg.proxies, "trusted-proxies", env.getenv("INCIDENTMAP_TRUSTED_PROXIES"),
		"comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (env INCIDENTMAP_TRUSTED_PROXIES); empty: none")
	fs.StringVar(&cfg.tileURL, "tile-url", envOrUnset(env, "INCIDENTMAP_TILE_URL", api.DefaultTileURL),
		"raster tile URL template for the map, {z}/{x}/{y} (env INCIDENTMAP_TILE_URL); empty: draw country outlines (offline)")
	fs.StringVar(&cfg.tileAttrib, "tile-attribution", envOrUnset(env, "INCIDENTMAP_TILE_ATTRIBUTION", api.DefaultTileAttribution),
		"attribution the tile provider requires (env INCIDENTMAP_TILE_ATTRIBUTION)")
	fs.StringVar(&cfg.moderationURL, "database-moderation-url", env.getenv("DATABASE_MODERATION_URL"),
		"PostgreSQL URL for moderation (env DATABASE_MODERATION_URL): a login that is a member of incidentmap_moderator; empty uses --database-url")
	fs.StringVar(&cfg.readURL, "database-read-url", env.getenv("DATABASE_READ_URL"),
		"PostgreSQL URL of a streaming replica for map reads (env DATABASE_READ_URL); reports and moderation stay on the primary")
	fs.IntVar(&cfg.tileCacheMB, "tile-cache-mb", 64, "memory in MiB for rendered vector tiles kept between requests; 0 turns the cache off")
	fs.Float64Var(&cfg.reportBurst, "report-burst", 10, "reports one client may submit in a burst")
	fs.Float64Var(&cfg.reportPerMin, "report-rate", 10, "reports per minute one client may submit after a burst")
	fs.IntVar(&cfg.ssePerClient, "live-streams-per-client", 20, "live-update streams one client address may hold open (more answer 429)")
	fs.Float64Var(&cfg.corroboration.Km, "corroboration-km", geo.DefaultCorroborationKm,
		"moderators' corroboration candidates: default distance in km (a request's km= may ask for up to 100)")
	fs.Float64Var(&cfg.corroboration.Hours, "corroboration-hours", geo.DefaultCorroborationHours,
		"moderators' corroboration candidates: default hours either side (a request's hours= may ask for up to 720)")
	fs.DurationVar(&cfg.changesKeep, "changes-keep", 30*24*time.Hour, "how long incident changes are kept for mirrors (changes?since=) and live-stream resumption")
	fs.IntVar(&cfg.goProcs, "go-procs", 0,
		"OS threads running Go code at once; 0: the GOMAXPROCS environment variable if set, else half the CPUs with the embedded database (it shares the cores), all with an external one")
	fs.IntVar(&cfg.bigPagesPerClient, "big-pages-per-client", 4, "pages of 1,000 or more features one client address may have in flight (more answer 429)")
}

// check refuses flag values the server cannot run with, before anything
// starts.
func (cfg *serveConfig) check() error {
	if cfg.reportBurst < 1 || cfg.reportPerMin <= 0 {
		return fmt.Errorf("--report-burst must be at least 1 and --report-rate above 0")
	}
	if cfg.bigPagesPerClient < 1 {
		return fmt.Errorf("--big-pages-per-client must be at least 1, not %d", cfg.bigPagesPerClient)
	}
	if err := checkGoProcs(cfg.goProcs); err != nil {
		return err
	}
	if cfg.ssePerClient < 1 {
		return fmt.Errorf("--live-streams-per-client must be at least 1, not %d", cfg.ssePerClient)
	}
	if err := cfg.corroboration.Validate(); err != nil {
		return fmt.Errorf("--corroboration-km/--corroboration-hours: %w", err)
	}
	if cfg.tileCacheMB < 0 {
		return fmt.Errorf("--tile-cache-mb must be 0 (off) or more, not %d", cfg.tileCacheMB)
	}
	// The extra URLs are only used once the primary is up: check them now,
	// so a typo fails at once rather than after the database started.
	for _, u := range []struct{ flag, url string }{
		{"--database-moderation-url", cfg.moderationURL}, {"--database-read-url", cfg.readURL},
	} {
		if u.url == "" {
			continue
		}
		if _, err := pq.NewConnector(u.url); err != nil {
			return fmt.Errorf("%s: %w", u.flag, err)
		}
	}
	return nil
}

// apiConfig is the HTTP server's configuration from the flags.
func (cfg *serveConfig) apiConfig(logger *slog.Logger, proxies []string, featuresOnReplica bool) api.Config {
	return api.Config{
		ReadTimeout:          cfg.readTimeout,
		WriteTimeout:         cfg.writeTimeout,
		IdleTimeout:          cfg.idleTimeout,
		TrustedProxies:       proxies,
		ReportRate:           geo.RateLimit{Burst: cfg.reportBurst, PerMinute: cfg.reportPerMin},
		RequestTimeout:       cfg.db.RequestTimeout,
		TileURL:              cfg.tileURL,
		TileAttribution:      cfg.tileAttrib,
		Logger:               logger,
		FeaturesOnReplica:    featuresOnReplica,
		TileCacheBytes:       tileCacheBytes(cfg.tileCacheMB),
		MaxSSEPerClient:      cfg.ssePerClient,
		ChangesKeep:          cfg.changesKeep,
		MaxBigPagesPerClient: cfg.bigPagesPerClient,
		Corroboration:        cfg.corroboration,
	}
}

// tileCacheBytes turns --tile-cache-mb into api.Config.TileCacheBytes,
// where negative means off.
func tileCacheBytes(mb int) int64 {
	if mb == 0 {
		return -1
	}
	return int64(mb) << 20
}
