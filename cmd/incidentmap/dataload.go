package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Loader versions are part of a load's fingerprint: a binary that loads
// the same file differently (new columns, new name forms) loads it again.
const (
	placesLoaderVersion  = "places 2: cities500, alternate names, name forms, built-in aliases"
	bordersLoaderVersion = "borders 2: 1:10m, antimeridian cut, structure repair"
)

// dataFingerprint identifies a load: the loader version and its sources.
func dataFingerprint(version string, sources ...[]byte) string {
	h := sha256.New()
	h.Write([]byte(version))
	for _, s := range sources {
		fmt.Fprintf(h, "\x00%d\x00", len(s))
		h.Write(s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// unchangedSinceLoad reports (and says) whether data set name was already
// loaded whole from the same sources by the same loader.
func unchangedSinceLoad(ctx context.Context, env *environment, cfg dbConfig, name, fingerprint string) (bool, error) {
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return false, err
	}
	defer db.Close()
	last, at, err := db.DataLoad(ctx, name)
	if err != nil || last != fingerprint {
		return false, err
	}
	fmt.Fprintf(env.stdout, "%s: unchanged since the load of %s; skipped (run without --if-changed to load again)\n",
		name, at.Local().Format(time.DateTime))
	return true, nil
}
