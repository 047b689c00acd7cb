package topojson

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// CountrySet is what BuildCountries makes of a topology.
type CountrySet struct {
	Countries []geo.Country
	Borders   []geo.Border
	// Collapsed names the areas left out because quantization reduced them
	// to less than a polygon (Vatican in world-atlas 1:10m): points there
	// fall in the surrounding country.
	Collapsed []string
}

// Countries is BuildCountries without the names of collapsed areas.
func Countries(topo *Topology, object string, numericToAlpha2 map[string]string) ([]geo.Country, []geo.Border, error) {
	s, err := BuildCountries(topo, object, numericToAlpha2)
	return s.Countries, s.Borders, err
}

// BuildCountries builds the countries of a topology's object (one
// geometry per country, as world-atlas's "countries"), with alpha-2 codes
// looked up from their ISO numeric ids (areas without an id, or with an
// unknown one, get none), and their land borders: the arcs two different
// countries share, grouped by pair, each pair ordered by code (areas
// without one last). Arcs shared by two records of the same code (never
// the case in world-atlas) are internal and left out. Areas collapsed by
// quantization are left out, with their borders, and named.
func BuildCountries(topo *Topology, object string, numericToAlpha2 map[string]string) (CountrySet, error) {
	geoms, err := topo.Object(object)
	if err != nil {
		return CountrySet{}, err
	}
	var set CountrySet
	countries := make([]geo.Country, len(geoms))
	for i, g := range geoms {
		c := geo.Country{Numeric: g.ID, Code: numericToAlpha2[g.ID]}
		if name, ok := g.Properties["name"].(string); ok {
			c.Name = name
		}
		if c.Name == "" {
			return CountrySet{}, fmt.Errorf("country %d (id %q) has no name", i, g.ID)
		}
		if g.Collapsed {
			set.Collapsed = append(set.Collapsed, c.Name)
			countries[i] = c // kept without a geometry so indexes hold; left out below
			continue
		}
		switch gg := g.Geometry.(type) {
		case orb.Polygon:
			c.Geometry = orb.MultiPolygon{gg}
		case orb.MultiPolygon:
			c.Geometry = gg
		default:
			return CountrySet{}, fmt.Errorf("country %s is a %s, want Polygon or MultiPolygon", c.Name, g.Type)
		}
		if err := geo.ValidateCountry(c); err != nil {
			return CountrySet{}, fmt.Errorf("country %s: %w", c.Name, err)
		}
		countries[i] = c
	}
	shared, err := topo.SharedArcs(geoms)
	if err != nil {
		return CountrySet{}, err
	}
	type pair struct{ a, b int }
	lines := map[pair]orb.MultiLineString{}
	for _, s := range shared {
		a, b := countries[s.A], countries[s.B]
		if a.Code != "" && a.Code == b.Code || a.Geometry == nil || b.Geometry == nil {
			continue
		}
		// Order each pair by code (areas without one last), then name.
		p := pair{s.A, s.B}
		if compareCountries(a, b) > 0 {
			p = pair{s.B, s.A}
		}
		lines[p] = append(lines[p], s.Line)
	}
	borders := make([]geo.Border, 0, len(lines))
	for p, ml := range lines {
		a, b := countries[p.a], countries[p.b]
		borders = append(borders, geo.Border{CountryA: a.Code, CountryB: b.Code, NameA: a.Name, NameB: b.Name, Geometry: ml})
	}
	slices.SortFunc(borders, func(x, y geo.Border) int {
		return cmp.Or(cmp.Compare(codeKey(x.CountryA), codeKey(y.CountryA)), cmp.Compare(x.NameA, y.NameA),
			cmp.Compare(codeKey(x.CountryB), codeKey(y.CountryB)), cmp.Compare(x.NameB, y.NameB))
	})
	set.Borders = borders
	for _, c := range countries {
		if c.Geometry != nil {
			set.Countries = append(set.Countries, c)
		}
	}
	return set, nil
}

// codeKey sorts areas without a code after every coded country.
func codeKey(code string) string {
	if code == "" {
		return "~"
	}
	return code
}

func compareCountries(a, b geo.Country) int {
	return cmp.Or(cmp.Compare(codeKey(a.Code), codeKey(b.Code)), cmp.Compare(a.Name, b.Name))
}
