// Package topojson reads TopoJSON topologies (the format of the world-atlas
// npm package): it decodes the shared arcs, undoing the quantization
// transform and delta encoding, builds the polygons of an object's
// geometries, and finds the arcs two geometries share — for countries,
// their land borders without the coastlines.
//
// Only what admin-0 boundary data needs is supported: Polygon and
// MultiPolygon geometries in a GeometryCollection object (LineString,
// MultiLineString, Point and MultiPoint geometries are read too; null
// geometries are skipped).
package topojson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// Topology is a decoded TopoJSON document with absolute arc coordinates.
type Topology struct {
	Arcs    []orb.LineString           // absolute positions, lon/lat
	Objects map[string]json.RawMessage // kept raw; read with Object
}

// Geometry is one geometry of an object, with its built coordinates.
type Geometry struct {
	Index      int // position in the object's geometries
	Type       string
	ID         string // "" when the geometry has none; numbers are formatted as in the file
	Properties map[string]any
	Geometry   orb.Geometry // nil for a null geometry, or a collapsed one
	// Collapsed is true for a (multi)polygon whose every outer ring
	// quantization reduced to fewer than 4 positions (Vatican at 1:10m);
	// Geometry is then nil.
	Collapsed bool
	arcs      [][]int // every arc reference, ring by ring, for SharedArcs
}

// SharedArc is an arc referenced by two different geometries of an object.
type SharedArc struct {
	Arc  int // index in Topology.Arcs
	A, B int // indexes of the two geometries, A < B
	Line orb.LineString
}

type rawTopology struct {
	Type      string                     `json:"type"`
	Transform *transform                 `json:"transform"`
	Arcs      [][][]float64              `json:"arcs"`
	Objects   map[string]json.RawMessage `json:"objects"`
}

type transform struct {
	Scale     [2]float64 `json:"scale"`
	Translate [2]float64 `json:"translate"`
}

type rawGeometry struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Properties map[string]any  `json:"properties"`
	Arcs       json.RawMessage `json:"arcs"`
	Coords     json.RawMessage `json:"coordinates"`
	Geometries []rawGeometry   `json:"geometries"`
}

// Decode reads a Topology and decodes its arcs. A quantized topology's
// positions are delta-encoded integers: each arc's first position is
// absolute, the others are offsets from the previous one; the transform
// then maps them to coordinates.
func Decode(r io.Reader) (*Topology, error) {
	var raw rawTopology
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("topojson: %w", err)
	}
	if raw.Type != "Topology" {
		return nil, fmt.Errorf("topojson: type is %q, want \"Topology\"", raw.Type)
	}
	t := &Topology{Arcs: make([]orb.LineString, len(raw.Arcs)), Objects: raw.Objects}
	for i, arc := range raw.Arcs {
		if len(arc) < 2 {
			return nil, fmt.Errorf("topojson: arc %d has %d position(s), need at least 2", i, len(arc))
		}
		line := make(orb.LineString, len(arc))
		var x, y float64
		for j, pos := range arc {
			if len(pos) < 2 || !finite(pos[0]) || !finite(pos[1]) {
				return nil, fmt.Errorf("topojson: arc %d position %d is not a pair of numbers", i, j)
			}
			if raw.Transform == nil {
				line[j] = orb.Point{pos[0], pos[1]}
				continue
			}
			x += pos[0]
			y += pos[1]
			line[j] = orb.Point{
				x*raw.Transform.Scale[0] + raw.Transform.Translate[0],
				y*raw.Transform.Scale[1] + raw.Transform.Translate[1],
			}
		}
		t.Arcs[i] = line
	}
	return t, nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// Object returns the geometries of the GeometryCollection object name
// (or the object itself when it is a single geometry), built into orb
// geometries.
func (t *Topology) Object(name string) ([]Geometry, error) {
	raw, ok := t.Objects[name]
	if !ok {
		return nil, fmt.Errorf("topojson: no object %q", name)
	}
	var obj rawGeometry
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("topojson: object %q: %w", name, err)
	}
	list := []rawGeometry{obj}
	if obj.Type == "GeometryCollection" {
		list = obj.Geometries
	}
	out := make([]Geometry, 0, len(list))
	for i, g := range list {
		geom, err := t.build(g)
		if err != nil {
			return nil, fmt.Errorf("topojson: object %q geometry %d: %w", name, i, err)
		}
		geom.Index = i
		out = append(out, geom)
	}
	return out, nil
}

// build turns one raw geometry into coordinates.
func (t *Topology) build(g rawGeometry) (Geometry, error) {
	out := Geometry{Type: g.Type, Properties: g.Properties, ID: rawID(g.ID)}
	var err error
	switch g.Type {
	case "", "null":
		out.Type = ""
	case "Polygon":
		var rings [][]int
		if err = json.Unmarshal(g.Arcs, &rings); err != nil {
			return out, fmt.Errorf("polygon arcs: %w", err)
		}
		out.arcs = rings
		var p orb.Polygon
		p, err = t.polygon(rings)
		switch pieces := splitAntimeridian(p); {
		case err != nil:
		case p == nil:
			out.Collapsed = true
		case len(pieces) == 1:
			out.Geometry = p
		default:
			out.Geometry = orb.MultiPolygon(pieces)
		}
	case "MultiPolygon":
		var polys [][][]int
		if err = json.Unmarshal(g.Arcs, &polys); err != nil {
			return out, fmt.Errorf("multipolygon arcs: %w", err)
		}
		mp := make(orb.MultiPolygon, 0, len(polys))
		for _, rings := range polys {
			out.arcs = append(out.arcs, rings...)
			p, err := t.polygon(rings)
			if err != nil {
				return out, err
			}
			if p != nil { // nil: an islet collapsed by quantization
				mp = append(mp, splitAntimeridian(p)...)
			}
		}
		if len(mp) == 0 {
			out.Collapsed = true
		} else {
			out.Geometry = mp
		}
	case "LineString":
		var refs []int
		if err = json.Unmarshal(g.Arcs, &refs); err != nil {
			return out, fmt.Errorf("linestring arcs: %w", err)
		}
		out.arcs = [][]int{refs}
		out.Geometry, err = t.line(refs)
	case "MultiLineString":
		var lines [][]int
		if err = json.Unmarshal(g.Arcs, &lines); err != nil {
			return out, fmt.Errorf("multilinestring arcs: %w", err)
		}
		out.arcs = lines
		ml := make(orb.MultiLineString, 0, len(lines))
		for _, refs := range lines {
			l, err := t.line(refs)
			if err != nil {
				return out, err
			}
			ml = append(ml, l)
		}
		out.Geometry = ml
	case "Point", "MultiPoint":
		return out, fmt.Errorf("%s geometries are not supported", g.Type)
	default:
		return out, fmt.Errorf("unknown geometry type %q", g.Type)
	}
	return out, err
}

// rawID formats a geometry id: strings as they are, numbers as written.
func rawID(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(raw)
}

// arcIndex resolves an arc reference: i is arc i forwards, ^i (that is,
// -i-1) arc i backwards.
func (t *Topology) arcIndex(ref int) (index int, reversed bool, err error) {
	index = ref
	if ref < 0 {
		index, reversed = ^ref, true
	}
	if index >= len(t.Arcs) {
		return 0, false, fmt.Errorf("arc reference %d out of range (%d arcs)", ref, len(t.Arcs))
	}
	return index, reversed, nil
}

// line concatenates the referenced arcs; each arc after the first starts
// where the previous one ended, so its first position is dropped.
func (t *Topology) line(refs []int) (orb.LineString, error) {
	if len(refs) == 0 {
		return nil, errors.New("line with no arcs")
	}
	var out orb.LineString
	for k, ref := range refs {
		i, rev, err := t.arcIndex(ref)
		if err != nil {
			return nil, err
		}
		arc := t.Arcs[i]
		start := 0
		if k > 0 {
			start = 1
		}
		for j := start; j < len(arc); j++ {
			if rev {
				out = append(out, arc[len(arc)-1-j])
			} else {
				out = append(out, arc[j])
			}
		}
	}
	return out, nil
}

// polygon builds a polygon from its rings' arcs. Quantization collapses
// the smallest islets and lakes (1:10m has islets of a few metres) to a
// closed ring of fewer than 4 positions, a point or a back-and-forth line:
// such a hole is left out, and such an outer ring makes the polygon nil.
// A ring that is not closed is an error.
func (t *Topology) polygon(rings [][]int) (orb.Polygon, error) {
	if len(rings) == 0 {
		return nil, errors.New("polygon with no rings")
	}
	p := make(orb.Polygon, 0, len(rings))
	for r, refs := range rings {
		l, err := t.line(refs)
		if err != nil {
			return nil, err
		}
		if l[0] != l[len(l)-1] {
			return nil, fmt.Errorf("ring %d is not closed", r)
		}
		if len(l) < 4 {
			if r == 0 {
				return nil, nil
			}
			continue
		}
		p = append(p, orb.Ring(l))
	}
	return p, nil
}

// SharedArcs returns the arcs referenced by exactly two different
// geometries of geoms, in arc order: between neighbouring polygons these
// are their common boundary, while an arc referenced by one geometry only
// is an outer edge (for countries, a coastline). An arc a geometry refers
// to twice (an inner seam) is not shared. An arc referenced by more than
// two geometries is a segment quantization shrank to a tripoint (1:10m
// has a few, one grid step long): it is shared by each pair of them.
func (t *Topology) SharedArcs(geoms []Geometry) ([]SharedArc, error) {
	users := make([][]int, len(t.Arcs)) // geometry indexes per arc, distinct
	for _, g := range geoms {
		for _, refs := range g.arcs {
			for _, ref := range refs {
				i, _, err := t.arcIndex(ref)
				if err != nil {
					return nil, err
				}
				u := users[i]
				if len(u) > 0 && u[len(u)-1] == g.Index {
					continue
				}
				seen := false
				for _, x := range u {
					seen = seen || x == g.Index
				}
				if !seen {
					users[i] = append(u, g.Index)
				}
			}
		}
	}
	var out []SharedArc
	for i, u := range users {
		switch {
		case len(u) == 2:
			a, b := min(u[0], u[1]), max(u[0], u[1])
			out = append(out, SharedArc{Arc: i, A: a, B: b, Line: t.Arcs[i]})
		case len(u) > 2:
			sorted := slices.Clone(u)
			slices.Sort(sorted)
			for x := 0; x < len(sorted); x++ {
				for y := x + 1; y < len(sorted); y++ {
					out = append(out, SharedArc{Arc: i, A: sorted[x], B: sorted[y], Line: t.Arcs[i]})
				}
			}
		}
	}
	return out, nil
}
