package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Structural walks over the three container formats. Header parsing alone
// (DecodeConfig) accepts a file cut off after its header, which would pass
// Inspect and only fail later in Strip; walking the segments or chunks to the
// end marker catches truncation up front without decoding any pixels. The
// same walk finds the EXIF payload.
//
// Every walk advances by at least one byte per step and checks each length
// against the bytes left before slicing, so it is linear in the input and
// cannot read out of range.

// errTruncated is the internal cause for data that ends too early.
var errTruncated = errors.New("unexpected end of data")

// container is what a structural walk learned.
type container struct {
	// exif is the raw TIFF-structured EXIF block (after any "Exif\0\0"
	// prefix), nil when the file has none. It aliases the input.
	exif []byte
	// width and height are bitstream dimensions the walk found itself
	// (WebP only); 0 when the walk does not parse dimensions.
	width, height int
}

func scanContainer(f Format, data []byte) (container, error) {
	switch f {
	case FormatJPEG:
		return scanJPEG(data)
	case FormatPNG:
		return scanPNG(data)
	case FormatWebP:
		return scanWebP(data)
	}
	return container{}, ErrUnsupportedFormat
}

// exifPrefix starts the EXIF APP1 segment of a JPEG. Some PNG and WebP
// writers copy it into their EXIF chunks too, although those formats'
// specifications say the chunk starts directly with the TIFF header.
const exifPrefix = "Exif\x00\x00"

func trimExifPrefix(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte(exifPrefix))
}

// JPEG markers used by the walk.
const (
	jpegSOI  = 0xD8
	jpegEOI  = 0xD9
	jpegSOS  = 0xDA
	jpegAPP1 = 0xE1
	jpegTEM  = 0x01
	jpegRST0 = 0xD0
	jpegRST7 = 0xD7
)

// scanJPEG walks the marker segments of a JPEG up to EOI. Decoders stop at
// EOI, so anything after it (such as the video some phones append) is
// ignored here and dropped by Strip.
func scanJPEG(b []byte) (container, error) {
	var c container
	if len(b) < 2 || b[0] != 0xFF || b[1] != jpegSOI {
		return c, errors.New("missing SOI")
	}
	i := 2
	seenSOS := false
	for {
		if i >= len(b) {
			return c, errTruncated
		}
		if b[i] != 0xFF {
			return c, fmt.Errorf("expected marker at offset %d", i)
		}
		// Any number of 0xFF fill bytes may precede a marker code.
		for i < len(b) && b[i] == 0xFF {
			i++
		}
		if i >= len(b) {
			return c, errTruncated
		}
		m := b[i]
		i++
		switch {
		case m == 0x00 || m == jpegSOI:
			return c, fmt.Errorf("invalid marker 0x%02X", m)
		case m == jpegEOI:
			if !seenSOS {
				return c, errors.New("no image data before EOI")
			}
			return c, nil
		case m == jpegTEM || (m >= jpegRST0 && m <= jpegRST7):
			continue // standalone markers carry no length
		}
		if i+2 > len(b) {
			return c, errTruncated
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 {
			return c, errors.New("bad segment length")
		}
		if i+n > len(b) {
			return c, errTruncated
		}
		seg := b[i+2 : i+n]
		i += n
		if m == jpegAPP1 && c.exif == nil && bytes.HasPrefix(seg, []byte(exifPrefix)) {
			c.exif = seg[len(exifPrefix):]
		}
		if m != jpegSOS {
			continue
		}
		seenSOS = true
		var err error
		if i, err = skipEntropy(b, i); err != nil {
			return c, err
		}
	}
}

// skipEntropy returns the offset of the first real marker after the
// entropy-coded data starting at i. Inside that data 0xFF is always
// followed by 0x00 (a stuffed byte), a restart marker or fill, so the next
// other marker ends the scan (EOI, or DHT/SOS… between progressive scans).
func skipEntropy(b []byte, i int) (int, error) {
	for {
		k := bytes.IndexByte(b[i:], 0xFF)
		if k < 0 {
			return 0, errTruncated
		}
		i += k
		if i+1 >= len(b) {
			return 0, errTruncated
		}
		switch n := b[i+1]; {
		case n == 0x00 || (n >= jpegRST0 && n <= jpegRST7):
			i += 2
		case n == 0xFF:
			i++
		default:
			return i, nil
		}
	}
}

// scanPNG walks the chunks of a PNG up to IEND, checking each chunk's CRC
// (Go's decoder rejects bad CRCs, so a file that fails here would fail
// Strip anyway).
func scanPNG(b []byte) (container, error) {
	var c container
	if !bytes.HasPrefix(b, magicPNG) {
		return c, errors.New("missing signature")
	}
	i := len(magicPNG)
	seenIDAT := false
	for first := true; ; first = false {
		if len(b)-i < 12 {
			return c, errTruncated
		}
		n := binary.BigEndian.Uint32(b[i:])
		if n > 1<<31-1 {
			return c, errors.New("bad chunk length")
		}
		// Compare in uint64: on 32-bit platforms i+12+n could overflow int.
		if uint64(i)+12+uint64(n) > uint64(len(b)) {
			return c, errTruncated
		}
		typ := string(b[i+4 : i+8])
		body := b[i+8 : i+8+int(n)]
		sum := binary.BigEndian.Uint32(b[i+8+int(n):])
		if crc32.ChecksumIEEE(b[i+4:i+8+int(n)]) != sum {
			return c, fmt.Errorf("bad CRC in %q chunk", typ)
		}
		i += 12 + int(n)
		if first && typ != "IHDR" {
			return c, errors.New("IHDR is not the first chunk")
		}
		switch typ {
		case "eXIf":
			if c.exif == nil {
				c.exif = trimExifPrefix(body)
			}
		case "IDAT":
			seenIDAT = true
		case "IEND":
			if !seenIDAT {
				return c, errors.New("no IDAT chunk")
			}
			return c, nil
		}
	}
}

// VP8X feature flags (WebP container specification).
const (
	vp8xAnimation = 1 << 1
)

// scanWebP walks the chunks of a RIFF WebP file. It also reads the
// dimensions from the VP8 or VP8L bitstream header so that Inspect can
// check them against the VP8X canvas that DecodeConfig reports.
func scanWebP(b []byte) (container, error) {
	var c container
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return c, errors.New("missing RIFF header")
	}
	size := binary.LittleEndian.Uint32(b[4:])
	if size < 4 {
		return c, errors.New("bad RIFF size")
	}
	if uint64(size)+8 > uint64(len(b)) {
		return c, errTruncated
	}
	body := b[12 : 8+int(size)] // bytes after the RIFF payload are ignored
	var (
		seenVP8X, seenImage bool
		canvasW, canvasH    int
	)
	for i, first := 0, true; i < len(body); first = false {
		if len(body)-i < 8 {
			return c, errTruncated
		}
		id := string(body[i : i+4])
		n := binary.LittleEndian.Uint32(body[i+4:])
		if uint64(i)+8+uint64(n) > uint64(len(body)) {
			return c, errTruncated
		}
		payload := body[i+8 : i+8+int(n)]
		// Chunks are padded to an even size; tolerate a missing pad byte
		// after the last chunk, which some writers omit.
		i += 8 + int(n) + int(n&1)
		if first && id != "VP8 " && id != "VP8L" && id != "VP8X" {
			return c, fmt.Errorf("unexpected first chunk %q", id)
		}
		switch id {
		case "VP8X":
			if seenVP8X || len(payload) < 10 {
				return c, errors.New("bad VP8X chunk")
			}
			seenVP8X = true
			if payload[0]&vp8xAnimation != 0 {
				return c, errAnimated
			}
			canvasW = int(uint24(payload[4:])) + 1
			canvasH = int(uint24(payload[7:])) + 1
		case "ANIM", "ANMF":
			return c, errAnimated
		case "VP8 ", "VP8L":
			if seenImage {
				return c, errors.New("more than one image chunk")
			}
			seenImage = true
			var err error
			if id == "VP8 " {
				c.width, c.height, err = vp8Dims(payload)
			} else {
				c.width, c.height, err = vp8lDims(payload)
			}
			if err != nil {
				return c, err
			}
		case "EXIF":
			if c.exif == nil {
				c.exif = trimExifPrefix(payload)
			}
		}
	}
	if !seenImage {
		return c, errors.New("no image chunk")
	}
	if seenVP8X && (canvasW != c.width || canvasH != c.height) {
		return c, fmt.Errorf("canvas %dx%d differs from bitstream %dx%d", canvasW, canvasH, c.width, c.height)
	}
	return c, nil
}

// errAnimated marks animated WebP, which x/image/webp cannot decode. Inspect
// reports it as unsupported rather than corrupt.
var errAnimated = errors.New("animated WebP")

func uint24(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
}

// vp8Dims reads a lossy VP8 key frame header (RFC 6386 section 9.1).
func vp8Dims(p []byte) (w, h int, err error) {
	if len(p) < 10 {
		return 0, 0, errTruncated
	}
	if p[0]&1 != 0 {
		return 0, 0, errors.New("VP8 chunk is not a key frame")
	}
	if p[3] != 0x9D || p[4] != 0x01 || p[5] != 0x2A {
		return 0, 0, errors.New("bad VP8 start code")
	}
	// The top two bits of each 16-bit field are an upscaling hint.
	w = int(binary.LittleEndian.Uint16(p[6:]) & 0x3FFF)
	h = int(binary.LittleEndian.Uint16(p[8:]) & 0x3FFF)
	if w == 0 || h == 0 {
		return 0, 0, errors.New("zero VP8 dimensions")
	}
	return w, h, nil
}

// vp8lDims reads a lossless VP8L header: signature 0x2F, then 14-bit
// width-1 and height-1, an alpha hint bit and a 3-bit version (0).
func vp8lDims(p []byte) (w, h int, err error) {
	if len(p) < 5 {
		return 0, 0, errTruncated
	}
	if p[0] != 0x2F {
		return 0, 0, errors.New("bad VP8L signature")
	}
	bits := binary.LittleEndian.Uint32(p[1:])
	if bits>>29 != 0 {
		return 0, 0, errors.New("unknown VP8L version")
	}
	return int(bits&0x3FFF) + 1, int(bits>>14&0x3FFF) + 1, nil
}
