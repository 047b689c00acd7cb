package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Test fixtures are generated here rather than checked in: a small EXIF
// (TIFF) writer, splicers that put its output into JPEG APP1, PNG eXIf and
// WebP EXIF chunks, and a minimal VP8L (lossless WebP) writer for
// solid-colour images.

// tEntry is one IFD entry to write; data is the value already encoded in
// the builder's byte order.
type tEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

type tiffBuilder struct{ bo binary.ByteOrder }

var (
	le = tiffBuilder{binary.LittleEndian}
	be = tiffBuilder{binary.BigEndian}
)

func (tb tiffBuilder) ascii(tag uint16, s string) tEntry {
	d := append([]byte(s), 0)
	return tEntry{tag, typeASCII, uint32(len(d)), d}
}

func (tb tiffBuilder) byte1(tag uint16, v byte) tEntry {
	return tEntry{tag, typeByte, 1, []byte{v}}
}

func (tb tiffBuilder) short(tag uint16, v uint16) tEntry {
	d := make([]byte, 2)
	tb.bo.PutUint16(d, v)
	return tEntry{tag, typeShort, 1, d}
}

func (tb tiffBuilder) long(tag uint16, v uint32) tEntry {
	d := make([]byte, 4)
	tb.bo.PutUint32(d, v)
	return tEntry{tag, typeLong, 1, d}
}

func (tb tiffBuilder) rationals(tag uint16, rs ...[2]uint32) tEntry {
	d := make([]byte, 8*len(rs))
	for i, r := range rs {
		tb.bo.PutUint32(d[8*i:], r[0])
		tb.bo.PutUint32(d[8*i+4:], r[1])
	}
	return tEntry{tag, typeRational, uint32(len(rs)), d}
}

// encodeIFD lays out an IFD at absolute offset base, with values that do
// not fit in an entry placed right after it (kept at even offsets).
func (tb tiffBuilder) encodeIFD(entries []tEntry, base int) []byte {
	head := make([]byte, 2+12*len(entries)+4) // next-IFD offset stays 0
	tb.bo.PutUint16(head, uint16(len(entries)))
	var extra []byte
	for i, e := range entries {
		p := head[2+12*i:]
		tb.bo.PutUint16(p, e.tag)
		tb.bo.PutUint16(p[2:], e.typ)
		tb.bo.PutUint32(p[4:], e.count)
		if len(e.data) <= 4 {
			copy(p[8:], e.data)
			continue
		}
		tb.bo.PutUint32(p[8:], uint32(base+len(head)+len(extra)))
		extra = append(extra, e.data...)
		if len(extra)%2 == 1 {
			extra = append(extra, 0)
		}
	}
	return append(head, extra...)
}

// build returns a TIFF block: header, IFD0 (ifd0 plus pointers to the Exif
// and GPS IFDs when those are non-nil), then the Exif and GPS IFDs.
func (tb tiffBuilder) build(ifd0, exif, gps []tEntry) []byte {
	withPtrs := func(exifOff, gpsOff int) []tEntry {
		e := slices.Clone(ifd0)
		if exif != nil {
			e = append(e, tb.long(tagExifIFD, uint32(exifOff)))
		}
		if gps != nil {
			e = append(e, tb.long(tagGPSIFD, uint32(gpsOff)))
		}
		slices.SortFunc(e, func(a, b tEntry) int { return int(a.tag) - int(b.tag) })
		return e
	}
	// Pointer values do not change the size of IFD0, so lay it out once to
	// learn where the sub-IFDs go, then again with the real offsets.
	exifOff := 8 + len(tb.encodeIFD(withPtrs(0, 0), 8))
	var exifB, gpsB []byte
	if exif != nil {
		exifB = tb.encodeIFD(exif, exifOff)
	}
	gpsOff := exifOff + len(exifB)
	if gps != nil {
		gpsB = tb.encodeIFD(gps, gpsOff)
	}
	hdr := []byte("II*\x00\x08\x00\x00\x00")
	if tb.bo == binary.BigEndian {
		hdr = []byte("MM\x00*\x00\x00\x00\x08")
	}
	out := append(hdr, tb.encodeIFD(withPtrs(exifOff, gpsOff), 8)...)
	out = append(out, exifB...)
	return append(out, gpsB...)
}

// dms encodes |v| degrees as degrees, minutes and seconds (1/10000 s).
func dms(v float64) [][2]uint32 {
	v = math.Abs(v)
	d := math.Floor(v)
	m := math.Floor((v - d) * 60)
	s := ((v-d)*60 - m) * 60
	return [][2]uint32{{uint32(d), 1}, {uint32(m), 1}, {uint32(math.Round(s * 10000)), 10000}}
}

// gpsIFD returns GPS IFD entries for lat, lon and, when non-nil, altitude.
func (tb tiffBuilder) gpsIFD(lat, lon float64, alt *float64) []tEntry {
	latRef, lonRef := "N", "E"
	if lat < 0 {
		latRef = "S"
	}
	if lon < 0 {
		lonRef = "W"
	}
	e := []tEntry{
		tb.ascii(tagGPSLatitudeRef, latRef),
		tb.rationals(tagGPSLatitude, dms(lat)...),
		tb.ascii(tagGPSLongitudeRef, lonRef),
		tb.rationals(tagGPSLongitude, dms(lon)...),
	}
	if alt != nil {
		var ref byte
		if *alt < 0 {
			ref = 1
		}
		e = append(e, tb.byte1(tagGPSAltitudeRef, ref),
			tb.rationals(tagGPSAltitude, [2]uint32{uint32(math.Round(math.Abs(*alt) * 100)), 100}))
	}
	return e
}

// testImage is a w×h gradient, so that encoders have real content.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withAPP1 inserts an APP1 "Exif" segment holding tiff right after SOI.
func withAPP1(j, tiff []byte) []byte {
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(exifPrefix)+len(tiff)))
	seg = append(seg, exifPrefix...)
	seg = append(seg, tiff...)
	return slices.Concat(j[:2], seg, j[2:])
}

func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// withPNGChunks inserts chunks right after IHDR (signature 8 + IHDR 25).
func withPNGChunks(p []byte, chunks ...[]byte) []byte {
	return slices.Concat(p[:33], slices.Concat(chunks...), p[33:])
}

// pngHeaderOnly is a PNG whose IHDR claims w×h but which has (almost) no
// pixel data: what a decompression-bomb probe looks like to Inspect.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB, no interlace
	return slices.Concat(magicPNG, pngChunk("IHDR", ihdr),
		pngChunk("IDAT", []byte{0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}), pngChunk("IEND", nil))
}

// bitWriter writes the least-significant-bit-first bit stream of VP8L.
type bitWriter struct {
	buf []byte
	acc uint64
	n   uint
}

func (bw *bitWriter) write(v uint32, n uint) {
	bw.acc |= uint64(v) << bw.n
	bw.n += n
	for bw.n >= 8 {
		bw.buf = append(bw.buf, byte(bw.acc))
		bw.acc >>= 8
		bw.n -= 8
	}
}

func (bw *bitWriter) bytes() []byte {
	if bw.n > 0 {
		return append(bw.buf, byte(bw.acc))
	}
	return bw.buf
}

// vp8lSolid encodes a w×h image of colour c as a VP8L bitstream. With every
// prefix code a "simple" code of a single symbol, each pixel takes zero
// bits, so the whole image is a few bytes whatever its size.
func vp8lSolid(w, h int, c color.NRGBA) []byte {
	var bw bitWriter
	bw.write(0x2F, 8)
	bw.write(uint32(w-1), 14)
	bw.write(uint32(h-1), 14)
	bw.write(1, 1)                                       // alpha hint
	bw.write(0, 3)                                       // version
	bw.write(0, 1)                                       // no transform
	bw.write(0, 1)                                       // no colour cache
	bw.write(0, 1)                                       // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A, 0} { // green, red, blue, alpha, distance
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // 8-bit symbol
		bw.write(uint32(sym), 8)
	}
	return bw.bytes()
}

func riffChunk(id string, payload []byte) []byte {
	c := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))...)
	c = append(c, payload...)
	if len(payload)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func riffWebP(chunks ...[]byte) []byte {
	body := slices.Concat(chunks...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
	out = append(out, "WEBP"...)
	return append(out, body...)
}

func vp8x(flags byte, w, h int) []byte {
	p := []byte{flags, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	p[4], p[5], p[6] = byte(w-1), byte((w-1)>>8), byte((w-1)>>16)
	p[7], p[8], p[9] = byte(h-1), byte((h-1)>>8), byte((h-1)>>16)
	return riffChunk("VP8X", p)
}

// webpSolid is a lossless w×h WebP of colour c, extended (VP8X) with an
// EXIF chunk when tiff is non-nil.
func webpSolid(w, h int, c color.NRGBA, tiff []byte) []byte {
	img := riffChunk("VP8L", vp8lSolid(w, h, c))
	if tiff == nil {
		return riffWebP(img)
	}
	return riffWebP(vp8x(0x08, w, h), img, riffChunk("EXIF", tiff))
}

func ptr[T any](v T) *T { return &v }

// wantErr fails unless err wraps target.
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func TestInspectJPEGWithGPS(t *testing.T) {
	cases := []struct {
		name     string
		tb       tiffBuilder
		lat, lon float64
		alt      *float64
	}{
		{"II north-east", le, 48.858222, 2.2945, ptr(35.5)},
		{"MM north-east", be, 48.858222, 2.2945, ptr(35.5)},
		{"II south-west", le, -33.856784, -70.648056, ptr(-12.25)},
		{"MM south-west", be, -22.951916, -43.210487, nil},
		{"MM south-east", be, -33.8568, 151.2153, ptr(0.0)},
		{"II north-west", le, 40.689247, -74.044502, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tiff := tc.tb.build(
				[]tEntry{tc.tb.short(tagOrientation, 1)},
				[]tEntry{tc.tb.ascii(tagDateTimeOriginal, "2024:03:05 14:07:09"), tc.tb.ascii(tagOffsetTimeOriginal, "-03:30")},
				tc.tb.gpsIFD(tc.lat, tc.lon, tc.alt))
			data := withAPP1(encodeJPEG(t, testImage(40, 30)), tiff)
			info, err := Inspect(data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if info.Format != FormatJPEG || info.Width != 40 || info.Height != 30 || info.Orientation != 1 {
				t.Fatalf("info = %+v", info)
			}
			g := info.GPS
			if g == nil {
				t.Fatal("GPS = nil")
			}
			if math.Abs(g.Lat-tc.lat) > 1e-6 || math.Abs(g.Lon-tc.lon) > 1e-6 {
				t.Fatalf("GPS = %v,%v, want %v,%v", g.Lat, g.Lon, tc.lat, tc.lon)
			}
			switch {
			case tc.alt == nil && g.Altitude != nil:
				t.Fatalf("Altitude = %v, want nil", *g.Altitude)
			case tc.alt != nil && (g.Altitude == nil || math.Abs(*g.Altitude-*tc.alt) > 1e-9):
				t.Fatalf("Altitude = %v, want %v", g.Altitude, *tc.alt)
			}
			want := time.Date(2024, 3, 5, 17, 37, 9, 0, time.UTC)
			if info.TakenAt == nil || !info.TakenAt.Equal(want) || !info.TakenAtHasZone {
				t.Fatalf("TakenAt = %v (zone %v), want %v", info.TakenAt, info.TakenAtHasZone, want)
			}
			if _, off := info.TakenAt.Zone(); off != -(3*3600 + 1800) {
				t.Fatalf("zone offset = %d", off)
			}
		})
	}
}

func TestInspectTakenAtWithoutZone(t *testing.T) {
	tiff := le.build(nil, []tEntry{le.ascii(tagDateTimeOriginal, "2023:12:31 23:59:58")}, nil)
	info, err := Inspect(withAPP1(encodeJPEG(t, testImage(8, 8)), tiff), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2023, 12, 31, 23, 59, 58, 0, time.UTC)
	if info.TakenAt == nil || !info.TakenAt.Equal(want) || info.TakenAt.Location() != time.UTC || info.TakenAtHasZone {
		t.Fatalf("TakenAt = %v, HasZone = %v; want %v without zone", info.TakenAt, info.TakenAtHasZone, want)
	}
	if info.GPS != nil {
		t.Fatalf("GPS = %+v, want nil", info.GPS)
	}
}

func TestInspectJPEGWithoutEXIF(t *testing.T) {
	info, err := Inspect(encodeJPEG(t, testImage(33, 17)), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Format: FormatJPEG, Width: 33, Height: 17, Orientation: 1}
	if info != want {
		t.Fatalf("info = %+v, want %+v", info, want)
	}
}

func TestInspectJPEGIgnoresNonEXIFApp1(t *testing.T) {
	// An XMP APP1 segment comes first; the EXIF one after it must be found.
	xmp := []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>")
	seg := slices.Concat([]byte{0xFF, 0xE1, 0, byte(2 + len(xmp))}, xmp)
	j := withAPP1(encodeJPEG(t, testImage(8, 8)), le.build(nil, nil, le.gpsIFD(1.5, 2.5, nil)))
	j = slices.Concat(j[:2], seg, j[2:])
	info, err := Inspect(j, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if info.GPS == nil || info.GPS.Lat != 1.5 || info.GPS.Lon != 2.5 {
		t.Fatalf("GPS = %+v", info.GPS)
	}
}

func TestInspectPNG(t *testing.T) {
	plain := encodePNG(t, testImage(21, 13))
	info, err := Inspect(plain, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Info{Format: FormatPNG, Width: 21, Height: 13, Orientation: 1}); info != want {
		t.Fatalf("info = %+v, want %+v", info, want)
	}

	for _, prefixed := range []bool{false, true} {
		tiff := be.build([]tEntry{be.short(tagOrientation, 8)}, nil, be.gpsIFD(-41.2865, 174.7762, ptr(120.0)))
		if prefixed { // some writers keep JPEG's "Exif\0\0" in the chunk
			tiff = append([]byte(exifPrefix), tiff...)
		}
		info, err := Inspect(withPNGChunks(plain, pngChunk("eXIf", tiff)), DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if info.GPS == nil || math.Abs(info.GPS.Lat+41.2865) > 1e-6 || math.Abs(info.GPS.Lon-174.7762) > 1e-6 ||
			info.GPS.Altitude == nil || *info.GPS.Altitude != 120 {
			t.Fatalf("prefixed=%v: GPS = %+v", prefixed, info.GPS)
		}
		if info.Orientation != 8 || info.TakenAt != nil {
			t.Fatalf("prefixed=%v: info = %+v", prefixed, info)
		}
	}
}

func TestInspectWebP(t *testing.T) {
	red := color.NRGBA{255, 0, 0, 255}
	info, err := Inspect(webpSolid(300, 200, red, nil), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Info{Format: FormatWebP, Width: 300, Height: 200, Orientation: 1}); info != want {
		t.Fatalf("info = %+v, want %+v", info, want)
	}

	tiff := le.build(nil, []tEntry{le.ascii(tagDateTimeOriginal, "2022:07:01 08:00:00")}, le.gpsIFD(35.6586, 139.7454, nil))
	info, err = Inspect(webpSolid(300, 200, red, tiff), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if info.GPS == nil || math.Abs(info.GPS.Lat-35.6586) > 1e-6 || info.TakenAt == nil || info.Width != 300 {
		t.Fatalf("info = %+v", info)
	}
}

func TestInspectWebPRejects(t *testing.T) {
	px := color.NRGBA{1, 2, 3, 255}
	t.Run("animated", func(t *testing.T) {
		anim := riffWebP(vp8x(vp8xAnimation, 16, 16), riffChunk("ANIM", make([]byte, 6)), riffChunk("ANMF", make([]byte, 16)))
		_, err := Inspect(anim, DefaultLimits())
		wantErr(t, err, ErrUnsupportedFormat)
	})
	t.Run("bitstream larger than canvas", func(t *testing.T) {
		// DecodeConfig reports the 16×16 canvas; the walk must notice that
		// the bitstream it fronts is 16384×16384.
		data := riffWebP(vp8x(0, 16, 16), riffChunk("VP8L", vp8lSolid(16384, 16384, px)))
		_, err := Inspect(data, DefaultLimits())
		wantErr(t, err, ErrCorrupt)
	})
	t.Run("huge bitstream", func(t *testing.T) {
		_, err := Inspect(webpSolid(16384, 16384, px, nil), DefaultLimits())
		wantErr(t, err, ErrTooManyPixels)
	})
	t.Run("no image chunk", func(t *testing.T) {
		_, err := Inspect(riffWebP(vp8x(0, 4, 4), riffChunk("EXIF", le.build(nil, nil, nil))), DefaultLimits())
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestInspectWrongMagic(t *testing.T) {
	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	for name, data := range map[string][]byte{
		"gif named .jpg": gif,
		"text":           []byte("definitely a photo, trust me"),
		"html":           []byte("<!doctype html><script>alert(1)</script>"),
		"riff wave":      []byte("RIFF\x24\x00\x00\x00WAVEfmt "),
		"bmp":            []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"),
		"jpeg soi only":  {0xFF, 0xD8},
		"png half magic": magicPNG[:5],
	} {
		_, err := Inspect(data, DefaultLimits())
		if !errors.Is(err, ErrUnsupportedFormat) {
			t.Errorf("%s: err = %v, want ErrUnsupportedFormat", name, err)
		}
	}
	_, err := Inspect(nil, DefaultLimits())
	wantErr(t, err, ErrCorrupt)
}

func TestInspectTruncated(t *testing.T) {
	tiff := le.build([]tEntry{le.short(tagOrientation, 6)}, nil, le.gpsIFD(10, 20, nil))
	files := map[string]struct {
		data  []byte
		magic int
	}{
		"jpeg":             {withAPP1(encodeJPEG(t, testImage(24, 24)), tiff), len(magicJPEG)},
		"gray jpeg":        {encodeJPEG(t, image.NewGray(image.Rect(0, 0, 9, 9))), len(magicJPEG)},
		"png":              {withPNGChunks(encodePNG(t, testImage(12, 12)), pngChunk("eXIf", tiff)), len(magicPNG)},
		"webp":             {webpSolid(64, 64, color.NRGBA{9, 9, 9, 255}, tiff), 12},
		"webp simple":      {webpSolid(64, 64, color.NRGBA{9, 9, 9, 255}, nil), 12},
		"png paletted":     {encodePNG(t, image.NewPaletted(image.Rect(0, 0, 5, 5), color.Palette{color.Black, color.White})), len(magicPNG)},
		"jpeg with header": {encodeJPEG(t, testImage(3, 200)), len(magicJPEG)},
	}
	for name, f := range files {
		if _, err := Inspect(f.data, DefaultLimits()); err != nil {
			t.Fatalf("%s: whole file: %v", name, err)
		}
		// Every cut after the magic number must be reported as damaged.
		for n := f.magic; n < len(f.data); n++ {
			_, err := Inspect(f.data[:n], DefaultLimits())
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s cut to %d of %d bytes: err = %v, want ErrCorrupt", name, n, len(f.data), err)
			}
		}
	}
}

func TestInspectPixelBomb(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		lim  Limits
	}{
		{"png 100000x100000", pngHeaderOnly(100000, 100000), DefaultLimits()},
		{"png 10000x10000 (too many pixels, sides ok)", pngHeaderOnly(10000, 10000), DefaultLimits()},
		{"png 20000x1 (side too long)", pngHeaderOnly(20000, 1), DefaultLimits()},
		{"png 65535x65535, zero limits mean defaults", pngHeaderOnly(65535, 65535), Limits{}},
		{"jpeg 60000x60000", jpegWithSize(t, 60000, 60000), DefaultLimits()},
		{"webp 16384x16384", webpSolid(16384, 16384, color.NRGBA{A: 255}, nil), DefaultLimits()},
		{"small limits", encodePNG(t, testImage(64, 64)), Limits{MaxPixels: 64*64 - 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Inspect(tc.data, tc.lim)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			wantErr(t, err, ErrTooManyPixels)
			// Header parsing only: a few KB of allocation, not gigabytes.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("Inspect allocated %d bytes", alloc)
			}
			if elapsed > 500*time.Millisecond {
				t.Errorf("Inspect took %v", elapsed)
			}
		})
	}
}

// jpegWithSize is a small valid JPEG whose SOF header is patched to claim
// w×h.
func jpegWithSize(t *testing.T, w, h uint16) []byte {
	t.Helper()
	j := encodeJPEG(t, testImage(16, 16))
	i := bytes.Index(j, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 in encoded JPEG")
	}
	binary.BigEndian.PutUint16(j[i+5:], h)
	binary.BigEndian.PutUint16(j[i+7:], w)
	return j
}

func TestInspectTooLarge(t *testing.T) {
	data := encodePNG(t, testImage(32, 32))
	_, err := Inspect(data, Limits{MaxBytes: int64(len(data)) - 1})
	wantErr(t, err, ErrTooLarge)
	if _, err := Inspect(data, Limits{MaxBytes: int64(len(data))}); err != nil {
		t.Fatalf("file of exactly MaxBytes: %v", err)
	}
	// The size check comes first: even garbage is reported as too large.
	_, err = Inspect(make([]byte, 101), Limits{MaxBytes: 100})
	wantErr(t, err, ErrTooLarge)
}

func TestReadUpload(t *testing.T) {
	lim := Limits{MaxBytes: 1000}
	got, err := ReadUpload(bytes.NewReader(make([]byte, 1000)), lim)
	if err != nil || len(got) != 1000 {
		t.Fatalf("ReadUpload(1000 bytes) = %d bytes, %v", len(got), err)
	}
	_, err = ReadUpload(bytes.NewReader(make([]byte, 1001)), lim)
	wantErr(t, err, ErrTooLarge)
	if !strings.Contains(err.Error(), "1000 bytes") {
		t.Errorf("message %q does not state the limit", err)
	}
}

func TestDefaultLimits(t *testing.T) {
	d := DefaultLimits()
	if d.MaxBytes != 10<<20 || d.MaxPixels != 50_000_000 || d.MaxDimension != 12000 {
		t.Fatalf("DefaultLimits() = %+v", d)
	}
	if (Limits{}).withDefaults() != d {
		t.Fatal("zero Limits does not mean the defaults")
	}
}

// TestErrorMessagesAreUserSafe checks that what a handler would show the
// uploader names the problem but no decoder or parser internals, while the
// cause stays available for logs.
func TestErrorMessagesAreUserSafe(t *testing.T) {
	j := encodeJPEG(t, testImage(16, 16))
	p := encodePNG(t, testImage(16, 16))
	badCRC := slices.Clone(p)
	badCRC[len(badCRC)-1] ^= 0xFF
	inputs := [][]byte{
		j[:len(j)/2], p[:40], badCRC, []byte("RIFF\x04\x00\x00\x00WEBP"), pngHeaderOnly(1e5, 1e5),
		jpegWithSize(t, 0, 16), []byte("nope"), make([]byte, 11<<20),
	}
	for i, data := range inputs {
		_, err := Inspect(data, DefaultLimits())
		if err == nil {
			t.Fatalf("input %d: no error", i)
		}
		msg := err.Error()
		for _, bad := range []string{"png:", "jpeg:", "webp:", "vp8", "riff", "offset", "CRC", "invalid format", "EOF"} {
			if strings.Contains(msg, bad) {
				t.Errorf("input %d: message %q exposes %q", i, msg, bad)
			}
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupportedFormat) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTooManyPixels) {
			t.Errorf("input %d: %v wraps no sentinel", i, err)
		}
	}
	_, err := Inspect(badCRC, DefaultLimits())
	if errors.Unwrap(err) != nil || len(err.(interface{ Unwrap() []error }).Unwrap()) != 2 {
		t.Errorf("corrupt error does not carry its cause: %#v", err)
	}
}
