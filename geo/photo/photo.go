// Package photo vets photos that the public uploads with incident reports.
//
// Uploads are untrusted: a file may lie about its type, claim dimensions that
// would exhaust memory when decoded (a decompression bomb), be truncated, or
// carry metadata that reveals more than the reporter meant to share. The
// package therefore works in two steps:
//
//   - [Inspect] sniffs the format from the bytes, checks [Limits] using only
//     the image headers, checks that the container is structurally complete,
//     and reads the EXIF location and capture time. It never decodes pixels,
//     so it is cheap enough to run on every upload before anything else.
//   - [Strip] decodes the pixels of an inspected upload and re-encodes them,
//     so that no metadata (EXIF, XMP, ICC profiles, comments, PNG text
//     chunks, trailing data) survives into the copy the server publishes.
//
// Supported formats are JPEG, PNG and WebP (still images only; WebP decoding
// comes from golang.org/x/image/webp). EXIF is read from the JPEG APP1
// "Exif" segment, the PNG eXIf chunk and the WebP EXIF chunk by a small
// reader in this package that bounds-checks every offset it follows.
package photo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"time"

	"golang.org/x/image/webp"
)

// Limits bound what Inspect accepts. They are checked before any pixel is
// decoded, so that a small file cannot make the server allocate gigabytes.
// A zero or negative field means the DefaultLimits value for that field,
// so that a zero Limits is safe rather than unlimited.
type Limits struct {
	// MaxBytes is the largest accepted file size in bytes.
	MaxBytes int64
	// MaxPixels is the largest accepted width×height. Decoding needs roughly
	// 3–8 bytes of memory per pixel (more for progressive JPEG), so this is
	// the limit that bounds Strip's memory use.
	MaxPixels int64
	// MaxDimension is the largest accepted width or height, which rejects
	// absurd strips (1×50,000,000) that MaxPixels alone would let through.
	MaxDimension int
}

// Default limit values; see DefaultLimits.
const (
	DefaultMaxBytes     = 10 << 20   // 10 MiB: generous for a phone JPEG, small enough to buffer.
	DefaultMaxPixels    = 50_000_000 // 50 megapixels: covers current phone cameras.
	DefaultMaxDimension = 12_000     // longest side of a 50 MP panorama-ish frame.
)

// DefaultLimits returns the limits for public uploads: 10 MiB, 50 megapixels
// and 12,000 pixels on the longest side.
func DefaultLimits() Limits {
	return Limits{MaxBytes: DefaultMaxBytes, MaxPixels: DefaultMaxPixels, MaxDimension: DefaultMaxDimension}
}

// withDefaults replaces unset fields so that a zero Limits never disables a
// check.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MaxDimension <= 0 {
		l.MaxDimension = d.MaxDimension
	}
	return l
}

// Format is an image file format, named as in its media type.
type Format string

// The supported formats.
const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
	FormatWebP Format = "webp"
)

// MediaType returns the format's IANA media type, or "" for an unknown
// format.
func (f Format) MediaType() string {
	switch f {
	case FormatJPEG:
		return "image/jpeg"
	case FormatPNG:
		return "image/png"
	case FormatWebP:
		return "image/webp"
	}
	return ""
}

// Info is what Inspect learns from an upload without decoding its pixels.
type Info struct {
	// Format is the format sniffed from the file's magic number.
	Format Format
	// Width and Height are the stored pixel dimensions, before Orientation
	// is applied: for Orientation 5–8 the photo is displayed (and Strip
	// outputs it) Height wide and Width high.
	Width, Height int
	// GPS is the EXIF location, nil when absent, incomplete or invalid.
	GPS *GPS
	// TakenAt is EXIF DateTimeOriginal, nil when absent or invalid. With
	// TakenAtHasZone it carries the EXIF OffsetTimeOriginal zone; without,
	// the camera's wall-clock reading is returned as if it were UTC, because
	// EXIF has no other zone information and guessing one from GPS is the
	// caller's policy, not ours.
	TakenAt *time.Time
	// TakenAtHasZone tells whether TakenAt's zone came from the file.
	TakenAtHasZone bool
	// Orientation is the EXIF Orientation (1–8; 1 when absent or invalid).
	// Strip applies it to the pixels, because the re-encoded copy has no
	// EXIF left to tell viewers to rotate it.
	Orientation int
}

// DisplaySize returns the photo's size as viewers show it and as Strip
// outputs it: Width×Height with the sides swapped when Orientation
// rotates by 90° (5–8).
func (i Info) DisplaySize() (w, h int) {
	if i.Orientation >= 5 && i.Orientation <= 8 {
		return i.Height, i.Width
	}
	return i.Width, i.Height
}

// GPS is a WGS 84 position from EXIF.
type GPS struct {
	// Lon and Lat are in decimal degrees, negative west and south.
	Lon, Lat float64
	// Altitude is metres above sea level (negative below), nil when absent.
	Altitude *float64
}

// Sentinel errors returned (wrapped) by Inspect, Strip and ReadUpload. Test
// with errors.Is. Their messages, and the messages of the errors that wrap
// them, are written for the person who uploaded the file and contain no
// decoder internals; the underlying cause, when there is one, stays
// reachable with errors.As for logging.
var (
	ErrUnsupportedFormat = errors.New("unsupported image format: upload a JPEG, PNG or WebP photo")
	ErrTooLarge          = errors.New("image file is too large")
	ErrTooManyPixels     = errors.New("image dimensions are too large")
	ErrCorrupt           = errors.New("image file is damaged or incomplete")
)

// photoError pairs a user-safe message with a sentinel kind and an internal
// cause. Error() shows only the message, so handlers can return it to the
// client verbatim, while errors.Is/As still reach both kind and cause.
type photoError struct {
	kind  error
	msg   string
	cause error
}

func (e *photoError) Error() string { return e.msg }

func (e *photoError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// newErr builds a photoError whose message is the sentinel's followed by a
// user-safe detail.
func newErr(kind error, cause error, format string, args ...any) error {
	msg := kind.Error()
	if format != "" {
		msg += " (" + fmt.Sprintf(format, args...) + ")"
	}
	return &photoError{kind: kind, msg: msg, cause: cause}
}

// corrupt is shorthand for the most common error: the file does not parse.
func corrupt(f Format, cause error) error {
	return newErr(ErrCorrupt, cause, "not a valid %s file", formatName(f))
}

func formatName(f Format) string {
	switch f {
	case FormatJPEG:
		return "JPEG"
	case FormatPNG:
		return "PNG"
	case FormatWebP:
		return "WebP"
	}
	return "image"
}

// ReadUpload reads r into memory, stopping as soon as it has read more than
// lim.MaxBytes so that an oversized upload is never buffered whole. It
// returns an error wrapping ErrTooLarge in that case.
func ReadUpload(r io.Reader, lim Limits) ([]byte, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, tooLarge(lim)
	}
	return data, nil
}

func tooLarge(lim Limits) error {
	return newErr(ErrTooLarge, nil, "the limit is %s", humanBytes(lim.MaxBytes))
}

// humanBytes formats n for error messages shown to users.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Magic numbers. Only the bytes decide the format: file names and declared
// content types come from the client and are not trusted.
var (
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
)

// sniff returns the format of data from its magic number, or "".
func sniff(data []byte) Format {
	switch {
	case bytes.HasPrefix(data, magicJPEG):
		return FormatJPEG
	case bytes.HasPrefix(data, magicPNG):
		return FormatPNG
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return FormatWebP
	}
	return ""
}

// decodeConfig reads only the header of data to get its dimensions.
// It uses the format's own decoder rather than image.DecodeConfig so that
// the outcome does not depend on which decoders other packages register.
func decodeConfig(f Format, data []byte) (image.Config, error) {
	r := bytes.NewReader(data)
	switch f {
	case FormatJPEG:
		return jpeg.DecodeConfig(r)
	case FormatPNG:
		return png.DecodeConfig(r)
	case FormatWebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, ErrUnsupportedFormat
}

// Inspect identifies an upload, checks it against lim without decoding its
// pixels, and extracts its EXIF GPS position, capture time and orientation.
//
// The checks run from cheapest to dearest: size, magic number, header
// dimensions against lim, then a walk over the container's structure that
// rejects truncated files and finds the EXIF block. Malformed EXIF is not an
// error (metadata is optional and Strip removes it anyway); it just yields
// no GPS or time. Errors wrap ErrTooLarge, ErrUnsupportedFormat,
// ErrTooManyPixels or ErrCorrupt.
//
// Inspect parses data in place and keeps no reference to it.
func Inspect(data []byte, lim Limits) (Info, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return Info{}, tooLarge(lim)
	}
	if len(data) == 0 {
		return Info{}, newErr(ErrCorrupt, nil, "the file is empty")
	}
	f := sniff(data)
	if f == "" {
		return Info{}, newErr(ErrUnsupportedFormat, nil, "")
	}
	cfg, err := decodeConfig(f, data)
	if err != nil {
		return Info{}, corrupt(f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, corrupt(f, fmt.Errorf("dimensions %dx%d", cfg.Width, cfg.Height))
	}
	if err := checkDims(cfg.Width, cfg.Height, lim); err != nil {
		return Info{}, err
	}
	c, err := scanContainer(f, data)
	if errors.Is(err, errAnimated) {
		return Info{}, newErr(ErrUnsupportedFormat, err, "animated WebP is not supported")
	}
	if err != nil {
		return Info{}, corrupt(f, err)
	}
	// WebP keeps its dimensions in two places (the VP8X canvas and the
	// bitstream); DecodeConfig reads only the first. A file whose bitstream
	// is larger than its canvas would slip past the limits, so insist that
	// the walk found the same size.
	if c.width != 0 && (c.width != cfg.Width || c.height != cfg.Height) {
		return Info{}, corrupt(f, fmt.Errorf("canvas %dx%d, bitstream %dx%d", cfg.Width, cfg.Height, c.width, c.height))
	}
	info := Info{Format: f, Width: cfg.Width, Height: cfg.Height, Orientation: 1}
	if c.exif != nil {
		x := parseEXIF(c.exif)
		info.GPS = x.gps
		info.TakenAt = x.takenAt
		info.TakenAtHasZone = x.hasZone
		if x.orientation != 0 {
			info.Orientation = x.orientation
		}
	}
	return info, nil
}

// checkDims applies the pixel limits to header dimensions.
func checkDims(w, h int, lim Limits) error {
	if w > lim.MaxDimension || h > lim.MaxDimension {
		return newErr(ErrTooManyPixels, nil, "%d×%d pixels; the longest side may be at most %d", w, h, lim.MaxDimension)
	}
	if int64(w)*int64(h) > lim.MaxPixels {
		return newErr(ErrTooManyPixels, nil, "%d×%d pixels; at most %s pixels are accepted", w, h, humanPixels(lim.MaxPixels))
	}
	return nil
}

func humanPixels(n int64) string {
	if n >= 1_000_000 && n%100_000 == 0 {
		return fmt.Sprintf("%g million", float64(n)/1e6)
	}
	return fmt.Sprintf("%d", n)
}
