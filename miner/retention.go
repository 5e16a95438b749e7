package miner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// retained is what a miner keeps of a committed job so it can open steps:
// every state digest, the trajectory tree, and checkpoint states (every
// Checkpoint-th and the final one). States between checkpoints are
// recomputed on demand, which costs at most Checkpoint-1 engine steps.
type retained struct {
	key         string
	spec        fractal.Spec
	engine      fractal.Engine // the engine that generated it, which recomputes its states
	tree        *fractal.MerkleTree
	digests     []fractal.Digest
	checkpoints map[int]fractal.State
	bytes       int64
	expires     time.Time
}

// retention holds retained jobs within a time window and a byte budget,
// evicting the oldest first.
type retention struct {
	mu     sync.Mutex
	window time.Duration
	budget int64
	every  int
	now    func() time.Time
	jobs   map[string]*retained
	order  []*retained // oldest first
	used   int64
}

func newRetention(window time.Duration, budget int64, every int, now func() time.Time) *retention {
	return &retention{window: window, budget: budget, every: every, now: now, jobs: map[string]*retained{}}
}

// keep retains a finished result of eng (which must carry every state) under
// key. Its openings are recomputed with eng even when the miner has changed
// engines since: another engine (an upgrade, another execution class) would
// not compute the committed states.
func (r *retention) keep(key string, res *fractal.Result, eng fractal.Engine) {
	j := &retained{
		key:         key,
		spec:        res.Spec,
		engine:      eng,
		digests:     res.StateDigests,
		tree:        fractal.NewMerkleTree(res.StateDigests),
		checkpoints: map[int]fractal.State{},
	}
	last := len(res.States) - 1
	for t, s := range res.States {
		if t%r.every == 0 || t == last {
			j.checkpoints[t] = s
			j.bytes += int64(4 * len(s.Data))
		}
	}
	j.bytes += int64(len(j.digests)) * 2 * 32
	r.mu.Lock()
	defer r.mu.Unlock()
	j.expires = r.now().Add(r.window)
	if old, ok := r.jobs[key]; ok {
		r.removeLocked(old)
	}
	r.jobs[key] = j
	r.order = append(r.order, j)
	r.used += j.bytes
	r.evictLocked()
}

// has reports whether key is retained (for conflict checks).
func (r *retention) has(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evictLocked()
	_, ok := r.jobs[key]
	return ok
}

// usage returns the number of retained jobs and their bytes.
func (r *retention) usage() (int, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evictLocked()
	return len(r.jobs), r.used
}

func (r *retention) get(key string) (*retained, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evictLocked()
	j, ok := r.jobs[key]
	if !ok {
		return nil, fmt.Errorf("job is not retained (unknown, or older than %s): %w", r.window, fractal.ErrNotFound)
	}
	return j, nil
}

func (r *retention) evictLocked() {
	now := r.now()
	for len(r.order) > 0 && (r.used > r.budget || !now.Before(r.order[0].expires)) {
		r.removeLocked(r.order[0])
	}
}

func (r *retention) removeLocked(j *retained) {
	delete(r.jobs, j.key)
	r.used -= j.bytes
	for i, o := range r.order {
		if o == j {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
}

// open returns the openings for steps of job j, recomputing states between
// checkpoints with eng and checking each against the committed digest.
func (j *retained) open(ctx context.Context, eng fractal.Engine, steps []int) ([]minerapi.Opening, error) {
	cache := map[int]fractal.State{}
	state := func(t int) (fractal.State, error) {
		if s, ok := j.checkpoints[t]; ok {
			return s, nil
		}
		if s, ok := cache[t]; ok {
			return s, nil
		}
		base := t
		for ; base > 0; base-- {
			if _, ok := j.checkpoints[base]; ok {
				break
			}
		}
		s := j.checkpoints[base]
		for u := base + 1; u <= t; u++ {
			next, err := eng.Step(ctx, j.spec, u, s)
			if err != nil {
				return fractal.State{}, fmt.Errorf("recompute step %d: %w", u, err)
			}
			cache[u] = next
			s = next
		}
		if s.Digest() != j.digests[t] {
			return fractal.State{}, fmt.Errorf("recomputed state %d does not match its commitment", t)
		}
		return s, nil
	}
	out := make([]minerapi.Opening, 0, len(steps))
	for _, k := range steps {
		if k < 1 || k >= len(j.digests) {
			return nil, fractal.Errorf("steps", "step %d is outside 1–%d for this job", k, len(j.digests)-1)
		}
		prev, err := state(k - 1)
		if err != nil {
			return nil, err
		}
		cur, err := state(k)
		if err != nil {
			return nil, err
		}
		pp, _ := j.tree.Proof(k - 1)
		p, _ := j.tree.Proof(k)
		out = append(out, minerapi.Opening{Step: k, Prev: minerapi.Blob(prev), PrevProof: pp, State: minerapi.Blob(cur), Proof: p})
	}
	return out, nil
}
