package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/fractal-grid/fractal"
)

// trajectory recomputes parts of one claim's generation with the engine of
// its pinned profile, adding the engine time to the verdict.
type trajectory struct {
	eng     fractal.Engine
	profile fractal.Profile
	spec    fractal.Spec
	rand    *rand.Rand
	v       *Verdict
	// across is the profile's cross-class tolerance when the claim was
	// computed in another execution class than eng's; nil compares as the
	// profile's determinism says.
	across *fractal.CrossClassTolerance
}

// run times one engine call.
func (t *trajectory) run(fn func() error) error {
	start := time.Now()
	err := fn()
	t.v.Compute += time.Since(start)
	return err
}

// checkOpenings checks that every asked step was opened with states of this
// profile's size and proofs against root, and recomputes the steps in
// recompute.
func (t *trajectory) checkOpenings(ctx context.Context, root fractal.Digest, asked, recompute []int, resp *fractal.Openings) Verdict {
	if resp.TrajectoryRoot != root {
		return fail(ReasonProof, "open answered for root %s, receipt commits to %s", resp.TrajectoryRoot, root)
	}
	n := t.spec.Steps + 1
	for _, k := range asked {
		o := resp.At(k)
		if o == nil {
			return fail(ReasonOpen, "step %d was not opened", k)
		}
		if fv := t.checkSize(k, o); fv.Reason != "" {
			return fv
		}
		if o.PrevProof.Index != k-1 || o.Proof.Index != k || o.Proof.Count != n || o.PrevProof.Count != n {
			return fail(ReasonProof, "step %d: proofs for leaves %d and %d of %d", k, o.PrevProof.Index, o.Proof.Index, o.Proof.Count)
		}
		if err := o.PrevProof.Verify(root, o.Prev.Digest()); err != nil {
			return fail(ReasonProof, "state %d: %v", k-1, err)
		}
		if err := o.Proof.Verify(root, o.State.Digest()); err != nil {
			return fail(ReasonProof, "state %d: %v", k, err)
		}
		if !slices.Contains(recompute, k) {
			continue
		}
		if fv := t.recompute(ctx, k, o); fv.Reason != "" {
			return fv
		}
	}
	return Verdict{}
}

// checkSize refuses opened states that are not states, or that are larger
// than any spec within the profile's limits makes.
func (t *trajectory) checkSize(k int, o *fractal.Opening) Verdict {
	limit := t.profile.Limits.MaxStateElems()
	for i, s := range []fractal.State{o.Prev, o.State} {
		if len(s.Data) > limit {
			return fail(ReasonProof, "step %d: state %d holds %d elements, %s allows at most %d", k, k-1+i, len(s.Data), t.profile, limit)
		}
		if err := s.Validate(); err != nil {
			return fail(ReasonProof, "step %d: state %d: %v", k, k-1+i, err)
		}
	}
	return Verdict{}
}

// recompute checks state 0 against the seeded noise when k is 1, and that
// step k applied to state k-1 gives state k within the profile's tolerance.
func (t *trajectory) recompute(ctx context.Context, k int, o *fractal.Opening) Verdict {
	tol := t.profile.StepTolerance()
	if k == 1 {
		var init fractal.State
		err := t.run(func() (err error) { init, err = t.eng.Step(ctx, t.spec, 0, fractal.State{}); return err })
		if err != nil {
			return internal(err)
		}
		if err := fractal.CompareStates(o.Prev, init, tol); err != nil {
			return fail(ReasonInitialState, "state 0: %v", err)
		}
	}
	var want fractal.State
	err := t.run(func() (err error) { want, err = t.eng.Step(ctx, t.spec, k, o.Prev); return err })
	if errors.Is(err, fractal.ErrInvalid) {
		return fail(ReasonProof, "step %d: committed state is not a valid state: %v", k, err)
	}
	if err != nil {
		return internal(err)
	}
	if t.across != nil {
		err = fractal.CompareAcross(o.Prev, o.State, want, *t.across)
	} else {
		err = fractal.CompareStates(o.State, want, tol)
	}
	if err != nil {
		return fail(ReasonStep, "step %d: %v", k, err)
	}
	return Verdict{}
}

// checkDecode decodes one random frame of the committed final state and
// compares it with the delivered frame.
func (t *trajectory) checkDecode(ctx context.Context, final *fractal.Opening, frames *fractal.Frames) Verdict {
	i := t.rand.IntN(t.spec.Frames)
	var got []byte
	err := t.run(func() (err error) {
		got, err = fractal.DecodeFrame(ctx, t.eng, t.spec, final.State, i)
		return err
	})
	if errors.Is(err, fractal.ErrInvalid) {
		return fail(ReasonDecode, "final state does not decode: %v", err)
	}
	if err != nil {
		return internal(err)
	}
	if !framesMatch(got, frames.Frame(i), t.levels()) {
		return fail(ReasonDecode, "frame %d differs from the decode of the committed final state", i)
	}
	return Verdict{}
}

// regenerate runs the whole generation and compares the commitment (exact
// profiles) or every frame (tolerant ones).
func (t *trajectory) regenerate(ctx context.Context, com fractal.Commitment, frames *fractal.Frames) Verdict {
	var res *fractal.Result
	err := t.run(func() (err error) { res, err = t.eng.Generate(ctx, t.spec, fractal.GenerateOptions{}); return err })
	if err != nil {
		return internal(err)
	}
	if t.across == nil && t.profile.Determinism == fractal.Exact {
		if got := res.Commit(); got != com {
			return fail(ReasonRegenerate, "regenerated commitment %+v differs from %+v", got, com)
		}
		return Verdict{}
	}
	for i := 0; i < t.spec.Frames; i++ {
		if !framesMatch(res.Frames.Frame(i), frames.Frame(i), t.levels()) {
			return fail(ReasonRegenerate, "regenerated frame %d differs", i)
		}
	}
	return Verdict{}
}

// levels is how many levels a decoded pixel channel may differ: the
// cross-class frame levels across classes, else the profile's frame
// tolerance (0 for an exact profile).
func (t *trajectory) levels() int {
	if t.across != nil {
		return t.across.FrameLevels
	}
	if t.profile.Determinism == fractal.Exact {
		return 0
	}
	return t.profile.FrameTolerance
}

// decodable reports whether decoded frames can be compared: always within a
// class, across classes only when the profile measured frame levels.
func (t *trajectory) decodable() bool { return t.across == nil || t.across.FrameLevels > 0 }

// noFrameLevels is the verdict on a claim from another class whose frames
// were to be compared when the profile has no cross-class frame levels: the
// verifier cannot check it, which is not the miner's fault.
func (t *trajectory) noFrameLevels(class string) Verdict {
	return internal(fmt.Errorf("claim computed in execution class %s, this verifier's engine is %s, and %s has no cross-class frame levels to compare frames with", class, fractal.ClassOf(t.eng), t.profile))
}

// framesMatch compares decoded pixels: every channel within levels (0:
// bit for bit).
func framesMatch(got, want []byte, levels int) bool {
	if levels == 0 {
		return bytes.Equal(got, want)
	}
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if d := int(got[i]) - int(want[i]); d > levels || d < -levels {
			return false
		}
	}
	return true
}
