package gridmap

import (
	"math"
	"time"
)

// The replicas know every attempt they sent a miner and when each came
// back (their own at once, the others' over the feed), so they know which
// jobs the miner should be working on and since when: it takes them in
// the order they arrived, as many at once as it has slots, and starts the
// next when one ends. That gives two measurements of the miner's speed now
// that need neither a probe nor the miner's word:
//
//   - a running job that has run longer than its cost at the miner's
//     service time means the miner slowed down (throttling, a co-tenant on
//     the GPU): seen so within the job, rather than when a late probe or
//     the slow job itself comes back;
//   - a job that ended ran from its start to its end: its time per unit of
//     cost is the miner's speed of a moment ago, known as promptly as the
//     feed brings the end, whatever the miner reports as its generation
//     time. Without it the evidence of a slow job vanished with its end,
//     and the next job on the throttled miner looked like any other for
//     its first seconds.

// knownJob is an attempt of this gateway's replicas at a miner, from when
// it reached the miner.
type knownJob struct {
	arrived time.Time
	started time.Time // when it took a slot, as far as the ends tell; zero: waiting
	cost    float64
	// For this replica's own attempts, from their progress events: when
	// the last step was heard, the cost of one step, and whether it was
	// the last step (see pace.go).
	stepAt   time.Time
	stepCost float64
	lastStep bool
}

// maxKnown bounds the attempts a miner's record keeps; beyond it the
// oldest is dropped.
const maxKnown = 64

// arrived records an attempt of the given cost reaching the miner at t.
func (m *miner) arrived(t time.Time, cost float64) {
	if len(m.known) == maxKnown {
		m.known = append(m.known[:0], m.known[1:]...)
	}
	m.known = append(m.known, knownJob{arrived: t, cost: cost})
	m.promote(t)
}

// left forgets the oldest known attempt of the given cost, else the
// oldest: a replica does not say which of its attempts ended. timed says
// the miner ran it until t, so that its time per unit of cost measures
// the miner's speed: not for an attempt turned away, nor for one of ours
// that failed (a failure may be a time-out). The others' ends are timed:
// the feed does not say how they ended. For a timed attempt that had
// started it returns that time per unit of cost and when it started.
func (m *miner) left(t time.Time, cost float64, timed bool) (perUnit float64, started time.Time, ok bool) {
	if len(m.known) == 0 {
		return 0, time.Time{}, false
	}
	i := 0
	for j, k := range m.known {
		if k.cost == cost {
			i = j
			break
		}
	}
	k := m.known[i]
	m.known = append(m.known[:i], m.known[i+1:]...)
	m.promote(t)
	if timed && !k.started.IsZero() && t.After(k.started) {
		return t.Sub(k.started).Seconds() / k.cost, k.started, true
	}
	return 0, time.Time{}, false
}

// left records the end of an attempt at x (see miner.left) and takes its
// time as a reading of the miner's speed (see Map.reading), unless it
// began before the miner sped up. The caller holds mu.
func (m *Map) left(x *miner, t time.Time, cost float64, timed bool) {
	if v, since, ok := x.left(t, cost, timed); ok && !since.Before(x.spedAt) {
		m.reading(x, v, since, t, m.cfg.Now(), false)
	}
}

// promote starts, at t or when they arrived if later, the waiting
// attempts that now hold one of the miner's slots.
func (m *miner) promote(t time.Time) {
	for i := range m.known[:min(max(m.slots, 1), len(m.known))] {
		if k := &m.known[i]; k.started.IsZero() {
			k.started = k.arrived
			if t.After(k.arrived) {
				k.started = t
			}
		}
	}
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
	m.promote(t)
}

// headService returns the least service time per unit of spec cost that
// explains why the known attempts holding the miner's slots have not come
// back yet: each has run since it started; 0 when nothing is known to be
// running. A job that began before the miner sped up is left out: its time
// so far is that of the old speed.
func (m *miner) headService(now time.Time) float64 {
	s := 0.0
	for _, k := range m.known[:min(max(m.slots, 1), len(m.known))] {
		if !k.started.IsZero() && !k.started.Before(m.spedAt) {
			s = max(s, max(now.Sub(k.started).Seconds(), 0)/k.cost)
		}
		if gap := now.Sub(k.stepAt); !k.stepAt.IsZero() && !k.lastStep && gap > stepGap {
			s = max(s, gap.Seconds()/k.stepCost)
		}
	}
	return s
}

// stepGap is the least time since an attempt's last step heard that
// counts as a step not done yet: a miner sends at most one progress event
// every 50 ms, so a shorter gap says nothing about its pace.
const stepGap = 250 * time.Millisecond

// ranService returns the time per unit of cost the last job that ended
// took, fading with the time constant tau towards base (the service time
// measured otherwise) since it ended: a miner that sped up again shows it
// with its next job, and one left idle because it looked slow is tried
// again.
func (m *miner) ranService(now time.Time, base float64, tau time.Duration) float64 {
	if m.ran <= slowJob*base {
		return 0
	}
	dt := max(now.Sub(m.ranAt), 0)
	return base + (m.ran-base)*math.Exp(-dt.Seconds()/tau.Seconds())
}

// slowJob is how much slower than the measured service time a job must
// have run to count as a sign of the miner slowing down rather than of
// the spread of its jobs' times.
const slowJob = 1.5

// A miner that slowed down far beyond the spread of its jobs' times
// (a job ran slowedJob times the measured time: throttling, a co-tenant
// on the GPU) is likely to again, and its next slow spell shows only
// once a job has run past its usual time, or when a probe that may come
// late says so: the jobs sent to it in the first seconds of the spell
// wait four times as long, and the slowest of them set the p99. For
// slowedFor after such a job the miner is taken slowedPremium slower
// than measured, so that it gets less of the work a miner that never
// slowed down would finish as soon. In the simulation's late-throttle-4,
// where the probes arrive 10–30 s late, 20% took the p99 from
// 1.46/1.41/1.35 to 1.38/1.30/1.30 × the oracle's at seeds 1–3; 30% and
// 50% did little more there and cost throttle-4 2–4% at seed 1; marking
// miners at 1.5× slow rather than 2.5× marked some for the spread of
// their jobs' times and cost late-probes-1 5% at seed 3.
const (
	slowedJob     = 2.5
	slowedFor     = 5 * time.Minute
	slowedPremium = 0.2
)

// slowedService returns base, raised by slowedPremium when the miner
// slowed down within slowedFor of now.
func (m *miner) slowedService(now time.Time, base float64) float64 {
	if m.slowedAt.IsZero() || now.Sub(m.slowedAt) >= slowedFor {
		return base
	}
	return base * (1 + slowedPremium)
}

// doneWork returns how much of the known attempts holding the miner's
// slots is done by now at service seconds per unit of cost: each has run
// since it started, and at most doneCap of its cost is taken as done, for
// a job that runs past its time is not about to end.
func (m *miner) doneWork(now time.Time, service float64) float64 {
	if service <= 0 {
		return 0
	}
	done := 0.0
	for _, k := range m.known[:min(max(m.slots, 1), len(m.known))] {
		if !k.started.IsZero() {
			done += min(max(now.Sub(k.started).Seconds(), 0)/service, doneCap*k.cost)
		}
	}
	return done
}

// doneCap is the most of a running job's cost taken as done.
const doneCap = 0.9
