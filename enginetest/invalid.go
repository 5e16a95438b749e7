package enginetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// invalidSpecs are specs every engine refuses, with the field it must name.
func invalidSpecs() []struct {
	name, field string
	spec        fractal.Spec
} {
	mod := func(f func(*fractal.Spec)) fractal.Spec {
		s := baseSpec
		f(&s)
		return s
	}
	return []struct {
		name, field string
		spec        fractal.Spec
	}{
		{"EmptyPrompt", "prompt", mod(func(s *fractal.Spec) { s.Prompt = "" })},
		{"NewlineInPrompt", "prompt", mod(func(s *fractal.Spec) { s.Prompt = "a red\nball" })},
		{"NoFrames", "frames", mod(func(s *fractal.Spec) { s.Frames = 0 })},
		{"TooManyFrames", "frames", mod(func(s *fractal.Spec) { s.Frames = fractal.MaxFrames + 1 })},
		{"WidthNotMultiple", "width", mod(func(s *fractal.Spec) { s.Width = 100 })},
		{"HeightTooLarge", "height", mod(func(s *fractal.Spec) { s.Height = fractal.MaxSide + fractal.SideMultiple })},
		{"NoFPS", "fps", mod(func(s *fractal.Spec) { s.FPS = 0 })},
		{"NoSteps", "steps", mod(func(s *fractal.Spec) { s.Steps = 0 })},
		{"TooManySteps", "steps", mod(func(s *fractal.Spec) { s.Steps = fractal.MaxSteps + 1 })},
	}
}

func testInvalidSpec(t *testing.T, e fractal.Engine) {
	final := MustGenerate(t, e, baseSpec, true).States[baseSpec.Steps]
	ctx := ctxT(t)
	for _, tc := range invalidSpecs() {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			_, err := e.Generate(ctx, tc.spec, fractal.GenerateOptions{Progress: func(fractal.Progress) { called = true }})
			var fe *fractal.FieldError
			switch {
			case !errors.As(err, &fe):
				t.Errorf("Generate: got error %v, want a *fractal.FieldError", err)
			case fe.Field != tc.field:
				t.Errorf("Generate: got field %q (%v), want %q", fe.Field, err, tc.field)
			}
			mustFail(t, "Generate", err)
			if called {
				t.Errorf("Generate reported progress for an invalid spec")
			}
			_, err = e.Step(ctx, tc.spec, 0, fractal.State{})
			mustFail(t, "Step(0)", err)
			_, err = e.Decode(ctx, tc.spec, final)
			mustFail(t, "Decode", err)
		})
	}
}

func testInvalidState(t *testing.T, e fractal.Engine) {
	g := MustGenerate(t, e, baseSpec, true)
	other := baseSpec
	other.Width, other.Frames = 64, 2
	otherFinal := MustGenerate(t, e, other, true).States[other.Steps]
	mid := g.States[2]
	tiny := fractal.State{Shape: []int{1}, Data: []float32{0}}
	ctx := ctxT(t)
	steps := []struct {
		name string
		t    int
		prev fractal.State
	}{
		{"NegativeT", -1, mid},
		{"TPastSteps", baseSpec.Steps + 1, g.States[baseSpec.Steps]},
		{"MissingPrev", 3, fractal.State{}},
		{"WrongShape", 3, tiny},
		{"OtherSpecShape", 3, otherFinal},
	}
	for _, tc := range steps {
		t.Run("Step"+tc.name, func(t *testing.T) {
			_, err := e.Step(ctx, baseSpec, tc.t, tc.prev)
			mustFail(t, "Step", err)
		})
	}
	decodes := []struct {
		name  string
		final fractal.State
	}{
		{"Missing", fractal.State{}},
		{"WrongShape", tiny},
		{"OtherSpecShape", otherFinal},
	}
	for _, tc := range decodes {
		t.Run("Decode"+tc.name, func(t *testing.T) {
			_, err := e.Decode(ctx, baseSpec, tc.final)
			mustFail(t, "Decode", err)
			if fd, ok := e.(fractal.FrameDecoder); ok {
				_, err := fd.DecodeFrame(ctx, baseSpec, tc.final, 0)
				mustFail(t, "DecodeFrame", err)
			}
		})
	}
}

// testConcurrent runs generations at once and checks they match sequential
// ones: an engine must not share mutable state between calls.
func testConcurrent(t *testing.T, e fractal.Engine) {
	specs := []fractal.Spec{baseSpec, baseSpec}
	specs[1].Seed = 99
	want := make([]fractal.Digest, len(specs))
	for i, s := range specs {
		want[i] = MustGenerate(t, e, s, false).Frames.Digest()
	}
	got := make([]fractal.Digest, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Go(func() { got[i] = MustGenerate(t, e, s, false).Frames.Digest() })
	}
	wg.Wait()
	if !slices.Equal(got, want) {
		t.Errorf("concurrent frames digests %v, want sequential %v", got, want)
	}
}

// testCancel checks that cancelling stops a generation promptly, and that a
// cancelled context is refused before any work.
func testCancel(t *testing.T, e fractal.Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps atomic.Int64
	var cancelled atomic.Int64 // unix nanoseconds of the cancel
	start := time.Now()
	_, err := e.Generate(ctx, cancelSpec, fractal.GenerateOptions{Progress: func(p fractal.Progress) {
		if steps.Add(1) == 1 {
			cancelled.Store(time.Now().UnixNano())
			cancel()
		}
	}})
	returned := time.Now()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Generate cancelled after step 1: got error %v, want %v", err, context.Canceled)
	}
	if n := steps.Load(); n >= int64(cancelSpec.Steps) {
		t.Errorf("Generate ran all %d steps after being cancelled at step 1", n)
	}
	if c := cancelled.Load(); c != 0 {
		// One step is the most an engine may finish after a cancel.
		stepTime := time.Unix(0, c).Sub(start)
		if late := returned.Sub(time.Unix(0, c)); late > 2*stepTime+time.Second {
			t.Errorf("Generate returned %s after the cancel; one step took %s", late, stepTime)
		}
	}

	done, stop := context.WithCancel(context.Background())
	stop()
	called := false
	if _, err := e.Generate(done, baseSpec, fractal.GenerateOptions{Progress: func(fractal.Progress) { called = true }}); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with a cancelled context: got error %v, want %v", err, context.Canceled)
	}
	if called {
		t.Errorf("Generate with a cancelled context reported progress")
	}
}
