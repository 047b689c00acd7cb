// Package phototest generates photo fixtures for tests: JPEG, PNG and WebP
// files with hand-built EXIF (TIFF) metadata such as GPS position, capture
// time, orientation and camera make, so that no test needs binary files
// checked in.
//
// The simple API covers uploads as phones make them:
//
//	jpg := phototest.JPEGWithEXIF(64, 48, phototest.EXIF{Lat: 39.40, Lon: 47.03, HasGPS: true,
//		TakenAt: "2020:10:18 04:30:00", Offset: "+04:00"})
//
// The lower-level builder (TIFF, Entry, WithAPP1, PNGChunk, RIFFChunk, ...)
// writes malformed and hostile structures too, for parser tests.
//
// The package does not import geo/photo, so photo's own tests can use it.
// Its functions panic on the (impossible in practice) failure to encode an
// in-memory image: they are for tests only.
package phototest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"slices"
)

// exifPrefix starts the payload of a JPEG APP1 EXIF segment.
const exifPrefix = "Exif\x00\x00"

// PNGSignature is the 8-byte PNG magic number.
var PNGSignature = []byte("\x89PNG\r\n\x1a\n")

// Image is a w×h gradient, so that encoders have real content to work on.
func Image(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

// EncodeJPEG encodes img as a baseline JPEG (quality 80), without metadata.
func EncodeJPEG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		panic("phototest: encode JPEG: " + err.Error())
	}
	return buf.Bytes()
}

// EncodePNG encodes img as a PNG, without metadata.
func EncodePNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic("phototest: encode PNG: " + err.Error())
	}
	return buf.Bytes()
}

// JPEG is a w×h JPEG without metadata.
func JPEG(w, h int) []byte { return EncodeJPEG(Image(w, h)) }

// PNG is a w×h PNG without metadata.
func PNG(w, h int) []byte { return EncodePNG(Image(w, h)) }

// JPEGWithEXIF is a w×h JPEG with e in a little-endian APP1 segment, as
// most phones write it.
func JPEGWithEXIF(w, h int, e EXIF) []byte { return WithAPP1(JPEG(w, h), LE.EXIF(e)) }

// PNGWithEXIF is a w×h PNG with e in an eXIf chunk.
func PNGWithEXIF(w, h int, e EXIF) []byte {
	return WithPNGChunks(PNG(w, h), PNGChunk("eXIf", LE.EXIF(e)))
}

// WebPWithEXIF is a w×h grey lossless WebP with e in an EXIF chunk.
func WebPWithEXIF(w, h int, e EXIF) []byte {
	return WebP(w, h, color.NRGBA{128, 128, 128, 255}, LE.EXIF(e))
}

// WithAPP1 inserts an APP1 "Exif" segment holding tiff right after the SOI
// marker of the JPEG j.
func WithAPP1(j, tiff []byte) []byte {
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(2+len(exifPrefix)+len(tiff)))
	seg = append(seg, exifPrefix...)
	seg = append(seg, tiff...)
	return slices.Concat(j[:2], seg, j[2:])
}

// PNGChunk is a PNG chunk of type typ with its length and CRC.
func PNGChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// WithPNGChunks inserts chunks right after the IHDR chunk of the PNG p
// (signature 8 bytes, IHDR 25).
func WithPNGChunks(p []byte, chunks ...[]byte) []byte {
	return slices.Concat(p[:33], slices.Concat(chunks...), p[33:])
}

// PNGHeaderOnly is an 8-bit RGB PNG whose IHDR claims w×h but which has
// (almost) no pixel data: what a decompression-bomb probe looks like before
// decoding.
func PNGHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB, no interlace
	return slices.Concat(PNGSignature, PNGChunk("IHDR", ihdr),
		PNGChunk("IDAT", []byte{0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}), PNGChunk("IEND", nil))
}
