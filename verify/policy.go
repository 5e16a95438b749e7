// Package verify checks a miner's generation cheaply: receipt and digests,
// then a trajectory spot-check (open a few committed steps and recompute each
// with one engine Step), then a decode check of one frame, and rarely a full
// regeneration. docs/verification.md gives the arithmetic.
package verify

import (
	"fmt"
	"math"

	"github.com/fractal-grid/fractal"
)

// Policy says how much checking each verification does.
type Policy struct {
	// OpenSteps is c: random committed steps recomputed per check.
	OpenSteps int `json:"open_steps"`
	// DecodeProb is q: the chance that a check also decodes one frame of the
	// committed final state and compares it with the delivered frame.
	DecodeProb float64 `json:"decode_prob"`
	// RegenProb is p: the chance of a full regeneration.
	RegenProb float64 `json:"regen_prob"`
}

// DefaultPolicy opens two steps, decodes a frame in a quarter of checks and
// regenerates one check in two hundred.
func DefaultPolicy() Policy { return Policy{OpenSteps: 2, DecodeProb: 0.25, RegenProb: 0.005} }

// Validate checks the policy.
func (p Policy) Validate() error {
	switch {
	case p.OpenSteps < 0 || p.OpenSteps > 8:
		return fractal.Errorf("open-steps", "must be between 0 and 8, got %d", p.OpenSteps)
	case p.DecodeProb < 0 || p.DecodeProb > 1:
		return fractal.Errorf("decode-prob", "must be in [0, 1], got %g", p.DecodeProb)
	case p.RegenProb < 0 || p.RegenProb > 1:
		return fractal.Errorf("regen-prob", "must be in [0, 1], got %g", p.RegenProb)
	case p.OpenSteps == 0 && p.RegenProb == 0:
		return fractal.Errorf("open-steps", "a policy that neither opens steps nor regenerates checks nothing")
	}
	return nil
}

// CostModel describes an engine's costs relative to one whole generation.
type CostModel struct {
	Steps        int     // sampling steps of a typical challenge
	StepFraction float64 // share of generation time spent in sampling steps (σ)
	Frames       int     // frames of a typical challenge
}

// Goal is what the proof-of-sampling rule must achieve.
type Goal struct {
	MinSaving  float64 // smallest compute saving a cheat must not get away with (0.2)
	Detect     float64 // required detection probability (0.99)
	Challenges int     // within this many challenges (20)
}

// DefaultGoal is: any cheat saving ≥ 20% is caught with ≥ 99% probability
// within 20 challenges.
func DefaultGoal() Goal { return Goal{MinSaving: 0.2, Detect: 0.99, Challenges: 20} }

// Choose applies the proof-of-sampling rule: the smallest c and q such that
// every cheat saving at least g.MinSaving of the compute is caught with
// probability g.Detect within g.Challenges challenges. Skipping sampling
// steps saves StepFraction per skipped fraction, so such a cheat fakes at
// least f = MinSaving/StepFraction of the steps and each opened step
// catches it with probability f; faking the frames instead saves at most the
// decode share 1−σ and is caught by each decode check. The full
// regeneration probability p is kept small; it catches anything we have not
// named.
func Choose(m CostModel, g Goal, regen float64) (Policy, error) {
	if m.Steps < 1 || m.StepFraction <= 0 || m.StepFraction > 1 || m.Frames < 1 {
		return Policy{}, fmt.Errorf("cost model %+v: %w", m, fractal.ErrInvalid)
	}
	// Per-challenge detection d must satisfy 1-(1-d)^N ≥ Detect.
	need := 1 - math.Pow(1-g.Detect, 1/float64(g.Challenges))
	f := math.Min(1, g.MinSaving/m.StepFraction)
	c := 1
	for ; c < 8 && 1-math.Pow(1-f, float64(c)) < need; c++ {
	}
	q := 0.0
	if 1-m.StepFraction >= g.MinSaving {
		q = math.Ceil(need*100) / 100
	}
	return Policy{OpenSteps: c, DecodeProb: q, RegenProb: regen}, nil
}

// Cost is the expected verifier compute per check as a fraction of one
// generation.
func (p Policy) Cost(m CostModel) float64 {
	step := m.StepFraction / float64(m.Steps)
	frame := (1 - m.StepFraction) / float64(m.Frames)
	return float64(p.OpenSteps)*step + p.DecodeProb*frame + p.RegenProb
}

// Detection is the probability that one check catches a cheat faking a
// fraction fakeSteps of the steps (or, with fakeFrames, the frames).
func (p Policy) Detection(fakeSteps float64, fakeFrames bool) float64 {
	miss := math.Pow(1-fakeSteps, float64(p.OpenSteps)) * (1 - p.RegenProb)
	if fakeFrames {
		miss *= 1 - p.DecodeProb
	}
	return 1 - miss
}
