package cql2

import (
	"strings"
	"time"
)

// dateLayout is RFC 3339 full-date.
const dateLayout = "2006-01-02"

// parseDate reads an RFC 3339 full-date.
func parseDate(s string) (time.Time, bool) {
	if len(s) != len(dateLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil || t.Year() < 1 {
		return time.Time{}, false // PostgreSQL has no year 0
	}
	return t, true
}

// parseTimestamp reads an RFC 3339 date-time; a space may stand for the T
// and a missing offset means UTC.
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) > 10 && (s[10] == ' ' || s[10] == 't') {
		s = s[:10] + "T" + s[11:]
	}
	s = strings.Replace(s, "z", "Z", 1)
	// RFC 3339 date-time, and the same without an offset (read as UTC, as
	// GDAL sends it).
	for _, layout := range [...]string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999"} {
		t, err := time.Parse(layout, s)
		if err == nil && t.UTC().Year() >= 1 && t.UTC().Year() <= 9999 {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseInstant reads a date or a timestamp string.
func parseInstant(s string) (Expr, bool) {
	if t, ok := parseDate(s); ok {
		return &DateLit{Value: t}, true
	}
	if t, ok := parseTimestamp(s); ok {
		return &TimestampLit{Value: t}, true
	}
	return nil, false
}

// intervalEnd reads one end of an interval given as a string: '..', a date
// or a timestamp.
func intervalEnd(s string) (Expr, error) {
	if s == ".." {
		return &OpenEnd{}, nil
	}
	if e, ok := parseInstant(s); ok {
		return e, nil
	}
	return nil, errorf("interval end %q is not '..', a date (2006-01-02) or a timestamp (2006-01-02T15:04:05Z)", s)
}

// formatTimestamp is how timestamps are passed to PostgreSQL.
func formatTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
}
