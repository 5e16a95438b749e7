package gridmap

import (
	"math"
	"time"
)

// A miner's generation stream says when its engine began a job and when
// each denoising step is done. The steps of one job run at one pace, so
// the first of them tells the miner's speed now, within a step rather
// than a whole job: on a miner that began throttling a moment ago, the
// job just started shows it while the jobs queued behind it are still to
// be placed, where the ended job's time (head.go) shows it only at the
// end and the late probe later still.
//
// The same holds when the GPU recovers. A step far faster (slowedJob
// times) than both the miner's measured service time and the steps read
// there before it is taken as its service time at once, and the evidence
// of the slow spell is set aside: the ETA of the probes sent before the
// step, the times of the jobs that began before it (they ran partly at
// the old speed) and those jobs' time so far. Without this a recovered miner kept looking slow until a probe
// sent after the recovery came back, 10–30 s in late-throttle-4, and the
// peak-EWMA had decayed: it sat idle while big clips queued elsewhere.
// The pace is the miner's word, as the started event that times its
// generation already is; a step reads as a recovery only after slow
// steps, so a miner that sends fast steps for slow videos gains nothing
// by it. What pays a miner is the validators' own timing.

// Pace is how fast one attempt is running, from its generation stream.
// Replicas share it as JSON.
type Pace struct {
	Cost    float64   `json:"cost"`    // the attempt's spec cost; values ≤ 0 count as 1
	Started time.Time `json:"started"` // when the miner's engine began it (its started event), on the map's clock
	Step    int       `json:"step"`    // steps done, 1 to Steps
	Steps   int       `json:"steps"`   // steps in all
	// PrevStep is the step reported before this one, at Prev: a miner may
	// report several steps at once. With none before, PrevStep is 0 and a
	// zero Prev stands for Started.
	PrevStep int       `json:"prev_step"`
	Prev     time.Time `json:"prev"`
	At       time.Time `json:"at"` // when step Step was reported; zero means now
	// Share is the part of Cost the steps take, as the profile's cost
	// model has it; the rest (a fixed part, decoding the video) comes
	// after the last step. Values ≤ 0 or over 1 count as 1.
	Share float64 `json:"share,omitempty"`
	// Sped says the replica that read the pace took it as the miner
	// speeding up (see Map.reading): the replicas that hear it do too.
	Sped bool `json:"sped,omitempty"`
}

// stepsCost returns the part of the attempt's cost its steps take.
func (p Pace) stepsCost() float64 {
	c := unitCost(p.Cost)
	if p.Share > 0 && p.Share < 1 {
		c *= p.Share
	}
	return c
}

// perUnit returns the seconds per unit of spec cost the attempt's steps
// since the last report ran at (per unit of the steps' part of the cost:
// what the whole attempt would take per unit at that pace), or false for a pace that says nothing (no
// step done since, steps out of range, a clock that went back).
func (p Pace) perUnit() (float64, bool) {
	prev := p.Prev
	if prev.IsZero() {
		prev = p.Started
	}
	if p.PrevStep < 0 || p.Step <= p.PrevStep || p.Steps < p.Step || prev.IsZero() || !p.At.After(prev) {
		return 0, false
	}
	v := p.At.Sub(prev).Seconds() * float64(p.Steps) / float64(p.Step-p.PrevStep) / p.stepsCost()
	return v, !math.IsInf(v, 0) && !math.IsNaN(v)
}

// read takes At as now when it is unset or ahead of now, and returns the
// pace per unit of cost (see perUnit).
func (p *Pace) read(now time.Time) (float64, bool) {
	if p.At.IsZero() || p.At.After(now) {
		p.At = now
	}
	return p.perUnit()
}

// The other replicas need a pace only when it changes what they make of
// the miner: when it shows the miner slow (over slowJob times the
// measured service time) where the last reading did not, slower or faster
// by more than sharedPaceChange while slow, no longer slow, or sped up far
// beyond the measured service time (a recovery, see reading). A miner
// running at its usual pace costs the feed nothing beyond its attempts.
const sharedPaceChange = 0.25

// worthSharing reports whether a pace of v seconds per unit of cost, read
// after a last reading of before, is worth telling the other replicas,
// base being the service time measured otherwise.
func worthSharing(v, before, base float64) bool {
	slow, wasSlow := v > slowJob*base, before > slowJob*base
	switch {
	case slow && wasSlow:
		return math.Abs(v-before) > sharedPaceChange*before
	default:
		return slow != wasSlow
	}
}

// Paced records the pace of one of this replica's attempts at the miner,
// from its progress: the miner's speed now, as the newest-begun job
// running there shows it. A pace worth telling the other replicas (see
// worthSharing), or one that shows the miner sped up (see reading), is
// passed to the function set with ObservePaces.
func (m *Map) Paced(id string, p Pace) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Now()
	v, ok := p.read(now)
	if !ok {
		return
	}
	x := m.get(id)
	x.stepped(p)
	before, base := x.ran, x.measuredService(now, &m.cfg)
	taken, sped := m.reading(x, v, p.Started, p.At, now, x.stepRead(v))
	m.reindex(x, now)
	if taken && m.observePace != nil && (sped || worthSharing(v, before, base)) {
		p.Sped = sped
		m.observePace(id, p)
	}
}

// SharedPace records another replica's pace at a miner, as Paced shared
// it; one from this map's own origin is ignored.
func (m *Map) SharedPace(origin, id string, p Pace) {
	if origin == m.cfg.Origin {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Now()
	v, ok := p.read(now)
	if !ok {
		return
	}
	x := m.get(id)
	x.stepRead(v)
	if taken, _ := m.reading(x, v, p.Started, p.At, now, p.Sped); taken {
		m.reindex(x, now)
	}
}

// ObservePaces sets a function the map calls with the paces of this
// replica's attempts that the other replicas should hear of (see Paced).
// It runs under the map's lock: it must not block or call the map. nil
// stops the calls.
func (m *Map) ObservePaces(fn func(id string, p Pace)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.observePace = fn
}

// reading takes v seconds per unit of cost, measured at at on a job the
// miner began at since, as the miner's speed: it replaces the last
// reading when that came from a job begun no later, else only when it is
// slower (of two jobs running at once, the one begun later shows the
// miner as it is now). A reading far beyond the measured service time
// marks the miner as one that slows down (see slowedJob); a step's pace
// far below it shows the miner sped up (see spedUp), if the steps before
// ran far slower too (faster: the caller compared them). It reports
// whether the reading was taken, and whether it showed the miner sped up.
// The caller holds mu.
func (m *Map) reading(x *miner, v float64, since, at, now time.Time, faster bool) (taken, sped bool) {
	if since.Before(x.ranSince) && v <= x.ran {
		return false, false
	}
	base := x.measuredService(now, &m.cfg)
	if faster && v*slowedJob < base {
		x.spedUp(v, at)
		base, sped = v, true
	}
	x.ran, x.ranAt, x.ranSince = v, at, since
	if v > slowedJob*base {
		x.slowedAt = at
	}
	return true, sped
}

// spedUp takes v seconds per unit of cost, read at at, as the miner's
// measured service time: it ran far faster than it was taken to (a
// throttled GPU recovered). The probe answers sent before at describe the
// slow miner and their ETA is ignored (see applyProbe), and so are the
// times of jobs that began before it, which ran partly at the old speed.
func (x *miner) spedUp(v float64, at time.Time) {
	x.service.value, x.service.at, x.service.n = v, at, max(x.service.n, 1)
	x.eta, x.spedAt = 0, at
}

// stepRead records v, the pace of a step read at the miner, and reports
// whether it ran slowedJob times faster than the slower of the two steps
// read before it. A step far faster than the measured service time shows
// a recovery only if the steps before it ran slow too: steps that take
// less of their jobs than the cost model says read fast at every step.
// The slower of the last two, for the step the recovery came in ran
// partly at the old speed.
func (x *miner) stepRead(v float64) (faster bool) {
	faster = v*slowedJob < max(x.stepPace[0], x.stepPace[1])
	x.stepPace = [2]float64{v, x.stepPace[0]}
	return faster
}

// stepped marks the known attempt holding a slot that p is the progress
// of — of its cost, the one that took its slot nearest to when p says it
// began — with its last step, so that a step overdue shows the miner slow
// before it is done (see headService).
func (m *miner) stepped(p Pace) {
	cost := unitCost(p.Cost)
	var k *knownJob
	for i := range m.known[:min(max(m.slots, 1), len(m.known))] {
		c := &m.known[i]
		if c.cost != cost || c.started.IsZero() {
			continue
		}
		if k == nil || absDuration(c.started.Sub(p.Started)) < absDuration(k.started.Sub(p.Started)) {
			k = c
		}
	}
	if k != nil {
		k.stepAt, k.stepCost, k.lastStep = p.At, p.stepsCost()/float64(p.Steps), p.Step >= p.Steps
	}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
