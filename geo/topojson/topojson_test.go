package topojson_test

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/topojson"
)

// Two unit squares side by side, A = [0,1]x[0,1] and B = [1,2]x[0,1],
// quantized on a grid of 0.5 (scale) from (10, 20) (translate):
//
//	arc 0: the shared edge (1,0) -> (1,1)
//	arc 1: A's outer edge (1,1) -> (0,1) -> (0,0) -> (1,0)
//	arc 2: B's outer edge (1,0) -> (2,0) -> (2,1) -> (1,1)
//
// A's ring is arc 0 then arc 1; B's is arc 2 then arc 0 reversed (~0 = -1).
// C is a separate island referring to nothing shared.
const squares = `{
  "type": "Topology",
  "transform": {"scale": [0.5, 0.5], "translate": [10, 20]},
  "arcs": [
    [[2, 0], [0, 2]],
    [[2, 2], [-2, 0], [0, -2], [2, 0]],
    [[2, 0], [2, 0], [0, 2], [-2, 0]],
    [[8, 8], [1, 0], [0, 1], [-1, 0], [0, -1]]
  ],
  "objects": {
    "countries": {"type": "GeometryCollection", "geometries": [
      {"type": "Polygon", "id": "031", "properties": {"name": "Left"}, "arcs": [[0, 1]]},
      {"type": "MultiPolygon", "id": 364, "properties": {"name": "Right"}, "arcs": [[[2, -1]]]},
      {"type": "Polygon", "properties": {"name": "Island"}, "arcs": [[3]]},
      {"type": null, "properties": {"name": "Nothing"}}
    ]}
  }
}`

func TestDecodeSquares(t *testing.T) {
	topo, err := topojson.Decode(strings.NewReader(squares))
	if err != nil {
		t.Fatal(err)
	}
	wantArc1 := orb.LineString{{11, 21}, {10, 21}, {10, 20}, {11, 20}}
	if !topo.Arcs[1].Equal(wantArc1) {
		t.Errorf("arc 1 = %v, want %v (delta decoding and transform)", topo.Arcs[1], wantArc1)
	}
	geoms, err := topo.Object("countries")
	if err != nil {
		t.Fatal(err)
	}
	if len(geoms) != 4 {
		t.Fatalf("%d geometries, want 4", len(geoms))
	}
	if geoms[0].ID != "031" || geoms[1].ID != "364" || geoms[2].ID != "" || geoms[3].Geometry != nil {
		t.Errorf("ids %q %q %q, null geometry %v", geoms[0].ID, geoms[1].ID, geoms[2].ID, geoms[3].Geometry)
	}
	left := geoms[0].Geometry.(orb.Polygon)
	if a := planar.Area(left); math.Abs(math.Abs(a)-1) > 1e-12 || !left[0].Closed() {
		t.Errorf("left square %v has area %v, want 1 and a closed ring", left, a)
	}
	right := geoms[1].Geometry.(orb.MultiPolygon)
	wantRight := orb.Ring{{11, 20}, {12, 20}, {12, 21}, {11, 21}, {11, 20}}
	if len(right) != 1 || !right[0][0].Equal(wantRight) {
		t.Errorf("right square = %v, want %v (reversed arc joined)", right, wantRight)
	}
	shared, err := topo.SharedArcs(geoms)
	if err != nil {
		t.Fatal(err)
	}
	if len(shared) != 1 || shared[0].Arc != 0 || shared[0].A != 0 || shared[0].B != 1 ||
		!shared[0].Line.Equal(orb.LineString{{11, 20}, {11, 21}}) {
		t.Errorf("shared arcs = %+v, want only arc 0 between geometries 0 and 1", shared)
	}

	if _, _, err := topojson.Countries(topo, "countries", nil); err == nil || !strings.Contains(err.Error(), "Nothing") {
		t.Errorf("a null geometry was accepted as a country: %v", err)
	}
	topo, err = topojson.Decode(strings.NewReader(strings.Replace(squares,
		`,
      {"type": null, "properties": {"name": "Nothing"}}`, "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	// Codes order each pair: IR (Right) sorts after AZ (Left) whatever
	// the geometries' order; the island has no code and no border.
	countries, borders, err := topojson.Countries(topo, "countries", map[string]string{"031": "IR", "364": "AZ"})
	if err != nil {
		t.Fatal(err)
	}
	if len(countries) != 3 || countries[0].Code != "IR" || countries[1].Code != "AZ" || countries[2].Code != "" ||
		countries[2].Name != "Island" || len(countries[0].Geometry) != 1 {
		t.Errorf("countries = %+v", countries)
	}
	if len(borders) != 1 || borders[0].CountryA != "AZ" || borders[0].CountryB != "IR" ||
		borders[0].NameA != "Right" || borders[0].NameB != "Left" || len(borders[0].Geometry) != 1 {
		t.Errorf("borders = %+v, want one AZ–IR border", borders)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tt := range []struct{ name, doc, want string }{
		{"not JSON", `{`, "unexpected EOF"},
		{"not a topology", `{"type": "FeatureCollection"}`, "want \"Topology\""},
		{"short arc", `{"type": "Topology", "arcs": [[[0, 0]]]}`, "arc 0"},
		{"bad position", `{"type": "Topology", "arcs": [[[0, 0], [1]]]}`, "arc 0 position 1"},
	} {
		if _, err := topojson.Decode(strings.NewReader(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	topo, err := topojson.Decode(strings.NewReader(`{"type": "Topology", "arcs": [[[0, 0], [1, 0], [1, 1]]],
		"objects": {"o": {"type": "GeometryCollection", "geometries": [
			{"type": "Polygon", "arcs": [[5]]}]},
		"open": {"type": "Polygon", "arcs": [[0]]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := topo.Object("o"); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("arc out of range: err = %v", err)
	}
	if _, err := topo.Object("open"); err == nil || !strings.Contains(err.Error(), "not closed") {
		t.Errorf("open ring: err = %v", err)
	}
	if _, err := topo.Object("missing"); err == nil {
		t.Error("missing object: no error")
	}
}

// The real world-atlas countries: polygons for every country, and land
// borders that are shared boundaries only, never coastlines.
func TestWorldAtlasCountries(t *testing.T) {
	dir := filepath.Join("..", "..", "frontend", "node_modules")
	f, err := os.Open(filepath.Join(dir, "world-atlas", "countries-50m.json"))
	if err != nil {
		t.Fatalf("%v (run 'make frontend')", err)
	}
	defer f.Close()
	topo, err := topojson.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := os.Open(filepath.Join(dir, "i18n-iso-countries", "codes.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	codes, err := geo.ParseCountryCodes(cf)
	if err != nil {
		t.Fatal(err)
	}
	countries, borders, err := topojson.Countries(topo, "countries", codes)
	if err != nil {
		t.Fatal(err)
	}
	if len(countries) != 241 {
		t.Errorf("%d countries, want the 241 of Natural Earth 1:50m", len(countries))
	}
	var noCode []string
	byCode := map[string]geo.Country{}
	for _, c := range countries {
		if c.Code == "" {
			noCode = append(noCode, c.Name)
		} else if _, dup := byCode[c.Code]; !dup {
			byCode[c.Code] = c
		}
	}
	slices.Sort(noCode)
	if want := []string{"Indian Ocean Ter.", "Kosovo", "N. Cyprus", "Siachen Glacier", "Somaliland"}; !slices.Equal(noCode, want) {
		t.Errorf("areas without an ISO code = %v, want %v", noCode, want)
	}
	az := byCode["AZ"]
	if az.Name != "Azerbaijan" || !planar.MultiPolygonContains(az.Geometry, orb.Point{47.03, 39.40}) {
		t.Errorf("Azerbaijan = %q, does not contain Jabrayil", az.Name)
	}
	if planar.MultiPolygonContains(az.Geometry, orb.Point{51, 41}) {
		t.Error("Azerbaijan contains the middle of the Caspian Sea")
	}
	var neighbours []string
	for _, b := range borders {
		if b.CountryA >= b.CountryB && b.CountryB != "" {
			t.Errorf("border %s–%s is not ordered", b.CountryA, b.CountryB)
		}
		switch {
		case b.CountryA == "AZ":
			neighbours = append(neighbours, b.CountryB)
		case b.CountryB == "AZ":
			neighbours = append(neighbours, b.CountryA)
		}
		if b.CountryA != "" && b.CountryA == b.CountryB {
			t.Errorf("border of %s with itself", b.CountryA)
		}
	}
	slices.Sort(neighbours)
	if want := []string{"AM", "GE", "IR", "RU", "TR"}; !slices.Equal(neighbours, want) {
		t.Errorf("Azerbaijan's land neighbours = %v, want %v (no Caspian coast neighbours)", neighbours, want)
	}
	// Islands and coasts share no border: Iceland, Japan, Australia none;
	// Kosovo (no code) borders Serbia.
	for _, b := range borders {
		for _, island := range []string{"IS", "JP", "AU", "NZ"} {
			if b.CountryA == island || b.CountryB == island {
				t.Errorf("island %s has a land border %s–%s (%s–%s)", island, b.CountryA, b.CountryB, b.NameA, b.NameB)
			}
		}
	}
	found := false
	for _, b := range borders {
		found = found || b.CountryA == "RS" && b.CountryB == "" && b.NameB == "Kosovo"
	}
	if !found {
		t.Error("no Serbia–Kosovo border")
	}
	if len(borders) < 300 || len(borders) > 340 {
		t.Errorf("%d land borders, want about 320", len(borders))
	}
}
