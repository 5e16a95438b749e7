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
	"github.com/fractal-grid/fractal/minerapi"
)

// Reasons a check fails. Each failure names one; metrics count them.
const (
	ReasonOK            = "ok"
	ReasonReceipt       = "receipt"        // bad signature, or fields that do not match the job
	ReasonProfile       = "profile"        // another model or version
	ReasonFrames        = "frames"         // frames root does not match the frames
	ReasonOpen          = "open_failed"    // the miner would not open its commitment
	ReasonOpenLate      = "open_late"      // the opening timed out or the miner was unreachable: a failure, not a cheat
	ReasonProof         = "proof"          // an opened state is not in the trajectory
	ReasonInitialState  = "initial_state"  // state 0 is not the seeded noise
	ReasonStep          = "step_mismatch"  // a recomputed step differs
	ReasonDecode        = "decode"         // the final state does not decode to the frames
	ReasonRegenerate    = "regenerate"     // a full regeneration differs
	ReasonVerifierError = "verifier_error" // our own engine failed: not the miner's fault
)

// Opener opens committed steps of the checked job at its miner.
type Opener func(ctx context.Context, steps []int) (*minerapi.OpenResponse, error)

// Checker verifies results for one engine profile.
type Checker struct {
	Engine   fractal.Engine
	Verifier fractal.Verifier
	Policy   Policy
	Rand     *rand.Rand // seeded by the caller; not safe for concurrent use
}

// Verdict is the outcome of one check.
type Verdict struct {
	OK       bool          `json:"ok"`
	Reason   string        `json:"reason"`
	Detail   string        `json:"detail,omitempty"`
	Opened   []int         `json:"opened,omitempty"`
	Decoded  bool          `json:"decoded,omitempty"`
	Regen    bool          `json:"regenerated,omitempty"`
	Compute  time.Duration `json:"compute"` // verifier engine time spent
	Internal bool          `json:"internal,omitempty"`
}

func fail(reason string, format string, args ...any) Verdict {
	return Verdict{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Check verifies one outcome of req from the miner whose hotkey is miner.
// The outcome's frames were already checked against the receipt's frames
// digest by the client. open is called at most once.
func (c *Checker) Check(ctx context.Context, miner string, req minerapi.GenerateRequest, out *minerapi.Outcome, open Opener) Verdict {
	v := c.check(ctx, miner, req, out, open)
	if v.Reason == "" {
		v.OK, v.Reason = true, ReasonOK
	}
	return v
}

func (c *Checker) check(ctx context.Context, miner string, req minerapi.GenerateRequest, out *minerapi.Outcome, open Opener) Verdict {
	res, spec := out.Result, req.Spec
	r := res.Receipt
	profile := c.Engine.Profile()
	switch {
	case r.Miner != miner:
		return fail(ReasonReceipt, "receipt signed for %s, miner is %s", r.Miner, miner)
	case r.RequestID != req.RequestID:
		return fail(ReasonReceipt, "receipt for job %q, asked %q", r.RequestID, req.RequestID)
	case r.SpecHash != spec.Hash():
		return fail(ReasonReceipt, "receipt spec hash %s, want %s", r.SpecHash, spec.Hash())
	case r.Profile != profile.String() || profile.Same(res.Profile) != nil:
		return fail(ReasonProfile, "miner serves %s (%s), want %s (%s)", res.Profile, res.Profile.Digest, profile, profile.Digest)
	}
	if err := r.Verify(c.Verifier); err != nil {
		return fail(ReasonReceipt, "%v", err)
	}
	if root := out.Frames.FrameTree().Root(); root != r.Commitment.FramesRoot {
		return fail(ReasonFrames, "frames root %s, receipt commits to %s", root, r.Commitment.FramesRoot)
	}
	var v Verdict
	steps := c.pickSteps(spec.Steps)
	decode := c.Policy.DecodeProb > 0 && c.Rand.Float64() < c.Policy.DecodeProb
	ask := steps
	if decode && !slices.Contains(ask, spec.Steps) {
		ask = append(slices.Clone(steps), spec.Steps)
	}
	if len(ask) > 0 {
		resp, err := open(ctx, ask)
		if err != nil {
			if unreachable(err) {
				return fail(ReasonOpenLate, "%v", err)
			}
			return fail(ReasonOpen, "%v", err)
		}
		if fv := c.checkOpenings(ctx, spec, r.Commitment.TrajectoryRoot, ask, steps, resp, &v); fv.Reason != "" {
			fv.Opened, fv.Compute = steps, v.Compute
			return fv
		}
		v.Opened = steps
		if decode {
			final := openingOf(resp, spec.Steps)
			if fv := c.checkDecode(ctx, spec, final, out.Frames, &v); fv.Reason != "" {
				fv.Opened, fv.Decoded, fv.Compute = steps, true, v.Compute
				return fv
			}
			v.Decoded = true
		}
	}
	if c.Policy.RegenProb > 0 && c.Rand.Float64() < c.Policy.RegenProb {
		v.Regen = true
		if fv := c.regenerate(ctx, spec, r.Commitment, out.Frames, &v); fv.Reason != "" {
			fv.Opened, fv.Decoded, fv.Regen, fv.Compute = v.Opened, v.Decoded, true, v.Compute
			return fv
		}
	}
	return v
}

// pickSteps draws Policy.OpenSteps distinct steps from 1..n.
func (c *Checker) pickSteps(n int) []int {
	k := min(c.Policy.OpenSteps, n)
	perm := c.Rand.Perm(n)[:k]
	out := make([]int, k)
	for i, p := range perm {
		out[i] = p + 1
	}
	slices.Sort(out)
	return out
}

func openingOf(resp *minerapi.OpenResponse, step int) *minerapi.Opening {
	for i := range resp.Openings {
		if resp.Openings[i].Step == step {
			return &resp.Openings[i]
		}
	}
	return nil
}

// maxStateElems bounds what we decode from a miner.
const maxStateElems = fractal.MaxFrames * fractal.MaxSide * fractal.MaxSide

func (c *Checker) checkOpenings(ctx context.Context, spec fractal.Spec, root fractal.Digest, asked, recompute []int, resp *minerapi.OpenResponse, v *Verdict) Verdict {
	if resp.TrajectoryRoot != root {
		return fail(ReasonProof, "open answered for root %s, receipt commits to %s", resp.TrajectoryRoot, root)
	}
	tol := c.Engine.Profile().StepTolerance()
	for _, k := range asked {
		o := openingOf(resp, k)
		if o == nil {
			return fail(ReasonOpen, "step %d was not opened", k)
		}
		prev, err := o.Prev.State(maxStateElems)
		if err != nil {
			return fail(ReasonProof, "step %d: previous state: %v", k, err)
		}
		cur, err := o.State.State(maxStateElems)
		if err != nil {
			return fail(ReasonProof, "step %d: state: %v", k, err)
		}
		if o.PrevProof.Index != k-1 || o.Proof.Index != k || o.Proof.Count != spec.Steps+1 || o.PrevProof.Count != spec.Steps+1 {
			return fail(ReasonProof, "step %d: proofs for leaves %d and %d of %d", k, o.PrevProof.Index, o.Proof.Index, o.Proof.Count)
		}
		if err := o.PrevProof.Verify(root, prev.Digest()); err != nil {
			return fail(ReasonProof, "state %d: %v", k-1, err)
		}
		if err := o.Proof.Verify(root, cur.Digest()); err != nil {
			return fail(ReasonProof, "state %d: %v", k, err)
		}
		if !slices.Contains(recompute, k) {
			continue
		}
		if k == 1 {
			start := time.Now()
			init, err := c.Engine.Step(ctx, spec, 0, fractal.State{})
			v.Compute += time.Since(start)
			if err != nil {
				return internal(err)
			}
			if err := fractal.CompareStates(prev, init, tol); err != nil {
				return fail(ReasonInitialState, "state 0: %v", err)
			}
		}
		start := time.Now()
		want, err := c.Engine.Step(ctx, spec, k, prev)
		v.Compute += time.Since(start)
		if err != nil {
			if errors.Is(err, fractal.ErrInvalid) {
				return fail(ReasonProof, "step %d: committed state is not a valid state: %v", k, err)
			}
			return internal(err)
		}
		if err := fractal.CompareStates(cur, want, tol); err != nil {
			return fail(ReasonStep, "step %d: %v", k, err)
		}
	}
	return Verdict{}
}

func (c *Checker) checkDecode(ctx context.Context, spec fractal.Spec, final *minerapi.Opening, frames *fractal.Frames, v *Verdict) Verdict {
	state, err := final.State.State(maxStateElems)
	if err != nil {
		return fail(ReasonDecode, "final state: %v", err)
	}
	i := c.Rand.IntN(spec.Frames)
	start := time.Now()
	var got []byte
	if fd, ok := c.Engine.(fractal.FrameDecoder); ok {
		got, err = fd.DecodeFrame(ctx, spec, state, i)
	} else {
		var all *fractal.Frames
		if all, err = c.Engine.Decode(ctx, spec, state); err == nil {
			got = all.Frame(i)
		}
	}
	v.Compute += time.Since(start)
	if err != nil {
		if errors.Is(err, fractal.ErrInvalid) {
			return fail(ReasonDecode, "final state does not decode: %v", err)
		}
		return internal(err)
	}
	if !framesMatch(got, frames.Frame(i), c.Engine.Profile()) {
		return fail(ReasonDecode, "frame %d differs from the decode of the committed final state", i)
	}
	return Verdict{}
}

func (c *Checker) regenerate(ctx context.Context, spec fractal.Spec, com fractal.Commitment, frames *fractal.Frames, v *Verdict) Verdict {
	start := time.Now()
	res, err := c.Engine.Generate(ctx, spec, fractal.GenerateOptions{})
	v.Compute += time.Since(start)
	if err != nil {
		return internal(err)
	}
	if c.Engine.Profile().Determinism == fractal.Exact {
		if got := res.Commit(); got != com {
			return fail(ReasonRegenerate, "regenerated commitment %+v differs from %+v", got, com)
		}
		return Verdict{}
	}
	for i := 0; i < spec.Frames; i++ {
		if !framesMatch(res.Frames.Frame(i), frames.Frame(i), c.Engine.Profile()) {
			return fail(ReasonRegenerate, "regenerated frame %d differs", i)
		}
	}
	return Verdict{}
}

// framesMatch compares decoded pixels: exactly for exact profiles; for
// tolerant ones, every channel within a few levels.
func framesMatch(got, want []byte, p fractal.Profile) bool {
	if p.Determinism == fractal.Exact {
		return bytes.Equal(got, want)
	}
	if len(got) != len(want) {
		return false
	}
	const maxLevels = 4
	for i := range got {
		d := int(got[i]) - int(want[i])
		if d > maxLevels || d < -maxLevels {
			return false
		}
	}
	return true
}

func internal(err error) Verdict {
	return Verdict{Reason: ReasonVerifierError, Detail: err.Error(), Internal: true}
}

// unreachable reports an opening that failed for want of an answer (a
// deadline, a refused connection, an overloaded miner) rather than an
// answer that refused or broke the commitment. Under load an honest miner
// can be late; it fails the challenge but is not called a cheat.
func unreachable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, fractal.ErrUnavailable) || errors.Is(err, fractal.ErrOverloaded)
}

// Cheat reports whether a failed verdict proves the miner cheated, as
// opposed to failing to answer in time.
func (v Verdict) Cheat() bool { return !v.OK && !v.Internal && v.Reason != ReasonOpenLate }
