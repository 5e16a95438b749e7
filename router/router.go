// Package router chooses the miner for each attempt at a generation, using
// the grid map.
//
// The production policy (P2C) predicts each miner's completion time as
//
//	RTT + ((backlog − done)/slots + cost) × service time per unit cost
//
// where backlog is the work queued at the miner in units of spec cost and
// done the part of it the running jobs have done by now — with idle
// default-cost jobs and one slot, RTT + (queue + 1) × service time — and
// picks the better of two miners drawn at random from the healthy,
// verified ones (power of two choices): nearly as good as scanning every
// miner, without several gateways herding onto the one that looked best in
// a stale map. When other replicas are deciding at the same moment on the
// same map (Request.Unseen), it draws one miner from the choice that
// leaves none of them better off choosing otherwise.
//
// A Router never hedges: a generation runs on one miner at a time, and a
// caller retries only after an attempt failed or was turned away, passing
// the miners already tried in Request.Exclude. Starting a second copy of a
// generation that already began doubles GPU time for nothing; only
// idempotent reads (status and content GETs) may be hedged — see Hedgeable.
package router

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gridmap"
)

// ErrNoMiner means no miner is eligible for the request: all are excluded,
// unverified, circuit-broken or full.
var ErrNoMiner = fmt.Errorf("router: no eligible miner: %w", fractal.ErrUnavailable)

// Request is one routing decision: one attempt at one job.
type Request struct {
	Profile string   // the spec's profile: only miners that serve it are candidates ("" for any)
	Cost    float64  // the spec's cost under its profile; values ≤ 0 count as 1
	Exclude []string // miners already tried for this job

	// Unseen and UnseenCost are filled in by Pick from the grid map: how
	// many attempts the other gateway replicas are expected to have
	// dispatched that this replica has not heard of yet, and their mean
	// spec cost (see gridmap.Map.Unseen).
	Unseen, UnseenCost float64
}

// Policy chooses among eligible candidates. Choose returns an index into
// cands, which is never empty: every eligible miner sorted by id, or for a
// Shortlister the map's shortlist in the order it gives.
type Policy interface {
	Name() string
	Choose(rng *rand.Rand, req Request, cands []gridmap.View) int
}

// Shortlister is a policy that needs to see only the miners predicted to
// finish a job soonest, and a few others drawn at random, rather than every
// eligible miner: the router then finds them through the grid map's
// indexes, at a cost that does not grow with the grid.
type Shortlister interface {
	// Shortlist returns how many of the best-placed miners and how many
	// others drawn at random the policy needs for req (its Unseen filled
	// in); best ≤ 0 means all.
	Shortlist(req Request) (best, random int)
}

// Router routes requests with one policy over one grid map. It is safe for
// concurrent use.
type Router struct {
	grid   *gridmap.Map
	policy Policy

	leases, doubled atomic.Int64

	mu    sync.Mutex
	rng   *rand.Rand
	cands []gridmap.View
}

// New returns a router over grid. A nil policy means NewP2C(); rng makes
// its choices reproducible.
func New(grid *gridmap.Map, policy Policy, rng *rand.Rand) *Router {
	if policy == nil {
		policy = NewP2C()
	}
	return &Router{grid: grid, policy: policy, rng: rng}
}

// Policy returns the router's policy.
func (r *Router) Policy() Policy { return r.policy }

// Pick chooses a miner for one attempt among the eligible miners not in
// req.Exclude, and books the attempt as outstanding work on the grid map.
// The caller ends the attempt with the lease's Done, exactly once.
func (r *Router) Pick(req Request) (*Lease, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	skip := func(id string) bool { return slices.Contains(req.Exclude, id) }
	req.Unseen, req.UnseenCost = r.grid.Unseen()
	best, random := 0, 0
	if sl, ok := r.policy.(Shortlister); ok {
		best, random = sl.Shortlist(req)
	}
	if best > 0 {
		q := gridmap.Query{Profile: req.Profile, Cost: req.Cost, Skip: skip, Best: best, Random: random}
		r.cands = r.grid.Shortlist(r.cands[:0], q, r.rng)
	} else {
		r.cands = r.grid.Candidates(r.cands[:0], req.Profile, skip)
	}
	if len(r.cands) == 0 {
		return nil, ErrNoMiner
	}
	i := r.policy.Choose(r.rng, req, r.cands)
	if i < 0 || i >= len(r.cands) {
		return nil, fmt.Errorf("router: policy %s chose %d of %d candidates: %w", r.policy.Name(), i, len(r.cands), errors.ErrUnsupported)
	}
	l := &Lease{Miner: r.cands[i].ID, Cost: req.Cost, router: r}
	r.grid.Dispatched(l.Miner, l.Cost)
	r.leases.Add(1)
	return l, nil
}

// Leases returns how many leases are open (picked and not yet done) and how
// many times a lease was ended again after its first Done; both are 0 after
// a run in which every attempt was accounted for once.
func (r *Router) Leases() (open, doubled int64) { return r.leases.Load(), r.doubled.Load() }

// Lease is one attempt booked on the grid map by Pick: the miner it went to
// and the work it was booked as.
type Lease struct {
	Miner string
	Cost  float64

	router *Router
	done   atomic.Bool
}

// Done ends the attempt: it returns the booked work to the grid map and
// records the outcome (its Cost is the lease's, whatever the caller set).
// Only the first call counts; later ones change nothing and return false.
func (l *Lease) Done(o gridmap.Outcome) bool {
	if !l.done.CompareAndSwap(false, true) {
		l.router.doubled.Add(1)
		return false
	}
	o.Cost = l.Cost
	l.router.grid.Finished(l.Miner, o)
	l.router.leases.Add(-1)
	return true
}

// Hedgeable reports whether a request with this HTTP method may be sent to
// a second server while the first is still running: only idempotent reads.
// Generations (POST) are never hedged.
func Hedgeable(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}
