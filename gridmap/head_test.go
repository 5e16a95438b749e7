package gridmap

import (
	"math"
	"testing"
	"time"
)

// TestHeadJobOverdue checks that a miner whose oldest attempt has run
// longer than its cost at the measured service time looks as slow as
// that, and once it came back as slow as it ran (see
// TestEndedJobTimesTheMiner checks that the time a job took from the
// moment it held a slot to its end — the replicas' own ends and those
// heard on the feed alike — sets the miner's service time when it ran
// well beyond it, that it fades while no job ends, that the next job at
// the usual speed undoes it, and that on a miner of two slots a queued
// job starts when one of the two running ends, not when it arrived.
func TestEndedJobTimesTheMiner(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Probed("m1", Probe{RTT: 2 * time.Millisecond, Slots: 2, Sent: c.Now()})
	m.Dispatched("m1", 1)
	c.Advance(4 * time.Second)
	m.Finished("m1", Outcome{Result: Succeeded, Service: 4 * time.Second, Cost: 1})
	// b's jobs of cost 1 and 4 take the two slots at once; another of
	// cost 1 queues behind them.
	m.Shared("b", "m1", 1, c.Now())
	m.Shared("b", "m1", 4, c.Now())
	m.Shared("b", "m1", 1, c.Now())
	steps := []struct {
		name string
		do   func()
		want time.Duration
	}{
		{"the first ends at the usual speed", func() {
			c.Advance(4 * time.Second)
			m.Shared("b", "m1", -1, c.Now())
		}, 4 * time.Second},
		{"the queued one has run 5 s since then, not 9 s since it arrived", func() {
			c.Advance(5 * time.Second)
		}, 5 * time.Second},
		{"it ended 40% slow: within the spread of a miner's times", func() {
			c.Advance(600 * time.Millisecond)
			m.Shared("b", "m1", -1, c.Now())
		}, 4 * time.Second},
		{"the big one ended after 8 s a unit: the miner slowed down", func() {
			c.Advance(32*time.Second - 9600*time.Millisecond)
			m.Shared("b", "m1", -4, c.Now())
		}, 8 * time.Second},
		{"it fades towards the measured time while nothing ends", func() {
			c.Advance(DefaultConfig().ServiceDecay)
		}, 4*time.Second + time.Duration(float64(4*time.Second)*math.Exp(-1))},
		{"our next job ran at the usual speed", func() {
			m.Dispatched("m1", 1)
			c.Advance(4 * time.Second)
			m.Finished("m1", Outcome{Result: Succeeded, Service: 4 * time.Second, Cost: 1})
		}, 4 * time.Second},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do()
			if got := mustView(t, m, "m1").Service; got < s.want-10*time.Millisecond || got > s.want+10*time.Millisecond {
				t.Errorf("service = %v, want about %v", got, s.want)
			}
		})
	}
}

// TestSlowedMinerPremium checks that a miner one of whose jobs ran far
// beyond its measured time is taken slowedPremium slower than measured
// for slowedFor, even after a job at its usual speed, and that a job
// merely slower than usual does not mark it.
func TestSlowedMinerPremium(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Probed("m1", Probe{RTT: 2 * time.Millisecond, Slots: 1, Sent: c.Now()})
	run := func(d time.Duration) { // one of b's jobs of cost 1, taking d
		m.Shared("b", "m1", 1, c.Now())
		c.Advance(d)
		m.Shared("b", "m1", -1, c.Now())
	}
	m.Dispatched("m1", 1)
	c.Advance(4 * time.Second)
	m.Finished("m1", Outcome{Result: Succeeded, Service: 4 * time.Second, Cost: 1})
	premium := time.Duration(float64(4*time.Second) * (1 + slowedPremium))
	steps := []struct {
		name string
		do   func()
		want time.Duration
	}{
		{"2× slow: the job's time, no mark", func() { run(8 * time.Second) }, 8 * time.Second},
		{"at the usual speed again", func() { run(4 * time.Second) }, 4 * time.Second},
		{"4× slow: marked", func() { run(16 * time.Second) }, 16 * time.Second},
		{"at the usual speed again, with the premium", func() { run(4 * time.Second) }, premium},
		{"still within slowedFor", func() { c.Advance(slowedFor - 5*time.Second) }, premium},
		{"past slowedFor", func() { c.Advance(5 * time.Second) }, 4 * time.Second},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do()
			if got := mustView(t, m, "m1").Service; got < s.want-10*time.Millisecond || got > s.want+10*time.Millisecond {
				t.Errorf("service = %v, want about %v", got, s.want)
			}
		})
	}
}
