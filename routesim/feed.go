package routesim

import "github.com/fractal-grid/fractal/gridmap"

// end ends an attempt's lease and tells the other replicas.
func (s *sim) end(a *attempt, o gridmap.Outcome) {
	a.lease.Done(o)
	s.shareAttempt(a, -a.job.cost)
}

// shareAttempt tells every other replica, FeedDelay from now, that the
// attempt's gateway dispatched it (cost > 0) or that it ended (cost < 0).
func (s *sim) shareAttempt(a *attempt, cost float64) {
	if !s.cfg.ShareDispatches || len(s.gateways) < 2 {
		return
	}
	from, id, at := a.job.gw.origin, a.miner.id, epoch.Add(seconds(s.now))
	for _, gw := range s.gateways {
		if gw != a.job.gw {
			s.at(s.now+s.cfg.FeedDelay.Seconds(), func() { gw.grid.Shared(from, id, cost, at) })
		}
	}
}

// rtt is the round trip between a replica and a miner: further when they
// are in different regions.
func (s *sim) rtt(gw *gateway, m *simMiner) float64 {
	if gw.far != m.far {
		return m.rtt + s.cfg.FarRTT.Seconds()
	}
	return m.rtt
}

// sharePaces has the replica tell every other, FeedDelay later, of the
// paces its map says are worth telling (see gridmap.Map.Paced).
func (s *sim) sharePaces(from *gateway) {
	if !s.cfg.ShareDispatches {
		return
	}
	from.grid.ObservePaces(func(id string, p gridmap.Pace) {
		for _, gw := range s.gateways {
			if gw != from {
				s.at(s.now+s.cfg.FeedDelay.Seconds(), func() { gw.grid.SharedPace(from.origin, id, p) })
			}
		}
	})
}
