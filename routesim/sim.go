package routesim

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/router"
)

// epoch is the simulated wall clock at time zero.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// job is one user request.
type job struct {
	id       int
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
	rtt     float64 // this attempt's round trip
	service float64 // seconds of service it needs
	fails   bool    // the miner fails it part-way
	failAt  float64 // fraction of service after which it fails
	end     float64 // when service ends, once started
}

// event is something that happens at a simulated instant.
type event struct {
	at  float64
	seq uint64
	fn  func()
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// sim is one run of one policy.
type sim struct {
	cfg    Config
	now    float64
	seq    uint64
	events eventQueue

	miners []*simMiner
	byID   map[string]*simMiner
	grid   *gridmap.Map
	router *router.Router

	done      int // jobs finished, completed or not
	latencies []float64
	attempts  int
	failed    int
}

func (s *sim) at(t float64, fn func()) {
	s.seq++
	heap.Push(&s.events, event{at: t, seq: s.seq, fn: fn})
}

// newSim builds the grid, the map and the router for one policy.
func newSim(cfg Config, policy string) (*sim, error) {
	s := &sim{cfg: cfg, byID: map[string]*simMiner{}}
	s.miners = newMiners(cfg, rand.New(rand.NewPCG(cfg.Seed, 1)))
	gcfg := gridmap.DefaultConfig()
	gcfg.Now = func() time.Time { return epoch.Add(time.Duration(s.now * float64(time.Second))) }
	gcfg.DefaultService = cfg.BaseService
	grid, err := gridmap.New(gcfg)
	if err != nil {
		return nil, fmt.Errorf("routesim: %w", err)
	}
	s.grid = grid
	for _, m := range s.miners {
		s.byID[m.id] = m
		grid.Add(m.id, gridmap.Info{})
		grid.SetStanding(m.id, gridmap.Standing{Verified: true, Tier: m.tier, Score: 1})
	}
	p, err := s.policy(policy)
	if err != nil {
		return nil, err
	}
	s.router = router.New(grid, p, rand.New(rand.NewPCG(cfg.Seed, 2)))
	return s, nil
}

// run simulates every job and returns the figures.
func (s *sim) run(ctx context.Context) (Result, error) {
	arrivals := rand.New(rand.NewPCG(s.cfg.Seed, 3))
	rate := s.cfg.Load * capacity(s.cfg, s.miners)
	t := 0.0
	for i := range s.cfg.Jobs {
		t += arrivals.ExpFloat64() / rate
		j := &job{id: i, arrival: t, rng: rand.New(rand.NewPCG(s.cfg.Seed, 1<<32+uint64(i)))}
		j.cost = specMix[draw(j.rng, len(specMix), func(i int) float64 { return specMix[i].weight })].spec.Cost()
		s.at(t, func() { s.dispatch(j) })
	}
	for i, m := range s.miners {
		probes := rand.New(rand.NewPCG(s.cfg.Seed, 2<<32+uint64(i)))
		s.at(probes.Float64()*s.cfg.ProbeMax.Seconds(), func() { s.probe(m, probes) })
	}
	for n := 0; s.events.Len() > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		e := heap.Pop(&s.events).(event)
		s.now = e.at
		e.fn()
	}
	return s.result(), nil
}

// dispatch routes the job's next attempt.
func (s *sim) dispatch(j *job) {
	id, err := s.router.Pick(router.Request{Cost: j.cost, Exclude: j.tried})
	if errors.Is(err, router.ErrNoMiner) {
		if s.now-j.arrival+0.5 > s.cfg.JobTimeout.Seconds() {
			s.finish(j, false)
			return
		}
		s.at(s.now+0.5, func() { s.dispatch(j) })
		return
	}
	m := s.byID[id]
	a := &attempt{job: j, miner: m, rtt: m.rtt * (0.9 + 0.2*j.rng.Float64())}
	a.service = j.cost * s.cfg.BaseService.Seconds() / m.speed * math.Exp(0.15*j.rng.NormFloat64())
	a.fails = j.rng.Float64() < m.failRate
	a.failAt = j.rng.Float64()
	j.attempts++
	s.attempts++
	m.transit = append(m.transit, a)
	s.at(s.now+a.rtt/2, func() { s.arrive(a) })
}

// arrive is the attempt reaching its miner: admitted or turned away.
func (s *sim) arrive(a *attempt) {
	m := a.miner
	m.transit = remove(m.transit, a)
	if len(m.running) >= m.slots && len(m.waiting) >= m.limit {
		s.at(s.now+a.rtt/2, func() {
			s.grid.Finished(m.id, gridmap.Outcome{Result: gridmap.Rejected, RetryAfter: time.Second})
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
		d := a.service
		if a.fails {
			d *= a.failAt
		}
		a.end = s.now + d
		s.at(a.end, func() { s.serviceEnd(a) })
	}
}

// serviceEnd is the miner finishing (or failing) an attempt; the gateway
// hears of it half an RTT later.
func (s *sim) serviceEnd(a *attempt) {
	m := a.miner
	m.running = remove(m.running, a)
	s.startNext(m)
	s.at(s.now+a.rtt/2, func() {
		if a.fails {
			s.grid.Finished(m.id, gridmap.Outcome{Result: gridmap.Failed})
			s.retry(a.job, m)
			return
		}
		s.grid.Finished(m.id, gridmap.Outcome{Result: gridmap.Succeeded, Service: seconds(a.service), Cost: a.job.cost})
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
func (s *sim) probe(m *simMiner, rng *rand.Rand) {
	if s.done == s.cfg.Jobs {
		return
	}
	rtt := m.rtt * (0.9 + 0.2*rng.Float64())
	s.at(s.now+rtt/2, func() {
		q := len(m.running) + len(m.waiting)
		eta := (float64(q)/float64(m.slots) + 1) * s.cfg.BaseService.Seconds() / m.speed
		p := gridmap.Probe{RTT: seconds(rtt), Queue: q, Slots: m.slots, ETA: seconds(eta)}
		s.at(s.now+rtt/2, func() { s.grid.Probed(m.id, p) })
	})
	next := s.cfg.ProbeMin.Seconds() + rng.Float64()*(s.cfg.ProbeMax-s.cfg.ProbeMin).Seconds()
	s.at(s.now+next, func() { s.probe(m, rng) })
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
