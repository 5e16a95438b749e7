package gridmap

import (
	"slices"
	"time"
)

// View is what a router needs to know about one miner at one instant.
type View struct {
	ID       string
	Eligible bool // verified, breaker lets a request through, not turned us away
	Breaker  BreakerState
	Verified bool
	Tier     int

	Outstanding int           // our attempts in flight
	Booked      float64       // their work, in units of spec cost
	Backlog     float64       // work ahead of a new job, in units of spec cost (ours now + others' at the last probe)
	Done        float64       // of the backlog, the part the jobs running there have done by now, as far as the map can tell
	Slots       int           // jobs the miner runs at once (≥ 1)
	Service     time.Duration // service time per unit of spec cost (peak-EWMA)
	RTT         time.Duration // measured, else estimated from coordinates, else the default
	Success     float64       // success-rate EWMA, 0–1
	Profiles    []string      // what it serves, from its last probe (shared; do not modify)
}

// Views appends a view of every miner, sorted by id, to dst and returns it.
// Pass a reused slice to avoid allocating on every routing decision.
func (m *Map) Views(dst []View) []View {
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := m.cfg.Now()
	for _, x := range m.order {
		dst = append(dst, m.view(x, now))
	}
	return dst
}

// Candidates appends the views of the eligible miners that serve profile
// ("id@version"; "" for any) and that skip does not reject, sorted by id, to
// dst and returns it. It builds no view for the others, so a router pays
// only for the miners it may choose.
func (m *Map) Candidates(dst []View, profile string, skip func(id string) bool) []View {
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := m.cfg.Now()
	for _, x := range m.order {
		if m.eligible(x, now) && (profile == "" || slices.Contains(x.profiles, profile)) && !skip(x.id) {
			dst = append(dst, m.view(x, now))
		}
	}
	return dst
}

// eligible reports whether a request may go to the miner now. The caller
// holds mu.
func (m *Map) eligible(x *miner, now time.Time) bool {
	return x.standing.Verified && x.breaker.allows(now) && !now.Before(x.fullUntil)
}

// View returns the view of one miner.
func (m *Map) View(id string) (View, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	x, ok := m.miners[id]
	if !ok {
		return View{}, false
	}
	return m.view(x, m.cfg.Now()), true
}

// view builds a View. The caller holds mu.
func (m *Map) view(x *miner, now time.Time) View {
	service := x.serviceTime(now, &m.cfg)
	return View{
		ID:          x.id,
		Eligible:    m.eligible(x, now),
		Breaker:     x.breaker.stateAt(now),
		Verified:    x.standing.Verified,
		Tier:        x.standing.Tier,
		Outstanding: x.outstanding,
		Booked:      x.outWork,
		Backlog:     x.backlog(),
		Done:        x.done(now, service),
		Slots:       max(x.slots, 1),
		Service:     seconds(service),
		RTT:         m.rttOf(x),
		Success:     x.success,
		Profiles:    x.profiles,
	}
}

// rttOf returns the measured RTT, else the distance between our coordinate
// and the miner's, else the default. The caller holds mu.
func (m *Map) rttOf(x *miner) time.Duration {
	switch {
	case !x.rttAt.IsZero():
		return seconds(x.rtt)
	case x.coord != nil && x.coord.IsCompatibleWith(m.self.GetCoordinate()):
		return m.self.DistanceTo(x.coord)
	}
	return m.cfg.DefaultRTT
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
