package refengine

import (
	"fmt"
	"math"
	"testing"

	"github.com/fractal-grid/fractal"
)

// Prompt fidelity: the frames must show what the prompt says.

func fidelitySpec(prompt string) fractal.Spec {
	return fractal.Spec{Prompt: prompt, Seed: 3, Frames: 8, Width: 128, Height: 128, FPS: 8, Steps: 4}
}

// regionMean is the mean colour (0..1) of frame f within a disc of radius
// k·r around object i's centre.
func regionMean(tb testing.TB, spec fractal.Spec, fr *fractal.Frames, f, i int, k float64) [3]float64 {
	tb.Helper()
	o := newModel(spec, 0).frames[f].objs[i]
	h := float64(spec.Height)
	cx, cy, r := float64(o.cx)*h, float64(o.cy)*h, k*float64(o.r)*h
	var sum [3]float64
	n := 0
	pix := fr.Frame(f)
	for y := 0; y < fr.Height; y++ {
		for x := 0; x < fr.Width; x++ {
			if math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy) > r {
				continue
			}
			for c := 0; c < 3; c++ {
				sum[c] += float64(pix[(y*fr.Width+x)*3+c]) / 255
			}
			n++
		}
	}
	if n == 0 {
		tb.Fatalf("object %d of frame %d is outside the frame", i, f)
	}
	return [3]float64{sum[0] / float64(n), sum[1] / float64(n), sum[2] / float64(n)}
}

// hue returns the hue of a colour in degrees.
func hue(c [3]float64) float64 {
	mx := math.Max(c[0], math.Max(c[1], c[2]))
	mn := math.Min(c[0], math.Min(c[1], c[2]))
	if mx == mn {
		return 0
	}
	var h float64
	switch mx {
	case c[0]:
		h = math.Mod((c[1]-c[2])/(mx-mn), 6)
	case c[1]:
		h = (c[2]-c[0])/(mx-mn) + 2
	default:
		h = (c[0]-c[1])/(mx-mn) + 4
	}
	return math.Mod(h*60+360, 360)
}

func hueDistance(a, b float64) float64 {
	d := math.Abs(a - b)
	return math.Min(d, 360-d)
}

func TestColourWordsSetObjectHue(t *testing.T) {
	colours := []struct {
		word   string
		colour int
	}{{"red", colourRed}, {"yellow", colourYellow}, {"green", colourGreen}, {"blue", colourBlue}, {"purple", colourPurple}, {"orange", colourOrange}}
	scenes := []string{"over the ocean at night", "in the desert", "in a purple sky", "in the city at sunset", "over a snowy field"}
	for _, sceneWords := range scenes {
		for _, c := range colours {
			prompt := fmt.Sprintf("a %s ball %s", c.word, sceneWords)
			t.Run(prompt, func(t *testing.T) {
				spec := fidelitySpec(prompt)
				spec.Frames = 1
				res := MustGenerate(t, New(), spec, fractal.GenerateOptions{})
				got := hue(regionMean(t, spec, res.Frames, 0, 0, 0.6))
				p := palette[c.colour]
				want := hue([3]float64{float64(p[0]), float64(p[1]), float64(p[2])})
				t.Logf("object hue %.0f°, colour word hue %.0f°", got, want)
				if d := hueDistance(got, want); d > 30 {
					t.Errorf("got object hue %.0f°, want %.0f° (±30°)", got, want)
				}
			})
		}
	}
}

// redCentroid is the centre of the strongly red pixels of frame f.
func redCentroid(tb testing.TB, fr *fractal.Frames, f int) (float64, float64) {
	tb.Helper()
	var sx, sy, n float64
	pix := fr.Frame(f)
	for y := 0; y < fr.Height; y++ {
		for x := 0; x < fr.Width; x++ {
			r, g, b := float64(pix[(y*fr.Width+x)*3]), float64(pix[(y*fr.Width+x)*3+1]), float64(pix[(y*fr.Width+x)*3+2])
			if r > 90 && r > 2*g && r > 2*b {
				sx, sy, n = sx+float64(x), sy+float64(y), n+1
			}
		}
	}
	if n < 20 {
		tb.Fatalf("frame %d: only %.0f red pixels", f, n)
	}
	return sx / n, sy / n
}

func TestMotionWordsMoveTheObject(t *testing.T) {
	tests := []struct {
		motion string
		check  func(dx, dy float64) bool
		want   string
	}{
		{"bouncing", func(dx, dy float64) bool { return math.Abs(dy) > 6 && math.Abs(dx) < 2 }, "vertical movement"},
		{"moving left", func(dx, dy float64) bool { return dx < -6 }, "leftward movement"},
		{"moving right", func(dx, dy float64) bool { return dx > 6 }, "rightward movement"},
		{"rising", func(dx, dy float64) bool { return dy < -6 }, "upward movement"},
		{"falling", func(dx, dy float64) bool { return dy > 6 }, "downward movement"},
		{"orbiting", func(dx, dy float64) bool { return math.Hypot(dx, dy) > 6 }, "movement"},
		{"still", func(dx, dy float64) bool { return math.Hypot(dx, dy) < 0.5 }, "no movement"},
	}
	for _, tt := range tests {
		prompt := "a red ball " + tt.motion + " in a blue sky"
		t.Run(prompt, func(t *testing.T) {
			spec := fidelitySpec(prompt)
			res := MustGenerate(t, New(), spec, fractal.GenerateOptions{})
			x0, y0 := redCentroid(t, res.Frames, 0)
			x1, y1 := redCentroid(t, res.Frames, 3)
			t.Logf("centroid moved by (%.1f, %.1f) px", x1-x0, y1-y0)
			if dx, dy := x1-x0, y1-y0; !tt.check(dx, dy) {
				t.Errorf("centroid moved by (%.1f, %.1f) px between frames 0 and 3, want %s", dx, dy, tt.want)
			}
		})
	}
}

// frameChange is the mean absolute pixel difference between the first and
// last frames.
func frameChange(fr *fractal.Frames) float64 {
	return meanAbsDiff(fr.Frame(0), fr.Frame(fr.Count-1))
}

func TestStillPromptsBarelyChange(t *testing.T) {
	for _, prompt := range []string{
		"a red ball, still, over the ocean",
		"a static yellow star over the desert at night",
		"a motionless tree in a snowy forest",
	} {
		t.Run(prompt, func(t *testing.T) {
			res := MustGenerate(t, New(), fidelitySpec(prompt), fractal.GenerateOptions{})
			got := frameChange(res.Frames)
			t.Logf("mean change %.3f", got)
			if got > 0.5 {
				t.Errorf("got mean change %.2f between first and last frame, want ≤ 0.5", got)
			}
		})
	}
	for _, prompt := range []string{"a red ball bouncing over the ocean", "two yellow stars spinning in a purple sky", "a fish swimming left"} {
		t.Run(prompt, func(t *testing.T) {
			res := MustGenerate(t, New(), fidelitySpec(prompt), fractal.GenerateOptions{})
			got := frameChange(res.Frames)
			t.Logf("mean change %.3f", got)
			if got < 1 {
				t.Errorf("got mean change %.2f between first and last frame, want ≥ 1", got)
			}
		})
	}
}

func meanLuma(pix []byte) float64 {
	var s float64
	for i := 0; i < len(pix); i += 3 {
		s += 0.299*float64(pix[i]) + 0.587*float64(pix[i+1]) + 0.114*float64(pix[i+2])
	}
	return s / float64(len(pix)/3)
}

func TestLightingWords(t *testing.T) {
	tests := []struct{ dark, light string }{
		{"a red ball over the ocean at night", "a red ball over the ocean during the day"},
		{"a dark forest", "a bright forest"},
		{"a car in the city at midnight", "a car in the city at noon"},
	}
	for _, tt := range tests {
		t.Run(tt.dark, func(t *testing.T) {
			d := meanLuma(MustGenerate(t, New(), fidelitySpec(tt.dark), fractal.GenerateOptions{}).Frames.Pix)
			l := meanLuma(MustGenerate(t, New(), fidelitySpec(tt.light), fractal.GenerateOptions{}).Frames.Pix)
			t.Logf("mean luma %.1f (dark) vs %.1f (light)", d, l)
			if d > 0.6*l {
				t.Errorf("got mean luma %.1f for %q and %.1f for %q, want the first below 60%% of the second", d, tt.dark, l, tt.light)
			}
		})
	}
}

func TestUnknownWordsChangeTheVideo(t *testing.T) {
	base := MustGenerate(t, New(), fidelitySpec("a red ball over the ocean"), fractal.GenerateOptions{})
	for _, extra := range []string{"zorblax", "quietly", "ñandú", "夜"} {
		t.Run(extra, func(t *testing.T) {
			res := MustGenerate(t, New(), fidelitySpec("a red ball over the ocean "+extra), fractal.GenerateOptions{})
			got := meanAbsDiff(base.Frames.Pix, res.Frames.Pix)
			t.Logf("mean difference %.2f", got)
			if got < 2 {
				t.Errorf("got mean difference %.2f, want ≥ 2", got)
			}
		})
	}
}

// blobs counts the 4-connected regions of at least minSize pixels where
// keep is true in frame f.
func blobs(fr *fractal.Frames, f, minSize int, keep func(r, g, b byte) bool) int {
	w, h := fr.Width, fr.Height
	pix := fr.Frame(f)
	seen := make([]bool, w*h)
	count := 0
	for start := range seen {
		if seen[start] || !keep(pix[start*3], pix[start*3+1], pix[start*3+2]) {
			continue
		}
		size, stack := 0, []int{start}
		seen[start] = true
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			x, y := p%w, p/w
			for _, q := range [][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if q[0] < 0 || q[0] >= w || q[1] < 0 || q[1] >= h {
					continue
				}
				n := q[1]*w + q[0]
				if !seen[n] && keep(pix[n*3], pix[n*3+1], pix[n*3+2]) {
					seen[n] = true
					stack = append(stack, n)
				}
			}
		}
		if size >= minSize {
			count++
		}
	}
	return count
}

func TestCountWords(t *testing.T) {
	yellow := func(r, g, b byte) bool { return r > 150 && g > 120 && int(b) < int(g)/2 }
	for _, tt := range []struct {
		prompt string
		want   int
	}{
		{"a yellow star in a blue sky", 1},
		{"two yellow stars in a blue sky", 2},
		{"three yellow stars spinning in a blue sky", 3},
		{"4 yellow stars in a blue sky", 4},
	} {
		t.Run(tt.prompt, func(t *testing.T) {
			spec := fidelitySpec(tt.prompt)
			spec.Width, spec.Frames = 256, 1
			res := MustGenerate(t, New(), spec, fractal.GenerateOptions{})
			if got := blobs(res.Frames, 0, 30, yellow); got != tt.want {
				t.Errorf("got %d yellow shapes, want %d", got, tt.want)
			}
		})
	}
}

// TestBackdropWords checks the colour of the lower third of the picture,
// where the ground or water is.
func TestBackdropWords(t *testing.T) {
	for _, tt := range []struct {
		backdrop string
		check    func(c [3]float64) bool
		want     string
	}{
		{"ocean", func(c [3]float64) bool { return c[2] > c[0]+0.1 && c[2] > c[1] }, "blue water"},
		{"desert", func(c [3]float64) bool { return c[0] > c[1] && c[1] > c[2]+0.1 }, "sand"},
		{"forest", func(c [3]float64) bool { return c[1] > c[0]+0.1 && c[1] > c[2]+0.1 }, "green ground"},
		{"snow", func(c [3]float64) bool { return c[0] > 0.75 && c[1] > 0.75 && c[2] > 0.8 }, "white ground"},
		{"space", func(c [3]float64) bool { return c[0]+c[1]+c[2] < 0.9 && c[2] > c[1] }, "a dark violet sky"},
	} {
		prompt := "a ball in the " + tt.backdrop
		t.Run(prompt, func(t *testing.T) {
			spec := fidelitySpec(prompt)
			spec.Frames = 1
			res := MustGenerate(t, New(), spec, fractal.GenerateOptions{})
			third := res.Frames.Frame(0)[2*len(res.Frames.Frame(0))/3/3*3:]
			var c [3]float64
			for i, v := range third {
				c[i%3] += float64(v) / 255 / float64(len(third)/3)
			}
			if !tt.check(c) {
				t.Errorf("got mean colour %.2f of the lower third, want %s", c, tt.want)
			}
		})
	}
}
