package photo

import (
	"encoding/binary"
	"math"
	"strings"
	"time"
)

// A minimal, defensive EXIF reader. EXIF is a TIFF structure: an 8-byte
// header (byte order "II" or "MM", the number 42, the offset of IFD0) and
// IFDs (image file directories), each a count of 12-byte entries
// (tag, type, count, value-or-offset) followed by the offset of the next IFD.
// We read IFD0 and the two sub-IFDs it points to (Exif and GPS) and nothing
// else: the IFD1 chain holds only a thumbnail, and not following it keeps
// the walk trivially bounded.
//
// All offsets are relative to the TIFF header and come from the uploader,
// so every one is checked against the block's length before use, and any
// inconsistency makes the affected tag (or IFD) count as absent rather than
// failing the upload.

// Tags read by parseEXIF.
const (
	tagOrientation        = 0x0112
	tagExifIFD            = 0x8769
	tagGPSIFD             = 0x8825
	tagDateTimeOriginal   = 0x9003
	tagOffsetTimeOriginal = 0x9011
	tagGPSLatitudeRef     = 0x0001
	tagGPSLatitude        = 0x0002
	tagGPSLongitudeRef    = 0x0003
	tagGPSLongitude       = 0x0004
	tagGPSAltitudeRef     = 0x0005
	tagGPSAltitude        = 0x0006
	tagGPSStatus          = 0x0009
)

// TIFF field types.
const (
	typeByte      = 1
	typeASCII     = 2
	typeShort     = 3
	typeLong      = 4
	typeRational  = 5
	typeUndefined = 7
	typeIFD       = 13 // TIFF-EP: a LONG that is an IFD offset
)

// maxIFDEntries bounds the work per IFD. Real EXIF IFDs have tens of
// entries; a count in the thousands means a damaged or hostile file.
const maxIFDEntries = 1000

// typeSize returns the byte size of one value of TIFF type t, 0 if unknown.
func typeSize(t uint16) uint64 {
	switch t {
	case 1, 2, 6, 7: // BYTE, ASCII, SBYTE, UNDEFINED
		return 1
	case 3, 8: // SHORT, SSHORT
		return 2
	case 4, 9, 11, 13: // LONG, SLONG, FLOAT, IFD
		return 4
	case 5, 10, 12: // RATIONAL, SRATIONAL, DOUBLE
		return 8
	}
	return 0
}

type tiffReader struct {
	b  []byte
	bo binary.ByteOrder
	// visited holds the IFD offsets already read, so that no pointer can
	// send the reader back over an IFD (a loop in a hostile file).
	visited map[uint32]bool
}

// ifdEntry is one directory entry. val is the entry's value bytes, already
// bounds-checked; nil when the type is unknown or the value lies outside
// the block.
type ifdEntry struct {
	tag   uint16
	typ   uint16
	count uint32
	val   []byte
}

// readIFD returns the entries of the IFD at off, or nil when the IFD is out
// of range, too large or already visited.
func (r *tiffReader) readIFD(off uint32) []ifdEntry {
	// Offsets below 8 point into the header, which is never a valid IFD.
	if off < 8 || r.visited[off] || uint64(off)+2 > uint64(len(r.b)) {
		return nil
	}
	r.visited[off] = true
	n := int(r.bo.Uint16(r.b[off:]))
	if n > maxIFDEntries || uint64(off)+2+12*uint64(n) > uint64(len(r.b)) {
		return nil
	}
	entries := make([]ifdEntry, 0, n)
	for k := range n {
		e := r.b[int(off)+2+12*k:][:12]
		ent := ifdEntry{tag: r.bo.Uint16(e), typ: r.bo.Uint16(e[2:]), count: r.bo.Uint32(e[4:])}
		if sz := typeSize(ent.typ) * uint64(ent.count); sz > 0 {
			if sz <= 4 {
				ent.val = e[8 : 8+sz]
			} else if vo := uint64(r.bo.Uint32(e[8:])); vo >= 8 && vo+sz <= uint64(len(r.b)) {
				// Like IFDs, values never live in the 8-byte header.
				ent.val = r.b[vo : vo+sz]
			}
		}
		entries = append(entries, ent)
	}
	return entries
}

// find returns the first entry with tag that has a readable value.
func find(entries []ifdEntry, tag uint16) (ifdEntry, bool) {
	for _, e := range entries {
		if e.tag == tag {
			return e, e.val != nil
		}
	}
	return ifdEntry{}, false
}

// unsigned returns the first value of a BYTE, SHORT, LONG or IFD entry.
func (r *tiffReader) unsigned(e ifdEntry) (uint32, bool) {
	if e.count < 1 {
		return 0, false
	}
	switch e.typ {
	case typeByte, typeUndefined:
		return uint32(e.val[0]), true
	case typeShort:
		return uint32(r.bo.Uint16(e.val)), true
	case typeLong, typeIFD:
		return r.bo.Uint32(e.val), true
	}
	return 0, false
}

// rational returns value i of a RATIONAL entry. A zero denominator makes
// the value unusable rather than infinite.
func (r *tiffReader) rational(e ifdEntry, i int) (float64, bool) {
	if e.typ != typeRational || uint64(i) >= uint64(e.count) {
		return 0, false
	}
	num, den := r.bo.Uint32(e.val[8*i:]), r.bo.Uint32(e.val[8*i+4:])
	if den == 0 {
		return 0, false
	}
	return float64(num) / float64(den), true
}

// text returns an ASCII entry up to its first NUL, trimmed of spaces.
// BYTE and UNDEFINED are accepted too, as some writers use them for the
// one-letter GPS references.
func text(e ifdEntry) (string, bool) {
	switch e.typ {
	case typeASCII, typeByte, typeUndefined:
	default:
		return "", false
	}
	s := string(e.val)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s), true
}

// exifData is what parseEXIF found; zero values mean absent.
type exifData struct {
	gps         *GPS
	takenAt     *time.Time
	hasZone     bool
	orientation int
}

// parseEXIF reads the TIFF-structured EXIF block b. It never fails: whatever
// cannot be read is simply absent from the result.
func parseEXIF(b []byte) exifData {
	var x exifData
	if len(b) < 8 {
		return x
	}
	r := &tiffReader{b: b, visited: make(map[uint32]bool, 3)}
	switch string(b[:4]) {
	case "II*\x00":
		r.bo = binary.LittleEndian
	case "MM\x00*":
		r.bo = binary.BigEndian
	default:
		return x
	}
	ifd0 := r.readIFD(r.bo.Uint32(b[4:]))
	if e, ok := find(ifd0, tagOrientation); ok {
		if v, ok := r.unsigned(e); ok && v >= 1 && v <= 8 {
			x.orientation = int(v)
		}
	}
	if e, ok := find(ifd0, tagExifIFD); ok {
		if off, ok := r.unsigned(e); ok {
			x.takenAt, x.hasZone = r.takenAt(r.readIFD(off))
		}
	}
	if e, ok := find(ifd0, tagGPSIFD); ok {
		if off, ok := r.unsigned(e); ok {
			x.gps = r.gps(r.readIFD(off))
		}
	}
	return x
}

// takenAt reads DateTimeOriginal and, when valid, OffsetTimeOriginal.
func (r *tiffReader) takenAt(exif []ifdEntry) (*time.Time, bool) {
	e, ok := find(exif, tagDateTimeOriginal)
	if !ok {
		return nil, false
	}
	s, ok := text(e)
	if !ok {
		return nil, false
	}
	loc, hasZone := time.UTC, false
	if oe, ok := find(exif, tagOffsetTimeOriginal); ok {
		if os, ok := text(oe); ok {
			if z, ok := parseOffset(os); ok {
				loc, hasZone = z, true
			}
		}
	}
	t, ok := parseDateTime(s, loc)
	if !ok {
		return nil, false
	}
	return &t, hasZone
}

// parseDateTime parses EXIF's "YYYY:MM:DD HH:MM:SS". It also accepts '-'
// date separators and a 'T', which some writers use. Every field is range
// checked because time.Date would silently normalise "13:45" months, and
// cameras write "0000:00:00 00:00:00" when their clock was never set.
func parseDateTime(s string, loc *time.Location) (time.Time, bool) {
	if len(s) < 19 {
		return time.Time{}, false
	}
	if (s[4] != ':' && s[4] != '-') || s[7] != s[4] || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, mon, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if year < 1 || mon < 1 || mon > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(mon), day, hour, minute, sec, 0, loc)
	if t.Day() != day { // e.g. February 30th rolled over into March
		return time.Time{}, false
	}
	return t, true
}

// parseOffset parses OffsetTimeOriginal, "+HH:MM" or "-HH:MM". Real zones
// lie within -12:00..+14:00.
func parseOffset(s string) (*time.Location, bool) {
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return nil, false
	}
	for _, i := range []int{1, 2, 4, 5} {
		if s[i] < '0' || s[i] > '9' {
			return nil, false
		}
	}
	h := int(s[1]-'0')*10 + int(s[2]-'0')
	m := int(s[4]-'0')*10 + int(s[5]-'0')
	if h > 14 || m > 59 {
		return nil, false
	}
	secs := h*3600 + m*60
	if s[0] == '-' {
		secs = -secs
	}
	return time.FixedZone(s, secs), true
}

// gps reads the position from the GPS IFD. A position needs both
// coordinates with their hemisphere references: guessing a missing sign
// would put the incident in the wrong place, which is worse than no place.
func (r *tiffReader) gps(g []ifdEntry) *GPS {
	if e, ok := find(g, tagGPSStatus); ok {
		if s, ok := text(e); ok && strings.EqualFold(s, "V") {
			return nil // "measurement void": the receiver had no fix
		}
	}
	lat, ok := r.coordinate(g, tagGPSLatitudeRef, tagGPSLatitude, 'N', 'S')
	if !ok || math.Abs(lat) > 90 {
		return nil
	}
	lon, ok := r.coordinate(g, tagGPSLongitudeRef, tagGPSLongitude, 'E', 'W')
	if !ok || math.Abs(lon) > 180 {
		return nil
	}
	// Devices without a fix sometimes write exactly 0,0 ("Null Island");
	// no incident is reported from the open sea at that point.
	if lat == 0 && lon == 0 {
		return nil
	}
	p := &GPS{Lat: lat, Lon: lon}
	if e, ok := find(g, tagGPSAltitude); ok {
		if alt, ok := r.rational(e, 0); ok {
			below := false
			if re, ok := find(g, tagGPSAltitudeRef); ok {
				v, ok := r.unsigned(re)
				if !ok || v > 1 {
					return p // unknown reference: the altitude's sign is unknown
				}
				below = v == 1
			}
			if below {
				alt = -alt
			}
			p.Altitude = &alt
		}
	}
	return p
}

// coordinate reads a degrees/minutes/seconds RATIONAL triple and its
// reference letter. Fewer than three values are accepted (some writers put
// decimal degrees in the first), but every value present must be usable.
func (r *tiffReader) coordinate(g []ifdEntry, refTag, valTag uint16, pos, neg byte) (float64, bool) {
	re, ok := find(g, refTag)
	if !ok {
		return 0, false
	}
	ref, ok := text(re)
	if !ok || len(ref) != 1 {
		return 0, false
	}
	sign := 1.0
	switch ref[0] &^ 0x20 { // upper case
	case pos:
	case neg:
		sign = -1
	default:
		return 0, false
	}
	e, ok := find(g, valTag)
	if !ok || e.count < 1 {
		return 0, false
	}
	v := 0.0
	for i, scale := range []float64{1, 60, 3600} {
		if uint64(i) >= uint64(e.count) {
			break
		}
		part, ok := r.rational(e, i)
		if !ok {
			return 0, false
		}
		v += part / scale
	}
	return sign * v, true
}
