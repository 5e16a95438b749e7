package verify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
)

// Checker verifies claims for the profiles pinned over time, each with the
// engine of its model.
type Checker struct {
	Engines  map[string]fractal.Engine // by profile "id@version"
	Pins     fractal.Pins
	Verifier fractal.SignatureVerifier
	Policy   Policy
	Rand     *rand.Rand // seeded by the caller; not safe for concurrent use
}

// EnginesOf keys engines by the profile each serves.
func EnginesOf(engines ...fractal.Engine) map[string]fractal.Engine {
	out := make(map[string]fractal.Engine, len(engines))
	for _, e := range engines {
		out[e.Profile().String()] = e
	}
	return out
}

// Verdict is the outcome of one check.
type Verdict struct {
	OK       bool          `json:"ok"`
	Reason   string        `json:"reason"`
	Detail   string        `json:"detail,omitempty"`
	Profile  string        `json:"profile,omitempty"` // the pinned profile the claim was checked under
	Opened   []int         `json:"opened,omitempty"`
	Decoded  bool          `json:"decoded,omitempty"`
	Regen    bool          `json:"regenerated,omitempty"`
	Compute  time.Duration `json:"compute"` // verifier engine time spent
	Internal bool          `json:"internal,omitempty"`
	// CrossClass is set when the claim was computed in another execution
	// class than the verifier's engine and compared within the profile's
	// cross-class tolerance.
	CrossClass bool `json:"cross_class,omitempty"`
}

// Cheat reports whether a failed verdict proves the miner cheated, as
// opposed to failing to answer in time.
func (v Verdict) Cheat() bool { return !v.OK && !v.Internal && v.Reason != ReasonOpenLate }

func fail(reason string, format string, args ...any) Verdict {
	return Verdict{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

func internal(err error) Verdict {
	return Verdict{Reason: ReasonVerifierError, Detail: err.Error(), Internal: true}
}

// Check verifies claim at block: its receipt must name a profile pinned at
// that block, and the engine of that profile recomputes what the policy
// draws. The claim's frames were already checked against the receipt's
// frames digest. open is called at most once. A verdict of open_late keeps
// in Opened and Decoded what was asked, for Recheck.
func (c *Checker) Check(ctx context.Context, block uint64, claim fractal.Claim, open fractal.Opener) Verdict {
	steps := c.pickSteps(claim.Spec.Steps)
	decode := c.Policy.DecodeProb > 0 && c.Rand.Float64() < c.Policy.DecodeProb
	return c.run(ctx, block, claim, open, draw{steps: steps, decode: decode, regen: true})
}

// Recheck asks a miner again for the openings a check found late: the same
// steps (and the final state when decode), checked the same way, with no
// regeneration. Asking anything else would let a miner that refuses only
// its faked steps off.
func (c *Checker) Recheck(ctx context.Context, block uint64, claim fractal.Claim, open fractal.Opener, steps []int, decode bool) Verdict {
	return c.run(ctx, block, claim, open, draw{steps: slices.Clone(steps), decode: decode})
}

// draw is what one check asks of a claim.
type draw struct {
	steps  []int
	decode bool
	regen  bool // may draw a full regeneration (RegenProb)
}

func (c *Checker) run(ctx context.Context, block uint64, claim fractal.Claim, open fractal.Opener, d draw) Verdict {
	var v Verdict
	if fv := c.check(ctx, block, claim, open, d, &v); fv.Reason != "" {
		fv.Profile, fv.Opened, fv.Decoded, fv.Regen, fv.Compute, fv.CrossClass = v.Profile, v.Opened, v.Decoded, v.Regen, v.Compute, v.CrossClass
		return fv
	}
	v.OK, v.Reason = true, ReasonOK
	return v
}

func (c *Checker) check(ctx context.Context, block uint64, claim fractal.Claim, open fractal.Opener, d draw, v *Verdict) Verdict {
	r, spec := claim.Receipt, claim.Spec
	switch {
	case r.Miner != claim.Miner:
		return fail(ReasonReceipt, "receipt signed for %s, miner is %s", r.Miner, claim.Miner)
	case r.RequestID != claim.RequestID:
		return fail(ReasonReceipt, "receipt for job %q, asked %q", r.RequestID, claim.RequestID)
	case r.SpecHash != spec.Hash():
		return fail(ReasonReceipt, "receipt spec hash %s, want %s", r.SpecHash, spec.Hash())
	}
	p, eng, fv := c.pinned(block, claim)
	if fv.Reason != "" {
		return fv
	}
	v.Profile = p.String()
	if err := fractal.ValidateClass(r.Class); err != nil {
		return fail(ReasonReceipt, "%v", err)
	}
	if err := r.Verify(c.Verifier); err != nil {
		return fail(ReasonReceipt, "%v", err)
	}
	if claim.Frames == nil {
		return fail(ReasonFrames, "no frames")
	}
	if root := claim.Frames.FrameTree().Root(); root != r.Commitment.FramesRoot {
		return fail(ReasonFrames, "frames root %s, receipt commits to %s", root, r.Commitment.FramesRoot)
	}
	t := &trajectory{eng: eng, profile: p, spec: spec, rand: c.Rand, v: v}
	if own := fractal.ClassOf(eng); fractal.CrossClass(r.Class, own) {
		if p.CrossClass == nil {
			return internal(fmt.Errorf("claim computed in execution class %s, this verifier's engine is %s, and %s has no cross-class tolerance", r.Class, own, p))
		}
		t.across, v.CrossClass = p.CrossClass, true
	}
	steps, decode := d.steps, d.decode
	if decode && !t.decodable() {
		return t.noFrameLevels(r.Class)
	}
	ask := steps
	if decode && !slices.Contains(ask, spec.Steps) {
		ask = append(slices.Clone(steps), spec.Steps)
	}
	if len(ask) > 0 {
		resp, err := open.Open(ctx, ask)
		if err != nil {
			if reason := Classify(err); reason == ReasonOpenLate {
				v.Opened, v.Decoded = steps, decode // what to ask again
				return fail(reason, "%v", err)
			}
			return fail(Classify(err), "%v", err)
		}
		if fv := t.checkOpenings(ctx, r.Commitment.TrajectoryRoot, ask, steps, resp); fv.Reason != "" {
			v.Opened = steps
			return fv
		}
		v.Opened = steps
		if decode {
			v.Decoded = true
			if fv := t.checkDecode(ctx, resp.At(spec.Steps), claim.Frames); fv.Reason != "" {
				return fv
			}
		}
	}
	if d.regen && c.Policy.RegenProb > 0 && c.Rand.Float64() < c.Policy.RegenProb {
		v.Regen = true
		if !t.decodable() {
			return t.noFrameLevels(r.Class)
		}
		return t.regenerate(ctx, r.Commitment, claim.Frames)
	}
	return Verdict{}
}

// pinned returns the profile the claim's receipt names, which must be pinned
// at block and be the model the miner states and the spec asks for, with its
// engine. A profile we pin but hold no engine for is our own failure.
func (c *Checker) pinned(block uint64, claim fractal.Claim) (fractal.Profile, fractal.Engine, Verdict) {
	name := claim.Receipt.Profile
	active := c.Pins.Active(block)
	i := slices.IndexFunc(active, func(p fractal.Profile) bool { return p.String() == name })
	if i < 0 {
		names := make([]string, len(active))
		for j, p := range active {
			names[j] = p.String()
		}
		return fractal.Profile{}, nil, fail(ReasonProfile, "receipt names %s, which is not pinned at block %d (pinned: %s)", name, block, strings.Join(names, ", "))
	}
	p := active[i].WithDefaults()
	if claim.Profile.String() != name || p.Same(claim.Profile) != nil {
		return p, nil, fail(ReasonProfile, "miner states %s (%s), receipt names %s, pinned %s (%s)", claim.Profile, claim.Profile.Digest, name, p, p.Digest)
	}
	if err := p.Check(claim.Spec); err != nil {
		return p, nil, fail(ReasonProfile, "%s does not serve the spec: %v", p, err)
	}
	eng, ok := c.Engines[name]
	if !ok {
		return p, nil, internal(fmt.Errorf("no engine for the pinned profile %s", name))
	}
	if err := p.Same(eng.Profile()); err != nil {
		return p, nil, internal(fmt.Errorf("engine for %s: %w", name, err))
	}
	return p, eng, Verdict{}
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
