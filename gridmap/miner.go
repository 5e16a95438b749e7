package gridmap

import (
	"math"
	"time"

	"github.com/hashicorp/serf/coordinate"
)

// Info is what the metagraph says about a miner.
type Info struct {
	UID  uint16 `json:"uid"`
	Addr string `json:"addr,omitempty"` // axon host:port
}

// Standing is what the validator concluded about a miner.
type Standing struct {
	Verified bool    `json:"verified"` // passed verification; unverified miners get no traffic
	Tier     int     `json:"tier"`     // higher is better; 0 is unranked
	Score    float64 `json:"score"`    // the validator's moving-average score, 0–1
}

// Probe is the answer to one health probe.
type Probe struct {
	RTT   time.Duration // measured round trip of the probe
	Queue int           // jobs admitted and not finished (waiting + running)
	Work  float64       // their total spec cost; 0 means Queue jobs of cost 1
	Slots int           // jobs the miner runs at once; 0 means 1
	ETA   time.Duration // the miner's estimate for finishing a new default job now
	// Ours is the part of Work the miner counts as this gateway's: the
	// jobs of the hotkey its replicas sign with. Measured is when the miner
	// counted, on the map's clock; zero means the miner does not count per
	// caller, and Ours is ignored.
	Ours     float64
	Measured time.Time
	// Sent is when the probe went out, on the map's clock. The miner's
	// queue counts our attempts dispatched before then, not those sent
	// since; an answer sent before the newest one applied is stale. Zero
	// means the answer describes the miner as it is now.
	Sent time.Time
	// Coord is the miner's own Vivaldi coordinate, if it keeps one; without
	// it the map estimates one from its own probes.
	Coord *coordinate.Coordinate
	// Profiles are the profiles ("id@version") the miner says it serves; nil
	// leaves the last known ones.
	Profiles []string
}

// AttemptResult is how an attempt ended.
type AttemptResult int

// Results of an attempt.
const (
	Succeeded AttemptResult = iota // the miner returned a result
	Failed                         // the miner failed or timed out; counts against it
	Rejected                       // the miner turned it away (queue full); not its fault
	// Released: the attempt ended for a reason that says nothing about the
	// miner (the owner cancelled the job, the store failed, the gateway
	// shut down). Only the booked work is returned.
	Released
)

// Outcome reports one finished attempt.
type Outcome struct {
	Result  AttemptResult
	Service time.Duration // time the miner spent generating (Succeeded only)
	Cost    float64       // the spec's Cost(); values ≤ 0 count as 1
	// RetryAfter is how long a rejecting miner asked us to wait; 0 means
	// until its next probe or one second, whichever comes first.
	RetryAfter time.Duration
}

// peakEWMA is an exponentially weighted moving average that jumps to any
// sample above it and decays towards lower samples with time constant tau.
type peakEWMA struct {
	value float64
	at    time.Time
	n     int
}

func (e *peakEWMA) observe(now time.Time, x float64, tau time.Duration) {
	if e.n == 0 || x >= e.value {
		e.value = x
	} else {
		dt := max(now.Sub(e.at), 0)
		w := math.Exp(-dt.Seconds() / tau.Seconds())
		e.value = e.value*w + x*(1-w)
	}
	e.at = now
	e.n++
}

// miner is the map's record of one miner. The Map's lock guards it.
type miner struct {
	id   string
	info Info

	service peakEWMA // seconds per unit of spec cost

	outstanding int     // our attempts in flight
	outWork     float64 // their total spec cost

	queue       int
	work        float64    // spec cost of the jobs at the miner, from the probe
	group       float64    // the part of it that is this gateway's, all replicas (work if not reported)
	remote      workLog    // the other replicas' dispatches and finishes since the probe
	others      float64    // the other replicas' work at the probe's count
	known       []knownJob // the replicas' attempts at the miner, oldest first (see head.go)
	ran         float64    // seconds per unit of cost of the latest reading of its speed: a job's pace or its time (see head.go, pace.go)
	ranAt       time.Time  // when it was read
	ranSince    time.Time  // when the job read began
	slowedAt    time.Time  // when a reading last showed slowedJob times the measured time
	spedAt      time.Time  // when a reading last showed the miner slowedJob times faster than taken (see pace.go)
	stepPace    [2]float64 // the paces of the last two steps read there, seconds per unit of cost, newest first
	othersN     float64    // and their attempts, as far as the feed told us
	slots       int
	eta         float64   // seconds
	probeAt     time.Time // when the newest applied probe was sent
	counted     time.Time // when the miner counted its answer
	workAtProbe float64   // our outstanding work when that probe was sent
	changes     []workChange
	rejectedAt  time.Time // when the miner last turned a job away
	rtt         float64
	rttAt       time.Time
	coord       *coordinate.Coordinate
	shadow      *coordinate.Client // estimates coord when the miner sends none
	success     float64
	successAt   time.Time
	standing    Standing
	standingAt  time.Time
	breaker     breaker
	fullUntil   time.Time // the miner turned a job away; don't send before this
	profiles    []string  // what it serves, from its last probe

	pos                 [indexes]slot // in the map's indexes
	waitKey, serviceKey float64       // what its keys were computed from, in seconds
	met                 uint64        // the last walk of the indexes that met it
}

// workChange is a change of outstanding work at a miner, kept until a
// probe sent after it has been applied.
type workChange struct {
	at    time.Time
	delta float64
}

// workLog is a sum of changes of work that forgets those older than a
// probe.
type workLog struct {
	changes []workChange
	sum     float64
}

// add records a change at t.
func (l *workLog) add(t time.Time, delta float64) {
	if len(l.changes) == maxChanges {
		for _, c := range l.changes[:maxChanges/2] {
			l.sum -= c.delta
		}
		n := copy(l.changes, l.changes[maxChanges/2:])
		clear(l.changes[n:])
		l.changes = l.changes[:n]
	}
	l.changes = append(l.changes, workChange{t, delta})
	l.sum += delta
}

// upTo returns the sum of the changes at or before t and how many
// attempts they add (a dispatch +1, an end −1).
func (l *workLog) upTo(t time.Time) (sum, n float64) {
	for _, c := range l.changes {
		if !c.at.After(t) {
			sum += c.delta
			n += sign(c.delta)
		}
	}
	return sum, n
}

func sign(x float64) float64 {
	if x < 0 {
		return -1
	}
	return 1
}

// forget drops the changes at or before t.
func (l *workLog) forget(t time.Time) {
	keep := 0
	l.sum = 0
	for _, c := range l.changes {
		if c.at.After(t) {
			l.changes[keep] = c
			l.sum += c.delta
			keep++
		}
	}
	clear(l.changes[keep:])
	l.changes = l.changes[:keep]
}

// maxChanges bounds the changes kept per miner; beyond it the older half
// is dropped and a late probe's baseline is approximate.
const maxChanges = 256

// changed records a change of our outstanding work.
func (m *miner) changed(now time.Time, delta float64) {
	if len(m.changes) == maxChanges {
		n := copy(m.changes, m.changes[maxChanges/2:])
		clear(m.changes[n:])
		m.changes = m.changes[:n]
	}
	m.changes = append(m.changes, workChange{now, delta})
}

// workAt returns our outstanding work and attempts as they were at t, and
// forgets the changes up to t.
func (m *miner) workAt(t time.Time) (work, n float64) {
	w, n, keep := m.outWork, float64(m.outstanding), 0
	for _, c := range m.changes {
		if c.at.After(t) {
			w -= c.delta
			n -= sign(c.delta)
			m.changes[keep] = c
			keep++
		}
	}
	clear(m.changes[keep:])
	m.changes = m.changes[:keep]
	return max(w, 0), max(n, 0)
}

// backlog estimates the work (in units of spec cost) a new job would wait
// behind at the miner: ours in flight now, which we know exactly; the
// other replicas' — their part of this gateway's work at the last probe,
// with what they shared since; and everyone else's as of the last probe.
func (m *miner) backlog() float64 {
	return m.outWork + max(m.group-m.workAtProbe+m.remote.sum, 0) + max(m.work-m.group, 0)
}

// done is the part of the backlog the known attempts running at the
// miner have done by now at service seconds per unit of cost (see
// doneWork), at most the backlog.
func (m *miner) done(now time.Time, service float64) float64 {
	return min(m.doneWork(now, service), m.backlog())
}

// serviceTime is the best estimate of seconds per unit of spec cost at
// now. Without samples it is the miner's own ETA, else the default. With
// samples it is the slower of the peak-EWMA and the ETA, so that a miner
// that slows down (throttling) is seen at its next probe rather than after
// a slow job finished; and the peak-EWMA decays towards the ETA while no
// job finishes there, so that a miner that recovered is not left idle
// because it once looked slow. A miner that claims a fast ETA gains
// nothing over its measured service time until it has been idle for a few
// time constants, and its next slow job resets it. The replicas' own
// timing of the miner's jobs raises it further (see head.go): the running
// jobs' time so far, the last ended job's time, and a premium for a miner
// that slowed down in the last minutes. A step far faster than all this
// resets it (see pace.go): the GPU recovered.
func (m *miner) serviceTime(now time.Time, cfg *Config) float64 {
	base := m.measuredService(now, cfg)
	return max(m.slowedService(now, base), m.headService(now), m.ranService(now, base, cfg.ServiceDecay))
}

// measuredService is the service time per unit of spec cost from the
// miner's finished jobs and its ETA.
func (m *miner) measuredService(now time.Time, cfg *Config) float64 {
	eta := 0.0
	if m.eta > 0 {
		eta = m.eta / (m.work/float64(max(m.slots, 1)) + 1)
	}
	switch {
	case m.service.n == 0 && eta > 0:
		return eta
	case m.service.n == 0:
		return cfg.DefaultService.Seconds()
	case eta <= 0:
		return m.service.value
	}
	v := m.service.value
	if v > eta {
		dt := max(now.Sub(m.service.at), 0)
		v = eta + (v-eta)*math.Exp(-dt.Seconds()/cfg.ServiceDecay.Seconds())
	}
	return max(v, eta)
}
