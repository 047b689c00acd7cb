package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/topojson"
)

// Default data files, installed by the frontend's npm dependencies:
// world-atlas (ISC; Natural Earth data, public domain) and
// i18n-iso-countries (MIT).
var (
	defaultCountriesFile = filepath.Join("frontend", "node_modules", "world-atlas", "countries-10m.json")
	defaultCodesFile     = filepath.Join("frontend", "node_modules", "i18n-iso-countries", "codes.json")
)

const (
	maxCountriesFileBytes = 128 << 20
	maxCodesFileBytes     = 1 << 20
	// countriesObject is the object of the world-atlas topology that holds
	// one geometry per country.
	countriesObject = "countries"
)

const bordersUsage = "borders load [--countries FILE] [--codes FILE] [--reenrich=false]"

// runBorders manages countries and land borders.
func runBorders(ctx context.Context, env *environment, args []string) error {
	return runActions(ctx, env, args, "borders", bordersUsage, []action{{"load", runBordersLoad}})
}

// runBordersLoad loads countries and derives their land borders.
func runBordersLoad(ctx context.Context, env *environment, args []string) error {
	var (
		cfg                  dbConfig
		countriesPath, codes string
		reenrich, ifChanged  bool
	)
	fs := newActionFlagSet(env, "borders load", "borders load [flags]\n\n"+
		"Loads the countries of a world-atlas TopoJSON file and derives their land borders\n"+
		"(boundary arcs two countries share; coastlines excluded), replacing the previous ones.\n"+
		"Both are also served as the OGC collections countries and borders.\n"+
		"Data: Natural Earth 1:10m (public domain) via world-atlas (ISC); codes: i18n-iso-countries (MIT).", &cfg)
	fs.StringVar(&countriesPath, "countries", defaultCountriesFile, "TopoJSON with a \"countries\" object whose ids are ISO 3166-1 numeric codes")
	fs.StringVar(&codes, "codes", defaultCodesFile, "codes.json of the i18n-iso-countries npm package (alpha-2, alpha-3, numeric)")
	fs.BoolVar(&reenrich, "reenrich", true, "recompute the derived geography of existing incidents afterwards")
	fs.BoolVar(&ifChanged, "if-changed", false, "skip the load when the same files were already loaded whole (make run uses it)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return fmt.Errorf("%w: borders load takes no arguments", errUsage)
	}
	codeData, err := readDataFile("codes", codes, maxCodesFileBytes)
	if err != nil {
		return err
	}
	numericToAlpha2, err := geo.ParseCountryCodes(bytes.NewReader(codeData))
	if err != nil {
		return fmt.Errorf("--codes %s: %w", codes, err)
	}
	topoData, err := readDataFile("countries", countriesPath, maxCountriesFileBytes)
	if err != nil {
		return err
	}
	fingerprint := dataFingerprint(bordersLoaderVersion, topoData, codeData)
	if ifChanged {
		if skip, err := unchangedSinceLoad(ctx, env, cfg, "borders", fingerprint); err != nil || skip {
			return err
		}
	}
	topo, err := topojson.Decode(bytes.NewReader(topoData))
	if err != nil {
		return fmt.Errorf("--countries %s: %w", countriesPath, err)
	}
	set, err := topojson.BuildCountries(topo, countriesObject, numericToAlpha2)
	if err != nil {
		return fmt.Errorf("--countries %s: %w", countriesPath, err)
	}
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := storeCountrySet(ctx, env, db, set, fingerprint); err != nil {
		return err
	}
	if reenrich {
		return reEnrich(ctx, env, db)
	}
	return nil
}

// storeCountrySet replaces the countries and borders with set's, says what
// was loaded and left out, and records the load's fingerprint.
func storeCountrySet(ctx context.Context, env *environment, db *database, set topojson.CountrySet, fingerprint string) error {
	countries, borders := set.Countries, set.Borders
	start := time.Now()
	nc, err := db.LoadCountries(ctx, countries)
	if err != nil {
		return err
	}
	nb, err := db.LoadBorders(ctx, borders)
	if err != nil {
		return err
	}
	noCode := 0
	for _, c := range countries {
		if c.Code == "" {
			noCode++
		}
	}
	fmt.Fprintf(env.stdout, "loaded %d countries (%d without an ISO code) and %d land borders in %v\n",
		nc, noCode, nb, time.Since(start).Round(time.Millisecond))
	if err := db.RecordDataLoad(ctx, "borders", fingerprint); err != nil {
		return err
	}
	if len(set.Collapsed) > 0 {
		fmt.Fprintf(env.stdout, "left out, too small for the file's grid (points there fall in the country around them): %s\n",
			strings.Join(set.Collapsed, ", "))
	}
	return nil
}
