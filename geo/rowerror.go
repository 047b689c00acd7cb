package geo

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// RowError is one invalid value of an imported file. Line is the line the
// record starts on in a CSV file (the header is line 1), or the 1-based
// feature number in a GeoJSON file; Column is the CSV column or the GeoJSON
// member ("properties.event_type"), empty when the whole row is wrong.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
	// Kind is a stable key of the rule broken, without the offending value
	// ("unknown event type", "not a date"), for summaries by reason; empty
	// means Reason itself is the key.
	Kind string `json:"kind,omitempty"`
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Column, e.Reason)
}

// key is what summaries count by: Kind, else Reason.
func (e RowError) key() string {
	if e.Kind != "" {
		return e.Kind
	}
	return e.Reason
}

// Kinds of row errors: stable keys, without the offending value.
const (
	KindMalformedCSV     = "malformed CSV"
	KindFieldCount       = "wrong number of fields"
	KindMissing          = "missing"
	KindTooLong          = "too long"
	KindNotUTF8          = "not valid UTF-8"
	KindNUL              = "contains NUL"
	KindNotNumber        = "not a number"
	KindOutOfRange       = "out of range"
	KindNotCode          = "not 1, 2 or 3"
	KindNotDate          = "not a date"
	KindAmbiguousDate    = "ambiguous day/month order"
	KindDateOrder        = "date order differs from the file's"
	KindYearMismatch     = "year differs from event_date"
	KindUnknownEventType = "unknown event type"
	KindUnknownSubType   = "unknown sub-event type"
	KindSubTypeMismatch  = "sub-event type of another event type"
	KindNotWholeNumber   = "not a whole number"
	KindBadSources       = "not a JSON list of sources"
	KindUnknownStatus    = "unknown status"
	KindNotBool          = "not true or false"
	KindWrongType        = "wrong JSON type"
	KindNotFeature       = "not a GeoJSON feature"
	KindBadGeometry      = "not a Point"
	KindDuplicateID      = "duplicate external id"
)

// RowErrorCount is how many errors of one kind one column had.
type RowErrorCount struct {
	Column string `json:"column,omitempty"`
	Kind   string `json:"kind"`
	Count  int    `json:"count"`
}

// RowErrorTally counts row errors by column and kind as an import goes,
// however many there are (an import keeps only the first errors
// themselves). The zero value is ready to use.
type RowErrorTally struct {
	counts map[RowErrorCount]int // keyed with Count 0
}

// Add counts errs.
func (t *RowErrorTally) Add(errs ...RowError) {
	if t.counts == nil {
		t.counts = map[RowErrorCount]int{}
	}
	for _, e := range errs {
		t.counts[RowErrorCount{Column: e.Column, Kind: e.key()}]++
	}
}

// Counts returns the counts, most frequent first (ties by column, then
// kind, so the order is stable).
func (t *RowErrorTally) Counts() []RowErrorCount {
	out := make([]RowErrorCount, 0, len(t.counts))
	for k, n := range t.counts {
		k.Count = n
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b RowErrorCount) int {
		return cmp.Or(b.Count-a.Count, strings.Compare(a.Column, b.Column), strings.Compare(a.Kind, b.Kind))
	})
	return out
}

// SummariseRowErrors counts errs by column and kind, most frequent first.
func SummariseRowErrors(errs []RowError) []RowErrorCount {
	var t RowErrorTally
	t.Add(errs...)
	return t.Counts()
}

// FormatRowErrorSummary writes counts one per line ("  120  event_date:
// not a date"), for a command's summary before the individual errors.
func FormatRowErrorSummary(counts []RowErrorCount) string {
	var b strings.Builder
	width := 1
	if len(counts) > 0 {
		width = len(fmt.Sprint(counts[0].Count))
	}
	for _, c := range counts {
		where := c.Column
		if where == "" {
			where = "(row)"
		}
		fmt.Fprintf(&b, "%*d  %s: %s\n", width, c.Count, where, c.Kind)
	}
	return b.String()
}

// InvalidRowsError reports the invalid rows of an import. It matches
// ErrInvalid with errors.Is.
type InvalidRowsError struct {
	Errors  []RowError // in line order; at most the importer's cap
	Rows    int        // invalid rows (a row may have several errors)
	Omitted int        // errors beyond the cap, not in Errors
}

func (e *InvalidRowsError) Error() string {
	const show = 10
	var b strings.Builder
	fmt.Fprintf(&b, "%d invalid row", e.Rows)
	if e.Rows != 1 {
		b.WriteByte('s')
	}
	for i, re := range e.Errors {
		if i == show {
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(re.Error())
	}
	if more := len(e.Errors) - show + e.Omitted; more > 0 {
		fmt.Fprintf(&b, "; and %d more", more)
	}
	return b.String()
}

// Is makes errors.Is(e, ErrInvalid) true.
func (e *InvalidRowsError) Is(target error) bool { return target == ErrInvalid }

// HeaderError is a CSV header without a required column, or with a column
// given twice. It matches ErrInvalid with errors.Is.
type HeaderError struct {
	Missing   []string
	Duplicate []string
}

func (e *HeaderError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing required columns: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Duplicate) > 0 {
		parts = append(parts, "duplicate columns: "+strings.Join(e.Duplicate, ", "))
	}
	return "invalid header: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(e, ErrInvalid) true.
func (e *HeaderError) Is(target error) bool { return target == ErrInvalid }
