package photo

import (
	"errors"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/incidentmap/incidentmap/geo/photo/phototest"
)

// fuzzLimits keeps accepted inputs small, so that Strip's decoding stays
// fast enough for the fuzzer to reach many inputs per second.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 16, MaxDimension: 1024}

// fuzzSeeds returns generated fixtures covering each format and EXIF path.
func fuzzSeeds(t testing.TB) [][]byte {
	tiff := fullEXIF(le, 6)
	return [][]byte{
		phototest.JPEG(16, 8),
		phototest.WithAPP1(phototest.JPEG(8, 8), tiff),
		phototest.WithAPP1(phototest.EncodeJPEG(image.NewGray(image.Rect(0, 0, 8, 8))), fullEXIF(be, 3)),
		phototest.PNG(4, 3),
		phototest.WithPNGChunks(phototest.PNG(3, 2), phototest.PNGChunk("eXIf", tiff)),
		phototest.WithPNGChunks(phototest.EncodePNG(image.NewPaletted(image.Rect(0, 0, 3, 3), color.Palette{color.White, color.Black})), phototest.PNGChunk("eXIf", fullEXIF(be, 8))),
		phototest.PNGHeaderOnly(100000, 100000),
		phototest.WebP(5, 7, color.NRGBA{1, 2, 3, 128}, nil),
		phototest.WebP(5, 7, color.NRGBA{1, 2, 3, 255}, tiff),
		phototest.RIFFWebP(phototest.VP8X(vp8xAnimation, 4, 4), phototest.RIFFChunk("ANIM", make([]byte, 6))),
		[]byte("GIF89a"),
	}
}

// FuzzInspect checks that no input makes Inspect or Strip panic, that
// every error wraps one of the sentinels, that accepted inputs respect the
// limits and carry sane metadata, and that Strip's output inspects as a
// clean image of the displayed size.
func FuzzInspect(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Inspect(data, fuzzLimits)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupportedFormat) &&
				!errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrTooManyPixels) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if info.Format.MediaType() == "" {
			t.Fatalf("unknown format %q", info.Format)
		}
		if info.Width <= 0 || info.Height <= 0 || info.Width > fuzzLimits.MaxDimension || info.Height > fuzzLimits.MaxDimension ||
			int64(info.Width)*int64(info.Height) > fuzzLimits.MaxPixels {
			t.Fatalf("accepted %dx%d beyond limits", info.Width, info.Height)
		}
		if info.Orientation < 1 || info.Orientation > 8 {
			t.Fatalf("orientation %d", info.Orientation)
		}
		if g := info.GPS; g != nil {
			if math.IsNaN(g.Lat) || math.IsNaN(g.Lon) || math.Abs(g.Lat) > 90 || math.Abs(g.Lon) > 180 || (g.Lat == 0 && g.Lon == 0) {
				t.Fatalf("GPS out of range: %+v", g)
			}
			if g.Altitude != nil && (math.IsNaN(*g.Altitude) || math.IsInf(*g.Altitude, 0)) {
				t.Fatalf("altitude %v", *g.Altitude)
			}
		}
		if info.TakenAt == nil && info.TakenAtHasZone {
			t.Fatal("zone without time")
		}

		out, mt, err := Strip(data, info)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Strip: %v", err)
			}
			return
		}
		w, h := info.DisplaySize()
		again, err := Inspect(out, fuzzLimits)
		if err != nil {
			t.Fatalf("Inspect(Strip output): %v", err)
		}
		if again.Width != w || again.Height != h || again.GPS != nil || again.TakenAt != nil ||
			again.Orientation != 1 || again.Format.MediaType() != mt {
			t.Fatalf("stripped %+v (%s), want plain %dx%d", again, mt, w, h)
		}
	})
}

// FuzzParseEXIF aims the fuzzer straight at the TIFF reader, which
// FuzzInspect reaches only through a container.
func FuzzParseEXIF(f *testing.F) {
	f.Add(fullEXIF(le, 1))
	f.Add(fullEXIF(be, 6))
	f.Add(le.Build([]tEntry{le.Long(tagExifIFD, 8), le.Long(tagGPSIFD, 8)}, nil, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		x := parseEXIF(b)
		if g := x.gps; g != nil && (math.IsNaN(g.Lat) || math.IsNaN(g.Lon) || math.Abs(g.Lat) > 90 || math.Abs(g.Lon) > 180) {
			t.Fatalf("GPS out of range: %+v", g)
		}
		if x.orientation < 0 || x.orientation > 8 {
			t.Fatalf("orientation %d", x.orientation)
		}
		if x.takenAt == nil && x.hasZone {
			t.Fatal("zone without time")
		}
	})
}
