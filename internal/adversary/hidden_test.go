package adversary

import (
	"context"
	"testing"

	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

func TestHiddenCheatsAreCaught(t *testing.T) {
	cfg := DefaultHiddenConfig(verify.Policy{OpenSteps: 1, DecodeProb: 0.25}, validator.Shape{Width: 64, Height: 64, Frames: 2, FPS: 8, Steps: 8}, 0.5)
	cfg.Jobs = 80
	reps, err := DetectHidden(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != len(HiddenCheats()) {
		t.Fatalf("got %d reports, want %d", len(reps), len(HiddenCheats()))
	}
	for _, r := range reps {
		t.Logf("%-16s jobs %d cheated %d verified %d detected %d saving %.2f per job %.3f within 20 %.4f reasons %v auc %.3f",
			r.Name, r.Jobs, r.Cheated, r.Verified, r.Detected, r.Saving, r.PerJob, r.Within20, r.Reasons, r.Classifier)
		if r.Cheated == 0 || r.Detected == 0 {
			t.Errorf("%s: cheated %d times, detected %d, want both", r.Name, r.Cheated, r.Detected)
		}
	}
	if got := reps[0].Reasons[verify.ReasonOpenRefused]; got == 0 || got != reps[0].Detected {
		t.Errorf("refuse-openings: reasons %v, want every detection open_refused", reps[0].Reasons)
	}
	for i, r := range reps[3:] { // the hard variants fake every step where they cheat
		if plain := reps[i]; r.Cheated > 0 && r.Saving <= plain.Saving*float64(r.Cheated)/float64(plain.Cheated) {
			t.Errorf("%s: saving %.3f on %d cheated jobs, want more per cheated job than %s's %.3f on %d", r.Name, r.Saving, r.Cheated, plain.Name, plain.Saving, plain.Cheated)
		}
	}
	if reps[1].Classifier <= 0 || reps[1].Classifier > 0.75 {
		t.Errorf("organic-only's classifier AUC %.3f, want it near guessing", reps[1].Classifier)
	}
}
