package geo

import (
	"net/url"
	"strconv"
)

// MaxTileZoom is the deepest WebMercatorQuad level served.
const MaxTileZoom = 22

// Tile is one WebMercatorQuad tile (z/x/y, y from the top, as XYZ maps).
type Tile struct{ Z, X, Y int }

// ParseTile validates tile coordinates given as path segments.
func ParseTile(z, y, x string) (Tile, error) {
	var t Tile
	for _, p := range []struct {
		name string
		s    string
		dst  *int
	}{{"tileMatrix", z, &t.Z}, {"tileRow", y, &t.Y}, {"tileCol", x, &t.X}} {
		n, err := strconv.Atoi(p.s)
		if err != nil || n < 0 || len(p.s) > 8 {
			return Tile{}, Invalidf(p.name, "want a non-negative integer, got %q", truncateForMessage(p.s))
		}
		*p.dst = n
	}
	if t.Z > MaxTileZoom {
		return Tile{}, Invalidf("tileMatrix", "zoom %d out of range [0, %d]", t.Z, MaxTileZoom)
	}
	if limit := 1 << t.Z; t.X >= limit || t.Y >= limit {
		return Tile{}, Invalidf("tileRow", "tile %d/%d/%d does not exist: rows and columns at zoom %d are 0..%d", t.Z, t.Y, t.X, t.Z, limit-1)
	}
	return t, nil
}

func truncateForMessage(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// tileOnlyParams are items parameters that make no sense for a tile.
var tileOnlyParams = []string{"bbox", "bbox-crs", "limit", "cursor", "sortby", "properties", "f"}

// ParseIncidentTileQuery validates the filters of an incidents tile: the
// items filters without paging, bbox or output options.
func ParseIncidentTileQuery(v url.Values) (IncidentQuery, error) {
	for _, name := range tileOnlyParams {
		if _, ok := v[name]; ok {
			return IncidentQuery{}, Invalidf(name, "not a tile parameter")
		}
	}
	return ParseIncidentQuery(v)
}
