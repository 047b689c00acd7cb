package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runLayerCmd runs incidentmap in process with no environment variables.
func runLayerCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code = Run(ctx, args, func(string) string { return "" }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// layerTestDir is a temporary directory that the postgres user of the
// embedded database can enter (as root, t.TempDir's parent is private).
func layerTestDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "incidentmap-layer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeLayerFile writes a FeatureCollection of the given features.
func writeLayerFile(t *testing.T, dir, name string, features ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	body := `{"type":"FeatureCollection","features":[` + strings.Join(features, ",\n") + "]}"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func layerFeature(geometry, date string) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":%s,"properties":{"date":%q,"name":"x"}}`, geometry, date)
}

const (
	cmdPoint   = `{"type":"Point","coordinates":[47.03,39.40]}`
	cmdLine    = `{"type":"LineString","coordinates":[[46.5,39.8],[47.2,39.2]]}`
	cmdPolygon = `{"type":"Polygon","coordinates":[[[46,39],[47,39],[47,40],[46,40],[46,39]]]}`
	cmdBowtie  = `{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`
	cmdBadLat  = `{"type":"Point","coordinates":[47,95]}`
)

// oneErrorLine returns stderr as its single line, failing if it has more.
func oneErrorLine(t *testing.T, stderr string) string {
	t.Helper()
	line := strings.TrimRight(stderr, "\n")
	if line == "" || strings.Contains(line, "\n") {
		t.Errorf("stderr = %q, want exactly one line", stderr)
	}
	return line
}

// The layer command against the embedded database: import, list, a
// rejected file that writes nothing, delete.
func TestLayerCommand(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(layerTestDir(t), "data")
	good := writeLayerFile(t, dir, "front.geojson",
		layerFeature(cmdPoint, "2020-10-18"), layerFeature(cmdLine, "2020-10-19T12:00:00Z"), layerFeature(cmdPolygon, "2020-10-20"))
	badLat := writeLayerFile(t, dir, "badlat.geojson",
		layerFeature(cmdPoint, "2020-10-18"), layerFeature(cmdPoint, "2020-10-18"), layerFeature(cmdBadLat, "2020-10-18"))
	bowtie := writeLayerFile(t, dir, "bowtie.geojson",
		layerFeature(cmdPoint, "2020-10-18"), layerFeature(cmdLine, "2020-10-18"), layerFeature(cmdPolygon, "2020-10-18"),
		layerFeature(cmdBowtie, "2020-10-18"), layerFeature(cmdPoint, "2020-10-18"))
	badTime := writeLayerFile(t, dir, "badtime.geojson", layerFeature(cmdPoint, "2020-10-18"), layerFeature(cmdPoint, "last week"))
	withNull := writeLayerFile(t, dir, "null.geojson", layerFeature(cmdPoint, "2020-10-18"), layerFeature("null", "2020-10-18"))
	unknownCRS := filepath.Join(dir, "albers.geojson")
	os.WriteFile(unknownCRS, []byte(`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:ESRI::102003"}},"features":[]}`), 0o644)
	notJSON := filepath.Join(dir, "not.geojson")
	os.WriteFile(notJSON, []byte(`{"type":"FeatureCollection","features":[`), 0o644)

	// Files the domain rules reject fail before any database is started.
	rejected := []struct {
		name string
		args []string
		want []string
	}{
		{"latitude out of range", []string{"front", badLat}, []string{"features[2].geometry", "latitude 95 out of range"}},
		{"bad time", []string{"front", badTime, "--time-property", "date"}, []string{"features[1].properties.date", `"last week"`}},
		{"truncated", []string{"front", notJSON}, []string{"not.geojson", "unexpected end of file"}},
		{"reserved name", []string{"incidents", good}, []string{"id", "built-in"}},
		{"the countries basemap", []string{"countries", good}, []string{`"countries" is a built-in collection`}},
		{"the borders basemap", []string{"borders", good}, []string{`"borders" is a built-in collection`}},
		{"unknown crs", []string{"front", unknownCRS}, []string{"crs", `"urn:ogc:def:crs:ESRI::102003"`}},
		{"null geometry when strict", []string{"front", withNull, "--strict"}, []string{"features[1].geometry", "--strict"}},
		{"missing file", []string{"front", filepath.Join(dir, "nope.geojson")}, []string{"no such file"}},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runLayerCmd(t, append([]string{"layer", "import", "--data-dir", dataDir}, tt.args...)...)
			line := oneErrorLine(t, stderr)
			if code != 1 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 1 and nothing", code, stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("error %q does not contain %q", line, w)
				}
			}
		})
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("rejected imports touched the data dir (%v)", err)
	}

	// Flags after the positional arguments work as well as before.
	code, stdout, stderr := runLayerCmd(t, "layer", "import", "--data-dir", dataDir, "front", good,
		"--title", "Front line", "--description", "Where the front ran.", "--time-property", "date")
	if code != 0 || !strings.Contains(stdout, "imported layer front: 3 features") {
		t.Fatalf("import: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	if stderr != "" {
		t.Errorf("import wrote to stderr:\n%s", stderr)
	}
	listRow := regexp.MustCompile(`(?m)^front\s+Front line\s+3\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	list := func() string {
		t.Helper()
		code, stdout, stderr := runLayerCmd(t, "layer", "list", "--data-dir", dataDir)
		if code != 0 || !regexp.MustCompile(`^ID\s+TITLE\s+FEATURES\s+UPDATED\n`).MatchString(stdout) {
			t.Fatalf("list: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
		return stdout
	}
	if out := list(); !listRow.MatchString(out) {
		t.Errorf("list after import:\n%s", out)
	}

	// A topology error found by PostGIS, with --no-repair: one line naming
	// the feature, and the layer as it was.
	code, stdout, stderr = runLayerCmd(t, "layer", "import", "--data-dir", dataDir, "--title", "Broken", "front", bowtie, "--no-repair")
	line := oneErrorLine(t, stderr)
	if code != 1 || stdout != "" || !strings.Contains(line, "features[3].geometry") || !strings.Contains(line, "Self-intersection") {
		t.Errorf("bowtie import: exit %d, stdout %q, stderr %q; want 1 and an error naming features[3].geometry", code, stdout, line)
	}
	if out := list(); !listRow.MatchString(out) {
		t.Errorf("list after the failed import (want the layer unchanged):\n%s", out)
	}
	// Without it, the bow-tie is repaired and said so; a feature without a
	// geometry is skipped and said so; a file in EPSG:3857 is reprojected.
	for _, tt := range []struct {
		name, file string
		want       string
	}{
		{"bowtie", bowtie, "imported layer bowtie: 5 features in %; 1 invalid polygon(s) repaired with ST_MakeValid (--no-repair refuses them)\n"},
		{"nulls", withNull, "imported layer nulls: 1 features in %; 1 feature(s) without a geometry skipped (--strict refuses them)\n"},
		{"aras", filepath.Join("..", "..", "geo", "testdata", "layers", "aras_3857.geojson"), "imported layer aras: 3 features in %; reprojected from EPSG:3857 to WGS 84\n"},
	} {
		code, stdout, stderr := runLayerCmd(t, "layer", "import", "--data-dir", dataDir, tt.name, tt.file)
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(tt.want), "%", `[0-9.]+m?s`) + "$")
		if code != 0 || !re.MatchString(stdout) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", tt.name, code, stdout, stderr, tt.want)
		}
	}
	code, _, stderr = runLayerCmd(t, "layer", "delete", "--data-dir", dataDir, "countries")
	if line := oneErrorLine(t, stderr); code != 1 || !strings.Contains(line, `"countries" is a built-in collection`) {
		t.Errorf("delete countries: exit %d, stderr %q", code, line)
	}
	for _, name := range []string{"bowtie", "nulls", "aras"} {
		if code, _, stderr := runLayerCmd(t, "layer", "delete", "--data-dir", dataDir, name); code != 0 {
			t.Errorf("delete %s: exit %d, %s", name, code, stderr)
		}
	}

	code, stdout, stderr = runLayerCmd(t, "layer", "delete", "--data-dir", dataDir, "front")
	if code != 0 || stdout != "deleted layer front\n" {
		t.Errorf("delete: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	if out := list(); strings.Count(out, "\n") != 1 {
		t.Errorf("list after delete:\n%s", out)
	}
	code, _, stderr = runLayerCmd(t, "layer", "delete", "--data-dir", dataDir, "front")
	if line := oneErrorLine(t, stderr); code != 1 || !strings.Contains(line, `no layer "front"`) {
		t.Errorf("second delete: exit %d, stderr %q", code, line)
	}
}

func TestLayerCommandUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"layer"}, 2, "Usage: incidentmap layer import"},
		{[]string{"layer", "import", "onlyname"}, 2, "Usage: incidentmap layer import NAME FILE"},
		{[]string{"layer", "import", "a", "b", "c"}, 2, "Usage: incidentmap layer import NAME FILE"},
		{[]string{"layer", "list", "extra"}, 2, "Usage: incidentmap layer list"},
		{[]string{"layer", "delete"}, 2, "Usage: incidentmap layer delete NAME"},
		{[]string{"layer", "import", "--bogus", "a", "b"}, 2, "-bogus"},
		{[]string{"layer", "sideways"}, 1, `unknown action "sideways"`},
		{[]string{"layer", "import", "--help"}, 0, "-time-property"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runLayerCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	if code, stdout, _ := runLayerCmd(t, "help"); code != 0 || !strings.Contains(stdout, "layer") {
		t.Errorf("help: exit %d, does not list the layer command:\n%s", code, stdout)
	}
}
