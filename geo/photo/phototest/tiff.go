package phototest

import (
	"encoding/binary"
	"math"
	"slices"
)

// TIFF tags the builder knows by name. GPS tags live in the GPS IFD, the
// others in IFD0 (Make, Orientation) or the Exif IFD.
const (
	TagGPSLatitudeRef     = 0x0001
	TagGPSLatitude        = 0x0002
	TagGPSLongitudeRef    = 0x0003
	TagGPSLongitude       = 0x0004
	TagGPSAltitudeRef     = 0x0005
	TagGPSAltitude        = 0x0006
	TagMake               = 0x010F
	TagOrientation        = 0x0112
	TagExifIFD            = 0x8769
	TagGPSIFD             = 0x8825
	TagDateTimeOriginal   = 0x9003
	TagOffsetTimeOriginal = 0x9011
)

// TIFF field types the builder writes.
const (
	TypeByte     = 1
	TypeASCII    = 2
	TypeShort    = 3
	TypeLong     = 4
	TypeRational = 5
)

// Entry is one IFD entry to write. Data is the value already encoded in
// the builder's byte order; it is placed in the entry when it fits in four
// bytes and after the IFD otherwise. Count and Type are written as given,
// so an Entry may deliberately disagree with its Data.
type Entry struct {
	Tag, Type uint16
	Count     uint32
	Data      []byte
}

// TIFF writes TIFF (EXIF) blocks in one byte order.
type TIFF struct{ ByteOrder binary.ByteOrder }

// LE and BE write little-endian ("II") and big-endian ("MM") blocks.
var (
	LE = TIFF{binary.LittleEndian}
	BE = TIFF{binary.BigEndian}
)

// ASCII is a NUL-terminated ASCII entry.
func (tb TIFF) ASCII(tag uint16, s string) Entry {
	d := append([]byte(s), 0)
	return Entry{tag, TypeASCII, uint32(len(d)), d}
}

// Byte is a single-BYTE entry.
func (tb TIFF) Byte(tag uint16, v byte) Entry {
	return Entry{tag, TypeByte, 1, []byte{v}}
}

// Short is a single-SHORT entry.
func (tb TIFF) Short(tag uint16, v uint16) Entry {
	d := make([]byte, 2)
	tb.ByteOrder.PutUint16(d, v)
	return Entry{tag, TypeShort, 1, d}
}

// Long is a single-LONG entry.
func (tb TIFF) Long(tag uint16, v uint32) Entry {
	d := make([]byte, 4)
	tb.ByteOrder.PutUint32(d, v)
	return Entry{tag, TypeLong, 1, d}
}

// Rationals is an entry of RATIONALs, each {numerator, denominator}.
func (tb TIFF) Rationals(tag uint16, rs ...[2]uint32) Entry {
	d := make([]byte, 8*len(rs))
	for i, r := range rs {
		tb.ByteOrder.PutUint32(d[8*i:], r[0])
		tb.ByteOrder.PutUint32(d[8*i+4:], r[1])
	}
	return Entry{tag, TypeRational, uint32(len(rs)), d}
}

// IFD lays out an IFD at absolute offset base (from the start of the TIFF
// header), with the values that do not fit in an entry placed right after
// it at even offsets. The next-IFD offset is 0. Entries are written in the
// order given.
func (tb TIFF) IFD(entries []Entry, base int) []byte {
	head := make([]byte, 2+12*len(entries)+4)
	tb.ByteOrder.PutUint16(head, uint16(len(entries)))
	var extra []byte
	for i, e := range entries {
		p := head[2+12*i:]
		tb.ByteOrder.PutUint16(p, e.Tag)
		tb.ByteOrder.PutUint16(p[2:], e.Type)
		tb.ByteOrder.PutUint32(p[4:], e.Count)
		if len(e.Data) <= 4 {
			copy(p[8:], e.Data)
			continue
		}
		tb.ByteOrder.PutUint32(p[8:], uint32(base+len(head)+len(extra)))
		extra = append(extra, e.Data...)
		if len(extra)%2 == 1 {
			extra = append(extra, 0)
		}
	}
	return append(head, extra...)
}

// Header is the 8-byte TIFF header pointing at an IFD0 at offset 8.
func (tb TIFF) Header() []byte {
	if tb.ByteOrder == binary.BigEndian {
		return []byte("MM\x00*\x00\x00\x00\x08")
	}
	return []byte("II*\x00\x08\x00\x00\x00")
}

// Build returns a TIFF block: header, IFD0 (ifd0 plus pointers to the Exif
// and GPS IFDs when those are non-nil, sorted by tag), then the Exif and
// GPS IFDs.
func (tb TIFF) Build(ifd0, exif, gps []Entry) []byte {
	withPtrs := func(exifOff, gpsOff int) []Entry {
		e := slices.Clone(ifd0)
		if exif != nil {
			e = append(e, tb.Long(TagExifIFD, uint32(exifOff)))
		}
		if gps != nil {
			e = append(e, tb.Long(TagGPSIFD, uint32(gpsOff)))
		}
		slices.SortStableFunc(e, func(a, b Entry) int { return int(a.Tag) - int(b.Tag) })
		return e
	}
	// Pointer values do not change the size of IFD0, so lay it out once to
	// learn where the sub-IFDs go, then again with the real offsets.
	exifOff := 8 + len(tb.IFD(withPtrs(0, 0), 8))
	var exifB, gpsB []byte
	if exif != nil {
		exifB = tb.IFD(exif, exifOff)
	}
	gpsOff := exifOff + len(exifB)
	if gps != nil {
		gpsB = tb.IFD(gps, gpsOff)
	}
	return slices.Concat(tb.Header(), tb.IFD(withPtrs(exifOff, gpsOff), 8), exifB, gpsB)
}

// DMS encodes |v| degrees as degrees, minutes and seconds, the seconds in
// units of 1/10000 s (about 3 mm), rounded so that no part overflows.
func DMS(v float64) [][2]uint32 {
	const perSecond, perMinute, perDegree = 10000, 60 * 10000, 3600 * 10000
	n := uint64(math.Round(math.Abs(v) * perDegree))
	return [][2]uint32{
		{uint32(n / perDegree), 1},
		{uint32(n % perDegree / perMinute), 1},
		{uint32(n % perMinute), perSecond},
	}
}

// GPS returns GPS IFD entries for lat, lon (decimal degrees, negative
// south and west) and, when non-nil, altitude in metres (negative below
// sea level).
func (tb TIFF) GPS(lat, lon float64, alt *float64) []Entry {
	latRef, lonRef := "N", "E"
	if lat < 0 {
		latRef = "S"
	}
	if lon < 0 {
		lonRef = "W"
	}
	e := []Entry{
		tb.ASCII(TagGPSLatitudeRef, latRef),
		tb.Rationals(TagGPSLatitude, DMS(lat)...),
		tb.ASCII(TagGPSLongitudeRef, lonRef),
		tb.Rationals(TagGPSLongitude, DMS(lon)...),
	}
	if alt != nil {
		var ref byte
		if *alt < 0 {
			ref = 1
		}
		e = append(e, tb.Byte(TagGPSAltitudeRef, ref),
			tb.Rationals(TagGPSAltitude, [2]uint32{uint32(math.Round(math.Abs(*alt) * 100)), 100}))
	}
	return e
}

// EXIF is the metadata a camera or phone typically writes and that
// geo/photo reads (or must strip). Zero fields are left out.
type EXIF struct {
	// Lat and Lon are written, with Altitude when non-nil, if HasGPS is
	// set: 0,0 is a position like any other here.
	Lat, Lon float64
	HasGPS   bool
	Altitude *float64
	// TakenAt is DateTimeOriginal, "2006:01:02 15:04:05" in EXIF's own
	// format, and Offset is OffsetTimeOriginal such as "+04:00".
	TakenAt string
	Offset  string
	// Orientation is the EXIF orientation, 1–8 when valid.
	Orientation uint16
	// Make is the camera maker (IFD0 Make).
	Make string
}

// EXIF returns the TIFF block of e.
func (tb TIFF) EXIF(e EXIF) []byte {
	var ifd0, exif, gps []Entry
	if e.Make != "" {
		ifd0 = append(ifd0, tb.ASCII(TagMake, e.Make))
	}
	if e.Orientation != 0 {
		ifd0 = append(ifd0, tb.Short(TagOrientation, e.Orientation))
	}
	if e.TakenAt != "" {
		exif = append(exif, tb.ASCII(TagDateTimeOriginal, e.TakenAt))
	}
	if e.Offset != "" {
		exif = append(exif, tb.ASCII(TagOffsetTimeOriginal, e.Offset))
	}
	if e.HasGPS {
		gps = tb.GPS(e.Lat, e.Lon, e.Altitude)
	}
	return tb.Build(ifd0, exif, gps)
}
