package postgis

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/incidentmap/incidentmap/geo"
	"github.com/incidentmap/incidentmap/geo/cql2"
)

// im_tile_key (migration 00025) puts every point in the key range of the
// tile that holds it at every zoom, as tileKeyRange computes it: random
// points, points on tile edges and corners, the antimeridian and the
// Mercator limits.
func TestTileKeyMatchesTiles(t *testing.T) {
	db := OpenOwner(t)
	r := rand.New(rand.NewPCG(3, 4))
	type point struct{ lon, lat float64 }
	pts := []point{{-180, 0}, {180, 0}, {0, 0}, {-180, 85.0511}, {179.999999, -85.0511}, {47.03, 39.4}}
	for range 300 {
		pts = append(pts, point{r.Float64()*360 - 180, r.Float64()*170 - 85})
	}
	for z := range 19 { // tile corners at every zoom up to 18
		n := math.Exp2(float64(z))
		x, y := r.IntN(int(n)), r.IntN(int(n))
		lat := math.Atan(math.Sinh(math.Pi*(1-2*float64(y)/n))) * 180 / math.Pi
		pts = append(pts, point{float64(x)/n*360 - 180, lat})
	}
	for _, p := range pts {
		var key int64
		if err := db.QueryRow(`SELECT im_tile_key(ST_SetSRID(ST_MakePoint($1, $2), 4326))`, p.lon, p.lat).Scan(&key); err != nil {
			t.Fatal(err)
		}
		for _, z := range []int{0, 1, 8, 12, 18, 24} {
			n := math.Exp2(float64(z))
			// The tile by the same float arithmetic as the SQL.
			tx := min(max(math.Floor((p.lon+180)/360*n), 0), n-1)
			ty := min(max(math.Floor((1-math.Log(math.Tan(p.lat*math.Pi/180/2+math.Pi/4))/math.Pi)/2*n), 0), n-1)
			lo, hi := tileKeyRange(geo.Tile{Z: z, X: int(tx), Y: int(ty)})
			if key < lo || key > hi {
				t.Errorf("(%v, %v): key %d outside tile %d/%v/%v's range [%d, %d]", p.lon, p.lat, key, z, tx, ty, lo, hi)
			}
		}
	}
}

// A tile's cover is its own range and the ring of zoom z+6 cells round
// it, merged: 1 + 4·64 + 4 cells inside the world, fewer at its edges.
func TestTileKeyCover(t *testing.T) {
	count := func(tl geo.Tile) (cells int64) {
		lo, hi := tileKeyCover(tl)
		own, ownHi := tileKeyRange(tl)
		for i := range lo {
			if i > 0 && lo[i] <= hi[i-1] {
				t.Fatalf("%+v: ranges overlap or are out of order: %v %v", tl, lo, hi)
			}
			if lo[i] <= own && hi[i] >= ownHi {
				cells += 1 + (hi[i]-lo[i]+1-(ownHi-own+1))>>(2*(tileKeyLevel-tl.Z-tileKeyRingLevels))
				continue
			}
			cells += (hi[i] - lo[i] + 1) >> (2 * (tileKeyLevel - tl.Z - tileKeyRingLevels))
		}
		return cells
	}
	for _, c := range []struct {
		tile geo.Tile
		want int64
	}{
		{geo.Tile{Z: 8, X: 194, Y: 87}, 1 + 4*64 + 4},
		{geo.Tile{Z: 8, X: 0, Y: 87}, 1 + 3*64 + 2},  // the west edge of the world
		{geo.Tile{Z: 8, X: 255, Y: 0}, 1 + 2*64 + 1}, // the north-east corner
		{geo.Tile{Z: 18, X: 1 << 17, Y: 1 << 17}, 1 + 4*64 + 4},
	} {
		if got := count(c.tile); got != c.want {
			t.Errorf("%+v: cover of %d cells, want %d", c.tile, got, c.want)
		}
	}
}

// Every filter of an incidents query is either applied by
// pointTileByKeySQL to the columns its index holds, or sends the tile to
// the statement that reads the table. A new field fails here until it is
// put in one list or the other (a filter on a column the index lacks would
// fail every such tile).
func TestTileKeyFilters(t *testing.T) {
	keyed := []string{"Time", "Statuses", "EventTypes"}
	notFilters := []string{"Derived", "Sort", "Limit", "LimitClamped", "Properties", "Cursor", "Format", "CRS", "WithinKm"}
	table := []string{"BBox", "SubEventTypes", "Countries", "GeoChecks", "Actor", "Text", "NearBorderKm", "NearPlace",
		"MinSources", "Filter", "UpdatedSince"}
	typ := reflect.TypeFor[geo.IncidentQuery]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		var q geo.IncidentQuery
		v := reflect.ValueOf(&q).Elem().Field(i)
		switch {
		case slices.Contains(keyed, f.Name), slices.Contains(notFilters, f.Name):
			setNonZero(t, v)
			if !tileKeyFilters(q) {
				t.Errorf("%s set: tileKeyFilters false, want true", f.Name)
			}
		case slices.Contains(table, f.Name):
			setNonZero(t, v)
			if tileKeyFilters(q) {
				t.Errorf("%s set: tileKeyFilters true, want false (the index does not hold its column)", f.Name)
			}
		default:
			t.Errorf("IncidentQuery.%s is new: add it to tileKeyFilters' lists", f.Name)
		}
	}
}

// setNonZero gives v some non-zero value of its type.
func setNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Interface:
		v.Set(reflect.ValueOf(&cql2.BoolLit{Value: true}))
	case reflect.Struct:
		v.Field(0).Set(reflect.ValueOf("x").Convert(v.Field(0).Type()))
	default:
		t.Fatalf("cannot set a %s", v.Type())
	}
}
