package gridmap

import "time"

// The replicas know every attempt they sent a miner and when each came
// back (their own at once, the others' over the feed), so they know which
// job the miner should be working on and since when. A head job that has
// run longer than its cost at the miner's service time means the miner
// slowed down (throttling, a co-tenant on the GPU): seen so, within a job,
// rather than when a late probe or the slow job itself comes back.

// knownJob is an attempt of this gateway's replicas at a miner, from when
// it reached the miner.
type knownJob struct {
	arrived time.Time
	cost    float64
}

// maxKnown bounds the attempts a miner's record keeps; beyond it the
// oldest is dropped.
const maxKnown = 64

// arrived records an attempt of the given cost reaching the miner at t.
func (m *miner) arrived(t time.Time, cost float64) {
	if len(m.known) == maxKnown {
		m.known = append(m.known[:0], m.known[1:]...)
	}
	m.known = append(m.known, knownJob{t, cost})
}

// left forgets the oldest known attempt of the given cost, else the
// oldest: a replica does not say which of its attempts ended. served says
// the miner worked on it until t (it finished or failed it), rather than
// turned it away.
func (m *miner) left(t time.Time, cost float64, served bool) {
	if served && t.After(m.lastEnd) {
		m.lastEnd = t
	}
	if len(m.known) == 0 {
		return
	}
	i := 0
	for j, k := range m.known {
		if k.cost == cost {
			i = j
			break
		}
	}
	m.known = append(m.known[:i], m.known[i+1:]...)
}

// drained forgets the attempts that reached the miner by t, when a probe
// counted no job there: their ends were lost.
func (m *miner) drained(t time.Time) {
	keep := m.known[:0]
	for _, k := range m.known {
		if k.arrived.After(t) {
			keep = append(keep, k)
		}
	}
	clear(m.known[len(keep):])
	m.known = keep
}

// headService returns the least service time per unit of spec cost that
// explains why the oldest known attempt has not come back yet: it started
// when it arrived or when the miner last finished one, whichever came
// later, and has run since; 0 when nothing is known to be running.
func (m *miner) headService(now time.Time) float64 {
	if len(m.known) == 0 {
		return 0
	}
	h := m.known[0]
	start := h.arrived
	if m.lastEnd.After(start) {
		start = m.lastEnd
	}
	return max(now.Sub(start).Seconds(), 0) / h.cost
}
