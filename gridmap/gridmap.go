// Package gridmap keeps the map of the grid: per miner, how fast it serves
// (peak-EWMA service time per unit of spec cost), how busy it is (our
// outstanding attempts and its reported queue and ETA), how reliable it is
// (success rate and a circuit breaker), how the validator rates it
// (verification standing and tier) and how far away it is (probe RTT and
// Vivaldi network coordinates).
//
// A Map is safe for concurrent use. Its clock is injected, so simulations
// and tests drive it in simulated time. Snapshot and Merge let several
// gateway replicas share what each has learnt.
package gridmap

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/serf/coordinate"
)

// Map is the grid map.
type Map struct {
	cfg     Config
	vivaldi *coordinate.Config

	mu     sync.RWMutex
	self   *coordinate.Client
	miners map[string]*miner
	order  []*miner // sorted by id, so that every walk is deterministic

	index [indexes]index // see index.go
	walks uint64         // walks of the indexes so far, to mark the miners each met
	found []found        // the walk's scratch, reused under mu

	observe     func(id string, cost float64, at time.Time) // see Observe
	observePace func(id string, p Pace)                     // see ObservePaces
	herd        herd                                        // see Unseen
}

// New returns an empty map.
func New(cfg Config) (*Map, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	viv := cfg.Vivaldi
	if viv == nil {
		viv = coordinate.DefaultConfig()
	}
	self, err := coordinate.NewClient(viv)
	if err != nil {
		return nil, fmt.Errorf("gridmap: vivaldi client: %w", err)
	}
	m := &Map{cfg: cfg, vivaldi: viv, self: self, miners: map[string]*miner{}}
	for i := range m.index {
		m.index[i].which = i
	}
	return m, nil
}

// Add registers a miner, or updates its info if it is known. New miners are
// unverified until SetStanding says otherwise.
func (m *Map) Add(id string, info Info) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(id).info = info
}

// Remove forgets a miner (it left the metagraph).
func (m *Map) Remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	x, ok := m.miners[id]
	if !ok {
		return
	}
	for i := range m.index {
		m.index[i].remove(x)
	}
	delete(m.miners, id)
	m.order = slices.DeleteFunc(m.order, func(x *miner) bool { return x.id == id })
}

// get returns the miner, creating it if needed. The caller holds mu.
func (m *Map) get(id string) *miner {
	if x, ok := m.miners[id]; ok {
		return x
	}
	x := &miner{id: id, success: 1}
	for i := range x.pos {
		x.pos[i].bucket = -1
	}
	m.miners[id] = x
	i, _ := slices.BinarySearchFunc(m.order, id, func(a *miner, id string) int { return strings.Compare(a.id, id) })
	m.order = slices.Insert(m.order, i, x)
	m.reindex(x, m.cfg.Now())
	return x
}

// SetStanding records the validator's verdict on a miner.
func (m *Map) SetStanding(id string, s Standing) {
	m.mu.Lock()
	defer m.mu.Unlock()
	x := m.get(id)
	x.standing, x.standingAt = s, m.cfg.Now()
}

// Dispatched records that an attempt at a job of the given spec cost
// (values ≤ 0 count as 1) was sent to the miner. Every call must be matched
// by one Finished with the same cost.
func (m *Map) Dispatched(id string, cost float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	x := m.get(id)
	now := m.cfg.Now()
	x.outstanding++
	x.outWork += unitCost(cost)
	x.changed(m.atMiner(x, now, unitCost(cost)), unitCost(cost))
	x.arrived(m.atMiner(x, now, unitCost(cost)), unitCost(cost))
	x.breaker.dispatched(now)
	m.reindex(x, now)
	if m.observe != nil {
		m.observe(id, unitCost(cost), now)
	}
}

// Observe sets a function the map calls with every change of its own
// outstanding work, as it happens: the miner, the attempt's cost (negative
// when the attempt ended) and the time, so that replicas can share them
// (see Shared). It runs under the map's lock: it must not block or call
// the map. nil stops the calls.
func (m *Map) Observe(fn func(id string, cost float64, at time.Time)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.observe = fn
}

// Finished records how an attempt sent with Dispatched ended.
func (m *Map) Finished(id string, o Outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Now()
	x := m.get(id)
	cost := unitCost(o.Cost)
	before := x.outWork
	x.outstanding = max(x.outstanding-1, 0)
	x.outWork = max(x.outWork-cost, 0)
	if x.outstanding == 0 {
		x.outWork = 0 // no rounding drift
	}
	x.changed(m.atMiner(x, now, x.outWork-before), x.outWork-before)
	m.left(x, m.atMiner(x, now, -cost), cost, o.Result == Succeeded)
	if m.observe != nil && x.outWork < before {
		m.observe(id, x.outWork-before, now)
	}
	switch o.Result {
	case Succeeded:
		if !now.Add(-o.Service).Before(x.spedAt) { // else it ran partly before the miner sped up
			x.service.observe(now, o.Service.Seconds()/cost, m.cfg.ServiceDecay)
		}
		m.observeSuccess(x, 1, now)
		x.breaker.succeeded(now, &m.cfg)
	case Failed:
		m.observeSuccess(x, 0, now)
		x.breaker.failed(now, &m.cfg)
	case Rejected:
		wait := o.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		x.fullUntil, x.rejectedAt = now.Add(wait), now
		x.breaker.released()
	case Released:
		x.breaker.released()
	}
	m.reindex(x, now)
}

func (m *Map) observeSuccess(x *miner, v float64, now time.Time) {
	x.success += m.cfg.SuccessAlpha * (v - x.success)
	x.successAt = now
}

// Probed records the answer to a health probe. An answer sent before the
// newest one applied updates only the RTT: the miner's state it describes
// is older than what the map knows.
func (m *Map) Probed(id string, p Probe) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Now()
	x := m.get(id)
	sent := p.Sent
	if sent.IsZero() || sent.After(now) {
		sent = now
	}
	if !sent.Before(x.probeAt) {
		m.applyProbe(x, p, sent, now)
	}
	if x.rttAt.IsZero() {
		x.rtt = p.RTT.Seconds()
	} else {
		x.rtt += m.cfg.RTTAlpha * (p.RTT.Seconds() - x.rtt)
	}
	x.rttAt = now
	m.updateCoord(x, p)
	m.reindex(x, now)
}

// applyProbe takes the miner's state from a probe sent at sent. The caller
// holds mu.
func (m *Map) applyProbe(x *miner, p Probe, sent, now time.Time) {
	x.queue, x.slots = max(p.Queue, 0), max(p.Slots, 1)
	if !sent.Before(x.spedAt) { // else it is the ETA of the miner before it sped up
		x.eta = max(p.ETA.Seconds(), 0)
	}
	x.work = p.Work
	if x.work <= 0 {
		x.work = float64(x.queue)
	}
	x.group = x.work
	// The miner counted when the probe reached it, half a round trip
	// after it was sent, or when it says it counted; changes of our work
	// and the other replicas' are compared with that on the miner's
	// terms (see atMiner). An answer without a send time describes the
	// miner as it is now, with all our attempts so far in it.
	counted := sent.Add(p.RTT / 2)
	if counted.After(now) {
		counted = now
	}
	if !p.Measured.IsZero() {
		if !p.Measured.Before(sent) && !p.Measured.After(now) { // else clocks apart
			counted = p.Measured
		}
		x.group = min(max(p.Ours, 0), x.work)
	}
	through := counted
	if p.Sent.IsZero() {
		through = now.Add(time.Hour)
	}
	ours, oursN := x.workAt(through)
	if p.Work <= 0 && p.Measured.IsZero() {
		m.countJobs(x, ours, oursN, through)
	} else {
		x.others = max(x.group-ours, 0)
		x.othersN = x.others // attempts of unit cost, for want of better
	}
	x.probeAt, x.workAtProbe, x.counted = sent, ours, counted
	if x.queue == 0 {
		x.drained(counted)
	}
	x.remote.forget(through)
	if p.Profiles != nil {
		x.profiles = slices.Clone(p.Profiles)
	}
	if !sent.Before(x.rejectedAt) {
		x.fullUntil = time.Time{}
	}
	// A miner that answers is up: an open breaker on its first cool-down
	// may try one request now rather than wait. One whose trials kept
	// failing waits out its doubled cool-down.
	if x.breaker.stateAt(now) == Open && x.breaker.cooldown <= m.cfg.BreakerCooldown {
		x.breaker.until = now
	}
}

// atMiner returns when a change of work that a gateway saw at t happened
// at the miner, as the miner's count sees it: an attempt dispatched at t
// arrives half a round trip later, one that ended at t ended half a round
// trip earlier. Comparing gateway times with the miner's count time instead
// drops a dispatch still on its way from the backlog, and counts twice an
// end the count already reflects, whenever a probe is counted in between.
// The caller holds mu.
func (m *Map) atMiner(x *miner, t time.Time, delta float64) time.Time {
	half := m.rttOf(x) / 2
	if delta < 0 {
		return t.Add(-half)
	}
	return t.Add(half)
}

// countJobs takes a probe that counts the miner's jobs but not their
// cost, as miners that do not report queued work answer. The gateway
// knows the cost of its own attempts there and, from the feed, of the
// other replicas': those of the counted jobs are theirs, at the costs it
// knows; the rest are other callers' jobs of unit cost. A count below
// what the gateway knows means attempts ended unheard (a message lost):
// the others' are scaled down to fit. Taking every job as of unit cost
// instead turned a replica's job of cost 30 into 1 at the next probe,
// and the others sent more work after it. The caller holds mu.
func (m *Map) countJobs(x *miner, ours, oursN float64, through time.Time) {
	shared, sharedN := x.remote.upTo(through)
	others, othersN := max(x.others+shared, 0), max(x.othersN+sharedN, 0)
	room := max(float64(x.queue)-oursN, 0)
	if othersN > room {
		others *= room / othersN
		othersN = room
	}
	x.others, x.othersN = others, othersN
	x.group = ours + others
	x.work = x.group + room - othersN
}

func unitCost(c float64) float64 {
	if c <= 0 {
		return 1
	}
	return c
}

// Shared records another replica's dispatch of an attempt to a miner
// (cost > 0) or its end (cost < 0) at the given time, as replicas share
// them. The map counts it until a probe of the miner counted after it has
// been applied; one from before that probe is already in it and is
// ignored, as is one from this map's own origin.
func (m *Map) Shared(origin, id string, cost float64, at time.Time) {
	if origin == m.cfg.Origin || cost == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Now()
	if cost > 0 {
		m.herd.heard(now, at, cost)
	}
	x := m.get(id)
	at = m.atMiner(x, at, cost)
	if cost > 0 {
		x.arrived(at, cost)
	} else {
		m.left(x, at, -cost, true)
	}
	if !at.After(x.counted) {
		return
	}
	x.remote.add(at, cost)
	m.reindex(x, now)
}

// ProbeFailed records a health probe that got no answer. A lost probe says
// little about the miner (the network or the probe loop may be at fault),
// so it does not count towards the circuit breaker: only failed attempts
// do. It adds the miner to the map if it is unknown.
func (m *Map) ProbeFailed(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(id)
}

// updateCoord moves our Vivaldi coordinate and the miner's. A miner that
// keeps no coordinate of its own gets one estimated from our probes. The
// caller holds mu.
func (m *Map) updateCoord(x *miner, p Probe) {
	if p.RTT <= 0 {
		return
	}
	self := m.self.GetCoordinate()
	var other *coordinate.Coordinate
	switch {
	case p.Coord != nil && p.Coord.IsCompatibleWith(self):
		other = p.Coord.Clone()
	default:
		if x.shadow == nil {
			x.shadow = m.newShadow(x.id)
		}
		if x.shadow == nil {
			return
		}
		c, err := x.shadow.Update("self", self, p.RTT)
		if err != nil {
			return
		}
		other = c
	}
	if _, err := m.self.Update(x.id, other, p.RTT); err == nil {
		x.coord = other
	}
}

// newShadow returns a Vivaldi client for a miner, started a small,
// id-derived distance from the origin: two coordinates on top of each
// other would make the library draw from the global random source.
func (m *Map) newShadow(id string) *coordinate.Client {
	c, err := coordinate.NewClient(m.vivaldi)
	if err != nil {
		return nil
	}
	start := coordinate.NewCoordinate(m.vivaldi)
	h := fnv.New64a()
	h.Write([]byte(id))
	sum := h.Sum64()
	for i := range start.Vec {
		start.Vec[i] = (float64((sum>>(i*7))&0x7f) - 63.5) * 1e-6
	}
	if c.SetCoordinate(start) != nil {
		return nil
	}
	return c
}
