package routesim

import (
	"math"
	"testing"

	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/router"
)

// TestThrottlingSlowsRunningJobs checks that a miner that slows down part
// of the way through a job slows the rest of it, and the steps with it,
// that the gateway hears each step of its attempt half a round trip
// later, and that the map takes the miner to be as slow as its last
// steps ran.
func TestThrottlingSlowsRunningJobs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Miners, cfg.ProgressSteps = 2, 10
	s, err := newSim(cfg, "p2c")
	if err != nil {
		t.Fatal(err)
	}
	gw := s.gateways[0]
	m := s.miners[0]
	m.rtt = 0.2
	lease, err := gw.router.Pick(router.Request{Cost: 1, Exclude: []string{s.miners[1].id}})
	if err != nil || lease.Miner != m.id {
		t.Fatalf("Pick = %v, %v; want %s", lease, err, m.id)
	}
	j := &job{gw: gw, cost: 1}
	a := &attempt{job: j, miner: m, lease: lease, rtt: m.rtt, service: 10}
	var heard []gridmap.Pace
	s.at(0, func() { m.waiting = append(m.waiting, a); s.startNext(m) })
	s.at(5, func() { s.throttled(m, 4) }) // half done: 5 s of work left, at a quarter of the speed
	// Record what the map is told, as the gateway hears it.
	gw.grid.ObservePaces(func(_ string, p gridmap.Pace) { heard = append(heard, p) })
	for len(s.events) > 0 {
		e := s.events.pop()
		s.now = e.at
		e.fn()
	}
	if want := 5 + 5*4.0; math.Abs(a.end-want) > 1e-9 {
		t.Errorf("the job ends at %g s, want %g (5 s at full speed, 5 s of work at a quarter)", a.end, want)
	}
	if a.steps != 10 {
		t.Errorf("steps reported %d, want 10", a.steps)
	}
	v, _ := gw.grid.View(m.id)
	if got := v.Service.Seconds(); math.Abs(got-40) > 0.5 {
		t.Errorf("service after the slow steps = %.2f s, want about 40 (4 s a step of a tenth)", got)
	}
	// The first step, 10 s a unit where the map knew only the default 4 s,
	// and the first slow one are passed on to the other replicas, heard
	// at the miner's time plus half the round trip.
	if len(heard) < 2 || heard[0].Step != 1 || math.Abs(heard[0].At.Sub(epoch).Seconds()-1.1) > 1e-6 {
		t.Fatalf("heard %+v, want step 1 at 1.1 s first", heard)
	}
	if heard[1].Step != 6 {
		t.Errorf("second pace passed on at step %d, want 6 (the first slow one)", heard[1].Step)
	}
}
