package refengine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/fractal-grid/fractal"
)

// smallSpec is a quick shape for tests that run many generations.
func smallSpec(prompt string, seed uint64) fractal.Spec {
	return fractal.Spec{Prompt: prompt, Seed: seed, Frames: 6, Width: 96, Height: 64, FPS: 8, Steps: 5}
}

// MustGenerate runs a generation, failing the test on error.
func MustGenerate(tb testing.TB, e *Engine, spec fractal.Spec, opts fractal.GenerateOptions) *fractal.Result {
	tb.Helper()
	res, err := e.Generate(context.Background(), spec, opts)
	if err != nil {
		tb.Fatalf("generate %q: %v", spec.Prompt, err)
	}
	return res
}

func TestGenerateDeterministic(t *testing.T) {
	spec := fractal.Spec{Prompt: "two yellow stars spinning in a purple sky", Seed: 99, Frames: 8, Width: 160, Height: 128, FPS: 8, Steps: 6}
	want := MustGenerate(t, New(), spec, fractal.GenerateOptions{}).Commit()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 1} {
		runtime.GOMAXPROCS(procs)
		got := MustGenerate(t, New(), spec, fractal.GenerateOptions{}).Commit()
		if got != want {
			t.Errorf("GOMAXPROCS=%d: got commitment %+v, want %+v", procs, got, want)
		}
	}
}

// TestStepRecomputesTrajectory chains Step from state 0 and checks every
// state against Generate's digests and kept states, bit for bit.
func TestStepRecomputesTrajectory(t *testing.T) {
	ctx := context.Background()
	e := New()
	spec := smallSpec("a red ball bouncing over the ocean at night", 5)
	var progress []int
	res := MustGenerate(t, e, spec, fractal.GenerateOptions{
		KeepStates: true,
		Progress:   func(p fractal.Progress) { progress = append(progress, p.Step, p.Steps) },
	})
	if got, want := len(res.StateDigests), spec.Steps+1; got != want {
		t.Fatalf("got %d state digests, want %d", got, want)
	}
	if got, want := len(res.States), spec.Steps+1; got != want {
		t.Fatalf("got %d states, want %d", got, want)
	}
	var wantProgress []int
	for s := 1; s <= spec.Steps; s++ {
		wantProgress = append(wantProgress, s, spec.Steps)
	}
	if !slices.Equal(progress, wantProgress) {
		t.Errorf("got progress %v, want %v", progress, wantProgress)
	}
	var prev fractal.State
	for step := 0; step <= spec.Steps; step++ {
		s, err := e.Step(ctx, spec, step, prev)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if got, want := s.Digest(), res.StateDigests[step]; got != want {
			t.Fatalf("step %d: got digest %s, want %s", step, got, want)
		}
		if err := fractal.CompareStates(s, res.States[step], 0); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		// Recomputing from the committed previous state gives the same.
		if step > 0 {
			again, err := e.Step(ctx, spec, step, res.States[step-1])
			if err != nil || again.Digest() != res.StateDigests[step] {
				t.Fatalf("step %d from committed state: got %v (err %v), want %s", step, again.Digest(), err, res.StateDigests[step])
			}
		}
		prev = s
	}
	frames, err := e.Decode(ctx, spec, prev)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := frames.Digest(), res.Frames.Digest(); got != want {
		t.Errorf("decode of the chained final state: got %s, want %s", got, want)
	}
	if got, want := res.Spec, spec; got != want {
		t.Errorf("result spec: got %+v, want %+v", got, want)
	}
	if got, want := res.Profile, e.Profile(); !reflect.DeepEqual(got, want) {
		t.Errorf("result profile: got %+v, want %+v", got, want)
	}
}

func TestDecodeFrameMatchesDecode(t *testing.T) {
	ctx := context.Background()
	e := New()
	spec := smallSpec("a blue car moving left in the city at dusk", 11)
	res := MustGenerate(t, e, spec, fractal.GenerateOptions{KeepStates: true})
	final := res.States[spec.Steps]
	for i := 0; i < spec.Frames; i++ {
		got, err := e.DecodeFrame(ctx, spec, final, i)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if want := res.Frames.Frame(i); !slices.Equal(got, want) {
			t.Errorf("frame %d: DecodeFrame differs from Decode", i)
		}
	}
}

func TestSeedsDiffer(t *testing.T) {
	spec := smallSpec("a red ball bouncing over the ocean at night", 1)
	a := MustGenerate(t, New(), spec, fractal.GenerateOptions{})
	spec.Seed = 2
	b := MustGenerate(t, New(), spec, fractal.GenerateOptions{})
	if a.Commit() == b.Commit() {
		t.Fatalf("seeds 1 and 2: got the same commitment %+v", a.Commit())
	}
	if d := meanAbsDiff(a.Frames.Pix, b.Frames.Pix); d < 1 {
		t.Errorf("seeds 1 and 2: got mean pixel difference %.2f, want ≥ 1", d)
	}
}

func TestInvalidInputs(t *testing.T) {
	ctx := context.Background()
	e := New()
	spec := smallSpec("a ball", 1)
	good, err := e.Step(ctx, spec, 0, fractal.State{})
	if err != nil {
		t.Fatal(err)
	}
	badSpec := spec
	badSpec.Width = 100
	short := good.Clone()
	short.Data = short.Data[1:]
	wrongShape := good.Clone()
	wrongShape.Shape = []int{spec.Frames, spec.Height / 4, spec.Width / 4 * 4, 1}
	nan := good.Clone()
	nan.Data[7] = float32(nanValue())
	tests := []struct {
		name string
		run  func() error
	}{
		{"generate bad spec", func() error { _, err := e.Generate(ctx, badSpec, fractal.GenerateOptions{}); return err }},
		{"step bad spec", func() error { _, err := e.Step(ctx, badSpec, 1, good); return err }},
		{"step negative t", func() error { _, err := e.Step(ctx, spec, -1, good); return err }},
		{"step t past steps", func() error { _, err := e.Step(ctx, spec, spec.Steps+1, good); return err }},
		{"step empty state", func() error { _, err := e.Step(ctx, spec, 1, fractal.State{}); return err }},
		{"step short data", func() error { _, err := e.Step(ctx, spec, 1, short); return err }},
		{"step wrong shape", func() error { _, err := e.Step(ctx, spec, 1, wrongShape); return err }},
		{"step NaN", func() error { _, err := e.Step(ctx, spec, 1, nan); return err }},
		{"decode bad spec", func() error { _, err := e.Decode(ctx, badSpec, good); return err }},
		{"decode wrong shape", func() error { _, err := e.Decode(ctx, spec, wrongShape); return err }},
		{"decode NaN", func() error { _, err := e.Decode(ctx, spec, nan); return err }},
		{"decode frame out of range", func() error { _, err := e.DecodeFrame(ctx, spec, good, spec.Frames); return err }},
		{"decode frame negative", func() error { _, err := e.DecodeFrame(ctx, spec, good, -1); return err }},
		{"decode frame short data", func() error { _, err := e.DecodeFrame(ctx, spec, short, 0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, fractal.ErrInvalid) {
				t.Fatalf("got error %v, want one wrapping %v", err, fractal.ErrInvalid)
			}
			t.Log(err)
		})
	}
	t.Run("generate returns the spec's field error", func(t *testing.T) {
		_, err := e.Generate(ctx, badSpec, fractal.GenerateOptions{})
		var fe *fractal.FieldError
		if !errors.As(err, &fe) || fe.Field != "width" {
			t.Fatalf("got %v, want a *fractal.FieldError for width", err)
		}
	})
}

func TestGenerateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	spec := smallSpec("a ball", 1)
	_, err := New().Generate(ctx, spec, fractal.GenerateOptions{Progress: func(p fractal.Progress) {
		if p.Step == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestProfile(t *testing.T) {
	p := New().Profile()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.ID != ProfileID || p.Version != Version || p.Determinism != fractal.Exact || p.Digest.IsZero() {
		t.Errorf("got profile %+v, want %s@%s, exact, with a digest", p, ProfileID, Version)
	}
	if err := p.Same(New().Profile()); err != nil {
		t.Errorf("two engines: %v", err)
	}
}

func TestJitterEngine(t *testing.T) {
	ctx := context.Background()
	a, err := NewWithJitter(1e-4, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewWithJitter(1e-4, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := a.Profile()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Determinism != fractal.Tolerant || p.Tolerance != JitterTolerance {
		t.Errorf("got determinism %q tolerance %g, want %q %g", p.Determinism, p.Tolerance, fractal.Tolerant, JitterTolerance)
	}
	if err := p.Same(b.Profile()); err != nil {
		t.Errorf("jitter seeds 1 and 2 should share a profile: %v", err)
	}
	if p.Digest == New().Profile().Digest {
		t.Error("jittered and exact engines have the same profile digest")
	}
	spec := smallSpec("a red ball bouncing over the ocean at night", 3)
	res := MustGenerate(t, a, spec, fractal.GenerateOptions{KeepStates: true})
	exact := MustGenerate(t, New(), spec, fractal.GenerateOptions{KeepStates: true})
	for step := 1; step <= spec.Steps; step++ {
		same, err := a.Step(ctx, spec, step, res.States[step-1])
		if err != nil {
			t.Fatal(err)
		}
		if err := fractal.CompareStates(same, res.States[step], 0); err != nil {
			t.Errorf("step %d, same jitter seed: %v", step, err)
		}
		other, err := b.Step(ctx, spec, step, res.States[step-1])
		if err != nil {
			t.Fatal(err)
		}
		if err := fractal.CompareStates(other, res.States[step], 0); !errors.Is(err, fractal.ErrMismatch) {
			t.Errorf("step %d, other jitter seed: got %v, want a bitwise mismatch", step, err)
		}
		if err := fractal.CompareStates(other, res.States[step], p.StepTolerance()); err != nil {
			t.Errorf("step %d, other jitter seed: %v", step, err)
		}
		if err := fractal.CompareStates(res.States[step], exact.States[step], p.StepTolerance()); err != nil {
			t.Errorf("step %d, against the exact trajectory: %v", step, err)
		}
	}
	for _, amp := range []float32{0, -1e-4, MaxJitter * 2, float32(nanValue())} {
		if _, err := NewWithJitter(amp, 1); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("amplitude %g: got %v, want %v", amp, err, fractal.ErrInvalid)
		}
	}
}

func meanAbsDiff(a, b []byte) float64 {
	var sum int
	for i := range a {
		d := int(a[i]) - int(b[i])
		sum += max(d, -d)
	}
	return float64(sum) / float64(len(a))
}

func TestExtremeShapes(t *testing.T) {
	ctx := context.Background()
	e := New()
	tests := []fractal.Spec{
		{Prompt: "a red ball bouncing over the ocean at night", Seed: 0, Frames: 1, Width: 1024, Height: 64, FPS: 60, Steps: 1},
		{Prompt: "two yellow stars spinning in a purple sky", Seed: 9, Frames: 2, Width: 64, Height: 1024, FPS: 1, Steps: 2},
		{Prompt: "x", Seed: 1, Frames: 64, Width: 64, Height: 64, FPS: 24, Steps: 1},
	}
	for _, spec := range tests {
		t.Run(fmt.Sprintf("%dx%dx%d", spec.Frames, spec.Width, spec.Height), func(t *testing.T) {
			res := MustGenerate(t, e, spec, fractal.GenerateOptions{KeepStates: true})
			if err := res.Frames.Validate(); err != nil {
				t.Fatal(err)
			}
			if got, want := res.States[0].Shape, StateShape(spec); !slices.Equal(got, want) {
				t.Errorf("got state shape %v, want %v", got, want)
			}
			last := spec.Frames - 1
			frame, err := e.DecodeFrame(ctx, spec, res.States[spec.Steps], last)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(frame, res.Frames.Frame(last)) {
				t.Errorf("frame %d: DecodeFrame differs from Decode", last)
			}
		})
	}
}

func TestStepFrameMatchesStep(t *testing.T) {
	ctx := context.Background()
	jittered, err := NewWithJitter(1e-4, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*Engine{New(), jittered} {
		spec := smallSpec("a green fish swimming left in the sea", 8)
		res := MustGenerate(t, e, spec, fractal.GenerateOptions{KeepStates: true})
		size := len(res.States[0].Data) / spec.Frames
		for step := 0; step <= spec.Steps; step++ {
			var prev fractal.State
			if step > 0 {
				prev = res.States[step-1]
			}
			for i := 0; i < spec.Frames; i++ {
				got, err := e.StepFrame(ctx, spec, step, prev, i)
				if err != nil {
					t.Fatalf("%s step %d frame %d: %v", e.Profile().Determinism, step, i, err)
				}
				if want := res.States[step].Data[i*size : (i+1)*size]; !slices.Equal(got, want) {
					t.Fatalf("%s step %d frame %d: StepFrame differs from Step", e.Profile().Determinism, step, i)
				}
			}
		}
	}
	spec := smallSpec("a ball", 1)
	good, err := New().Step(ctx, spec, 0, fractal.State{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		t, i    int
		prev    fractal.State
		badSpec bool
	}{
		{"frame past the end", 1, spec.Frames, good, false},
		{"negative frame", 1, -1, good, false},
		{"t past steps", spec.Steps + 1, 0, good, false},
		{"empty state", 1, 0, fractal.State{}, false},
		{"bad spec", 1, 0, good, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := spec
			if tt.badSpec {
				s.FPS = 0
			}
			if _, err := New().StepFrame(ctx, s, tt.t, tt.prev, tt.i); !errors.Is(err, fractal.ErrInvalid) {
				t.Fatalf("got %v, want an error wrapping %v", err, fractal.ErrInvalid)
			}
		})
	}
}
