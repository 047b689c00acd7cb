package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"

	"github.com/incidentmap/incidentmap/geo"
)

// demoMaxOffset is how far the gazetteer place may lie from a demo entry's
// disambiguation hint: farther means the wrong place of that name.
const demoMaxOffset = 50_000 // metres

func runDemo(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	fs := newFlagSet(env, "demo", "demo [flags] load")
	cfg.register(fs, env)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || rest[0] != "load" {
		fs.Usage()
		return fmt.Errorf("%w: want: demo load", errUsage)
	}
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	created, existing := 0, 0
	for _, d := range geo.DemoIncidents() {
		place, err := findDemoPlace(ctx, db, d)
		if err != nil {
			return err
		}
		for _, alias := range d.Aliases {
			_, err := db.AddAlias(ctx, place.ID, alias, "spelling used in the news (demo data)")
			if err != nil && !errors.Is(err, geo.ErrConflict) {
				return fmt.Errorf("alias %q for %s: %w", alias, place.Name, err)
			}
		}
		inc := d.Incident
		inc.Point, inc.Demo = place.Point, true
		switch err := db.CreateIncident(ctx, &inc); {
		case errors.Is(err, geo.ErrConflict):
			existing++ // loaded before: leave it (and any moderator edits) alone
		case err != nil:
			return fmt.Errorf("demo incident %s: %w", inc.ExternalID, err)
		default:
			created++
		}
	}
	fmt.Fprintf(env.stdout, "demo data: %d incidents added, %d already present\n", created, existing)
	return nil
}

// findDemoPlace looks a demo entry's place up in the gazetteer.
func findDemoPlace(ctx context.Context, db *database, d geo.DemoIncident) (geo.Place, error) {
	near := orb.Point{d.Near[0], d.Near[1]}
	matches, err := db.SearchPlaces(ctx, d.Place, &near, 5)
	if err != nil {
		return geo.Place{}, fmt.Errorf("look up %s: %w", d.Place, err)
	}
	for _, m := range matches {
		if m.Name == d.Place && orbgeo.DistanceHaversine(m.Point, near) < demoMaxOffset {
			return m.Place, nil
		}
	}
	return geo.Place{}, fmt.Errorf("place %q not in the gazetteer: run 'incidentmap places load' first", d.Place)
}
