package cql2_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/incidentmap/incidentmap/geo/cql2"
)

// BenchmarkParseCompile measures a typical GIS-client filter and the
// largest filter the limits let through.
func BenchmarkParseCompile(b *testing.B) {
	var coords []string
	for i := range 999 {
		coords = append(coords, strconv.Itoa(i%90)+" "+strconv.Itoa(i%45))
	}
	for _, bc := range []struct{ name, filter string }{
		{"typical", "kind IN ('Battles', 'Protests') AND at >= DATE('2020-10-01') AND S_INTERSECTS(geometry, BBOX(46, 39, 48, 40))"},
		{"1000 coordinates", "S_INTERSECTS(geometry, LINESTRING(" + strings.Join(coords, ",") + ", 0 1))"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := eventQueryables()
			b.SetBytes(int64(len(bc.filter)))
			for b.Loop() {
				e, err := cql2.ParseText(bc.filter)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := cql2.Compile(e, q, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
