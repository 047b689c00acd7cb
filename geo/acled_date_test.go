package geo

import (
	"strings"
	"testing"
	"time"
)

func TestParseACLEDDateForms(t *testing.T) {
	tests := []struct {
		in   string
		want string // YYYY-MM-DD; "" for not a date on its own
	}{
		{"2020-10-18", "2020-10-18"},
		{"18 October 2020", "2020-10-18"},
		{"18-October-2020", "2020-10-18"},
		{"9-May-20", "2020-05-09"},
		{"09 May 2020", "2020-05-09"},
		{"18-Oct-2020", "2020-10-18"},
		{"18 oct 2020", "2020-10-18"},
		{"5 Sept 2020", "2020-09-05"},
		{" 18 October 2020 ", "2020-10-18"},
		{"2020-10-18 00:00:00", "2020-10-18"},
		{"2020-10-18T00:00:00", "2020-10-18"},
		{"18/10/2020 00:00", "2020-10-18"},
		{"2020/10/18", "2020-10-18"},
		{"18/10/2020", "2020-10-18"}, // a day above 12: day first
		{"10/18/2020", "2020-10-18"}, // month first
		{"18.10.2020", "2020-10-18"},
		{"18-10-2020", "2020-10-18"},
		{"5/5/2020", "2020-05-05"}, // either order
		{"9-May-97", "1997-05-09"}, // ACLED starts in 1997
		{"1-Jan-99", "1999-01-01"},
		{"1-Jan-00", "2000-01-01"},
		{"29 February 2020", "2020-02-29"},
		// Not dates on their own.
		{"5/9/2020", ""}, // day/month order unknown
		{"", ""},
		{"2020-13-45", ""},
		{"31 February 2020", ""},
		{"29-Feb-19", ""},
		{"October 18, 2020", ""},
		{"18 Octobre 2020", ""},
		{"13/13/2020", ""},
		{"32/1/2020", ""},
		{"2020-10-18 25:00:00", ""},
		{"18.Oct.2020", ""},
		{"18 Oct 202", ""},
		{"yesterday", ""},
	}
	for _, tt := range tests {
		got, ok := ParseACLEDDate(tt.in)
		switch {
		case tt.want == "" && ok:
			t.Errorf("ParseACLEDDate(%q) = %v, want not a date", tt.in, got)
		case tt.want != "" && (!ok || got.Format(time.DateOnly) != tt.want || got.Location() != time.UTC || got.Hour() != 0):
			t.Errorf("ParseACLEDDate(%q) = %v, %v; want %s 00:00 UTC", tt.in, got, ok, tt.want)
		}
	}
}

// readDates reads a file of ACLED rows with the dates given, and returns
// each row's line, day (or error kind) in the order returned.
func readDates(t *testing.T, maxRows int, dates ...string) []string {
	t.Helper()
	var rows []map[string]string
	for i, d := range dates {
		row := acledTestRow()
		row["event_id_cnty"] = "AZE" + string(rune('A'+i))
		row["event_date"] = d
		rows = append(rows, row)
	}
	r, err := NewACLEDReader(strings.NewReader(acledText(nil, rows...)))
	if err != nil {
		t.Fatal(err)
	}
	if maxRows > 0 {
		r.maxRows = maxRows
	}
	var out []string
	for _, row := range readAll(t, r) {
		s := string(rune('0' + row.Line))
		if len(row.Errors) > 0 {
			s += " " + row.Errors[0].Kind
		} else {
			s += " " + row.Incident.OccurredAt.Format(time.DateOnly)
		}
		out = append(out, s)
	}
	return out
}

// Numeric dates take the order the file's other dates prove; rows are
// held back until then, in order, and are errors when nothing tells.
func TestACLEDReaderDateOrder(t *testing.T) {
	tests := []struct {
		name    string
		maxRows int
		dates   []string
		want    []string
	}{
		{"day first proven later", 0, []string{"5/9/2020", "2020-10-01", "6/9/2020", "25/9/2020", "7/9/2020"},
			[]string{"2 2020-09-05", "3 2020-10-01", "4 2020-09-06", "5 2020-09-25", "6 2020-09-07"}},
		{"month first proven later", 0, []string{"5/9/2020", "9/25/2020", "5/10/20"},
			[]string{"2 2020-05-09", "3 2020-09-25", "4 2020-05-10"}},
		{"proven first", 0, []string{"13/10/2020", "5/9/2020"}, []string{"2 2020-10-13", "3 2020-09-05"}},
		{"never proven", 0, []string{"5/9/2020", "2020-10-01", "5/5/2020", "6/9/2020"},
			[]string{"2 " + KindAmbiguousDate, "3 2020-10-01", "4 2020-05-05", "5 " + KindAmbiguousDate}},
		{"conflicting orders", 0, []string{"25/9/2020", "9/25/2020", "5/9/2020"},
			[]string{"2 2020-09-25", "3 " + KindDateOrder, "4 2020-09-05"}},
		{"proof beyond the bound", 2, []string{"5/9/2020", "2020-10-01", "2020-10-02", "2020-10-03", "25/9/2020", "6/9/2020"},
			[]string{"2 " + KindAmbiguousDate, "3 2020-10-01", "4 2020-10-02", "5 2020-10-03", "6 2020-09-25", "7 2020-09-06"}},
	}
	for _, tt := range tests {
		got := readDates(t, tt.maxRows, tt.dates...)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	// The error says what is ambiguous and how to fix it.
	rows := readACLED(t, acledText(nil, func() map[string]string { r := acledTestRow(); r["event_date"] = "5/9/2020"; return r }()))
	if e := rows[0].Errors; len(e) != 1 || e[0].Column != "event_date" ||
		!strings.Contains(e[0].Reason, `"5/9/2020" could be day/month or month/day`) || !strings.Contains(e[0].Reason, "2020-09-05") {
		t.Errorf("ambiguous date errors = %+v", e)
	}
}
