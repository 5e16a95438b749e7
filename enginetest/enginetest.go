// Package enginetest is the one contract suite every fractal.Engine must
// pass: the built-in engine, and any engine reached over the engine protocol.
package enginetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// callTimeout bounds every engine call the suite makes.
const callTimeout = 2 * time.Minute

// Specs the suite generates: small, so the suite stays fast, and not square,
// so a transposed width and height shows.
var (
	baseSpec = fractal.Spec{Prompt: "a red ball bouncing over the ocean at night", Seed: 7, Frames: 4, Width: 96, Height: 64, FPS: 8, Steps: 5}
	// cancelSpec is large enough that cancelling after the first step leaves
	// most of the work undone.
	cancelSpec = fractal.DefaultSpec("a blue cube spinning in a forest", 11)
)

// Run runs the contract suite against engines made by newEngine (called once
// per subtest; it may register cleanups on t). It checks: a valid, stable
// profile; a result of the spec's shape with Steps+1 state digests; progress
// reported Steps times in order; KeepStates giving Steps+1 states that match
// their digests without changing the result; determinism across instances
// (bit-exact, or within the tolerance of a tolerant profile); that seed and
// prompt matter; that Step recomputes every committed state, chained from
// state 0 and from each committed predecessor; that Decode of the final state
// gives Generate's frames and DecodeFrame each frame of them; that invalid
// specs (naming the field), steps and states are refused with
// fractal.ErrInvalid; that concurrent calls match sequential ones; and that
// cancelling stops a generation within about a step.
func Run(t *testing.T, newEngine func(t *testing.T) fractal.Engine) {
	t.Run("Profile", func(t *testing.T) { testProfile(t, newEngine(t)) })
	t.Run("Result", func(t *testing.T) { testResult(t, newEngine(t)) })
	t.Run("Progress", func(t *testing.T) { testProgress(t, newEngine(t)) })
	t.Run("KeepStates", func(t *testing.T) { testKeepStates(t, newEngine(t)) })
	t.Run("Deterministic", func(t *testing.T) { testDeterministic(t, newEngine) })
	t.Run("InputsMatter", func(t *testing.T) { testInputsMatter(t, newEngine(t)) })
	t.Run("StepChain", func(t *testing.T) { testStepChain(t, newEngine(t)) })
	t.Run("Decode", func(t *testing.T) { testDecode(t, newEngine(t)) })
	t.Run("DecodeFrame", func(t *testing.T) { testDecodeFrame(t, newEngine(t)) })
	t.Run("InvalidSpec", func(t *testing.T) { testInvalidSpec(t, newEngine(t)) })
	t.Run("InvalidState", func(t *testing.T) { testInvalidState(t, newEngine(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newEngine(t)) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, newEngine(t)) })
}

// Generation is a Generate result with the progress it reported.
type Generation struct {
	*fractal.Result
	Progress []fractal.Progress
}

// MustGenerate runs Generate, failing the test on error.
func MustGenerate(tb testing.TB, e fractal.Engine, spec fractal.Spec, keepStates bool) Generation {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var mu sync.Mutex
	var g Generation
	res, err := e.Generate(ctx, spec, fractal.GenerateOptions{KeepStates: keepStates, Progress: func(p fractal.Progress) {
		mu.Lock()
		g.Progress = append(g.Progress, p)
		mu.Unlock()
	}})
	if err != nil {
		tb.Fatalf("Generate(%+v): %v", spec, err)
	}
	if res == nil || res.Frames == nil {
		tb.Fatalf("Generate(%+v) returned no frames", spec)
	}
	g.Result = res
	return g
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

func testProfile(t *testing.T, e fractal.Engine) {
	p := e.Profile()
	if err := p.Validate(); err != nil {
		t.Fatalf("Profile() = %+v: %v", p, err)
	}
	if err := p.Same(e.Profile()); err != nil {
		t.Fatalf("Profile() changed between calls: %v", err)
	}
}

func testResult(t *testing.T, e fractal.Engine) {
	g := MustGenerate(t, e, baseSpec, false)
	if err := e.Profile().Same(g.Profile); err != nil {
		t.Errorf("Result.Profile: %v", err)
	}
	if g.Spec != baseSpec {
		t.Errorf("Result.Spec = %+v, want %+v", g.Spec, baseSpec)
	}
	if err := g.Frames.Validate(); err != nil {
		t.Errorf("Result.Frames: %v", err)
	}
	f := g.Frames
	if f.Count != baseSpec.Frames || f.Width != baseSpec.Width || f.Height != baseSpec.Height || f.FPS != baseSpec.FPS {
		t.Errorf("frames %d×%d×%d at %d fps, want %d×%d×%d at %d fps",
			f.Count, f.Height, f.Width, f.FPS, baseSpec.Frames, baseSpec.Height, baseSpec.Width, baseSpec.FPS)
	}
	if got, want := len(g.StateDigests), baseSpec.Steps+1; got != want {
		t.Errorf("got %d state digests, want %d", got, want)
	}
	if len(g.States) != 0 {
		t.Errorf("got %d states without KeepStates, want 0", len(g.States))
	}
}

func testProgress(t *testing.T, e fractal.Engine) {
	g := MustGenerate(t, e, baseSpec, false)
	want := make([]fractal.Progress, baseSpec.Steps)
	for i := range want {
		want[i] = fractal.Progress{Step: i + 1, Steps: baseSpec.Steps}
	}
	if !slices.Equal(g.Progress, want) {
		t.Errorf("progress calls %v, want %v", g.Progress, want)
	}
}

func testKeepStates(t *testing.T, e fractal.Engine) {
	g := MustGenerate(t, e, baseSpec, true)
	if got, want := len(g.States), baseSpec.Steps+1; got != want {
		t.Fatalf("got %d states with KeepStates, want %d", got, want)
	}
	for i, s := range g.States {
		if err := s.Validate(); err != nil {
			t.Errorf("state %d: %v", i, err)
		}
		if got, want := s.Digest(), g.StateDigests[i]; got != want {
			t.Errorf("state %d digest %s, want committed %s", i, got, want)
		}
	}
	plain := MustGenerate(t, e, baseSpec, false)
	if !slices.Equal(plain.StateDigests, g.StateDigests) || plain.Frames.Digest() != g.Frames.Digest() {
		t.Errorf("KeepStates changed the result: digests %v vs %v", plain.StateDigests, g.StateDigests)
	}
}

func testDeterministic(t *testing.T, newEngine func(t *testing.T) fractal.Engine) {
	e1, e2 := newEngine(t), newEngine(t)
	a := MustGenerate(t, e1, baseSpec, true)
	b := MustGenerate(t, e2, baseSpec, true)
	if e1.Profile().Determinism != fractal.Exact {
		tol := e1.Profile().StepTolerance()
		for i := range a.States {
			if err := fractal.CompareStates(b.States[i], a.States[i], tol); err != nil {
				t.Errorf("state %d of a second run: %v", i, err)
			}
		}
		return
	}
	if !slices.Equal(a.StateDigests, b.StateDigests) {
		t.Errorf("state digests differ between runs:\n got %v\nwant %v", b.StateDigests, a.StateDigests)
	}
	if got, want := b.Frames.Digest(), a.Frames.Digest(); got != want {
		t.Errorf("frames digest %s on a second run, want %s", got, want)
	}
	if !bytes.Equal(a.Frames.Pix, b.Frames.Pix) {
		t.Errorf("frames differ between runs")
	}
}

func testInputsMatter(t *testing.T, e fractal.Engine) {
	base := MustGenerate(t, e, baseSpec, false)
	seed, prompt := baseSpec, baseSpec
	seed.Seed++
	prompt.Prompt = "a green tree swaying in the desert at noon"
	for name, spec := range map[string]fractal.Spec{"seed": seed, "prompt": prompt} {
		g := MustGenerate(t, e, spec, false)
		if g.Frames.Digest() == base.Frames.Digest() {
			t.Errorf("changing the %s left the frames digest at %s", name, base.Frames.Digest())
		}
		if g.StateDigests[baseSpec.Steps] == base.StateDigests[baseSpec.Steps] {
			t.Errorf("changing the %s left the final state digest unchanged", name)
		}
	}
}

// testStepChain recomputes the whole trajectory one Step at a time from
// state 0, as a verifier does, and checks every committed digest.
func testStepChain(t *testing.T, e fractal.Engine) {
	g := MustGenerate(t, e, baseSpec, true)
	ctx := ctxT(t)
	tol := e.Profile().StepTolerance()
	var prev fractal.State
	for step := 0; step <= baseSpec.Steps; step++ {
		s, err := e.Step(ctx, baseSpec, step, prev)
		if err != nil {
			t.Fatalf("Step(%d): %v", step, err)
		}
		if err := fractal.CompareStates(s, g.States[step], tol); err != nil {
			t.Fatalf("Step(%d) from the recomputed chain: %v", step, err)
		}
		if tol == 0 && s.Digest() != g.StateDigests[step] {
			t.Fatalf("Step(%d) digest %s, want committed %s", step, s.Digest(), g.StateDigests[step])
		}
		if step > 0 {
			// A spot-check opens one step from the committed predecessor.
			open, err := e.Step(ctx, baseSpec, step, g.States[step-1])
			if err != nil {
				t.Fatalf("Step(%d) from the committed state: %v", step, err)
			}
			if err := fractal.CompareStates(open, g.States[step], tol); err != nil {
				t.Fatalf("Step(%d) from the committed state: %v", step, err)
			}
		}
		prev = s
	}
}

func testDecode(t *testing.T, e fractal.Engine) {
	g := MustGenerate(t, e, baseSpec, true)
	f, err := e.Decode(ctxT(t), baseSpec, g.States[baseSpec.Steps])
	if err != nil {
		t.Fatalf("Decode(final): %v", err)
	}
	if got, want := f.Digest(), g.Frames.Digest(); got != want {
		t.Errorf("Decode(final) digest %s, want Generate's %s", got, want)
	}
}

func testDecodeFrame(t *testing.T, e fractal.Engine) {
	fd, ok := e.(fractal.FrameDecoder)
	if !ok {
		t.Logf("%T does not implement fractal.FrameDecoder; nothing to check", e)
		return
	}
	g := MustGenerate(t, e, baseSpec, true)
	final := g.States[baseSpec.Steps]
	ctx := ctxT(t)
	for i := range baseSpec.Frames {
		pix, err := fd.DecodeFrame(ctx, baseSpec, final, i)
		if err != nil {
			t.Fatalf("DecodeFrame(%d): %v", i, err)
		}
		if !bytes.Equal(pix, g.Frames.Frame(i)) {
			t.Errorf("DecodeFrame(%d) differs from frame %d of Generate (%d bytes, want %d)", i, i, len(pix), g.Frames.FrameSize())
		}
	}
	for _, i := range []int{-1, baseSpec.Frames} {
		if _, err := fd.DecodeFrame(ctx, baseSpec, final, i); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("DecodeFrame(%d) error %v, want %v", i, err, fractal.ErrInvalid)
		}
	}
}

// mustFail checks that err wraps fractal.ErrInvalid.
func mustFail(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("%s: got error %v, want one wrapping %v", what, err, fractal.ErrInvalid)
	}
}
