package gridmap

import (
	"math"
	"time"
)

// herd estimates how many attempts the other replicas have dispatched that
// this map has not heard of yet: their dispatch rate, as heard on the feed,
// times how late the feed brings them. Replicas that decide on the same
// map at the same instant pick the same miner; a router that knows how
// many decisions it cannot see can spread its own (see router.P2C).
type herd struct {
	count float64   // remote dispatches, each decaying with herdWindow
	at    time.Time // when count was last decayed
	first time.Time // when the first was heard
	delay float64   // EWMA of the feed's delay, seconds
	cost  float64   // EWMA of the remote dispatches' cost
	n     int
}

// herdWindow is the time constant of the remote dispatch rate.
const herdWindow = 10 * time.Second

// maxFeedDelay bounds a delay sample: a message from a replica whose clock
// is far off says nothing about the feed.
const maxFeedDelay = time.Second

// heard records another replica's dispatch of the given cost, sent at at
// and heard at now.
func (h *herd) heard(now, at time.Time, cost float64) {
	h.decay(now)
	if h.n == 0 {
		h.first = now
	}
	h.count++
	d := min(max(now.Sub(at), 0), maxFeedDelay).Seconds()
	if h.n == 0 {
		h.delay, h.cost = d, cost
	} else {
		h.delay += 0.05 * (d - h.delay)
		h.cost += 0.05 * (cost - h.cost)
	}
	h.n++
}

func (h *herd) decay(now time.Time) {
	if dt := now.Sub(h.at); dt > 0 {
		h.count *= math.Exp(-dt.Seconds() / herdWindow.Seconds())
		h.at = now
	}
}

// Unseen returns how many attempts the other replicas are expected to have
// dispatched and this map not yet heard of, and their mean spec cost: the
// others' recent dispatch rate times the feed's delay. Both are 0 until a
// replica's dispatch has been shared.
func (m *Map) Unseen() (attempts, cost float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := &m.herd
	if h.n == 0 {
		return 0, 0
	}
	now := m.cfg.Now()
	h.decay(now)
	// The decayed count over its window, for a rate heard for less than a
	// few windows, divided by the part of the window heard so far.
	span := herdWindow.Seconds() * -math.Expm1(-max(now.Sub(h.first).Seconds(), 1e-3)/herdWindow.Seconds())
	return h.count / span * h.delay, h.cost
}
