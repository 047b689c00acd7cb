package geo

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchFile repeats the rows of a fixture n times with fresh ids.
func benchFile(b *testing.B, name string, n int) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", "acled", name))
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\r\n", 2)
	var out bytes.Buffer
	out.WriteString(lines[0] + "\r\n")
	for i := 0; out.Len() < 1<<30 && i < n; i++ {
		out.WriteString(strings.ReplaceAll(lines[1], "AZE1", fmt.Sprintf("AZE%d", i*10_000)))
	}
	return out.Bytes()
}

// BenchmarkACLEDReader reads a current-layout file; rows/s is reported.
func BenchmarkACLEDReader(b *testing.B) {
	data := benchFile(b, "current.csv", 1000)
	b.SetBytes(int64(len(data)))
	rows := 0
	for b.Loop() {
		r, err := NewACLEDReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil || len(row.Errors) > 0 {
				b.Fatalf("%v %v", err, row.Errors)
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkACLEDExport observes and writes incidents in two passes.
func BenchmarkACLEDExport(b *testing.B) {
	r, err := NewACLEDReader(bytes.NewReader(benchFile(b, "current.csv", 1000)))
	if err != nil {
		b.Fatal(err)
	}
	var incs []Incident
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		incs = append(incs, row.Incident)
	}
	rows := 0
	for b.Loop() {
		l := NewACLEDLayout()
		for i := range incs {
			l.Observe(&incs[i])
		}
		w := NewACLEDColumnsWriter(io.Discard, l.Columns())
		for i := range incs {
			if err := w.Write(&incs[i]); err != nil {
				b.Fatal(err)
			}
		}
		rows += len(incs)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
