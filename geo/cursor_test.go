package geo

import (
	"encoding/base64"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	tests := []Cursor{
		{ID: 1},
		{ID: math.MaxInt64, Back: true},
		{Sort: SortKey{Field: "occurred_at", Desc: true}, Time: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC), ID: 42},
		{Sort: SortKey{Field: "occurred_at"}, Time: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), ID: 3, Back: true},
		{Sort: SortKey{Field: "occurred_at"}, Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), ID: 3},
		{Sort: SortKey{Field: "occurred_at"}, Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), ID: 3},
		{Sort: SortKey{Field: "fatalities", Desc: true}, Number: 0, ID: 8},
		{Sort: SortKey{Field: "fatalities"}, Number: 1500, ID: 8, Back: true},
		{Sort: SortKey{Field: "fatalities"}, Number: math.MinInt64, ID: 8},
		{Sort: SortKey{Field: strings.Repeat("a_9", 21) + "z"}, Time: time.Unix(-1, 0).UTC(), Number: -7, ID: 1},
	}
	for _, c := range tests {
		s := c.Encode()
		if len(s) > maxCursorLen {
			t.Errorf("%+v.Encode() is %d characters, more than %d", c, len(s), maxCursorLen)
		}
		got, err := DecodeCursor(s)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("DecodeCursor(%+v.Encode() = %q) = %+v, %v; want %+v, nil", c, s, got, err, c)
		}
		if strings.ContainsAny(s, "+/=") {
			t.Errorf("%+v.Encode() = %q, not URL-safe", c, s)
		}
	}
}

func TestCursorEncodeNonUTC(t *testing.T) {
	baku := time.FixedZone("AZT", 4*3600)
	c := Cursor{Sort: SortKey{Field: "occurred_at", Desc: true}, Time: time.Date(2024, 5, 6, 7, 8, 9, 0, baku), ID: 5}
	got, err := DecodeCursor(c.Encode())
	if err != nil || !got.Time.Equal(c.Time) || got.Time.Location() != time.UTC {
		t.Errorf("DecodeCursor(Encode(%v)) time = %v, %v; want the same instant in UTC", c.Time, got.Time, err)
	}
}

func TestDecodeCursorMalformed(t *testing.T) {
	valid := Cursor{Sort: SortKey{Field: "occurred_at", Desc: true}, Time: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), ID: 42}.Encode()
	raw := func(b ...byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"garbage", "not a cursor!"},
		{"padding", valid + "="},
		{"std alphabet", "AQ+AAg"},
		{"slash", "AQ/AAg"},
		{"newline", valid[:4] + "\n" + valid[4:]},
		{"truncated", valid[:len(valid)-2]},
		{"extended", valid + "AA"},
		{"too long", strings.Repeat("A", maxCursorLen+1)},
		{"version 0", raw(0, 0, 0, 2)},
		{"version 2", raw(2, 0, 0, 2)},
		{"unknown flag", raw(1, 0x10, 0, 2)},
		{"no id", raw(1, 0, 0)},
		{"zero id", raw(1, 0, 0, 0)},
		{"negative id", raw(1, 0, 0, 1)},
		{"overlong varint", raw(1, 0, 0, 0x82, 0x00)},
		{"trailing byte", raw(1, 0, 0, 2, 0)},
		{"field too long", raw(1, 0, 100, 2)},
		{"field past end", raw(1, 0, 5, 'a', 2)},
		{"upper-case field", raw(1, 0, 1, 'A', 2)},
		{"flagged zero number", raw(1, cursorHasNumber, 0, 0, 2)},
		{"nanoseconds overflow", raw(1, cursorHasTime, 0, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03, 2)},
		{"time too early", raw(append(append([]byte{1, cursorHasTime, 0}, testZigzag(minCursorUnix-1)...), 0, 2)...)},
		{"time too late", raw(append(append([]byte{1, cursorHasTime, 0}, testZigzag(maxCursorUnix+1)...), 0, 2)...)},
		{"flagged zero time", raw(append(append([]byte{1, cursorHasTime, 0}, testZigzag(minCursorUnix)...), 0, 2)...)},
		{"varint overflow", raw(1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeCursor(tt.in)
			if err == nil {
				t.Fatalf("DecodeCursor(%q) = %+v, want error", tt.in, got)
			}
			checkParamErr(t, err, "cursor", "malformed cursor")
		})
	}
	// Every single-character change of a valid cursor is rejected or decodes
	// to a cursor that encodes back to the changed string.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range valid {
		for _, ch := range alphabet {
			s := valid[:i] + string(ch) + valid[i+1:]
			if c, err := DecodeCursor(s); err == nil && c.Encode() != s {
				t.Errorf("DecodeCursor(%q) = %+v, which encodes as %q", s, c, c.Encode())
			}
		}
	}
}

func testZigzag(v int64) []byte {
	var b []byte
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}
