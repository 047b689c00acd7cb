package photo

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// JPEGQuality is the quality Strip re-encodes JPEG and WebP input at: high
// enough that a second generation of compression is hard to see, lower than
// 100 so that the copy is not much larger than the upload.
const JPEGQuality = 90

// errInfoMismatch reports a programming error: Strip was given an Info that
// Inspect did not produce for these bytes. It deliberately wraps none of the
// sentinels, because it is the server's fault, not the uploader's.
var errInfoMismatch = errors.New("photo: Strip called with an Info that does not describe the data")

// Strip returns a copy of an inspected upload with all metadata removed, and
// the copy's media type. JPEG and WebP become JPEG (quality JPEGQuality);
// PNG stays PNG, losslessly.
//
// It decodes the pixels and encodes them afresh instead of deleting metadata
// segments from the original: that way nothing the encoder did not write
// itself can survive — EXIF, XMP, ICC profiles, comments, PNG text chunks,
// MakerNotes, unknown segments, data hidden after the end marker — and
// malformed or polyglot payloads do not reach other users. The EXIF
// orientation is applied to the pixels first, since the copy no longer
// carries the tag that told viewers to rotate it.
//
// Known losses: colour profiles are dropped, so wide-gamut (e.g. Display P3)
// photos look slightly less saturated; transparent WebP pixels become white
// in the JPEG; only the first frame of an animated PNG is kept.
//
// Call Strip only with the Info that Inspect returned for data without an
// error: Inspect's limits are what bound the memory Strip's decoding needs
// (about 4 to 12 bytes per pixel). Strip re-reads the header and refuses
// data whose format or dimensions differ from info.
//
// Strip is CPU- and memory-heavy at the limits: a 48 megapixel JPEG takes
// about 1.5–2.5 s and allocates 200–550 MB on a 2-core machine (rotation
// costs the upper figures). Callers should bound how many run at once.
func Strip(data []byte, info Info) (out []byte, mediaType string, err error) {
	f := sniff(data)
	if f == "" || f != info.Format {
		return nil, "", errInfoMismatch
	}
	cfg, err := decodeConfig(f, data)
	if err != nil {
		return nil, "", corrupt(f, err)
	}
	if cfg.Width != info.Width || cfg.Height != info.Height {
		return nil, "", errInfoMismatch
	}
	// The decoders are well tested, but they run on hostile input; a panic
	// in one must fail this upload, not the goroutine serving it.
	defer func() {
		if p := recover(); p != nil {
			out, mediaType = nil, ""
			err = corrupt(f, fmt.Errorf("decoder panic: %v", p))
		}
	}()
	img, err := decode(f, data)
	if err != nil {
		return nil, "", corrupt(f, err)
	}
	if b := img.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
		return nil, "", corrupt(f, fmt.Errorf("decoded %v, header said %dx%d", b, info.Width, info.Height))
	}
	img = orient(img, info.Orientation)

	var buf bytes.Buffer
	if f == FormatPNG {
		// The default compression level: the best one costs several times
		// the CPU for a few percent on photos.
		err = png.Encode(&buf, img)
		mediaType = FormatPNG.MediaType()
	} else {
		err = jpeg.Encode(&buf, flatten(img), &jpeg.Options{Quality: JPEGQuality})
		mediaType = FormatJPEG.MediaType()
	}
	if err != nil {
		// Encoding a decoded in-memory image fails only on a bug here.
		return nil, "", fmt.Errorf("photo: re-encode %s: %w", f, err)
	}
	return buf.Bytes(), mediaType, nil
}

func decode(f Format, data []byte) (image.Image, error) {
	r := bytes.NewReader(data)
	switch f {
	case FormatJPEG:
		return jpeg.Decode(r)
	case FormatPNG:
		return png.Decode(r)
	case FormatWebP:
		return webp.Decode(r)
	}
	return nil, ErrUnsupportedFormat
}

// flatten prepares img for JPEG, which has no alpha channel. Left alone,
// the encoder would use premultiplied colours, i.e. composite transparent
// areas over black; over white is what people expect from a photo viewer.
func flatten(img image.Image) image.Image {
	switch m := img.(type) {
	case *image.YCbCr, *image.Gray, *image.CMYK:
		return img // always opaque, and the encoder's fast paths
	case *image.RGBA:
		if m.Opaque() {
			return m
		}
	}
	b := img.Bounds()
	dst := image.NewRGBA(b)
	draw.Draw(dst, b, image.White, image.Point{}, draw.Src)
	draw.Draw(dst, b, img, b.Min, draw.Over)
	return dst
}

// srcPoint maps a pixel (dx, dy) of the displayed image to the stored
// image (w×h) for EXIF orientation o. EXIF names the transform a viewer
// must apply: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90°
// clockwise, 7 transverse, 8 rotate 90° anticlockwise.
func srcPoint(o, dx, dy, w, h int) (sx, sy int) {
	switch o {
	case 2:
		return w - 1 - dx, dy
	case 3:
		return w - 1 - dx, h - 1 - dy
	case 4:
		return dx, h - 1 - dy
	case 5:
		return dy, dx
	case 6:
		return dy, h - 1 - dx
	case 7:
		return w - 1 - dy, h - 1 - dx
	case 8:
		return w - 1 - dy, dx
	}
	return dx, dy
}

// orient returns img transformed for display according to EXIF orientation
// o. Single-plane image types are remapped byte-wise, keeping their pixel
// type (and so PNG bit depth and palette); YCbCr, whose chroma planes may be
// subsampled, is converted to RGBA in the same pass.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	r := image.Rect(0, 0, dw, dh)
	switch m := img.(type) {
	case *image.YCbCr:
		dst := image.NewRGBA(r)
		for dy := range dh {
			row := dst.Pix[dy*dst.Stride:]
			for dx := range dw {
				sx, sy := srcPoint(o, dx, dy, w, h)
				sx, sy = sx+b.Min.X, sy+b.Min.Y
				yi, ci := m.YOffset(sx, sy), m.COffset(sx, sy)
				cr, cg, cb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				row[4*dx], row[4*dx+1], row[4*dx+2], row[4*dx+3] = cr, cg, cb, 0xFF
			}
		}
		return dst
	case *image.RGBA:
		dst := image.NewRGBA(r)
		remap(dst.Pix, dst.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4, o, w, h)
		return dst
	case *image.NRGBA:
		dst := image.NewNRGBA(r)
		remap(dst.Pix, dst.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4, o, w, h)
		return dst
	case *image.RGBA64:
		dst := image.NewRGBA64(r)
		remap(dst.Pix, dst.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 8, o, w, h)
		return dst
	case *image.NRGBA64:
		dst := image.NewNRGBA64(r)
		remap(dst.Pix, dst.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 8, o, w, h)
		return dst
	case *image.Gray:
		dst := image.NewGray(r)
		remap(dst.Pix, dst.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 1, o, w, h)
		return dst
	case *image.Gray16:
		dst := image.NewGray16(r)
		remap(dst.Pix, dst.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 2, o, w, h)
		return dst
	case *image.CMYK:
		dst := image.NewCMYK(r)
		remap(dst.Pix, dst.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 4, o, w, h)
		return dst
	case *image.Paletted:
		dst := image.NewPaletted(r, m.Palette)
		remap(dst.Pix, dst.Stride, m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, 1, o, w, h)
		return dst
	}
	// Anything else (in practice WebP's NYCbCrA) goes through the slow,
	// type-agnostic path; 16 bits per channel loses nothing.
	dst := image.NewRGBA64(r)
	for dy := range dh {
		for dx := range dw {
			sx, sy := srcPoint(o, dx, dy, w, h)
			dst.Set(dx, dy, img.At(sx+b.Min.X, sy+b.Min.Y))
		}
	}
	return dst
}

// remap copies w×h pixels of bpp bytes from src into dst, laid out for
// display under orientation o. Both slices start at their image's first
// pixel.
func remap(dst []byte, dstStride int, src []byte, srcStride, bpp, o, w, h int) {
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	for dy := range dh {
		row := dst[dy*dstStride:]
		for dx := range dw {
			sx, sy := srcPoint(o, dx, dy, w, h)
			copy(row[dx*bpp:dx*bpp+bpp], src[sy*srcStride+sx*bpp:])
		}
	}
}
