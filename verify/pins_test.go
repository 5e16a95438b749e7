package verify_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/verify"
)

// smallLimits serve 1–8 frames of 64–128 pixel sides: states of at most
// 8·128·128 elements.
func smallLimits() fractal.Limits {
	side := fractal.Range{Min: 64, Max: 128, Step: 16}
	return fractal.Limits{
		Frames: fractal.Range{Min: 1, Max: 8}, Width: side, Height: side,
		FPS: fractal.Range{Min: 1, Max: 30}, Steps: fractal.Range{Min: 1, Max: 20}, PromptBytes: 200,
		Default: fractal.Shape{Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 8},
	}
}

// upgrade returns the reference engine (old) and a variant (new), and pins
// for an upgrade window: old from 0 until 200, new from 100 on.
func upgrade(t *testing.T) (old, next fractal.Engine, pins fractal.Pins) {
	t.Helper()
	v, err := refengine.NewVariant(refengine.Variant{Version: "5", Limits: smallLimits()})
	if err != nil {
		t.Fatal(err)
	}
	old = refengine.New()
	pins = fractal.Pins{{Profile: old.Profile(), Until: 200}, {Profile: v.Profile(), From: 100}}
	if err := pins.Validate(); err != nil {
		t.Fatal(err)
	}
	return old, v, pins
}

// smallSpec is a spec for p of a shape both test profiles serve.
func smallSpec(p fractal.Profile, prompt string, seed uint64) fractal.Spec {
	s := p.DefaultSpec(prompt, seed)
	s.Frames, s.Width, s.Height, s.Steps = 4, 64, 64, 8
	return s
}

func pinnedChecker(pins fractal.Pins, engines ...fractal.Engine) *verify.Checker {
	return &verify.Checker{
		Engines: verify.EnginesOf(engines...), Pins: pins, Verifier: &sr25519.Verifier{},
		Policy: verify.Policy{OpenSteps: 3, DecodeProb: 1, RegenProb: 1}, Rand: rand.New(rand.NewPCG(3, 4)),
	}
}

func TestEachPinnedProfileVerifiesWithItsEngine(t *testing.T) {
	old, next, pins := upgrade(t)
	c := pinnedChecker(pins, old, next)
	key, _ := sr25519.FromURI("//Alice//miner")
	for _, eng := range []fractal.Engine{old, next} {
		p := eng.Profile()
		t.Run(p.String(), func(t *testing.T) {
			spec := smallSpec(p, "a red kite over a green hill", 11)
			j := jobFor(t, eng, key, spec)
			v := c.Check(context.Background(), 150, j.claim, j.opener())
			if !v.OK || v.Profile != p.String() || !v.Decoded || !v.Regen {
				t.Fatalf("got %+v, want a full pass under %s", v, p)
			}
		})
	}
	t.Run("states of one model under the other's name", func(t *testing.T) {
		// The new profile's name on the old model's work: the new engine
		// recomputes it and finds it is not its own.
		spec := smallSpec(next.Profile(), "a red kite over a green hill", 11)
		spec.Profile = "" // the old engine serves no spec that names the new model
		res, err := old.Generate(context.Background(), spec, fractal.GenerateOptions{KeepStates: true})
		if err != nil {
			t.Fatal(err)
		}
		r := fractal.Receipt{RequestID: "j1", Profile: next.Profile().String(), SpecHash: spec.Hash(), Commitment: res.Commit()}
		if err := r.Sign(key); err != nil {
			t.Fatal(err)
		}
		j := &job{claim: fractal.Claim{RequestID: "j1", Miner: key.SS58(), Spec: spec, Profile: next.Profile(), Receipt: r, Frames: res.Frames}, states: res.States}
		v := c.Check(context.Background(), 150, j.claim, j.opener())
		if v.OK || !verify.IsCheck(v.Reason) || !v.Cheat() {
			t.Errorf("got %+v, want a failed check", v)
		}
	})
}

func TestProfileNotPinnedAtTheBlockIsRefused(t *testing.T) {
	old, next, pins := upgrade(t)
	c := pinnedChecker(pins, old, next)
	key, _ := sr25519.FromURI("//Alice//miner")
	oldJob := jobFor(t, old, key, smallSpec(old.Profile(), "a red kite", 1))
	nextJob := jobFor(t, next, key, smallSpec(next.Profile(), "a red kite", 1))
	for _, tc := range []struct {
		name  string
		j     *job
		block uint64
		ok    bool
	}{
		{"old before the window", oldJob, 50, true},
		{"new before its pin", nextJob, 50, false},
		{"old in the window", oldJob, 199, true},
		{"new in the window", nextJob, 100, true},
		{"old at its until", oldJob, 200, false},
		{"old after the window", oldJob, 5000, false},
		{"new after the window", nextJob, 5000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := c.Check(context.Background(), tc.block, tc.j.claim, tc.j.opener())
			if tc.ok && !v.OK {
				t.Fatalf("got %+v, want a pass", v)
			}
			if !tc.ok && (v.OK || v.Reason != verify.ReasonProfile || !v.Cheat() || !strings.Contains(v.Detail, "not pinned")) {
				t.Fatalf("got %+v, want a %q failure saying it is not pinned", v, verify.ReasonProfile)
			}
			if !tc.ok && (len(v.Opened) > 0 || v.Compute != 0) {
				t.Errorf("an unpinned profile cost engine work: %+v", v)
			}
		})
	}
}

func TestSpecOutsideThePinnedLimitsIsRefused(t *testing.T) {
	old, next, pins := upgrade(t)
	c := pinnedChecker(pins, old, next)
	key, _ := sr25519.FromURI("//Alice//miner")
	// 256×64 is within the old limits, not the new: a miner that ran the new
	// model on it served a spec its model does not serve.
	spec := smallSpec(old.Profile(), "a red kite", 1)
	spec.Profile = ""
	spec.Width, spec.Height = 256, 64
	j := jobFor(t, old, key, spec)
	j.claim.Profile = next.Profile()
	j.claim.Receipt.Profile = next.Profile().String()
	if err := j.claim.Receipt.Sign(key); err != nil {
		t.Fatal(err)
	}
	if v := c.Check(context.Background(), 150, j.claim, j.opener()); v.OK || v.Reason != verify.ReasonProfile || !strings.Contains(v.Detail, "width") {
		t.Errorf("got %+v, want a %q failure naming the width", v, verify.ReasonProfile)
	}
	// A spec that names one model answered under another's receipt.
	j = jobFor(t, old, key, smallSpec(old.Profile(), "a red kite", 1))
	j.claim.Spec.Profile = next.Profile().String()
	j.claim.Receipt.SpecHash = j.claim.Spec.Hash()
	if err := j.claim.Receipt.Sign(key); err != nil {
		t.Fatal(err)
	}
	if v := c.Check(context.Background(), 150, j.claim, j.opener()); v.OK || v.Reason != verify.ReasonProfile {
		t.Errorf("spec for %s under a receipt for %s: got %+v, want %q", next.Profile(), old.Profile(), v, verify.ReasonProfile)
	}
}

func TestOpenedStateLargerThanTheProfileAllows(t *testing.T) {
	old, next, pins := upgrade(t)
	c := pinnedChecker(pins, old, next)
	key, _ := sr25519.FromURI("//Alice//miner")
	j := jobFor(t, next, key, smallSpec(next.Profile(), "a red kite", 1))
	limit := next.Profile().Limits.MaxStateElems()
	huge := fractal.State{Shape: []int{limit + 1}, Data: make([]float32, limit+1)}
	open := fractal.OpenerFunc(func(ctx context.Context, steps []int) (*fractal.Openings, error) {
		o, err := j.opener().Open(ctx, steps)
		if err == nil {
			o.Openings[0].State = huge
		}
		return o, err
	})
	if v := c.Check(context.Background(), 150, j.claim, open); v.OK || v.Reason != verify.ReasonProof || !strings.Contains(v.Detail, "at most") {
		t.Errorf("got %+v, want a %q failure for the size", v, verify.ReasonProof)
	}
}

func TestPinnedProfileWithoutAnEngineIsOurFault(t *testing.T) {
	old, next, pins := upgrade(t)
	c := pinnedChecker(pins, old)
	key, _ := sr25519.FromURI("//Alice//miner")
	j := jobFor(t, next, key, smallSpec(next.Profile(), "a red kite", 1))
	if v := c.Check(context.Background(), 150, j.claim, j.opener()); v.OK || !v.Internal || v.Cheat() || v.Reason != verify.ReasonVerifierError {
		t.Errorf("got %+v, want our own failure, no verdict on the miner", v)
	}
}
