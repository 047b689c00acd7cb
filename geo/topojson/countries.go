package topojson

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/paulmach/orb"

	"github.com/incidentmap/incidentmap/geo"
)

// Countries builds the countries of a topology's object (one geometry per
// country, as world-atlas's "countries"), with alpha-2 codes looked up
// from their ISO numeric ids (areas without an id, or with an unknown one,
// get none), and their land borders: the arcs two different countries
// share, grouped by pair, each pair ordered by code (areas without one
// last). Arcs shared by two records of the same code (never the case in
// world-atlas) are internal and left out.
func Countries(topo *Topology, object string, numericToAlpha2 map[string]string) ([]geo.Country, []geo.Border, error) {
	geoms, err := topo.Object(object)
	if err != nil {
		return nil, nil, err
	}
	countries := make([]geo.Country, len(geoms))
	for i, g := range geoms {
		c := geo.Country{Numeric: g.ID, Code: numericToAlpha2[g.ID]}
		if name, ok := g.Properties["name"].(string); ok {
			c.Name = name
		}
		if c.Name == "" {
			return nil, nil, fmt.Errorf("country %d (id %q) has no name", i, g.ID)
		}
		switch gg := g.Geometry.(type) {
		case orb.Polygon:
			c.Geometry = orb.MultiPolygon{gg}
		case orb.MultiPolygon:
			c.Geometry = gg
		default:
			return nil, nil, fmt.Errorf("country %s is a %s, want Polygon or MultiPolygon", c.Name, g.Type)
		}
		if err := geo.ValidateCountry(c); err != nil {
			return nil, nil, fmt.Errorf("country %s: %w", c.Name, err)
		}
		countries[i] = c
	}
	shared, err := topo.SharedArcs(geoms)
	if err != nil {
		return nil, nil, err
	}
	type pair struct{ a, b int }
	lines := map[pair]orb.MultiLineString{}
	for _, s := range shared {
		a, b := countries[s.A], countries[s.B]
		if a.Code != "" && a.Code == b.Code {
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
	return countries, borders, nil
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
