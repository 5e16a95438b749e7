package routesim

// startThrottling picks the throttled miners and schedules their first
// change of speed; each then alternates between slow and full speed.
func (s *sim) startThrottling() {
	if s.cfg.ThrottleFraction <= 0 {
		return
	}
	rng := s.stream(streamThrottle, 0)
	n := int(s.cfg.ThrottleFraction*float64(len(s.miners)) + 0.5)
	lo, hi := s.cfg.ThrottleMin.Seconds(), s.cfg.ThrottleMax.Seconds()
	period := func() float64 { return lo + rng.Float64()*(hi-lo) }
	var toggle func(m *simMiner)
	toggle = func(m *simMiner) {
		if s.done == s.cfg.Jobs {
			return
		}
		if m.slow > 1 {
			s.throttled(m, 1)
		} else {
			s.throttled(m, s.cfg.ThrottleFactor)
		}
		s.at(s.now+period(), func() { toggle(m) })
	}
	for _, i := range rng.Perm(len(s.miners))[:n] {
		m := s.miners[i]
		s.at(rng.Float64()*2*hi, func() { toggle(m) })
	}
}
