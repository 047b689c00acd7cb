package phototest

import (
	"encoding/binary"
	"image/color"
	"slices"
)

// A minimal VP8L (lossless WebP) writer for solid-colour images, and the
// RIFF container around it.

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

// VP8LSolid encodes a w×h image of colour c as a VP8L bitstream (the
// payload of a "VP8L" chunk). With every prefix code a "simple" code of a
// single symbol, each pixel takes zero bits, so the whole image is a few
// bytes whatever its size: w and h may be anything from 1 to 16384.
func VP8LSolid(w, h int, c color.NRGBA) []byte {
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

// RIFFChunk is a RIFF chunk: id, little-endian size, payload, pad byte.
func RIFFChunk(id string, payload []byte) []byte {
	c := binary.LittleEndian.AppendUint32([]byte(id), uint32(len(payload)))
	c = append(c, payload...)
	if len(payload)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// RIFFWebP wraps chunks in a "RIFF....WEBP" file.
func RIFFWebP(chunks ...[]byte) []byte {
	body := slices.Concat(chunks...)
	out := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(4+len(body)))
	out = append(out, "WEBP"...)
	return append(out, body...)
}

// VP8X is the extended-format header chunk with the given feature flags
// (0x08 EXIF, 0x02 animation, ...) and canvas size.
func VP8X(flags byte, w, h int) []byte {
	p := []byte{flags, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	p[4], p[5], p[6] = byte(w-1), byte((w-1)>>8), byte((w-1)>>16)
	p[7], p[8], p[9] = byte(h-1), byte((h-1)>>8), byte((h-1)>>16)
	return RIFFChunk("VP8X", p)
}

// WebP is a lossless w×h WebP of colour c: simple format when tiff is nil,
// otherwise extended (VP8X) with tiff in an EXIF chunk.
func WebP(w, h int, c color.NRGBA, tiff []byte) []byte {
	img := RIFFChunk("VP8L", VP8LSolid(w, h, c))
	if tiff == nil {
		return RIFFWebP(img)
	}
	return RIFFWebP(VP8X(0x08, w, h), img, RIFFChunk("EXIF", tiff))
}
