package geo

import (
	"strings"
	"time"
)

// DateOrder is the order of day and month in a file's numeric dates
// (5/9/2020): a file is written one way throughout.
type DateOrder int

// Orders of day and month.
const (
	DateOrderUnknown DateOrder = iota
	DayFirst                   // 5/9/2020 is 5 September 2020
	MonthFirst                 // 5/9/2020 is 9 May 2020
)

func (o DateOrder) String() string {
	switch o {
	case DayFirst:
		return "day/month"
	case MonthFirst:
		return "month/day"
	}
	return "unknown"
}

// acledDate is an event date as its text alone tells it.
type acledDate struct {
	day time.Time // the day, unless numeric
	// A numeric date (5/9/2020) read either way; zero when impossible
	// (13/5/2020 cannot be month first).
	numeric              bool
	dayFirst, monthFirst time.Time
}

// dateOutcome is what an event date is once the file's order is applied.
type dateOutcome int

const (
	dateOK        dateOutcome = iota
	dateAmbiguous             // both orders give a valid, different day and the order is unknown
	dateConflict              // valid only in the order the file does not use
)

// resolve returns the day under order, the order this date alone proves
// (a day above 12), and whether it fits.
func (d acledDate) resolve(order DateOrder) (time.Time, DateOrder, dateOutcome) {
	if !d.numeric {
		return d.day, DateOrderUnknown, dateOK
	}
	df, mf := !d.dayFirst.IsZero(), !d.monthFirst.IsZero()
	switch {
	case df && mf && d.dayFirst.Equal(d.monthFirst):
		return d.dayFirst, DateOrderUnknown, dateOK
	case df && mf:
		switch order {
		case DayFirst:
			return d.dayFirst, DateOrderUnknown, dateOK
		case MonthFirst:
			return d.monthFirst, DateOrderUnknown, dateOK
		}
		return time.Time{}, DateOrderUnknown, dateAmbiguous
	case df:
		if order == MonthFirst {
			return time.Time{}, DayFirst, dateConflict
		}
		return d.dayFirst, DayFirst, dateOK
	default: // mf only: parseACLEDDate guarantees one
		if order == DayFirst {
			return time.Time{}, MonthFirst, dateConflict
		}
		return d.monthFirst, MonthFirst, dateOK
	}
}

// ParseACLEDDate parses an event date in any form ACLED files have used:
// "2020-10-18" (also with "/" or "."), "18 October 2020", "18-October-2020",
// "18 Oct 2020", "18-Oct-2020", "9-May-20", pandas' "2020-10-18 00:00:00",
// and numeric dates such as "18/10/2020" when the text alone says which
// number is the day (one is above 12, or both are equal). Month names are
// read in any case; two-digit years are 1997-2096 (ACLED starts in 1997).
// The result is 00:00 UTC of that day. Numeric dates such as "5/9/2020"
// need the file's order: ACLEDReader settles it from the file's other
// dates.
func ParseACLEDDate(s string) (time.Time, bool) {
	d, ok := parseACLEDDate(s)
	if !ok {
		return time.Time{}, false
	}
	t, _, out := d.resolve(DateOrderUnknown)
	return t, out == dateOK
}

// parseACLEDDate reads s without the file's context.
func parseACLEDDate(s string) (acledDate, bool) {
	s = strings.TrimSpace(s)
	// pandas and spreadsheets add a time of day: "2020-10-18 00:00:00".
	if i := strings.LastIndexByte(s, ' '); i > 0 && strings.IndexByte(s[i:], ':') > 0 {
		if !isClockTime(s[i+1:]) {
			return acledDate{}, false
		}
		s = strings.TrimSpace(s[:i])
	} else if i := strings.IndexByte(s, 'T'); i == 10 && isClockTime(s[i+1:]) {
		s = s[:i]
	}
	sep := -1
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ' ' || c == '-' || c == '/' || c == '.' {
			sep = int(c)
			break
		}
	}
	if sep < 0 {
		return acledDate{}, false
	}
	parts := strings.Split(s, string(rune(sep)))
	if len(parts) != 3 {
		return acledDate{}, false
	}
	a, b, c := parts[0], parts[1], parts[2]
	switch {
	case len(a) == 4 && isASCIIDigits(a) && isShortNumber(b) && isShortNumber(c) && sep != ' ':
		t, ok := makeDate(atoi(a), atoi(b), atoi(c))
		return acledDate{day: t}, ok
	case isShortNumber(a) && !isASCIIDigits(b) && (sep == ' ' || sep == '-'):
		m, ok := monthByName(b)
		y, yok := parseYear(c)
		if !ok || !yok {
			return acledDate{}, false
		}
		t, ok := makeDate(y, m, atoi(a))
		return acledDate{day: t}, ok
	case isShortNumber(a) && isShortNumber(b):
		y, ok := parseYear(c)
		if !ok {
			return acledDate{}, false
		}
		df, dok := makeDate(y, atoi(b), atoi(a))
		mf, mok := makeDate(y, atoi(a), atoi(b))
		if !dok && !mok {
			return acledDate{}, false
		}
		return acledDate{numeric: true, dayFirst: df, monthFirst: mf}, true
	}
	return acledDate{}, false
}

// isShortNumber: one or two digits.
func isShortNumber(s string) bool { return len(s) <= 2 && isASCIIDigits(s) }

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// parseYear reads a four-digit year, or a two-digit one: 97-99 are
// 1997-1999 (ACLED's data starts in 1997), 00-96 are 2000-2096.
func parseYear(s string) (int, bool) {
	switch {
	case len(s) == 4 && isASCIIDigits(s):
		return atoi(s), true
	case len(s) == 2 && isASCIIDigits(s):
		if y := atoi(s); y >= 97 {
			return 1900 + y, true
		} else {
			return 2000 + y, true
		}
	}
	return 0, false
}

// makeDate returns 00:00 UTC of y-m-d if that day exists.
func makeDate(y, m, d int) (time.Time, bool) {
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// monthByName reads an English month name or its three-letter
// abbreviation ("Sept" too), in any case.
func monthByName(s string) (int, bool) {
	if len(s) < 3 {
		return 0, false
	}
	l := strings.ToLower(s)
	for m := time.January; m <= time.December; m++ {
		name := strings.ToLower(m.String())
		if l == name || l == name[:3] || (m == time.September && l == "sept") {
			return int(m), true
		}
	}
	return 0, false
}

// isClockTime: hh:mm or hh:mm:ss with optional fraction.
func isClockTime(s string) bool {
	if s == "" {
		return false
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		if !isASCIIDigits(s[i+1:]) {
			return false
		}
		s = s[:i]
	}
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	for i, p := range parts {
		if len(p) != 2 || !isASCIIDigits(p) || (i == 0 && atoi(p) > 23) || (i > 0 && atoi(p) > 59) {
			return false
		}
	}
	return true
}
