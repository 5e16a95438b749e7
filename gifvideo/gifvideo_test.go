package gifvideo_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/gif"
	"slices"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gifvideo"
	"github.com/fractal-grid/fractal/video/videotest"
)

func MustEncoder(tb testing.TB, cfg gifvideo.Config) *gifvideo.Encoder {
	tb.Helper()
	e, err := gifvideo.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func TestEncodeDecodes(t *testing.T) {
	for _, tc := range []struct {
		name             string
		dither           bool
		count, w, h, fps int
		maxErr           float64 // mean absolute error per channel
	}{
		{"default shape", true, 16, 256, 256, 8, 24},
		{"no dither", false, 16, 256, 256, 8, 16},
		{"one frame", true, 1, 64, 64, 1, 24},
		{"wide fast", true, 6, 128, 64, 30, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := MustEncoder(t, gifvideo.Config{Dither: tc.dither})
			src := videotest.Frames(tc.count, tc.w, tc.h, tc.fps)
			var buf bytes.Buffer
			if err := e.Encode(t.Context(), &buf, src); err != nil {
				t.Fatal(err)
			}
			g, err := gif.DecodeAll(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Image) != tc.count {
				t.Fatalf("got %d frames, want %d", len(g.Image), tc.count)
			}
			if g.Config.Width != tc.w || g.Config.Height != tc.h {
				t.Errorf("got size %dx%d, want %dx%d", g.Config.Width, g.Config.Height, tc.w, tc.h)
			}
			if want := gifvideo.Delays(tc.count, tc.fps); !slices.Equal(g.Delay, want) {
				t.Errorf("got delays %v, want %v", g.Delay, want)
			}
			wantLoop := 0 // forever
			if tc.count == 1 {
				wantLoop = -1 // a still image has no loop extension
			}
			if g.LoopCount != wantLoop {
				t.Errorf("got loop count %d, want %d", g.LoopCount, wantLoop)
			}
			for i, img := range g.Image {
				if img.Rect != image.Rect(0, 0, tc.w, tc.h) {
					t.Fatalf("frame %d: got bounds %v, want the full frame", i, img.Rect)
				}
				if i != 0 && i != tc.count-1 {
					continue // the first and last frames are enough to check colours
				}
				if mae := meanAbsError(img, src.Frame(i)); mae > tc.maxErr {
					t.Errorf("frame %d: got mean absolute error %.2f, want at most %.0f", i, mae, tc.maxErr)
				}
			}
		})
	}
}

func meanAbsError(img *image.Paletted, rgb []byte) float64 {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	var sum int
	for y := range h {
		for x := range w {
			r, g, b, _ := img.Palette[img.Pix[y*img.Stride+x]].RGBA()
			p := rgb[(y*w+x)*3:]
			for c, v := range []uint32{r >> 8, g >> 8, b >> 8} {
				d := int(v) - int(p[c])
				sum += max(d, -d)
			}
		}
	}
	return float64(sum) / float64(w*h*3)
}

// TestStillFramesStayStill checks that dithering is positional: identical
// frames quantise identically, so a still scene does not shimmer.
func TestStillFramesStayStill(t *testing.T) {
	e := MustEncoder(t, gifvideo.DefaultConfig())
	one := videotest.Frames(1, 64, 64, 8)
	still := fractal.NewFrames(3, 64, 64, 8)
	for i := range still.Count {
		copy(still.Frame(i), one.Frame(0))
	}
	var buf bytes.Buffer
	if err := e.Encode(t.Context(), &buf, still); err != nil {
		t.Fatal(err)
	}
	g, err := gif.DecodeAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(g.Image); i++ {
		if !bytes.Equal(g.Image[i].Pix, g.Image[0].Pix) {
			t.Errorf("frame %d differs from frame 0, want identical", i)
		}
	}
}

func TestDelays(t *testing.T) {
	for _, tc := range []struct {
		count, fps int
		want       []int
	}{
		{4, 1, []int{100, 100, 100, 100}},
		{4, 8, []int{13, 12, 13, 12}},
		{6, 30, []int{3, 4, 3, 3, 4, 3}},
		{3, 25, []int{4, 4, 4}},
		{3, 60, []int{2, 2, 2}},
	} {
		if got := gifvideo.Delays(tc.count, tc.fps); !slices.Equal(got, tc.want) {
			t.Errorf("Delays(%d, %d): got %v, want %v", tc.count, tc.fps, got, tc.want)
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	e := MustEncoder(t, gifvideo.DefaultConfig())
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		frames *fractal.Frames
		want   error
	}{
		{"cancelled", cancelled, videotest.Frames(2, 64, 64, 8), context.Canceled},
		{"short pixels", t.Context(), &fractal.Frames{Count: 2, Width: 64, Height: 64, FPS: 8, Pix: make([]byte, 10)}, fractal.ErrInvalid},
		{"zero fps", t.Context(), &fractal.Frames{Count: 1, Width: 64, Height: 64, Pix: make([]byte, 64*64*3)}, fractal.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := e.Encode(tc.ctx, &buf, tc.frames); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPalette(t *testing.T) {
	pal := MustEncoder(t, gifvideo.DefaultConfig()).Palette()
	if len(pal) != 256 {
		t.Fatalf("got %d colours, want 256", len(pal))
	}
	seen := map[[3]uint32]bool{}
	for _, c := range pal {
		r, g, b, _ := c.RGBA()
		if seen[[3]uint32{r, g, b}] {
			t.Errorf("colour %v appears twice", c)
		}
		seen[[3]uint32{r, g, b}] = true
	}
}
