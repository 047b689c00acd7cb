package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/incidentmap/incidentmap/geo"
)

func runDemo(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	fs := newFlagSet(env, "demo", "demo [flags] load\n\n"+
		"Loads the demo incidents, told from one article (Global Research, 19 October 2020) and\n"+
		"flagged demo, onto their GeoNames places (run 'incidentmap places load' first).")
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
		inc := d.Incident
		if d.GeoNamesID != 0 {
			place, err := db.Place(ctx, d.GeoNamesID)
			if errors.Is(err, geo.ErrNotFound) {
				return fmt.Errorf("demo incident %s: GeoNames place %d is not in the gazetteer: run 'incidentmap places load' first",
					inc.ExternalID, d.GeoNamesID)
			}
			if err != nil {
				return fmt.Errorf("demo incident %s: %w", inc.ExternalID, err)
			}
			inc.Point = place.Point
		}
		inc.Demo = true
		switch err := db.CreateIncident(ctx, &inc); {
		case errors.Is(err, geo.ErrConflict):
			existing++ // loaded before: leave it (and any moderator edits) alone
			if len(inc.Claims) > 0 {
				// Loaded before claims existed: give it the article's claims, once.
				if _, err := db.AddMissingClaims(ctx, inc.ExternalID, inc.Claims); err != nil {
					return fmt.Errorf("demo incident %s: claims: %w", inc.ExternalID, err)
				}
			}
		case err != nil:
			return fmt.Errorf("demo incident %s: %w", inc.ExternalID, err)
		default:
			created++
		}
	}
	fmt.Fprintf(env.stdout, "demo data: %d incidents added, %d already present\n", created, existing)
	return nil
}
