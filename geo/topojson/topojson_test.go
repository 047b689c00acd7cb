package topojson_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/geotest"
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

// The real world-atlas countries at 1:10m: polygons for every country,
// and land borders that are shared boundaries only, never coastlines.
func TestWorldAtlasCountries(t *testing.T) {
	set := geotest.Countries(t, "countries-10m.json")
	countries, borders := set.Countries, set.Borders
	if len(countries) != 254 {
		t.Errorf("%d countries, want the 255 of Natural Earth 1:10m less Vatican", len(countries))
	}
	if !slices.Equal(set.Collapsed, []string{"Vatican"}) {
		t.Errorf("collapsed areas = %v, want [Vatican] (one grid cell at 1:10m)", set.Collapsed)
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
	if want := []string{"Akrotiri", "Baikonur", "Bajo Nuevo Bank", "Clipperton I.", "Coral Sea Is.", "Cyprus U.N. Buffer Zone",
		"Dhekelia", "Indian Ocean Ter.", "Kosovo", "N. Cyprus", "Scarborough Reef", "Serranilla Bank", "Siachen Glacier",
		"Somaliland", "Spratly Is.", "USNB Guantanamo Bay"}; !slices.Equal(noCode, want) {
		t.Errorf("areas without an ISO code = %v, want %v", noCode, want)
	}
	az := byCode["AZ"]
	if az.Name != "Azerbaijan" || !planar.MultiPolygonContains(az.Geometry, orb.Point{47.03, 39.40}) {
		t.Errorf("Azerbaijan = %q, does not contain Jabrayil", az.Name)
	}
	if planar.MultiPolygonContains(az.Geometry, orb.Point{51, 41}) {
		t.Error("Azerbaijan contains the middle of the Caspian Sea")
	}
	// Rings that cross the antimeridian are cut there: no edge spans
	// more than 180° of longitude but Antarctica's, which circles the
	// pole; Lapland is not in Russia nor Cairns in Fiji (bands around the
	// globe before the cut). PostGIS tests check Chukotka and the rest.
	for _, c := range countries {
		for _, p := range c.Geometry {
			for _, ring := range p {
				for i := 1; i < len(ring); i++ {
					if math.Abs(ring[i][0]-ring[i-1][0]) > 180 && c.Name != "Antarctica" {
						t.Errorf("%s has an edge across the map: %v to %v", c.Name, ring[i-1], ring[i])
					}
				}
			}
		}
	}
	for _, tt := range []struct {
		code, place string
		pt          orb.Point
		want        bool
	}{
		{"RU", "Kiruna", orb.Point{20.23, 67.86}, false},
		{"RU", "Alaska", orb.Point{-160, 66}, false},
		{"FJ", "Cairns", orb.Point{145.77, -16.92}, false},
		{"SE", "Kiruna", orb.Point{20.23, 67.86}, true},
	} {
		got := planar.MultiPolygonContains(byCode[tt.code].Geometry, tt.pt)
		if got != tt.want {
			t.Errorf("%s contains %s %v = %v, want %v", tt.code, tt.place, tt.pt, got, tt.want)
		}
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
	if len(borders) < 320 || len(borders) > 350 {
		t.Errorf("%d land borders, want about 334", len(borders))
	}
}

// An island astride the antimeridian, as d3's spherical TopoJSON has it
// (an edge from 179° to -179° is 2° long, the short way), an islet that
// quantization shrank to two positions, and a polygon around the pole
// (one crossing) kept as it is. Not quantized.
const antimeridian = `{
  "type": "Topology",
  "arcs": [
    [[179, -17], [-179, -17], [-179, -16], [179, -16], [179, -17]],
    [[10, 10], [10, 10]],
    [[20, 20], [21, 20], [21, 21], [20, 20]],
    [[-180, -80], [0, -75], [179, -80], [-180, -80]]
  ],
  "objects": {
    "countries": {"type": "GeometryCollection", "geometries": [
      {"type": "Polygon", "properties": {"name": "Astride"}, "arcs": [[0]]},
      {"type": "MultiPolygon", "properties": {"name": "Islets"}, "arcs": [[[1]], [[2]]]},
      {"type": "Polygon", "properties": {"name": "Speck"}, "arcs": [[1]]},
      {"type": "Polygon", "properties": {"name": "Polar"}, "arcs": [[3]]}
    ]}
  }
}`

func TestDecodeAntimeridianAndCollapsedRings(t *testing.T) {
	topo, err := topojson.Decode(strings.NewReader(antimeridian))
	if err != nil {
		t.Fatal(err)
	}
	geoms, err := topo.Object("countries")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got       topojson.Geometry
		want      orb.Geometry
		collapsed bool
	}{
		{"astride", geoms[0], orb.MultiPolygon{
			{{{180, -17}, {180, -16}, {179, -16}, {179, -17}, {180, -17}}},
			{{{-180, -17}, {-179, -17}, {-179, -16}, {-180, -16}, {-180, -17}}},
		}, false},
		{"islets", geoms[1], orb.MultiPolygon{{{{20, 20}, {21, 20}, {21, 21}, {20, 20}}}}, false},
		{"speck", geoms[2], nil, true},
		{"polar", geoms[3], orb.Polygon{{{-180, -80}, {0, -75}, {179, -80}, {-180, -80}}}, false},
	}
	for _, tt := range tests {
		if tt.got.Collapsed != tt.collapsed {
			t.Errorf("%s: Collapsed = %v, want %v", tt.name, tt.got.Collapsed, tt.collapsed)
		}
		if tt.want == nil {
			if tt.got.Geometry != nil {
				t.Errorf("%s: geometry %v, want none", tt.name, tt.got.Geometry)
			}
			continue
		}
		if tt.got.Geometry == nil || !orb.Equal(tt.got.Geometry, tt.want) {
			t.Errorf("%s: geometry\n%v\nwant\n%v", tt.name, tt.got.Geometry, tt.want)
		}
	}
}
