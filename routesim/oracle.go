package routesim

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/router"
)

// oracle knows every miner's true state — the work left on each slot, the
// jobs queued and on their way, its speed and failure rate — and scans
// them all for the earliest expected completion. No real router can know
// this; it is the yardstick.
type oracle struct {
	s     *sim
	gw    *gateway  // the replica it routes for
	slots []float64 // scratch: when each slot frees up
}

var _ router.Policy = (*oracle)(nil)

func (*oracle) Name() string { return "oracle" }

func (o *oracle) Choose(_ *rand.Rand, req router.Request, cands []gridmap.View) int {
	best, bestScore := 0, math.Inf(1)
	for i, v := range cands {
		m := o.s.byID[v.ID]
		score := o.completion(m, req.Cost) / math.Pow(1-min(m.failRate, 0.95), 2)
		if score < bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// completion is how long from now a job of this cost sent to m would take
// to come back, if it succeeds.
func (o *oracle) completion(m *simMiner, cost float64) float64 {
	now := o.s.now
	rtt := o.s.rtt(o.gw, m)
	arrive := now + rtt/2
	o.slots = o.slots[:0]
	for _, a := range m.running {
		o.slots = append(o.slots, a.end)
	}
	for len(o.slots) < m.slots {
		o.slots = append(o.slots, now)
	}
	for _, list := range [][]*attempt{m.waiting, m.transit} {
		for _, a := range list {
			i := slices.Index(o.slots, slices.Min(o.slots))
			d := a.service * m.slowdown()
			if a.fails {
				d *= a.failAt
			}
			o.slots[i] += d
		}
	}
	start := max(slices.Min(o.slots), arrive)
	return start + cost*o.s.cfg.BaseService.Seconds()/m.speedNow() + rtt/2 - now
}
