package gridmap

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Query selects the miners for one routing decision.
type Query struct {
	Profile string               // only miners serving it ("id@version"); "" for any
	Cost    float64              // the job's spec cost; values ≤ 0 count as 1
	Skip    func(id string) bool // miners not to consider (already tried); nil for none
	Best    int                  // how many of the miners predicted to finish soonest
	Random  int                  // how many more, drawn uniformly from the other eligible ones
}

// found is a miner met on the walk with its predicted completion.
type found struct {
	x    *miner
	pred float64
}

// Shortlist appends to dst the views of up to q.Best eligible miners that
// are predicted to finish a job of cost q.Cost soonest — RTT + ((backlog −
// done) ÷ slots + cost) × service time, as of each miner's last event —
// and of up to q.Random others drawn with rng, in the order the walk left
// them: the same for the same map, so runs repeat (sorting them by id
// took a tenth of a decision over a wide shortlist). It looks at the
// miners in the order of its indexes and stops once no miner not yet
// looked at can beat the q.Best found, so its cost depends on how many
// miners are near the best, not on the size of the grid.
func (m *Map) Shortlist(dst []View, q Query, rng *rand.Rand) []View {
	m.mu.Lock() // the walk marks the miners it met
	defer m.mu.Unlock()
	now := m.cfg.Now()
	cost := unitCost(q.Cost)
	ok := func(x *miner) bool {
		return m.eligible(x, now) && (q.Profile == "" || slices.Contains(x.profiles, q.Profile)) &&
			(q.Skip == nil || !q.Skip(x.id))
	}
	best := m.walk(q.Best, cost, ok)
	for tries := 0; tries < 4*q.Random && len(best) < q.Best+q.Random && len(m.order) > 0; tries++ {
		x := m.order[rng.IntN(len(m.order))]
		if x.met != m.walks && ok(x) {
			x.met = m.walks
			best = append(best, found{x: x})
		}
	}
	for _, f := range best {
		dst = append(dst, m.view(f.x, now))
	}
	clear(best) // no pointers to miners kept past the walk
	m.found = best[:0]
	return dst
}

// walkSteps bounds the eligible miners a walk looks at, per miner it
// returns: on a grid of many alike miners the bound, not the threshold,
// ends the walk, and which of the alike miners are taken matters little.
const walkSteps = 4

// bucketWidth is the ratio of one bucket's floor to the one below.
var bucketWidth = math.Exp2(1.0 / indexPerDouble)

// walk returns up to k miners that ok accepts with the lowest predicted
// completion for a job of the given cost, walking in turn the two indexes
// whose reference costs surround it, and marks every miner it met. It
// stops when no miner not yet met can beat the k found by more than the
// width of a bucket, or after meeting walkSteps × k that ok accepts. The
// caller holds mu for writing.
func (m *Map) walk(k int, cost float64, ok func(*miner) bool) []found {
	m.walks++
	if k <= 0 {
		return nil
	}
	// pred(cost) = wa × key(lo) + wb × key(lo+1)
	lo := len(indexCosts) - 1
	for lo > 0 && cost < indexCosts[lo] {
		lo--
	}
	wa, wb := 1.0, cost-indexCosts[lo]
	if lo+1 < len(indexCosts) {
		wb /= indexCosts[lo+1] - indexCosts[lo]
		wa = 1 - wb
	}
	var a, b cursor
	a.start(&m.index[lo])
	b.start(&m.index[lo+1])
	best := m.found[:0] // a max-heap by pred: best[0] is the worst kept
	for turn, met := 0, 0; met < walkSteps*k; turn++ {
		floor := wa * a.floor()
		if wb > 0 {
			floor += wb * b.floor()
		}
		if len(best) == k && best[0].pred <= floor*bucketWidth {
			break
		}
		c := &a
		if turn%2 == 1 && wb > 0 {
			c = &b
		}
		x := c.step()
		if x == nil {
			if a.bucket < 0 && (b.bucket < 0 || wb == 0) {
				break
			}
			continue
		}
		if x.met == m.walks {
			continue
		}
		x.met = m.walks
		if !ok(x) {
			continue
		}
		met++
		pred := x.waitKey + cost*x.serviceKey
		switch {
		case len(best) < k:
			best = append(best, found{x, pred})
			siftUp(best, len(best)-1)
		case pred < best[0].pred:
			best[0] = found{x, pred}
			siftDown(best, 0)
		}
	}
	return best
}

// siftUp restores the max-heap order of h after h[i] was added.
func siftUp(h []found, i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].pred >= h[i].pred {
			return
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

// siftDown restores the max-heap order of h after h[i] was lowered.
func siftDown(h []found, i int) {
	for {
		largest, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].pred > h[largest].pred {
			largest = l
		}
		if r < len(h) && h[r].pred > h[largest].pred {
			largest = r
		}
		if largest == i {
			return
		}
		h[i], h[largest] = h[largest], h[i]
		i = largest
	}
}

// reindex recomputes the miner's keys and moves it in the indexes. The
// caller holds mu for writing.
func (m *Map) reindex(x *miner, now time.Time) {
	service := x.serviceTime(now, &m.cfg)
	x.serviceKey = service
	x.waitKey = m.rttOf(x).Seconds() + (x.backlog()-x.done(now, service))/float64(max(x.slots, 1))*service
	for i, c := range indexCosts {
		m.index[i].put(x, x.waitKey+c*service)
	}
	m.index[len(indexCosts)].put(x, service)
}
