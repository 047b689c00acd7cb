package main

import (
	"context"
	"fmt"
	"text/tabwriter"
)

func runMigrate(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	fs := newFlagSet(env, "migrate", "migrate [flags] up|down|status")
	cfg.register(fs, env)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want exactly one of up, down, status", errUsage)
	}
	return runMigrateAction(ctx, env, cfg, rest[0])
}

func runMigrateAction(ctx context.Context, env *environment, cfg dbConfig, action string) error {
	if action != "up" && action != "down" && action != "status" {
		return fmt.Errorf("unknown action %q: want up, down or status", action)
	}
	logger, err := newLogger(env.stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	switch action {
	case "up":
		return db.Migrate(ctx)
	case "down":
		return db.MigrateDown(ctx)
	}
	statuses, err := db.MigrationStatuses(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tFILE")
	for _, s := range statuses {
		state := "pending"
		if s.Applied {
			state = "applied"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Version, state, s.Name)
	}
	return tw.Flush()
}
