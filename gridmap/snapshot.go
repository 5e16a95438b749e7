package gridmap

import (
	"time"

	"github.com/hashicorp/serf/coordinate"
)

// Snapshot is the whole map as one replica sees it, ready for JSON: the
// gateway serves it at GET /v1/grid and replicas exchange it through a
// key-value store.
type Snapshot struct {
	Origin string                 `json:"origin"`
	Taken  time.Time              `json:"taken"`
	Coord  *coordinate.Coordinate `json:"coord,omitempty"` // the replica's own coordinate
	Miners []MinerState           `json:"miners"`
}

// MinerState is one miner in a Snapshot. Each group of fields carries the
// time it was last updated, which Merge compares.
type MinerState struct {
	ID string `json:"id"`
	Info

	ServiceSeconds float64   `json:"service_s"` // peak-EWMA per unit of spec cost
	ServiceSamples int       `json:"service_samples"`
	ServiceAt      time.Time `json:"service_at"`

	Outstanding int `json:"outstanding"` // this replica's attempts in flight

	Queue      int                    `json:"queue"`
	Work       float64                `json:"work"` // spec cost of the queued jobs
	Slots      int                    `json:"slots"`
	ETASeconds float64                `json:"eta_s"`
	RTTSeconds float64                `json:"rtt_s"` // from this replica
	ProbeAt    time.Time              `json:"probe_at"`
	Coord      *coordinate.Coordinate `json:"coord,omitempty"`

	Success   float64   `json:"success"`
	SuccessAt time.Time `json:"success_at"`

	Standing
	StandingAt time.Time `json:"standing_at"`

	Breaker          BreakerState `json:"breaker"`
	BreakerFailures  int          `json:"breaker_failures"`
	BreakerUntil     time.Time    `json:"breaker_until"`
	BreakerCooldownS float64      `json:"breaker_cooldown_s"`
	BreakerAt        time.Time    `json:"breaker_at"`
}

// Snapshot returns the map's state.
func (m *Map) Snapshot() Snapshot {
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := m.cfg.Now()
	s := Snapshot{Origin: m.cfg.Origin, Taken: now, Coord: m.self.GetCoordinate(), Miners: make([]MinerState, 0, len(m.order))}
	for _, x := range m.order {
		st := MinerState{
			ID: x.id, Info: x.info,
			ServiceSeconds: x.service.value, ServiceSamples: x.service.n, ServiceAt: x.service.at,
			Outstanding: x.outstanding,
			Queue:       x.queue, Work: x.work, Slots: x.slots, ETASeconds: x.eta, ProbeAt: x.probeAt,
			Success: x.success, SuccessAt: x.successAt,
			Standing: x.standing, StandingAt: x.standingAt,
			Breaker: x.breaker.stateAt(now), BreakerFailures: x.breaker.failures,
			BreakerUntil: x.breaker.until, BreakerCooldownS: x.breaker.cooldown.Seconds(), BreakerAt: x.breaker.changed,
		}
		if !x.rttAt.IsZero() {
			st.RTTSeconds = x.rtt
		}
		if x.coord != nil {
			st.Coord = x.coord.Clone()
		}
		s.Miners = append(s.Miners, st)
	}
	return s
}

// Merge folds in a snapshot from another replica. Verification standing,
// success rate and circuit breaker are taken per miner when the snapshot's
// are newer than ours, so that a miner failing for one replica is avoided by
// all. Service time, queue and coordinates are taken only for miners we have
// no samples or probes of yet: each replica measures them itself. Outstanding
// counts and RTTs stay local: they describe the replica, not the miner, and
// other replicas' load reaches us through the miners' reported queues. Miners
// unknown here are added. A snapshot from our own origin is ignored.
func (m *Map) Merge(s Snapshot) {
	if s.Origin == m.cfg.Origin {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Now()
	for _, r := range s.Miners {
		x := m.get(r.ID)
		if x.info == (Info{}) {
			x.info = r.Info
		}
		// Service times and probes stand in only until we have our own.
		// Replicas that each keep their own estimates disagree a little,
		// and that spreads their requests: in the routing simulation,
		// sharing service times made replicas pile onto the same miners
		// (p99 7–15% worse). A newer remote probe would also subtract our
		// attempts sent since it as if the miner had counted them.
		taken := false // a key of the indexes may have changed
		if x.service.n == 0 && r.ServiceSamples > 0 {
			taken = true
			x.service = peakEWMA{value: r.ServiceSeconds, at: r.ServiceAt, n: r.ServiceSamples}
		}
		if x.probeAt.IsZero() && !r.ProbeAt.IsZero() {
			taken = true
			x.queue, x.work, x.slots, x.eta = r.Queue, r.Work, max(r.Slots, 1), r.ETASeconds
			x.group = x.work
			x.probeAt, x.counted, x.workAtProbe = r.ProbeAt, r.ProbeAt, x.outWork
			if r.Coord != nil && x.shadow != nil && r.Coord.IsCompatibleWith(x.shadow.GetCoordinate()) {
				_ = x.shadow.SetCoordinate(r.Coord.Clone())
			}
			if r.Coord != nil {
				x.coord = r.Coord.Clone()
			}
		}
		if r.SuccessAt.After(x.successAt) {
			x.success, x.successAt = r.Success, r.SuccessAt
		}
		if r.StandingAt.After(x.standingAt) {
			x.standing, x.standingAt = r.Standing, r.StandingAt
		}
		if r.BreakerAt.After(x.breaker.changed) {
			x.breaker = breaker{
				state: r.Breaker, failures: r.BreakerFailures, until: r.BreakerUntil,
				cooldown: seconds(r.BreakerCooldownS), changed: r.BreakerAt,
			}
			if x.breaker.state == HalfOpen {
				// The remote's trial is its own; an open breaker whose
				// cool-down is over lets ours try once too.
				x.breaker.state = Open
			}
		}
		if taken {
			m.reindex(x, now)
		}
	}
}
