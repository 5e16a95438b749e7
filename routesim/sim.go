package routesim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/router"
)

// epoch is the simulated wall clock at time zero.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// gateway is one gateway replica: its own grid map and router. Each
// probes the miners itself and knows its own outstanding attempts; with
// ShareDispatches it hears of the others' as they happen.
type gateway struct {
	origin string
	far    bool // in the far region
	grid   *gridmap.Map
	router *router.Router
}

// job is one user request.
type job struct {
	id       int
	gw       *gateway
	arrival  float64 // seconds
	cost     float64
	rng      *rand.Rand // the job's own draws, the same under every policy
	tried    []string
	attempts int
}

// attempt is one try of a job on one miner.
type attempt struct {
	job     *job
	miner   *simMiner
	lease   *router.Lease // booked on the gateway's grid map; ended once
	rtt     float64       // this attempt's round trip
	service float64       // seconds of service it needs at the miner's full speed
	fails   bool          // the miner fails it part-way
	failAt  float64       // fraction of service after which it fails

	// Once started: when, how much of its service (in seconds at full
	// speed) it had done at mark, the steps it reported, and when it will
	// end at the miner's speed now. A change of speed moves the end and
	// the next step; gen tells the events scheduled before it to do
	// nothing.
	started, mark, done float64
	steps               int
	told                float64 // when it last sent an event
	end                 float64
	gen                 int
}

// event is something that happens at a simulated instant.
type event struct {
	at  float64
	seq uint64
	fn  func()
}

// eventQueue is a binary min-heap of events by time, then by sequence, so
// that simultaneous events run in the order they were scheduled. It is
// typed rather than built on container/heap to avoid boxing every event.
type eventQueue []event

func (q eventQueue) less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}

func (q *eventQueue) push(e event) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *eventQueue) pop() event {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = event{}
	h = h[:last]
	for i := 0; ; {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h.less(l, small) {
			small = l
		}
		if r < len(h) && h.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	*q = h
	return top
}

// sim is one run of one policy.
type sim struct {
	cfg    Config
	now    float64
	seq    uint64
	events eventQueue

	miners   []*simMiner
	byID     map[string]*simMiner
	gateways []*gateway

	done      int // jobs finished, completed or not
	latencies []float64
	attempts  int
	failed    int
}

// Random streams: each purpose and index gets its own, so that the jobs'
// draws (spec, service jitter, failures) are the same under every policy.
const (
	streamGrid = iota
	streamArrivals
	streamJob
	streamRouter
	streamProbes // + gateway index

	streamThrottle = 1000 // after every gateway's probes
)

func (s *sim) stream(purpose, index int) *rand.Rand {
	return rand.New(rand.NewPCG(s.cfg.Seed, uint64(purpose)<<32|uint64(index)))
}

func (s *sim) at(t float64, fn func()) {
	s.seq++
	s.events.push(event{at: t, seq: s.seq, fn: fn})
}

// newSim builds the grid and, for each gateway, a map and a router with
// its own instance of the policy.
func newSim(cfg Config, policy string) (*sim, error) {
	s := &sim{cfg: cfg, byID: map[string]*simMiner{}}
	s.miners = newMiners(cfg, s.stream(streamGrid, 0))
	for _, m := range s.miners {
		s.byID[m.id] = m
	}
	for g := range cfg.Gateways {
		gcfg := gridmap.DefaultConfig()
		gcfg.Origin = fmt.Sprintf("gateway-%d", g)
		gw := &gateway{origin: gcfg.Origin, far: cfg.FarFraction > 0 && g%2 == 1}
		gcfg.Now = func() time.Time { return epoch.Add(time.Duration(s.now * float64(time.Second))) }
		gcfg.DefaultService = cfg.BaseService
		grid, err := gridmap.New(gcfg)
		if err != nil {
			return nil, fmt.Errorf("routesim: %w", err)
		}
		for _, m := range s.miners {
			grid.Add(m.id, gridmap.Info{})
			grid.SetStanding(m.id, gridmap.Standing{Verified: true, Tier: m.tier, Score: 1})
		}
		p, err := s.policy(policy)
		if err != nil {
			return nil, err
		}
		if o, ok := p.(*oracle); ok {
			o.gw = gw
		}
		gw.grid, gw.router = grid, router.New(grid, p, s.stream(streamRouter, g))
		s.sharePaces(gw)
		s.gateways = append(s.gateways, gw)
	}
	return s, nil
}

// run simulates every job and returns the figures.
func (s *sim) run(ctx context.Context) (Report, error) {
	arrivals := s.stream(streamArrivals, 0)
	rate := s.cfg.Load * capacity(s.cfg, s.miners)
	t := s.cfg.WarmUp.Seconds()
	for i := range s.cfg.Jobs {
		t += arrivals.ExpFloat64() / rate
		j := &job{id: i, arrival: t, gw: s.gateways[i%len(s.gateways)], rng: s.stream(streamJob, i)}
		j.cost = drawCost(s.cfg, j.rng)
		s.at(t, func() { s.dispatch(j) })
	}
	for g, gw := range s.gateways {
		for i, m := range s.miners {
			probes := s.stream(streamProbes+g, i)
			s.at(probes.Float64()*s.cfg.ProbeMax.Seconds(), func() { s.probe(gw, m, probes) })
		}
	}
	s.startThrottling()
	if len(s.gateways) > 1 && s.cfg.ShareEvery > 0 {
		s.at(s.cfg.ShareEvery.Seconds(), s.share)
	}
	for n := 0; len(s.events) > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return Report{}, ctx.Err()
		}
		e := s.events.pop()
		s.now = e.at
		e.fn()
	}
	return s.result(), nil
}

// dispatch routes the job's next attempt.
func (s *sim) dispatch(j *job) {
	lease, err := j.gw.router.Pick(router.Request{Cost: j.cost, Exclude: j.tried})
	if err != nil { // no eligible miner now: wait for a breaker or a queue
		if s.now-j.arrival+0.5 > s.cfg.JobTimeout.Seconds() {
			s.finish(j, false)
			return
		}
		s.at(s.now+0.5, func() { s.dispatch(j) })
		return
	}
	m := s.byID[lease.Miner]
	a := &attempt{job: j, miner: m, lease: lease, rtt: s.rtt(j.gw, m) * (0.9 + 0.2*j.rng.Float64())}
	a.service = j.cost * s.cfg.BaseService.Seconds() / m.speed * math.Exp(0.15*j.rng.NormFloat64())
	a.fails = j.rng.Float64() < m.failRate
	a.failAt = j.rng.Float64()
	j.attempts++
	s.attempts++
	m.transit = append(m.transit, a)
	s.shareAttempt(a, a.job.cost)
	s.at(s.now+a.rtt/2, func() { s.arrive(a) })
}

// arrive is the attempt reaching its miner: admitted or turned away.
func (s *sim) arrive(a *attempt) {
	m := a.miner
	m.transit = remove(m.transit, a)
	if len(m.running) >= m.slots && len(m.waiting) >= m.limit {
		s.at(s.now+a.rtt/2, func() {
			s.end(a, gridmap.Outcome{Result: gridmap.Rejected, RetryAfter: time.Second})
			s.retry(a.job, m)
		})
		return
	}
	m.waiting = append(m.waiting, a)
	s.startNext(m)
}

// startNext starts waiting attempts while the miner has free slots.
func (s *sim) startNext(m *simMiner) {
	for len(m.running) < m.slots && len(m.waiting) > 0 {
		a := m.waiting[0]
		m.waiting = m.waiting[1:]
		m.running = append(m.running, a)
		a.started, a.mark = s.now, s.now
		s.schedule(a)
		s.tell(a, 0)
	}
}

// work is how much of its service, in seconds at full speed, the attempt
// runs before it ends: all of it, or up to where the miner fails it.
func (a *attempt) work() float64 {
	if a.fails {
		return a.service * a.failAt
	}
	return a.service
}

// advance counts the service the attempt did since its mark, at the
// miner's speed until now; call it before the speed changes.
func (s *sim) advance(a *attempt) {
	a.done += (s.now - a.mark) / a.miner.slowdown()
	a.mark = s.now
}

// schedule sets, at the miner's speed now, when the running attempt ends
// and when its next step is done, superseding what was scheduled before.
func (s *sim) schedule(a *attempt) {
	a.gen++
	gen := a.gen
	a.end = s.now + (a.work()-a.done)*a.miner.slowdown()
	s.at(a.end, func() {
		if a.gen == gen {
			s.serviceEnd(a)
		}
	})
	s.nextStep(a, gen)
}

// nextStep schedules the running attempt's next progress event, if the
// miner gets that far before the attempt ends.
func (s *sim) nextStep(a *attempt, gen int) {
	n := s.cfg.ProgressSteps
	if n == 0 || a.steps >= n {
		return
	}
	at := float64(a.steps+1) / float64(n) * a.service
	if at > a.work() {
		return
	}
	s.at(s.now+(at-a.done)*a.miner.slowdown(), func() {
		if a.gen != gen {
			return
		}
		s.advance(a)
		a.steps++
		s.tell(a, a.steps)
		s.nextStep(a, gen)
	})
}

// tell has the gateway that sent the running attempt hear, half an RTT
// from now, its started event (step 0) or the progress event of a step.
func (s *sim) tell(a *attempt, step int) {
	n := s.cfg.ProgressSteps
	if n == 0 {
		return
	}
	if step == 0 { // the started event: the map reads the steps timed from it
		a.told = s.now
		return
	}
	gw, id, half := a.job.gw, a.miner.id, a.rtt/2
	heard := func(t float64) time.Time { return epoch.Add(seconds(t + half)) }
	p := gridmap.Pace{Cost: a.job.cost, Started: heard(a.started), Step: step, Steps: n, PrevStep: step - 1, Prev: heard(a.told), At: heard(s.now)}
	a.told = s.now
	s.at(s.now+half, func() { gw.grid.Paced(id, p) })
}

// throttled changes the miner's throttling factor: the jobs running there
// go on at the new speed from now.
func (s *sim) throttled(m *simMiner, slow float64) {
	for _, a := range m.running {
		s.advance(a)
	}
	m.slow = slow
	for _, a := range m.running {
		s.schedule(a)
	}
}

// serviceEnd is the miner finishing (or failing) an attempt; the gateway
// hears of it half an RTT later.
func (s *sim) serviceEnd(a *attempt) {
	m := a.miner
	m.running = remove(m.running, a)
	ran := s.now - a.started
	s.startNext(m)
	s.at(s.now+a.rtt/2, func() {
		if a.fails {
			s.end(a, gridmap.Outcome{Result: gridmap.Failed})
			s.retry(a.job, m)
			return
		}
		s.end(a, gridmap.Outcome{Result: gridmap.Succeeded, Service: seconds(ran)})
		s.finish(a.job, true)
	})
}

// retry sends the job elsewhere, or gives up after MaxAttempts.
func (s *sim) retry(j *job, m *simMiner) {
	j.tried = append(j.tried, m.id)
	if j.attempts >= s.cfg.MaxAttempts || len(j.tried) >= len(s.miners) {
		s.finish(j, false)
		return
	}
	s.dispatch(j)
}

func (s *sim) finish(j *job, ok bool) {
	s.done++
	if ok {
		s.latencies = append(s.latencies, s.now-j.arrival)
	} else {
		s.failed++
	}
}

// probe sends a health probe to m; the answer reaches the map one RTT
// later, describing the miner as it was half an RTT earlier.
func (s *sim) probe(gw *gateway, m *simMiner, rng *rand.Rand) {
	if s.done == s.cfg.Jobs {
		return
	}
	rtt := s.rtt(gw, m) * (0.9 + 0.2*rng.Float64())
	sent := epoch.Add(seconds(s.now))
	s.at(s.now+rtt/2, func() {
		q, work := len(m.running)+len(m.waiting), 0.0
		for _, a := range m.running {
			work += a.job.cost
		}
		for _, a := range m.waiting {
			work += a.job.cost
		}
		eta := (work/float64(m.slots) + 1) * s.cfg.BaseService.Seconds() / m.speedNow()
		if s.cfg.ProbeWithoutWork {
			work = 0
		}
		p := gridmap.Probe{RTT: seconds(rtt), Queue: q, Work: work, Slots: m.slots, ETA: seconds(eta), Sent: sent}
		if s.cfg.CallerWork && !s.cfg.ProbeWithoutWork { // every job is the gateway's
			p.Ours, p.Measured = work, epoch.Add(seconds(s.now))
		}
		late := s.cfg.ProbeDelayMin.Seconds() + rng.Float64()*(s.cfg.ProbeDelayMax-s.cfg.ProbeDelayMin).Seconds()
		s.at(s.now+rtt/2+late, func() { gw.grid.Probed(m.id, p) })
	})
	next := s.cfg.ProbeMin.Seconds() + rng.Float64()*(s.cfg.ProbeMax-s.cfg.ProbeMin).Seconds()
	s.at(s.now+next, func() { s.probe(gw, m, rng) })
}

// share has every replica merge every other replica's snapshot.
func (s *sim) share() {
	if s.done == s.cfg.Jobs {
		return
	}
	snaps := make([]gridmap.Snapshot, len(s.gateways))
	for i, gw := range s.gateways {
		snaps[i] = gw.grid.Snapshot()
	}
	for _, gw := range s.gateways {
		for _, snap := range snaps {
			gw.grid.Merge(snap) // its own is ignored
		}
	}
	s.at(s.now+s.cfg.ShareEvery.Seconds(), s.share)
}

func remove(as []*attempt, a *attempt) []*attempt {
	for i, x := range as {
		if x == a {
			return append(as[:i], as[i+1:]...)
		}
	}
	return as
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
