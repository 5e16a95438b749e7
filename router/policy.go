package router

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/fractal-grid/fractal/gridmap"
)

// Predict returns the predicted completion time of a job of the given spec
// cost on the miner: RTT + ((backlog − done)/slots + cost) × service time
// per unit cost, where done is the part of the running jobs already done.
// With one slot and idle jobs of cost 1 this is RTT + (queue + 1) ×
// service time: queues are counted in work, not jobs, because a 512×512
// clip ahead of you costs four default ones.
func Predict(v gridmap.View, cost float64) time.Duration {
	if cost <= 0 {
		cost = 1
	}
	slots := float64(max(v.Slots, 1))
	work := (max(v.Backlog-v.Done, 0)/slots + cost) * v.Service.Seconds()
	return v.RTT + time.Duration(work*float64(time.Second))
}

// P2C is the production policy: power of two choices on predicted
// completion time, inflated for miners that fail.
//
// The two candidates are not drawn uniformly but with weights
// (best score ÷ score)^Sharpness, a soft minimum: with Sharpness 0 this is
// classic P2C; as it grows it tends to scanning every miner for the best.
// Uniform draws cannot send a big job to one of the few fast miners often
// enough — on a grid of uneven GPUs, half the 512×512 clips then land on
// slow ones — while the randomness of the soft minimum still spreads
// requests over near-equal miners, so replicas that share a stale map do
// not all pile onto the miner that looked best. The default was tuned with
// package routesim (see docs/routing.md for the figures).
type P2C struct {
	// FailurePenalty is the exponent k in score = predicted / success^k:
	// a miner that fails half its jobs looks 2^k times slower. A failure
	// part-way through costs the time it ran plus a retry elsewhere, about
	// predicted × (1 + failure rate / 2) on average, but it also lands in
	// the tail; k = 0.5 gave the lowest p99 in the simulation.
	FailurePenalty float64
	// FailureCostCap scales the penalty with the job's cost: the exponent
	// is FailurePenalty × the cost, between 1 and FailureCostCap (0 or 1:
	// not scaled). A failure part-way through wastes time in proportion to
	// the job's length, and a big job retried elsewhere is the one that
	// lands in the tail. In the simulation, scaling up to 4 (k = 2 for the
	// 512×512 clips, as the oracle weighs every failing miner) lowered the
	// p99 of the throttling scenarios by 1–4% at seeds 1–3 and moved the
	// others within their noise (see docs/routing.md).
	FailureCostCap float64
	// MinSuccess floors the success rate in the score, so that a miner
	// that failed everything still has a finite score.
	MinSuccess float64
	// Sharpness is the exponent β of the sampling weights; 0 is uniform.
	Sharpness float64
	// Best and Random make the policy a Shortlister: it chooses among the
	// Best miners predicted to finish soonest and Random others drawn
	// uniformly, not among every eligible miner. With β = 10 a miner
	// predicted 1.5× slower than the best is drawn 57 times less often, so
	// the miners past the best few hardly ever won; the random ones let a
	// miner whose last event made it look slow back in. Best 0 scans all.
	Best, Random int
	// HerdWeight is how many times the other replicas' unseen attempts
	// count when the policy spreads its choices (see spread); 0 counts
	// them once. Spreading by their expected number alone equalises the
	// expected cost, but the tail is set by the collisions that happen
	// anyway — a miner expected to receive half an unseen attempt
	// sometimes receives three, each queued behind the others — and in
	// the simulation counting them twice lowered the p99 of the scenarios
	// with several replicas by 0–5% (large-16 1.133/1.115/1.129 → 1.129/
	// 1.107/1.093 × the oracle at seeds 1–3); three or four times did no
	// better.
	HerdWeight float64
	// HerdBest is how many more of the best miners the shortlist holds for
	// each unseen attempt counted. With the others' attempts counted, the
	// spread gives a chance to every miner within reach of the level it
	// fills to, and on a large grid that is more than Best: in the
	// simulation's large-16 (about 8 unseen attempts) the 24 best took
	// the chances of the 2,000 miners, and the replicas drawing from the
	// same 24 met at the same miner (a fifth of the jobs found another
	// replica's attempt, unheard of, queued before it).
	HerdBest float64
	// HerdMaxBest bounds the miners HerdBest adds: a decision costs about
	// in proportion to the shortlist, and the others' rate, heard on the
	// feed, is not bounded (104 more, for up to 13 unseen attempts, leaves
	// large-16's figures as they are).
	HerdMaxBest int

	scores, weights, extra []float64 // scratch
	order                  []scored
}

// scored is a candidate's index and score, for sorting.
type scored struct {
	score float64
	i     int
}

var _ Policy = (*P2C)(nil)

// NewP2C returns the production policy with its tuned defaults.
func NewP2C() *P2C {
	return &P2C{FailurePenalty: 0.5, FailureCostCap: 4, MinSuccess: 0.05, Sharpness: 10, Best: 24, Random: 4, HerdWeight: 2, HerdBest: 4, HerdMaxBest: 104}
}

var _ Shortlister = (*P2C)(nil)

// Shortlist implements Shortlister. With other replicas deciding unseen
// the policy spreads its choices over more miners (see spread), so it
// asks for HerdBest more of the best for each attempt it counts unseen.
func (p *P2C) Shortlist(req Request) (best, random int) {
	if p.Best <= 0 || req.Unseen <= 0 || req.UnseenCost <= 0 {
		return p.Best, p.Random
	}
	return p.Best + int(min(math.Ceil(p.HerdBest*p.herdWeight()*req.Unseen), float64(p.HerdMaxBest))), p.Random
}

func (p *P2C) herdWeight() float64 {
	if p.HerdWeight > 0 {
		return p.HerdWeight
	}
	return 1
}

// Name implements Policy.
func (p *P2C) Name() string { return "p2c" }

// Score is the quantity P2C minimises, in seconds.
func (p *P2C) Score(v gridmap.View, cost float64) float64 {
	s := max(v.Success, p.MinSuccess)
	return Predict(v, cost).Seconds() / pow(s, p.penalty(cost))
}

// penalty returns the failure penalty's exponent for a job of the given
// cost.
func (p *P2C) penalty(cost float64) float64 {
	if p.FailureCostCap <= 1 {
		return p.FailurePenalty
	}
	return p.FailurePenalty * min(max(cost, 1), p.FailureCostCap)
}

// pow is math.Pow with the exponents the policy uses (halves and small
// integers) done by square roots and multiplications, several times
// cheaper on the routing path.
func pow(x, k float64) float64 {
	switch {
	case k == 0.5:
		return math.Sqrt(x)
	case k >= 0 && k <= 64 && k == math.Trunc(k):
		r := 1.0
		for n := int(k); n > 0; n >>= 1 {
			if n&1 == 1 {
				r *= x
			}
			x *= x
		}
		return r
	}
	return math.Pow(x, k)
}

// Choose implements Policy.
func (p *P2C) Choose(rng *rand.Rand, req Request, cands []gridmap.View) int {
	n := len(cands)
	if n == 1 {
		return 0
	}
	p.scores = p.scores[:0]
	for _, v := range cands {
		p.scores = append(p.scores, max(p.Score(v, req.Cost), 1e-9))
	}
	total := p.weigh()
	if req.Unseen > 0 && req.UnseenCost > 0 {
		return pick(rng, p.weights, p.spread(req, cands), -1)
	}
	i := pick(rng, p.weights, total, -1)
	j := pick(rng, p.weights, total-p.weights[i], i)
	if p.scores[j] < p.scores[i] {
		return j
	}
	return i
}

// weigh sets the sampling weights from the scores and returns their sum.
func (p *P2C) weigh() float64 {
	best := slices.Min(p.scores)
	p.weights = p.weights[:0]
	total := 0.0
	for _, s := range p.scores {
		w := pow(best/s, p.Sharpness)
		p.weights = append(p.weights, w)
		total += w
	}
	return total
}

// spread replaces the weights with the choice that serves the replicas
// best together, when the other replicas have req.Unseen attempts in
// flight that this one has not heard of: they decide on the same map, so
// each of those attempts went to a candidate about as often as this
// replica would choose it, and adds its work to that candidate's score.
// With b_i a candidate's score and a_i the score the others' attempts
// would add if all went to it, choosing it with probability c_i costs the
// jobs sent there b_i + a_i × c_i each, and c_i more of them: the marginal
// cost is b_i + 2 a_i × c_i. Candidate i is chosen with the c_i at which
// every candidate chosen at all has the same marginal cost L and the
// others have b_i ≥ L. (Equal costs instead of marginal ones — no replica
// better off choosing otherwise — spread less and gave a p99 10% higher in
// the simulation's large-16.) Without this, a miner that looks idle to
// every replica at once receives one attempt from each within the feed's
// delay (in the simulation, 16 replicas queued ten jobs on one miner in
// 20 ms). It returns the new weights' sum.
func (p *P2C) spread(req Request, cands []gridmap.View) float64 {
	p.extra, p.order = p.extra[:0], p.order[:0]
	unseen := req.Unseen * p.herdWeight()
	for i, v := range cands {
		per := req.UnseenCost * v.Service.Seconds() / float64(max(v.Slots, 1)) / pow(max(v.Success, p.MinSuccess), p.FailurePenalty)
		p.extra = append(p.extra, max(2*unseen*per, 1e-9)) // 2 a_i
		p.order = append(p.order, scored{p.scores[i], i})
	}
	slices.SortFunc(p.order, func(a, b scored) int { return cmp.Compare(a.score, b.score) })
	// Fill the lowest scores up to a common level L until the choice
	// probabilities sum to 1.
	var inv, sum, level float64
	for k, o := range p.order {
		inv += 1 / p.extra[o.i]
		sum += o.score / p.extra[o.i]
		level = (1 + sum) / inv
		if k+1 == len(p.order) || level <= p.order[k+1].score {
			break
		}
	}
	total := 0.0
	for i, s := range p.scores {
		p.weights[i] = max(level-s, 0) / p.extra[i]
		total += p.weights[i]
	}
	return total
}

// pick draws an index with probability proportional to its weight,
// skipping skip; total is the sum of the weights not skipped.
func pick(rng *rand.Rand, weights []float64, total float64, skip int) int {
	u := rng.Float64() * total
	last := -1
	for i, w := range weights {
		if i == skip {
			continue
		}
		if u -= w; u < 0 {
			return i
		}
		last = i
	}
	return last // rounding left u ≥ 0 at the end
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
func (BestTierOfThree) Name() string { return "sn29-best-of-three" }

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
