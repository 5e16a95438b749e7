package adversary

import (
	"context"
	"math"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// TestStrategiesWork checks what each strategy computes: the work share it
// reports, how many of its steps are true steps of the model, and that it
// commits to the states it delivers.
func TestStrategiesWork(t *testing.T) {
	ctx := context.Background()
	base := refengine.New()
	const sigma = 0.5
	spec := fractal.Spec{Prompt: "a red ball bouncing over the ocean zupako", Seed: 9, Width: 64, Height: 64, Frames: 2, FPS: 8, Steps: 8}
	honest, err := base.Generate(ctx, spec, fractal.GenerateOptions{KeepStates: true})
	if err != nil {
		t.Fatal(err)
	}
	replay := NewReplay(refengine.Words())
	if err := replay.Warm(ctx, base, []string{"a red ball bouncing over the ocean"}, spec); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		strategy  Strategy
		work      float64
		trueSteps int  // steps t whose state is Step(t, state t-1)
		decoded   bool // the frames are the spec's decode of the committed final state
	}{
		{Honest{}, 1, 8, true},
		{Lazy{}, 0, 0, false},
		{FakeFrames{StepShare: sigma}, sigma, 8, false},
		{replay, 0, 0, false}, // decoded for another prompt
		{SkipSteps{Label: NameSkipHalf, Period: 2, Fake: 1, StepShare: sigma}, 0.5*sigma + (1 - sigma), 4, true},
		{SkipSteps{Label: NameSkipFourth, Period: 4, Fake: 1, Extrapolate: true, StepShare: sigma}, 0.75*sigma + (1 - sigma), 6, true},
		{LowSteps{Divisor: 2, StepShare: sigma}, 0.5*sigma + (1 - sigma), 0, true},
		{WrongModel{}, 1, 0, true},
	} {
		t.Run(tc.strategy.Name(), func(t *testing.T) {
			res, work, err := tc.strategy.Produce(ctx, base, spec)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(work-tc.work) > 1e-9 {
				t.Errorf("work share %.3f, want %.3f", work, tc.work)
			}
			if len(res.States) != spec.Steps+1 || len(res.StateDigests) != spec.Steps+1 {
				t.Fatalf("%d states, %d digests, want %d", len(res.States), len(res.StateDigests), spec.Steps+1)
			}
			steps := 0
			for k := 1; k <= spec.Steps; k++ {
				if res.States[k].Digest() != res.StateDigests[k] {
					t.Errorf("state %d does not match its committed digest", k)
				}
				want, err := base.Step(ctx, spec, k, res.States[k-1])
				if err != nil {
					t.Fatal(err)
				}
				if fractal.CompareStates(res.States[k], want, 0) == nil {
					steps++
				}
			}
			if steps != tc.trueSteps {
				t.Errorf("%d true steps, want %d", steps, tc.trueSteps)
			}
			frames, err := base.Decode(ctx, spec, res.States[spec.Steps])
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Frames.Digest() == frames.Digest(); got != tc.decoded {
				t.Errorf("frames are the decode of the final state: %v, want %v", got, tc.decoded)
			}
			if tc.trueSteps == spec.Steps && tc.decoded && res.Frames.Digest() != honest.Frames.Digest() {
				t.Error("a true trajectory that differs from the honest one")
			}
		})
	}
	if replay.Hits() != 1 {
		t.Errorf("replay answered %d times from its cache, want 1 (made-up words ignored)", replay.Hits())
	}
}

func TestFlakyFailsItsShare(t *testing.T) {
	f := &Flaky{Rate: 0.05, Phase: 3}
	base := refengine.New()
	spec := fractal.Spec{Prompt: "a cube", Seed: 1, Width: 64, Height: 64, Frames: 1, FPS: 8, Steps: 1}
	failed := 0
	for range 40 {
		if _, _, err := f.Produce(context.Background(), base, spec); err != nil {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("failed %d of 40 jobs, want 2", failed)
	}
}
