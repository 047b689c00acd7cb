package photo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"slices"
	"testing"

	"github.com/incidentmap/incidentmap/geo/photo/phototest"
)

// secretEXIF is everything Inspect reads, plus a camera make that must not
// survive Strip either.
func secretEXIF(orientation uint16) phototest.EXIF {
	return phototest.EXIF{Lat: 52.520008, Lon: 13.404954, HasGPS: true, Altitude: ptr(34.0),
		TakenAt: "2024:01:02 03:04:05", Offset: "+01:00", Orientation: orientation, Make: "SecretCam"}
}

// fullEXIF is the TIFF block of secretEXIF in tb's byte order.
func fullEXIF(tb tiffBuilder, orientation uint16) []byte { return tb.EXIF(secretEXIF(orientation)) }

// jpegMarkers lists the markers of a JPEG up to its first SOS.
func jpegMarkers(t *testing.T, j []byte) []byte {
	t.Helper()
	var ms []byte
	for i := 2; i+4 <= len(j); {
		if j[i] != 0xFF {
			t.Fatalf("no marker at %d", i)
		}
		m := j[i+1]
		ms = append(ms, m)
		if m == jpegSOS {
			return ms
		}
		i += 2 + int(binary.BigEndian.Uint16(j[i+2:]))
	}
	t.Fatal("no SOS")
	return nil
}

// pngChunkTypes lists the chunk types of a PNG.
func pngChunkTypes(p []byte) []string {
	var ts []string
	for i := 8; i+12 <= len(p); {
		n := int(binary.BigEndian.Uint32(p[i:]))
		ts = append(ts, string(p[i+4:i+8]))
		i += 12 + n
	}
	return ts
}

// assertClean checks that out carries none of the metadata in fullEXIF and
// that Inspect sees it as a plain w×h image of format f.
func assertClean(t *testing.T, out []byte, f Format, w, h int) {
	t.Helper()
	for _, secret := range []string{"Exif", "SecretCam", "2024:01:02", "eXIf", "tEXt", "iTXt", "zTXt", "iCCP", "XMP", "xpacket"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("stripped output still contains %q", secret)
		}
	}
	info, err := Inspect(out, DefaultLimits())
	if err != nil {
		t.Fatalf("Inspect(stripped): %v", err)
	}
	want := Info{Format: f, Width: w, Height: h, Orientation: 1}
	if info != want {
		t.Fatalf("Inspect(stripped) = %+v, want %+v", info, want)
	}
}

func inspectOK(t *testing.T, data []byte) Info {
	t.Helper()
	info, err := Inspect(data, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestStripJPEG(t *testing.T) {
	for _, tb := range []tiffBuilder{le, be} {
		xmp := []byte("http://ns.adobe.com/xap/1.0/\x00<?xpacket begin?><x:xmpmeta/>")
		app1 := slices.Concat([]byte{0xFF, 0xE1, 0, byte(2 + len(xmp))}, xmp)
		com := slices.Concat([]byte{0xFF, 0xFE, 0, 11}, []byte("SecretCam"))
		data := phototest.WithAPP1(phototest.JPEG(64, 48), fullEXIF(tb, 1))
		data = slices.Concat(data[:2], app1, com, data[2:], []byte("trailing Exif SecretCam"))
		info := inspectOK(t, data)
		if info.GPS == nil || info.TakenAt == nil {
			t.Fatalf("fixture not seen: %+v", info)
		}
		out, mt, err := Strip(data, info)
		if err != nil {
			t.Fatal(err)
		}
		if mt != "image/jpeg" {
			t.Fatalf("media type %q", mt)
		}
		assertClean(t, out, FormatJPEG, 64, 48)
		for _, m := range jpegMarkers(t, out) {
			if m >= 0xE0 && m <= 0xEF || m == 0xFE {
				t.Errorf("stripped JPEG has APP/COM marker 0x%02X", m)
			}
		}
	}
}

func TestStripPNG(t *testing.T) {
	src := phototest.Image(20, 10)
	src.Pix[3] = 0x80 // one translucent pixel: PNG output must keep alpha
	data := phototest.WithPNGChunks(phototest.EncodePNG(src),
		phototest.PNGChunk("eXIf", fullEXIF(le, 1)),
		phototest.PNGChunk("tEXt", []byte("Comment\x00SecretCam")),
		phototest.PNGChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<?xpacket?>")),
		phototest.PNGChunk("zTXt", []byte("Raw profile type exif\x00\x00x")))
	info := inspectOK(t, data)
	if info.GPS == nil {
		t.Fatal("fixture GPS not seen")
	}
	out, mt, err := Strip(data, info)
	if err != nil {
		t.Fatal(err)
	}
	if mt != "image/png" {
		t.Fatalf("media type %q", mt)
	}
	assertClean(t, out, FormatPNG, 20, 10)
	for _, typ := range pngChunkTypes(out) {
		if !slices.Contains([]string{"IHDR", "PLTE", "tRNS", "IDAT", "IEND"}, typ) {
			t.Errorf("stripped PNG has chunk %q", typ)
		}
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	// PNG is re-encoded losslessly.
	for y := range 10 {
		for x := range 20 {
			if a, b := color.NRGBAModel.Convert(img.At(x, y)), color.NRGBAModel.Convert(src.At(x, y)); a != b {
				t.Fatalf("pixel %d,%d = %v, want %v", x, y, a, b)
			}
		}
	}
}

func TestStripWebP(t *testing.T) {
	for _, c := range []color.NRGBA{{200, 40, 10, 255}, {255, 0, 0, 0}} {
		data := phototest.WebP(40, 24, c, fullEXIF(be, 1))
		info := inspectOK(t, data)
		if info.GPS == nil {
			t.Fatal("fixture GPS not seen")
		}
		out, mt, err := Strip(data, info)
		if err != nil {
			t.Fatal(err)
		}
		if mt != "image/jpeg" {
			t.Fatalf("media type %q", mt)
		}
		assertClean(t, out, FormatJPEG, 40, 24)
		img, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		// Transparent pixels are composited over white, not black.
		want := color.RGBA{c.R, c.G, c.B, 255}
		if c.A == 0 {
			want = color.RGBA{255, 255, 255, 255}
		}
		if got := color.RGBAModel.Convert(img.At(20, 12)).(color.RGBA); !near(got, want, 6) {
			t.Errorf("colour %v: centre pixel = %v, want ≈%v", c, got, want)
		}
	}
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func TestStripRejectsMismatchedInfo(t *testing.T) {
	j := phototest.JPEG(16, 16)
	p := phototest.PNG(16, 16)
	infoJ := inspectOK(t, j)
	for _, tc := range []struct {
		data []byte
		info Info
	}{
		{p, infoJ},                      // other format
		{phototest.JPEG(16, 17), infoJ}, // other size
		{[]byte("not an image"), infoJ},
		{j, Info{}},
	} {
		if _, _, err := Strip(tc.data, tc.info); !errors.Is(err, errInfoMismatch) {
			t.Errorf("err = %v, want errInfoMismatch", err)
		}
	}
}

func TestStripCorruptPixels(t *testing.T) {
	// Structurally sound (CRCs right, IEND present) so Inspect accepts it,
	// but the IDAT is not zlib: only decoding finds out.
	p := phototest.PNGHeaderOnly(8, 8)
	i := bytes.Index(p, []byte("IDAT")) - 4
	bad := slices.Concat(p[:i], phototest.PNGChunk("IDAT", []byte("this is not zlib data")), phototest.PNGChunk("IEND", nil))
	info := inspectOK(t, bad)
	_, _, err := Strip(bad, info)
	wantErr(t, err, ErrCorrupt)
}

// Reference transforms for EXIF orientations, written as the EXIF
// specification describes them (mirror, then rotate clockwise), to check
// srcPoint's closed forms independently.
type grid [][]int

func (g grid) flipH() grid {
	out := make(grid, len(g))
	for y, row := range g {
		out[y] = slices.Clone(row)
		slices.Reverse(out[y])
	}
	return out
}

func (g grid) flipV() grid {
	out := slices.Clone(g)
	slices.Reverse(out)
	return out
}

func (g grid) rotCW() grid {
	h, w := len(g), len(g[0])
	out := make(grid, w)
	for y := range out {
		out[y] = make([]int, h)
		for x := range out[y] {
			out[y][x] = g[h-1-x][y]
		}
	}
	return out
}

func (g grid) display(o int) grid {
	switch o {
	case 2:
		return g.flipH()
	case 3:
		return g.rotCW().rotCW()
	case 4:
		return g.flipV()
	case 5:
		return g.flipH().rotCW().rotCW().rotCW()
	case 6:
		return g.rotCW()
	case 7:
		return g.flipH().rotCW()
	case 8:
		return g.rotCW().rotCW().rotCW()
	}
	return g
}

func TestStripAppliesOrientation(t *testing.T) {
	const w, h = 3, 2
	// Each pixel's red channel is its index, so positions can be traced
	// through the lossless PNG round trip.
	src := image.NewNRGBA(image.Rect(0, 0, w, h))
	g := make(grid, h)
	for y := range h {
		g[y] = make([]int, w)
		for x := range w {
			g[y][x] = 10 * (y*w + x + 1)
			src.SetNRGBA(x, y, color.NRGBA{uint8(g[y][x]), 7, 7, 255})
		}
	}
	for o := 1; o <= 8; o++ {
		data := phototest.WithPNGChunks(phototest.EncodePNG(src), phototest.PNGChunk("eXIf", le.Build([]tEntry{le.Short(tagOrientation, uint16(o))}, nil, nil)))
		info := inspectOK(t, data)
		if info.Orientation != o || info.Width != w || info.Height != h {
			t.Fatalf("o=%d: info = %+v", o, info)
		}
		dw, dh := info.DisplaySize()
		out, _, err := Strip(data, info)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		want := g.display(o)
		if b := img.Bounds(); b.Dx() != len(want[0]) || b.Dy() != len(want) || b.Dx() != dw || b.Dy() != dh {
			t.Fatalf("o=%d: stripped bounds %v, want %dx%d (DisplaySize %dx%d)", o, b, len(want[0]), len(want), dw, dh)
		}
		for y := range want {
			for x := range want[y] {
				if r := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA).R; int(r) != want[y][x] {
					t.Fatalf("o=%d: pixel %d,%d = %d, want %d", o, x, y, r, want[y][x])
				}
			}
		}
	}
}

func TestStripJPEGOrientation(t *testing.T) {
	// Left half red, right half blue, 32×16: after orientation 6 (rotate
	// 90° clockwise) the result is 16×32 with red on top.
	src := image.NewRGBA(image.Rect(0, 0, 32, 16))
	for y := range 16 {
		for x := range 32 {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 16 {
				c = color.RGBA{0, 0, 255, 255}
			}
			src.SetRGBA(x, y, c)
		}
	}
	data := phototest.WithAPP1(phototest.EncodeJPEG(src), le.Build([]tEntry{le.Short(tagOrientation, 6)}, nil, nil))
	out, _, err := Strip(data, inspectOK(t, data))
	if err != nil {
		t.Fatal(err)
	}
	assertCleanRotated := inspectOK(t, out)
	if assertCleanRotated.Width != 16 || assertCleanRotated.Height != 32 || assertCleanRotated.Orientation != 1 {
		t.Fatalf("stripped info = %+v", assertCleanRotated)
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	top := color.RGBAModel.Convert(img.At(8, 4)).(color.RGBA)
	bottom := color.RGBAModel.Convert(img.At(8, 28)).(color.RGBA)
	if !near(top, color.RGBA{255, 0, 0, 255}, 40) || !near(bottom, color.RGBA{0, 0, 255, 255}, 40) {
		t.Fatalf("top %v, bottom %v: want red over blue", top, bottom)
	}
}

// TestOrientImageTypes runs every orient code path against the reference
// transforms, comparing colours through the standard colour models.
func TestOrientImageTypes(t *testing.T) {
	r := image.Rect(2, 3, 7, 6) // non-zero origin, 5×3
	fill := func(set func(x, y, i int)) {
		i := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				set(x, y, i)
				i++
			}
		}
	}
	pal := color.Palette{}
	for i := range 16 {
		pal = append(pal, color.RGBA{uint8(i * 16), uint8(255 - i*16), 3, 255})
	}
	imgs := map[string]image.Image{}
	add := func(name string, m interface {
		image.Image
		Set(x, y int, c color.Color)
	}) {
		fill(func(x, y, i int) {
			m.Set(x, y, color.NRGBA{uint8(i * 15), uint8(200 - i*9), uint8(i * 7), uint8(100 + i*10)})
		})
		imgs[name] = m
	}
	add("RGBA", image.NewRGBA(r))
	add("NRGBA", image.NewNRGBA(r))
	add("RGBA64", image.NewRGBA64(r))
	add("NRGBA64", image.NewNRGBA64(r))
	add("Gray", image.NewGray(r))
	add("Gray16", image.NewGray16(r))
	add("Alpha", image.NewAlpha(r))
	add("CMYK", image.NewCMYK(r))
	add("Paletted", image.NewPaletted(r, pal))
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422} {
		y := image.NewYCbCr(r, ratio)
		fill(func(x, yy, i int) {
			y.Y[y.YOffset(x, yy)] = uint8(i * 15)
			ci := y.COffset(x, yy)
			y.Cb[ci], y.Cr[ci] = uint8(60+i*3), uint8(200-i*5)
		})
		imgs["YCbCr"+ratio.String()] = y
	}
	na := image.NewNYCbCrA(r, image.YCbCrSubsampleRatio420)
	fill(func(x, y, i int) {
		na.Y[na.YOffset(x, y)] = uint8(i * 15)
		na.A[na.AOffset(x, y)] = uint8(255 - i*10)
	})
	imgs["NYCbCrA"] = na

	for name, img := range imgs {
		// The reference grid holds source pixel coordinates.
		b := img.Bounds()
		g := make(grid, b.Dy())
		for y := range g {
			g[y] = make([]int, b.Dx())
			for x := range g[y] {
				g[y][x] = y<<16 | x
			}
		}
		for o := 1; o <= 8; o++ {
			got := orient(img, o)
			want := g.display(o)
			if gb := got.Bounds(); gb.Dx() != len(want[0]) || gb.Dy() != len(want) {
				t.Fatalf("%s o=%d: bounds %v", name, o, gb)
			}
			gb := got.Bounds()
			for y := range want {
				for x := range want[y] {
					sx, sy := want[y][x]&0xFFFF+b.Min.X, want[y][x]>>16+b.Min.Y
					wc := color.NRGBA64Model.Convert(img.At(sx, sy)).(color.NRGBA64)
					gc := color.NRGBA64Model.Convert(got.At(x+gb.Min.X, y+gb.Min.Y)).(color.NRGBA64)
					// YCbCr→RGB in 8 bits (orient) differs slightly from
					// the 16-bit conversion of At.
					if !near64(wc, gc, 0x200) {
						t.Fatalf("%s o=%d: pixel %d,%d = %v, want %v (from %d,%d)", name, o, x, y, gc, wc, sx, sy)
					}
				}
			}
		}
	}
}

func near64(a, b color.NRGBA64, tol int) bool {
	d := func(x, y uint16) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}
