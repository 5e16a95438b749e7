package verify_test

import (
	"context"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/verify"
)

// classed is the reference engine as one execution class computes it: every
// step lands off the reference by a relative amount of the step's own size
// (with a sign that varies by element), as another GPU's kernels would.
type classed struct {
	*refengine.Engine
	class string
	off   float32 // relative deviation of each step; 0 for none
	cross *fractal.CrossClassTolerance
}

func (c *classed) ExecutionClass() string { return c.class }

func (c *classed) Profile() fractal.Profile {
	p := c.Engine.Profile()
	p.CrossClass = c.cross
	return p
}

func (c *classed) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	s, err := c.Engine.Step(ctx, spec, t, prev)
	if err != nil || t == 0 || c.off == 0 {
		return s, err
	}
	for i := range s.Data {
		sign := float32(1 - 2*int(uint32(i)*2654435761>>31))
		s.Data[i] += sign * c.off * (s.Data[i] - prev.Data[i])
	}
	return s, nil
}

// Generate is the composition of Steps and Decode.
func (c *classed) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	res := &fractal.Result{Profile: c.Engine.Profile(), Spec: spec}
	var cur fractal.State
	for t := 0; t <= spec.Steps; t++ {
		var err error
		if cur, err = c.Step(ctx, spec, t, cur); err != nil {
			return nil, err
		}
		res.StateDigests = append(res.StateDigests, cur.Digest())
		if opts.KeepStates {
			res.States = append(res.States, cur)
		}
	}
	frames, err := c.Engine.Decode(ctx, spec, cur)
	res.Frames = frames
	return res, err
}

// classedJob is an honest generation on eng whose receipt names eng's class.
func classedJob(t *testing.T, eng *classed, key fractal.Signer) *job {
	t.Helper()
	j := honestJob(t, eng, key, 5)
	j.claim.Receipt.Class = eng.class
	if err := j.claim.Receipt.Sign(key); err != nil {
		t.Fatal(err)
	}
	return j
}

func TestAcrossExecutionClasses(t *testing.T) {
	ctx := context.Background()
	key, _ := sr25519.FromURI("//Alice//miner")
	tol := &fractal.CrossClassTolerance{MaxError: 0.01, MinCosine: 0.999, FrameLevels: 4}
	gpuA := &classed{Engine: refengine.New(), class: "sha256:aaaa", cross: tol}
	gpuB := &classed{Engine: refengine.New(), class: "sha256:bbbb", off: 1e-3, cross: tol}
	all := verify.Policy{OpenSteps: 8, DecodeProb: 1, RegenProb: 1}

	t.Run("an honest miner of another class passes within the tolerance", func(t *testing.T) {
		j := classedJob(t, gpuB, key)
		v := checker(all, 1, gpuA).Check(ctx, 0, j.claim, j.opener())
		if !v.OK || !v.CrossClass || !v.Decoded || !v.Regen {
			t.Fatalf("got %+v, want a passed cross-class check with decode and regeneration", v)
		}
	})
	t.Run("the same miner checked in its own class is compared bit for bit", func(t *testing.T) {
		j := classedJob(t, gpuB, key)
		v := checker(all, 1, gpuB).Check(ctx, 0, j.claim, j.opener())
		if !v.OK || v.CrossClass {
			t.Fatalf("got %+v, want an exact pass", v)
		}
		// Its states are not the reference's bits: an exact check in class A
		// would fail it, which is why the receipt carries the class.
		j.claim.Receipt.Class = gpuA.class
		j.claim.Receipt.Sign(key)
		if v := checker(all, 1, gpuA).Check(ctx, 0, j.claim, j.opener()); v.OK || v.Reason != verify.ReasonStep {
			t.Errorf("class B's states claimed as class A: got %+v, want %q", v, verify.ReasonStep)
		}
	})
	t.Run("a skipped step fails across classes", func(t *testing.T) {
		j := classedJob(t, gpuB, key)
		// Step 4 jumps twice as far as one step would: the velocity of two.
		prev, cur := j.states[3], j.states[4].Clone()
		for i := range cur.Data {
			cur.Data[i] += cur.Data[i] - prev.Data[i]
		}
		j.states[4] = cur
		j.recommit(t, key)
		v := checker(verify.Policy{OpenSteps: 8}, 1, gpuA).Check(ctx, 0, j.claim, j.opener())
		if v.OK || v.Reason != verify.ReasonStep || !v.Cheat() || !v.CrossClass {
			t.Errorf("got %+v, want a cross-class %q cheat", v, verify.ReasonStep)
		}
	})
	t.Run("a step off by more than the tolerance fails", func(t *testing.T) {
		sloppy := &classed{Engine: refengine.New(), class: "sha256:cccc", off: 0.05, cross: tol}
		j := classedJob(t, sloppy, key)
		v := checker(verify.Policy{OpenSteps: 8}, 1, gpuA).Check(ctx, 0, j.claim, j.opener())
		if v.OK || v.Reason != verify.ReasonStep {
			t.Errorf("got %+v, want %q", v, verify.ReasonStep)
		}
	})
	t.Run("a profile without a cross-class tolerance cannot be checked, and that is no cheat", func(t *testing.T) {
		unmeasured := &classed{Engine: refengine.New(), class: gpuA.class}
		j := classedJob(t, gpuB, key)
		v := checker(all, 1, unmeasured).Check(ctx, 0, j.claim, j.opener())
		if v.OK || !v.Internal || v.Cheat() || v.Reason != verify.ReasonVerifierError {
			t.Errorf("got %+v, want a verifier error", v)
		}
	})
	t.Run("without frame levels a drawn decode cannot be checked, steps still can", func(t *testing.T) {
		stepsOnly := &fractal.CrossClassTolerance{MaxError: tol.MaxError, MinCosine: tol.MinCosine}
		verifier := &classed{Engine: refengine.New(), class: gpuA.class, cross: stepsOnly}
		j := classedJob(t, gpuB, key)
		if v := checker(verify.Policy{OpenSteps: 8, DecodeProb: 1}, 1, verifier).Check(ctx, 0, j.claim, j.opener()); !v.Internal || v.Cheat() {
			t.Errorf("decode drawn: got %+v, want a verifier error", v)
		}
		if v := checker(verify.Policy{OpenSteps: 8}, 1, verifier).Check(ctx, 0, j.claim, j.opener()); !v.OK || !v.CrossClass {
			t.Errorf("steps only: got %+v, want a cross-class pass", v)
		}
	})
	t.Run("the class is signed", func(t *testing.T) {
		j := classedJob(t, gpuB, key)
		j.claim.Receipt.Class = "sha256:other"
		if v := checker(all, 1, gpuA).Check(ctx, 0, j.claim, j.opener()); v.Reason != verify.ReasonReceipt {
			t.Errorf("class changed after signing: got %+v, want %q", v, verify.ReasonReceipt)
		}
		j.claim.Receipt.Class = "a class|with a bar"
		j.claim.Receipt.Sign(key)
		if v := checker(all, 1, gpuA).Check(ctx, 0, j.claim, j.opener()); v.Reason != verify.ReasonReceipt {
			t.Errorf("malformed class: got %+v, want %q", v, verify.ReasonReceipt)
		}
	})
}
