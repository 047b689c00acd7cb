package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/incidentmap/incidentmap/api"
)

// serveConfig is the configuration of `incidentmap serve`.
type serveConfig struct {
	db            dbConfig
	addr          string
	shutdownGrace time.Duration
	readTimeout   time.Duration
	writeTimeout  time.Duration
	idleTimeout   time.Duration
}

func runServe(ctx context.Context, env *environment, args []string) error {
	var cfg serveConfig
	fs := newFlagSet(env, "serve", "serve [flags]")
	cfg.db.register(fs, env)
	fs.StringVar(&cfg.addr, "addr", envOr(env, "INCIDENTMAP_ADDR", "127.0.0.1:8080"),
		"host:port to listen on (env INCIDENTMAP_ADDR); use :8080 to listen on every interface")
	fs.DurationVar(&cfg.shutdownGrace, "shutdown-grace", 15*time.Second,
		"how long SIGINT/SIGTERM waits for in-flight requests before closing them")
	fs.DurationVar(&cfg.readTimeout, "read-timeout", 30*time.Second, "maximum time to read a whole request")
	fs.DurationVar(&cfg.writeTimeout, "write-timeout", 60*time.Second, "maximum time to write a response")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
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

	srv := api.New(api.Config{
		ReadTimeout:  cfg.readTimeout,
		WriteTimeout: cfg.writeTimeout,
		IdleTimeout:  cfg.idleTimeout,
		Logger:       logger,
	}, api.Deps{Ready: db})

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("serving", "url", "http://"+ln.Addr().String()+"/")

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
