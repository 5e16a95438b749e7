package router

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/fractal-grid/fractal/gridmap"
)

// Predict returns the predicted completion time of a job of the given spec
// cost on the miner: RTT + (queue/slots + 1) × service time × cost. With one
// slot this is RTT + (queue + 1) × service time.
func Predict(v gridmap.View, cost float64) time.Duration {
	if cost <= 0 {
		cost = 1
	}
	slots := float64(max(v.Slots, 1))
	work := (float64(v.Queue)/slots + 1) * v.Service.Seconds() * cost
	return v.RTT + time.Duration(work*float64(time.Second))
}

// P2C is the production policy: power of two choices on predicted
// completion time, inflated for miners that fail.
type P2C struct {
	// FailurePenalty is the exponent k in score = predicted / success^k:
	// a miner that fails half its jobs looks 2^k times slower. A failed
	// attempt costs the time it ran plus a retry elsewhere, so k ≥ 1.
	FailurePenalty float64
	// MinSuccess floors the success rate in the score, so that a miner
	// that failed everything still has a finite score.
	MinSuccess float64
}

var _ Policy = (*P2C)(nil)

// NewP2C returns the production policy with its tuned defaults.
func NewP2C() *P2C { return &P2C{FailurePenalty: 2, MinSuccess: 0.05} }

// Name implements Policy.
func (p *P2C) Name() string { return "ours" }

// Score is the quantity P2C minimises, in seconds.
func (p *P2C) Score(v gridmap.View, cost float64) float64 {
	s := max(v.Success, p.MinSuccess)
	return Predict(v, cost).Seconds() / math.Pow(s, p.FailurePenalty)
}

// Choose implements Policy.
func (p *P2C) Choose(rng *rand.Rand, req Request, cands []gridmap.View) int {
	n := len(cands)
	if n == 1 {
		return 0
	}
	i := rng.IntN(n)
	j := rng.IntN(n - 1)
	if j >= i {
		j++
	}
	if p.Score(cands[j], req.Cost) < p.Score(cands[i], req.Cost) {
		return j
	}
	return i
}

// Random picks uniformly at random.
type Random struct{}

var _ Policy = Random{}

// Name implements Policy.
func (Random) Name() string { return "random" }

// Choose implements Policy.
func (Random) Choose(rng *rand.Rand, _ Request, cands []gridmap.View) int {
	return rng.IntN(len(cands))
}

// RoundRobin cycles through the miners in id order.
type RoundRobin struct{ next int }

var _ Policy = (*RoundRobin)(nil)

// Name implements Policy.
func (*RoundRobin) Name() string { return "round_robin" }

// Choose implements Policy.
func (p *RoundRobin) Choose(_ *rand.Rand, _ Request, cands []gridmap.View) int {
	i := p.next % len(cands)
	p.next = i + 1
	return i
}

// BestTierOfThree draws three miners at random and takes the one with the
// best validator tier (ties go to the first drawn).
type BestTierOfThree struct{}

var _ Policy = BestTierOfThree{}

// Name implements Policy.
func (BestTierOfThree) Name() string { return "fractal" }

// Choose implements Policy.
func (BestTierOfThree) Choose(rng *rand.Rand, _ Request, cands []gridmap.View) int {
	best := -1
	for _, i := range sample(rng, len(cands), 3) {
		if best < 0 || cands[i].Tier > cands[best].Tier {
			best = i
		}
	}
	return best
}

// LeastOutstanding picks the miner with the fewest of our attempts in
// flight, breaking ties at random.
type LeastOutstanding struct{}

var _ Policy = LeastOutstanding{}

// Name implements Policy.
func (LeastOutstanding) Name() string { return "least_outstanding" }

// Choose implements Policy.
func (LeastOutstanding) Choose(rng *rand.Rand, _ Request, cands []gridmap.View) int {
	best, ties := 0, 0
	for i, v := range cands {
		switch {
		case v.Outstanding < cands[best].Outstanding:
			best, ties = i, 1
		case v.Outstanding == cands[best].Outstanding:
			ties++
			if rng.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}

// sample returns k distinct indices below n (all of them if n ≤ k) in the
// order drawn.
func sample(rng *rand.Rand, n, k int) []int {
	k = min(k, n)
	out := make([]int, 0, k)
	for len(out) < k {
		i := rng.IntN(n)
		dup := false
		for _, j := range out {
			dup = dup || j == i
		}
		if !dup {
			out = append(out, i)
		}
	}
	return out
}
