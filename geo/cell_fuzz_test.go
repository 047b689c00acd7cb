package geo

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// FuzzNeutraliseCell: a neutralised cell never opens a formula in a
// spreadsheet, un-neutralising gives the text back, and the cell survives
// a CSV write and read unchanged.
func FuzzNeutraliseCell(f *testing.F) {
	for _, s := range []string{"=HYPERLINK(\"x\")", "+1", "-45.2", "@SUM(A1)", "\tx", "\rx", "'=x", "''=x", "'", "", "Goma", "a\"b,c\nd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := NeutraliseCell(s)
		if out != "" {
			switch out[0] {
			case '=', '+', '-', '@', '\t', '\r':
				t.Fatalf("NeutraliseCell(%q) = %q opens a formula", s, out)
			}
		}
		if back := UnneutraliseCell(out); back != s {
			t.Fatalf("UnneutraliseCell(NeutraliseCell(%q)) = %q", s, back)
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.Write([]string{out, "x"}); err != nil {
			t.Fatalf("write %q as CSV: %v", out, err)
		}
		w.Flush()
		rec, err := csv.NewReader(&buf).Read()
		if err != nil {
			t.Fatalf("read back %q: %v", buf.String(), err)
		}
		// encoding/csv turns \r\n inside quotes into \n, as spreadsheets do.
		if want := bytes.ReplaceAll([]byte(out), []byte("\r\n"), []byte("\n")); rec[0] != string(want) && rec[0] != out {
			t.Fatalf("cell %q read back as %q", out, rec[0])
		}
	})
}
