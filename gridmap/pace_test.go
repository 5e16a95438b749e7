package gridmap

import (
	"math"
	"testing"
	"time"
)

// TestPaceReadsTheMiner checks that the pace of a step sets the miner's
// service time when it is far slower than measured, at once rather than
// when the job ends; that a job begun earlier does not undo what a later
// one showed unless it is slower still; that a pace is passed on for the
// other replicas when it shows the miner slow, or slow by another 25%,
// and not at the usual pace; and that paces which say nothing change
// nothing.
func TestPaceReadsTheMiner(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Probed("m1", Probe{RTT: 2 * time.Millisecond, Slots: 2, Sent: c.Now()})
	m.Dispatched("m1", 1)
	c.Advance(4 * time.Second)
	m.Finished("m1", Outcome{Result: Succeeded, Service: 4 * time.Second, Cost: 1})
	var told []Pace
	m.ObservePaces(func(_ string, p Pace) { told = append(told, p) })

	early := c.Now()       // a job of cost 2, 20 steps, begun now
	c.Advance(time.Second) // a job of cost 1, 10 steps, begun a second later
	late := c.Now()
	step := func(started time.Time, cost float64, k, n int, took time.Duration) func() Pace {
		return func() Pace {
			prev := c.Now()
			c.Advance(took)
			return Pace{Cost: cost, Started: started, Step: k, Steps: n, PrevStep: k - 1, Prev: prev, At: c.Now()}
		}
	}
	at := func(p func(now time.Time) Pace) func() Pace { return func() Pace { return p(c.Now()) } }
	steps := []struct {
		name string
		pace func() Pace
		want time.Duration
		told bool
	}{
		{"the early job's first step at the usual pace", step(early, 2, 1, 20, 400*time.Millisecond), 4 * time.Second, false},
		{"its second, the same", step(early, 2, 2, 20, 400*time.Millisecond), 4 * time.Second, false},
		{"the late job's first step 4× slow: throttled", step(late, 1, 1, 10, 1600*time.Millisecond), 16 * time.Second, true},
		{"the early job at the usual pace does not undo it, fading as the reading ages", step(early, 2, 3, 20, 400*time.Millisecond),
			4*time.Second + time.Duration(float64(12*time.Second)*math.Exp(-0.4/DefaultConfig().ServiceDecay.Seconds())), false},
		{"the late job's next step 8× slow", step(late, 1, 2, 10, 3200*time.Millisecond), 32 * time.Second, true},
		{"a step done before it began says nothing", at(func(now time.Time) Pace {
			return Pace{Cost: 1, Started: now, Step: 1, Steps: 10, Prev: now, At: now.Add(-time.Second)}
		}), 32 * time.Second, false},
		{"no step done says nothing", at(func(now time.Time) Pace { return Pace{Cost: 1, Started: late, Steps: 10, At: now} }), 32 * time.Second, false},
		{"a step past the steps says nothing", at(func(now time.Time) Pace {
			return Pace{Cost: 1, Started: late, Step: 11, Steps: 10, Prev: late, At: now}
		}), 32 * time.Second, false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			n := len(told)
			m.Paced("m1", s.pace())
			if got := mustView(t, m, "m1").Service; math.Abs(float64(got-s.want)) > float64(10*time.Millisecond) {
				t.Errorf("service = %v, want about %v", got, s.want)
			}
			if got := len(told) > n; got != s.told {
				t.Errorf("passed on = %v, want %v", got, s.told)
			}
		})
	}
	// Another replica hears the slow pace as this one did; its own is
	// ignored.
	b, bc := MustNew(t, "b")
	bc.t = c.t
	b.Probed("m1", Probe{RTT: 2 * time.Millisecond, Slots: 2, Sent: bc.Now(), ETA: 4 * time.Second})
	b.SharedPace("b", "m1", told[len(told)-1])
	if got := mustView(t, b, "m1").Service; got != 4*time.Second {
		t.Errorf("own pace shared back: service = %v, want 4s", got)
	}
	b.SharedPace("a", "m1", told[len(told)-1])
	if got := mustView(t, b, "m1").Service; math.Abs(float64(got-32*time.Second)) > float64(10*time.Millisecond) {
		t.Errorf("a's pace: service = %v, want about 32s", got)
	}
}

// TestDoneWork checks that the view counts the part of the running
// attempts done by now, from when each took a slot, at most 90% of its
// cost, and nothing of those still waiting.
func TestDoneWork(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Probed("m1", Probe{RTT: 0, Slots: 1, Sent: c.Now(), ETA: 4 * time.Second})
	m.Dispatched("m1", 2)
	m.Dispatched("m1", 1)
	steps := []struct {
		name string
		wait time.Duration
		done float64
	}{
		{"just sent", 0, 0},
		{"the first has run 4 s of its 8", 4 * time.Second, 1},
		{"past its time: 90% of it", 8 * time.Second, 1.8},
	}
	for _, s := range steps {
		c.Advance(s.wait)
		v := mustView(t, m, "m1")
		if math.Abs(v.Done-s.done) > 1e-6 || v.Backlog != 3 {
			t.Errorf("%s: done, backlog = %g, %g, want %g, 3", s.name, v.Done, v.Backlog, s.done)
		}
	}
}

// TestPacePerUnit checks the pace of the steps reported since the last
// report, several at once included.
func TestPacePerUnit(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		p    Pace
		want float64
		ok   bool
	}{
		{"the first step, from the start", Pace{Cost: 2, Started: t0, Step: 1, Steps: 20, At: t0.Add(time.Second)}, 10, true},
		{"steps 3 to 6 at once", Pace{Cost: 1, Started: t0, Step: 6, Steps: 10, PrevStep: 2, Prev: t0.Add(time.Second), At: t0.Add(3 * time.Second)}, 5, true},
		{"a cost of 0 counts as 1", Pace{Started: t0, Step: 1, Steps: 4, At: t0.Add(time.Second)}, 4, true},
		{"steps that are half the cost", Pace{Cost: 2, Share: 0.5, Started: t0, Step: 1, Steps: 20, At: t0.Add(time.Second)}, 20, true},
		{"a share over 1 counts as 1", Pace{Cost: 2, Share: 1.5, Started: t0, Step: 1, Steps: 20, At: t0.Add(time.Second)}, 10, true},
		{"no step since", Pace{Cost: 1, Started: t0, Step: 2, Steps: 4, PrevStep: 2, Prev: t0, At: t0.Add(time.Second)}, 0, false},
		{"no start", Pace{Cost: 1, Step: 1, Steps: 4, At: t0}, 0, false},
		{"a clock that went back", Pace{Cost: 1, Started: t0, Step: 1, Steps: 4, At: t0.Add(-time.Second)}, 0, false},
	} {
		got, ok := c.p.perUnit()
		if ok != c.ok || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: perUnit = %g, %v; want %g, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestOverdueStep checks that a step of one of this replica's attempts
// not heard of for longer than the steps before took shows the miner slow
// before the step is done, but not within stepGap, nor after the last
// step (the video is then decoded and sent, which takes no steps).
func TestOverdueStep(t *testing.T) {
	m, c := MustNew(t, "a")
	service := func(id string) time.Duration { return mustView(t, m, id).Service }
	// Each miner's jobs take 4 s: 10 steps of 0.3 s, then 1 s to decode.
	run := func(id string) (step func(k int, took time.Duration)) {
		m.Probed(id, Probe{RTT: 0, Slots: 1, Sent: c.Now(), ETA: 4 * time.Second})
		m.Dispatched(id, 1)
		started, prev := c.Now(), c.Now()
		return func(k int, took time.Duration) {
			c.Advance(took)
			m.Paced(id, Pace{Cost: 1, Started: started, Step: k, Steps: 10, PrevStep: k - 1, Prev: prev, At: c.Now()})
			prev = c.Now()
		}
	}
	step := run("m1")
	step(1, 300*time.Millisecond)
	c.Advance(200 * time.Millisecond)
	if got := service("m1"); got != 4*time.Second {
		t.Errorf("within the gap: service %v, want 4s", got)
	}
	c.Advance(1000 * time.Millisecond) // step 2 due 0.9 s ago
	if got := service("m1"); got < 11*time.Second || got > 13*time.Second {
		t.Errorf("step 2 overdue: service %v, want about 12s (1.2 s since step 1, a tenth of a job)", got)
	}

	step = run("m2")
	for k := 1; k <= 10; k++ {
		step(k, 300*time.Millisecond)
	}
	c.Advance(900 * time.Millisecond) // decoding after the last step
	if got := service("m2"); got != 4*time.Second {
		t.Errorf("after the last step: service %v, want 4s", got)
	}
}

// TestPaceShowsRecovery checks that a step far faster than the miner is
// taken to run at (a throttled GPU that recovered) becomes its service
// time at once, and is passed on for the other replicas; that a probe
// answer sent before then does not bring the slow ETA back, nor does the
// time of the job that ran across the change; and that a probe sent after
// it counts as any other.
func TestPaceShowsRecovery(t *testing.T) {
	m, c := MustNew(t, "a")
	var told []Pace
	m.ObservePaces(func(_ string, p Pace) { told = append(told, p) })
	service := func() time.Duration { return mustView(t, m, "m1").Service }
	near := func(got, want time.Duration) bool { return math.Abs(float64(got-want)) <= float64(10*time.Millisecond) }

	m.Probed("m1", Probe{Slots: 1, Sent: c.Now(), ETA: 4 * time.Second})
	m.Dispatched("m1", 1)
	c.Advance(4 * time.Second)
	m.Finished("m1", Outcome{Result: Succeeded, Service: 4 * time.Second, Cost: 1})

	// The GPU throttles 4×: a probe says so at once, a second one is late.
	m.Probed("m1", Probe{Slots: 1, Sent: c.Now(), ETA: 16 * time.Second})
	c.Advance(time.Second)
	late := Probe{Slots: 1, Sent: c.Now(), ETA: 16 * time.Second}
	c.Advance(time.Second)
	m.Dispatched("m1", 1)
	started, prev := c.Now(), c.Now()
	step := func(k int, took time.Duration) {
		c.Advance(took)
		m.Paced("m1", Pace{Cost: 1, Started: started, Step: k, Steps: 10, PrevStep: k - 1, Prev: prev, At: c.Now()})
		prev = c.Now()
	}
	for k := 1; k <= 5; k++ {
		step(k, 1600*time.Millisecond) // at 16 s a job
	}
	if got := service(); !near(got, 16*time.Second) {
		t.Fatalf("throttled: service %v, want 16s", got)
	}
	n := len(told)

	step(6, 400*time.Millisecond) // at 4 s a job: it recovered
	if got := service(); !near(got, 4*time.Second) {
		t.Errorf("recovered: service %v, want 4s", got)
	}
	if len(told) != n+1 {
		t.Errorf("the recovery was passed on %d times, want once", len(told)-n)
	}
	m.Probed("m1", late)
	if got := service(); !near(got, 4*time.Second) {
		t.Errorf("after a probe sent before the recovery: service %v, want 4s", got)
	}
	for k := 7; k <= 10; k++ {
		step(k, 400*time.Millisecond)
	}
	took := c.Now().Sub(started)
	if got := service(); !near(got, 4*time.Second) {
		t.Errorf("the job that ran across the change still running after %v: service %v, want 4s", took, got)
	}
	m.Finished("m1", Outcome{Result: Succeeded, Service: took, Cost: 1})
	if got := service(); !near(got, 4*time.Second) {
		t.Errorf("after the job that ran across the change (%v): service %v, want 4s", took, got)
	}

	// Another replica that heard the slow probe hears the recovery too.
	b, bc := MustNew(t, "b")
	bc.t = c.t
	b.Probed("m1", Probe{Slots: 1, Sent: bc.Now(), ETA: 16 * time.Second})
	b.SharedPace("a", "m1", told[len(told)-1])
	if got := mustView(t, b, "m1").Service; !near(got, 4*time.Second) {
		t.Errorf("the other replica: service %v, want 4s", got)
	}

	// A probe sent since says what it says: throttled again.
	m.Probed("m1", Probe{Slots: 1, Sent: c.Now(), ETA: 16 * time.Second})
	if got := service(); !near(got, 16*time.Second) {
		t.Errorf("a probe sent after the recovery: service %v, want 16s", got)
	}
}

// TestPaceOfFewSteps checks that steps are read per unit of the part of
// the cost they take: a miner that ran a job of many steps and then runs
// one of few steps and a long decode at the same speed is not taken for
// one that sped up, while without the share its steps would read 6× as
// fast. Nor is one whose steps take a smaller part of its jobs than the
// cost model says: its steps are no faster than the steps before.
func TestPaceOfFewSteps(t *testing.T) {
	m, c := MustNew(t, "a")
	run := func(id string, cost, share float64, steps int, step, decode time.Duration) {
		m.Dispatched(id, cost)
		started, prev := c.Now(), c.Now()
		for k := 1; k <= steps; k++ {
			c.Advance(step)
			m.Paced(id, Pace{Cost: cost, Share: share, Started: started, Step: k, Steps: steps, PrevStep: k - 1, Prev: prev, At: c.Now()})
			prev = c.Now()
		}
		c.Advance(decode)
		m.Finished(id, Outcome{Result: Succeeded, Service: c.Now().Sub(started), Cost: cost})
	}
	near := func(got, want time.Duration) bool { return math.Abs(float64(got-want)) <= float64(10*time.Millisecond) }
	// At 4 s a unit: 20 steps of 0.1 s (half of a cost of 1), then a
	// 2 s decode; 4 steps of 0.1 s (a sixth of a cost of 0.6), 2 s decode.
	m.Probed("m1", Probe{Slots: 1, Sent: c.Now(), ETA: 4 * time.Second})
	run("m1", 1, 0.5, 20, 100*time.Millisecond, 2*time.Second)
	run("m1", 0.6, 1.0/6, 4, 100*time.Millisecond, 2*time.Second)
	if got := mustView(t, m, "m1").Service; !near(got, 4*time.Second) {
		t.Errorf("after a job of few steps: service %v, want 4s", got)
	}
	// Steps that take 15% of the job where the model says 50%: they read
	// at 1.2 s a unit, a third of the service time, job after job.
	m.Probed("m2", Probe{Slots: 1, Sent: c.Now(), ETA: 4 * time.Second})
	for range 3 {
		run("m2", 1, 0.5, 20, 30*time.Millisecond, 3400*time.Millisecond)
	}
	if got := mustView(t, m, "m2").Service; !near(got, 4*time.Second) {
		t.Errorf("steps shorter than the model says: service %v, want 4s", got)
	}
}
