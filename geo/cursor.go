package geo

import (
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Cursor is a keyset paging position: the sort key and id of the last row of
// a page (or, with Back, the first row of the page after the one wanted).
type Cursor struct {
	Sort   SortKey   // the sort the cursor belongs to; empty for id order
	Time   time.Time // when sorting by occurred_at: the last row's occurred_at
	Number int64     // when sorting by fatalities: the last row's fatalities
	ID     int64     // last row's id (tie-breaker); positive
	Back   bool      // true for a prev link (page before this key)
}

// Cursor wire format, version 1, before base64url (no padding):
//
//	byte    version (1)
//	byte    flags: back, desc, has time, has number; other bits zero
//	uvarint len(Sort.Field), then the field name ([a-z0-9_], at most 64 bytes)
//	varint  Time.Unix(), uvarint Time.Nanosecond()   if has time
//	varint  Number                                   if has number
//	varint  ID
//
// A zero Time or Number is left out. Decoding is strict: the input must be
// exactly what Encode produces for the decoded value. Cursors are not signed:
// a forged cursor can only move the start of a page.
const (
	cursorVersion = 1

	cursorBack      = 1 << 0
	cursorDesc      = 1 << 1
	cursorHasTime   = 1 << 2
	cursorHasNumber = 1 << 3
	cursorFlags     = cursorBack | cursorDesc | cursorHasTime | cursorHasNumber

	maxCursorLen   = 160 // encoded characters (a full v1 cursor is at most 136)
	maxCursorField = 64

	// Cursor times must lie in years 0001..9999 UTC.
	minCursorUnix = -62135596800
	maxCursorUnix = 253402300799
)

// Encode returns c as an opaque URL-safe string that DecodeCursor reads back.
func (c Cursor) Encode() string {
	var flags byte
	if c.Back {
		flags |= cursorBack
	}
	if c.Sort.Desc {
		flags |= cursorDesc
	}
	if !c.Time.IsZero() {
		flags |= cursorHasTime
	}
	if c.Number != 0 {
		flags |= cursorHasNumber
	}
	b := make([]byte, 0, 32+len(c.Sort.Field))
	b = append(b, cursorVersion, flags)
	b = binary.AppendUvarint(b, uint64(len(c.Sort.Field)))
	b = append(b, c.Sort.Field...)
	if flags&cursorHasTime != 0 {
		b = binary.AppendVarint(b, c.Time.Unix())
		b = binary.AppendUvarint(b, uint64(c.Time.Nanosecond()))
	}
	if flags&cursorHasNumber != 0 {
		b = binary.AppendVarint(b, c.Number)
	}
	b = binary.AppendVarint(b, c.ID)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a cursor made by Encode. Anything else, including any
// non-canonical or altered encoding, is a *ParamError for "cursor" with
// message "malformed cursor". The Time it returns is in UTC.
func DecodeCursor(s string) (Cursor, error) {
	bad := Invalidf("cursor", "malformed cursor")
	if s == "" || len(s) > maxCursorLen {
		return Cursor{}, bad
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	r := cursorReader{b: b}
	if r.byte() != cursorVersion {
		return Cursor{}, bad
	}
	flags := r.byte()
	if flags&^cursorFlags != 0 {
		return Cursor{}, bad
	}
	var c Cursor
	c.Back = flags&cursorBack != 0
	c.Sort.Desc = flags&cursorDesc != 0
	n := r.uvarint()
	if n > maxCursorField || n > uint64(len(r.b)) {
		return Cursor{}, bad
	}
	field := r.b[:n]
	r.b = r.b[n:]
	for _, ch := range field {
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_') {
			return Cursor{}, bad
		}
	}
	c.Sort.Field = string(field)
	if flags&cursorHasTime != 0 {
		sec, nsec := r.varint(), r.uvarint()
		if sec < minCursorUnix || sec > maxCursorUnix || nsec >= 1e9 {
			return Cursor{}, bad
		}
		c.Time = time.Unix(sec, int64(nsec)).UTC()
	}
	if flags&cursorHasNumber != 0 {
		c.Number = r.varint()
	}
	c.ID = r.varint()
	if r.err || len(r.b) != 0 || c.ID < 1 {
		return Cursor{}, bad
	}
	// Only the canonical form is accepted: this rejects overlong varints,
	// flagged zero values and base64 with ignored characters.
	if c.Encode() != s {
		return Cursor{}, bad
	}
	return c, nil
}

// cursorReader reads a cursor's fields; err records any short or bad read.
type cursorReader struct {
	b   []byte
	err bool
}

func (r *cursorReader) byte() byte {
	if len(r.b) == 0 {
		r.err = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *cursorReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *cursorReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}
