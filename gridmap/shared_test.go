package gridmap

import (
	"math"
	"testing"
	"time"
)

func TestProbeWithWorkPerCaller(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Dispatched("m1", 2)
	sent := c.Now()
	c.Advance(time.Second)
	// The miner counts 10 units: 5 from this gateway's hotkey (2 ours, 3
	// another replica's) and 5 from other callers.
	m.Probed("m1", Probe{RTT: time.Millisecond, Queue: 4, Work: 10, Ours: 5, Measured: sent.Add(500 * time.Millisecond), Sent: sent})
	if got := mustView(t, m, "m1").Backlog; math.Abs(got-10) > 1e-9 {
		t.Fatalf("backlog = %g, want 10", got)
	}
	m.Dispatched("m1", 3)
	if got := mustView(t, m, "m1").Backlog; math.Abs(got-13) > 1e-9 {
		t.Errorf("after dispatching 3 more: backlog = %g, want 13", got)
	}
	// A count taken after one of ours was dispatched includes it; one
	// with a time outside the probe (clocks apart) is taken at the send.
	sent = c.Now()
	m.Dispatched("m1", 1)
	c.Advance(time.Second)
	m.Probed("m1", Probe{RTT: time.Millisecond, Work: 7, Ours: 6, Measured: c.Now(), Sent: sent})
	if got := mustView(t, m, "m1").Backlog; math.Abs(got-7) > 1e-9 {
		t.Errorf("counted with all 6 of ours: backlog = %g, want 6 + 1 others'", got)
	}
	m.Probed("m1", Probe{RTT: time.Millisecond, Work: 7, Ours: 6, Measured: c.Now().Add(time.Hour), Sent: c.Now().Add(-time.Second)})
	if got := mustView(t, m, "m1").Backlog; math.Abs(got-7) > 1e-9 {
		t.Errorf("count from a skewed clock: backlog = %g, want 7", got)
	}
}

func TestSharedDispatches(t *testing.T) {
	m, c := MustNew(t, "a")
	sent := c.Now()
	c.Advance(time.Second)
	m.Probed("m1", Probe{RTT: time.Millisecond, Work: 2, Sent: sent})
	steps := []struct {
		name string
		do   func()
		want float64
	}{
		{"the probe's work", func() {}, 2},
		{"replica b dispatches 4", func() { m.Shared("b", "m1", 4, c.Now()) }, 6},
		{"our own dispatch shared back is ignored", func() { m.Shared("a", "m1", 4, c.Now()) }, 6},
		{"a dispatch from before the probe is already in it", func() { m.Shared("b", "m1", 1, sent.Add(-time.Second)) }, 6},
		{"replica c dispatches 1", func() { m.Shared("c", "m1", 1, c.Now()) }, 7},
		{"b's attempt ends", func() { m.Shared("b", "m1", -4, c.Now()) }, 3},
		{"a probe counted after them replaces them", func() {
			c.Advance(time.Second)
			m.Probed("m1", Probe{RTT: time.Millisecond, Work: 1.5, Sent: c.Now()})
		}, 1.5},
		{"an end whose dispatch the probe counted drains it", func() {
			c.Advance(time.Second)
			m.Shared("c", "m1", -1, c.Now())
		}, 0.5},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			c.Advance(10 * time.Millisecond)
			s.do()
			if got := mustView(t, m, "m1").Backlog; math.Abs(got-s.want) > 1e-9 {
				t.Errorf("backlog = %g, want %g", got, s.want)
			}
		})
	}
}

func TestObserve(t *testing.T) {
	m, c := MustNew(t, "a")
	type change struct {
		id   string
		cost float64
		at   time.Time
	}
	var got []change
	m.Observe(func(id string, cost float64, at time.Time) { got = append(got, change{id, cost, at}) })
	t0 := c.Now()
	m.Dispatched("m1", 2)
	c.Advance(time.Second)
	m.Finished("m1", Outcome{Result: Succeeded, Service: time.Second, Cost: 2})
	m.Finished("m1", Outcome{Result: Released, Cost: 1}) // nothing was outstanding
	m.Observe(nil)
	m.Dispatched("m1", 1)
	want := []change{{"m1", 2, t0}, {"m1", -2, t0.Add(time.Second)}}
	if len(got) != len(want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
	for i := range want {
		if got[i].id != want[i].id || got[i].cost != want[i].cost || !got[i].at.Equal(want[i].at) {
			t.Errorf("change %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestCountOnlyProbeKeepsSharedCosts checks that a probe counting jobs
// without their cost keeps the cost of the attempts the replicas shared,
// counts the rest as other callers' jobs of unit cost, and scales the
// shared ones down when the miner counts fewer jobs than the feed told.
func TestCountOnlyProbeKeepsSharedCosts(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Probed("m1", Probe{RTT: 2 * time.Millisecond, Sent: c.Now()})
	c.Advance(time.Second)
	m.Shared("b", "m1", 30, c.Now())
	m.Dispatched("m1", 2)
	steps := []struct {
		name  string
		queue int
		want  float64
	}{
		{"b's job and ours counted", 2, 32},
		{"and three of other callers'", 5, 35},
		{"b's ended unheard", 1, 2},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			c.Advance(time.Second)
			m.Probed("m1", Probe{RTT: 2 * time.Millisecond, Queue: s.queue, Sent: c.Now().Add(-2 * time.Millisecond)})
			if got := mustView(t, m, "m1").Backlog; math.Abs(got-s.want) > 1e-9 {
				t.Errorf("backlog = %g, want %g", got, s.want)
			}
		})
	}
}
