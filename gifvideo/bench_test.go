package gifvideo_test

import (
	"image"
	"image/color"
	"io"
	"testing"

	"github.com/fractal-grid/fractal/gifvideo"
	"github.com/fractal-grid/fractal/video/videotest"
)

// BenchmarkEncode encodes the default video (16 frames of 256×256).
func BenchmarkEncode(b *testing.B) {
	e := MustEncoder(b, gifvideo.DefaultConfig())
	f := videotest.Frames(16, 256, 256, 8)
	b.SetBytes(int64(len(f.Pix)))
	for b.Loop() {
		if err := e.Encode(b.Context(), io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuantizeFrame maps one 256×256 frame through the lookup table.
func BenchmarkQuantizeFrame(b *testing.B) {
	e := MustEncoder(b, gifvideo.DefaultConfig())
	f := videotest.Frames(1, 256, 256, 8)
	dst := image.NewPaletted(image.Rect(0, 0, 256, 256), e.Palette())
	for b.Loop() {
		e.Quantize(dst, f.Frame(0))
	}
}

// BenchmarkQuantizeFramePaletteIndex does the same with the standard
// library's per-pixel Palette.Index, for comparison.
func BenchmarkQuantizeFramePaletteIndex(b *testing.B) {
	e := MustEncoder(b, gifvideo.DefaultConfig())
	f := videotest.Frames(1, 256, 256, 8)
	pal := e.Palette()
	dst := image.NewPaletted(image.Rect(0, 0, 256, 256), pal)
	pix := f.Frame(0)
	for b.Loop() {
		for i := range dst.Pix {
			dst.Pix[i] = uint8(pal.Index(color.RGBA{pix[3*i], pix[3*i+1], pix[3*i+2], 255}))
		}
	}
}

// BenchmarkNew builds the palette and lookup table.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		MustEncoder(b, gifvideo.DefaultConfig())
	}
}
