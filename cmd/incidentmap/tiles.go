package main

import (
	"context"
	"fmt"
	"time"
)

const tilesUsage = "tiles cluster"

// runTiles maintains what the vector tiles read.
func runTiles(ctx context.Context, env *environment, args []string) error {
	return runActions(ctx, env, args, "tiles", tilesUsage, []action{{"cluster", runTilesCluster}})
}

// runTilesCluster puts the stored tile sums in the order tiles read them.
func runTilesCluster(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	fs := newActionFlagSet(env, "tiles cluster", "tiles cluster [flags]\n\n"+
		"Rewrites the stored sums behind the cluster tiles (incident_tile_cells, one\n"+
		"partition per grid level) in the order of their key, so that a window reads\n"+
		"neighbouring pages: after a large import of history, whose sums lie scattered.\n"+
		"Each level's tiles wait while its partition is rewritten (8-50 s per level,\n"+
		"3 minutes in all, with 10M incidents): run it in a quiet moment.", &cfg)
	db, err := openForNoArgs(ctx, env, fs, &cfg, "tiles cluster", args)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	err = db.ClusterTileSums(ctx, func(level int, took time.Duration) {
		fmt.Fprintf(env.stdout, "level %d: clustered in %s\n", level, took.Round(time.Millisecond))
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "tile sums clustered in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
