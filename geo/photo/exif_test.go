package photo

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
	"time"
)

func TestParseEXIFGPS(t *testing.T) {
	ref := func(tb tiffBuilder, tag uint16, s string) tEntry { return tb.ASCII(tag, s) }
	for _, tb := range []tiffBuilder{le, be} {
		good := tb.GPS(12.5, -45.25, nil)
		cases := []struct {
			name    string
			gps     []tEntry
			wantNil bool
			lat     float64
			lon     float64
		}{
			{"valid", good, false, 12.5, -45.25},
			{"lower-case refs", slices.Concat([]tEntry{ref(tb, 1, "s"), good[1], ref(tb, 3, "w"), good[3]}), false, -12.5, -45.25},
			{"decimal degrees only", []tEntry{ref(tb, 1, "N"), tb.Rationals(2, [2]uint32{125, 10}), ref(tb, 3, "E"), tb.Rationals(4, [2]uint32{3, 4})}, false, 12.5, 0.75},
			{"missing latitude ref", []tEntry{good[1], good[2], good[3]}, true, 0, 0},
			{"missing longitude", good[:3], true, 0, 0},
			{"bad ref letter", []tEntry{ref(tb, 1, "X"), good[1], good[2], good[3]}, true, 0, 0},
			{"two-letter ref", []tEntry{ref(tb, 1, "NS"), good[1], good[2], good[3]}, true, 0, 0},
			{"zero denominator", []tEntry{good[0], tb.Rationals(2, [2]uint32{12, 1}, [2]uint32{30, 1}, [2]uint32{0, 0}), good[2], good[3]}, true, 0, 0},
			{"latitude out of range", []tEntry{good[0], tb.Rationals(2, [2]uint32{91, 1}, [2]uint32{0, 1}, [2]uint32{0, 1}), good[2], good[3]}, true, 0, 0},
			{"latitude 89°60'1\"", []tEntry{good[0], tb.Rationals(2, [2]uint32{89, 1}, [2]uint32{60, 1}, [2]uint32{1, 1}), good[2], good[3]}, true, 0, 0},
			{"longitude out of range", []tEntry{good[0], good[1], good[2], tb.Rationals(4, [2]uint32{180, 1}, [2]uint32{0, 1}, [2]uint32{1, 100})}, true, 0, 0},
			{"signed rational type", []tEntry{good[0], {Tag: tagGPSLatitude, Type: 10, Count: 3, Data: good[1].Data}, good[2], good[3]}, true, 0, 0},
			{"null island", tb.GPS(0, 0, nil), true, 0, 0},
			{"status void", append(slices.Clone(good), tb.ASCII(tagGPSStatus, "V")), true, 0, 0},
			{"status active", append(slices.Clone(good), tb.ASCII(tagGPSStatus, "A")), false, 12.5, -45.25},
			{"rational count zero", []tEntry{good[0], {Tag: tagGPSLatitude, Type: typeRational}, good[2], good[3]}, true, 0, 0},
		}
		for _, tc := range cases {
			x := parseEXIF(tb.Build(nil, nil, tc.gps))
			switch {
			case tc.wantNil && x.gps != nil:
				t.Errorf("%v %s: GPS = %+v, want nil", tb.ByteOrder, tc.name, *x.gps)
			case !tc.wantNil && x.gps == nil:
				t.Errorf("%v %s: GPS = nil", tb.ByteOrder, tc.name)
			case !tc.wantNil && (math.Abs(x.gps.Lat-tc.lat) > 1e-9 || math.Abs(x.gps.Lon-tc.lon) > 1e-9):
				t.Errorf("%v %s: GPS = %v,%v, want %v,%v", tb.ByteOrder, tc.name, x.gps.Lat, x.gps.Lon, tc.lat, tc.lon)
			}
		}
	}
}

func TestParseEXIFAltitude(t *testing.T) {
	base := le.GPS(1, 2, nil)
	alt := func(num, den uint32) tEntry { return le.Rationals(tagGPSAltitude, [2]uint32{num, den}) }
	cases := []struct {
		name  string
		extra []tEntry
		want  *float64
	}{
		{"above sea level", []tEntry{le.Byte(tagGPSAltitudeRef, 0), alt(1234, 10)}, ptr(123.4)},
		{"below sea level", []tEntry{le.Byte(tagGPSAltitudeRef, 1), alt(5, 2)}, ptr(-2.5)},
		{"no ref means above", []tEntry{alt(7, 1)}, ptr(7.0)},
		{"unknown ref", []tEntry{le.Byte(tagGPSAltitudeRef, 2), alt(7, 1)}, nil},
		{"zero denominator", []tEntry{alt(7, 0)}, nil},
		{"absent", nil, nil},
	}
	for _, tc := range cases {
		x := parseEXIF(le.Build(nil, nil, slices.Concat(base, tc.extra)))
		if x.gps == nil {
			t.Fatalf("%s: GPS = nil", tc.name)
		}
		got := x.gps.Altitude
		if (got == nil) != (tc.want == nil) || got != nil && math.Abs(*got-*tc.want) > 1e-9 {
			t.Errorf("%s: Altitude = %v, want %v", tc.name, deref(got), deref(tc.want))
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestParseEXIFTime(t *testing.T) {
	cases := []struct {
		dt, off string
		want    time.Time
		zone    bool
		wantNil bool
	}{
		{"2024:02:29 12:00:00", "+05:45", time.Date(2024, 2, 29, 6, 15, 0, 0, time.UTC), true, false},
		{"2024:02:29 12:00:00", "", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), false, false},
		{"2024-02-29T12:00:00", "-08:00", time.Date(2024, 2, 29, 20, 0, 0, 0, time.UTC), true, false},
		{"2024:02:29 12:00:00", "+15:00", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), false, false},
		{"2024:02:29 12:00:00", "0900", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), false, false},
		{"2024:02:29 12:00:00", "+09:60", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), false, false},
		{"2023:02:29 12:00:00", "", time.Time{}, false, true},
		{"0000:00:00 00:00:00", "", time.Time{}, false, true},
		{"    :  :     :  :  ", "", time.Time{}, false, true},
		{"2024:13:01 00:00:00", "", time.Time{}, false, true},
		{"2024:12:01 24:00:00", "", time.Time{}, false, true},
		{"2024:12:01 23:60:00", "", time.Time{}, false, true},
		{"2024:12:01 23:00:60", "", time.Time{}, false, true},
		{"2024:12:01", "", time.Time{}, false, true},
		{"2024:12-01 10:00:00", "", time.Time{}, false, true},
		{"2024:1a:01 10:00:00", "", time.Time{}, false, true},
	}
	for _, tc := range cases {
		exif := []tEntry{be.ASCII(tagDateTimeOriginal, tc.dt)}
		if tc.off != "" {
			exif = append(exif, be.ASCII(tagOffsetTimeOriginal, tc.off))
		}
		x := parseEXIF(be.Build(nil, exif, nil))
		switch {
		case tc.wantNil:
			if x.takenAt != nil {
				t.Errorf("%q %q: takenAt = %v, want nil", tc.dt, tc.off, x.takenAt)
			}
		case x.takenAt == nil:
			t.Errorf("%q %q: takenAt = nil", tc.dt, tc.off)
		case !x.takenAt.Equal(tc.want) || x.hasZone != tc.zone:
			t.Errorf("%q %q: takenAt = %v zone %v, want %v zone %v", tc.dt, tc.off, x.takenAt, x.hasZone, tc.want, tc.zone)
		}
	}
}

func TestParseEXIFOrientation(t *testing.T) {
	for _, tc := range []struct {
		e    tEntry
		want int
	}{
		{le.Short(tagOrientation, 6), 6},
		{le.Long(tagOrientation, 8), 8},
		{le.Short(tagOrientation, 0), 0},
		{le.Short(tagOrientation, 9), 0},
		{le.ASCII(tagOrientation, "6"), 0},
	} {
		if got := parseEXIF(le.Build([]tEntry{tc.e}, nil, nil)).orientation; got != tc.want {
			t.Errorf("%+v: orientation = %d, want %d", tc.e, got, tc.want)
		}
	}
}

// TestParseEXIFHostile feeds structures built to loop, overflow or read
// out of range; parseEXIF must return (mostly empty) without panicking.
func TestParseEXIFHostile(t *testing.T) {
	valid := le.Build([]tEntry{le.Short(tagOrientation, 3)},
		[]tEntry{le.ASCII(tagDateTimeOriginal, "2020:01:01 00:00:00")}, le.GPS(5, 6, ptr(1.0)))

	// IFD0 whose Exif and GPS pointers point back at IFD0 itself.
	loop := le.Build([]tEntry{le.Long(tagExifIFD, 8), le.Long(tagGPSIFD, 8)}, nil, nil)
	if x := parseEXIF(loop); x.gps != nil || x.takenAt != nil {
		t.Errorf("self-referencing IFD: %+v", x)
	}

	// GPS pointer into the Exif IFD: that IFD is read once only.
	shared := append([]byte("II*\x00\x08\x00\x00\x00"), le.IFD([]tEntry{le.Long(tagExifIFD, 38), le.Long(tagGPSIFD, 38)}, 8)...)
	shared = append(shared, le.IFD([]tEntry{le.ASCII(tagDateTimeOriginal, "2020:01:01 00:00:00"), le.ASCII(1, "N"), le.Rationals(2, [2]uint32{1, 1}), le.ASCII(3, "E"), le.Rationals(4, [2]uint32{1, 1})}, 38)...)
	if x := parseEXIF(shared); x.takenAt == nil || x.gps != nil {
		t.Errorf("shared IFD: takenAt %v, gps %+v; want the IFD read as Exif only", x.takenAt, x.gps)
	}

	// Entry count far beyond the data, and beyond maxIFDEntries.
	for _, n := range []uint16{0xFFFF, maxIFDEntries + 1} {
		b := slices.Clone(valid)
		binary.LittleEndian.PutUint16(b[8:], n)
		if x := parseEXIF(b); x.orientation != 0 || x.gps != nil {
			t.Errorf("count %d: %+v", n, x)
		}
	}

	// Pointers and value offsets beyond the end, and into the header.
	for _, off := range []uint32{0, 4, 7, uint32(len(valid)), uint32(len(valid)) - 1, 0xFFFFFFF0, 0xFFFFFFFF} {
		b := le.Build([]tEntry{le.Long(tagExifIFD, off), le.Long(tagGPSIFD, off)}, nil, nil)
		if x := parseEXIF(b); x.gps != nil || x.takenAt != nil {
			t.Errorf("pointer %d: %+v", off, x)
		}
		if x := parseEXIF(gpsValueAt(t, off, nil)); x.gps != nil {
			t.Errorf("value offset %d: %+v", off, x.gps)
		}
	}
	// The same layout with the values in range does yield a position, so
	// the cases above fail for the reason they test.
	vals := le.Rationals(2, [2]uint32{1, 1}, [2]uint32{30, 1}, [2]uint32{0, 1}).Data
	if x := parseEXIF(gpsValueAt(t, 26+2+4*12+4, vals)); x.gps == nil || x.gps.Lat != 1.5 || x.gps.Lon != 1.5 {
		t.Errorf("in-range value offset: %+v", x.gps)
	}

	// A rational count so large that count×8 would overflow 32 bits.
	huge := le.Build(nil, nil, []tEntry{le.ASCII(1, "N"), {Tag: tagGPSLatitude, Type: typeRational, Count: 0x20000001, Data: make([]byte, 8)}, le.ASCII(3, "E"), le.Rationals(4, [2]uint32{1, 1})})
	if x := parseEXIF(huge); x.gps != nil {
		t.Errorf("huge count: %+v", x.gps)
	}

	// Every truncation of a valid block, and garbage headers.
	for n := range len(valid) {
		_ = parseEXIF(valid[:n])
	}
	for _, b := range [][]byte{nil, []byte("II*\x00"), []byte("MM\x00*\xff\xff\xff\xff"), []byte("XX*\x00\x08\x00\x00\x00\x00\x00")} {
		if x := parseEXIF(b); x != (exifData{}) {
			t.Errorf("%q: %+v", b, x)
		}
	}
	if x := parseEXIF(valid); x.gps == nil || x.takenAt == nil || x.orientation != 3 {
		t.Fatalf("valid block: %+v", x)
	}
}

func TestScanJPEGMultiScan(t *testing.T) {
	// A progressive-style layout: several scans with table segments between
	// them, 0xFF00 stuffing and restart markers in the entropy data, fill
	// bytes before a marker, and bytes after EOI.
	seg := func(m byte, body ...byte) []byte {
		return append([]byte{0xFF, m, 0, byte(2 + len(body))}, body...)
	}
	entropy := []byte{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56}
	j := slices.Concat([]byte{0xFF, 0xD8}, seg(0xC2, 8, 0, 1, 0, 1, 1, 1, 0x11, 0),
		seg(jpegSOS, 1, 1, 0, 0, 63, 0), entropy,
		seg(0xC4, 0xFF, 0xD9, 0xFF), // a table that happens to contain FF D9
		[]byte{0xFF, 0xFF}, seg(jpegSOS, 1, 1, 0, 1, 63, 0), entropy,
		[]byte{0xFF, 0xD9}, []byte("trailer"))
	if _, err := scanJPEG(j); err != nil {
		t.Fatalf("scanJPEG: %v", err)
	}
	end := len(j) - len("trailer")
	for n := 2; n < end; n++ {
		if _, err := scanJPEG(j[:n]); err == nil {
			t.Fatalf("cut to %d bytes: no error", n)
		}
	}
	for _, bad := range [][]byte{
		{0xFF, 0xD8, 0xFF, 0xD9},                // EOI before any scan
		{0xFF, 0xD8, 0x00},                      // not a marker
		{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01},    // length below 2
		{0xFF, 0xD8, 0xFF, 0xD8},                // second SOI
		{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0}, // segment past the end
	} {
		if _, err := scanJPEG(bad); err == nil {
			t.Errorf("% X: no error", bad)
		}
	}
}

// gpsValueAt builds a TIFF block by hand whose GPS IFD (at offset 26) has
// latitude and longitude RATIONAL triples stored at value offset off,
// followed by tail.
func gpsValueAt(t *testing.T, off uint32, tail []byte) []byte {
	t.Helper()
	raw := append([]byte("II*\x00\x08\x00\x00\x00"), le.IFD([]tEntry{le.Long(tagGPSIFD, 26)}, 8)...)
	if len(raw) != 26 {
		t.Fatalf("layout: IFD0 ends at %d", len(raw))
	}
	gps := le.IFD([]tEntry{le.ASCII(1, "N"), le.ASCII(3, "E"), le.Long(2, 0), le.Long(4, 0)}, 26)
	for k := range 2 { // turn the two LONGs into RATIONAL triples at off
		e := gps[2+12*(2+k):]
		binary.LittleEndian.PutUint16(e[2:], typeRational)
		binary.LittleEndian.PutUint32(e[4:], 3)
		binary.LittleEndian.PutUint32(e[8:], off)
	}
	return slices.Concat(raw, gps, tail)
}
