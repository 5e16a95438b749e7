package gridmap

import (
	"math"
	"testing"
	"time"
)

func TestUnseen(t *testing.T) {
	m, c := MustNew(t, "a")
	if n, cost := m.Unseen(); n != 0 || cost != 0 {
		t.Fatalf("before any shared dispatch: Unseen = %g, %g; want 0, 0", n, cost)
	}
	// Replica b dispatches 10 attempts of cost 2 a second, each heard
	// 20 ms late; ends and our own shares back do not count. The rate is
	// right from the first second, not only once a window has passed.
	for i := range 1000 {
		if i == 10 {
			if n, _ := m.Unseen(); math.Abs(n-0.2) > 0.03 {
				t.Errorf("after 1 s: Unseen attempts = %g, want about 10/s × 20 ms = 0.2", n)
			}
		}
		c.Advance(100 * time.Millisecond)
		m.Shared("b", "m1", 2, c.Now().Add(-20*time.Millisecond))
		m.Shared("b", "m1", -2, c.Now().Add(-20*time.Millisecond))
		m.Shared("a", "m1", 8, c.Now())
	}
	n, cost := m.Unseen()
	if want := 10 * 0.020; math.Abs(n-want) > 0.02*want {
		t.Errorf("Unseen attempts = %g, want about 10/s × 20 ms = %g", n, want)
	}
	if cost != 2 {
		t.Errorf("Unseen cost = %g, want 2", cost)
	}
	// The rate decays once b stops dispatching.
	c.Advance(herdWindow * 5)
	if later, _ := m.Unseen(); later > n*math.Exp(-4) {
		t.Errorf("five windows after the last dispatch: Unseen = %g, want below %g", later, n*math.Exp(-4))
	}
}

// TestChangesAtTheMiner checks that shared changes are compared with a
// probe's count time as the miner saw them: a dispatch still on its way
// when the miner counted is not in the count, and an end the gateway heard
// of after the count may already be in it.
func TestChangesAtTheMiner(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Probed("m1", Probe{RTT: 200 * time.Millisecond, Work: 0, Sent: c.Now()})
	c.Advance(time.Second)
	// b dispatches 3 at t0; it reaches the miner about 100 ms later.
	t0 := c.Now()
	m.Shared("b", "m1", 3, t0)
	c.Advance(200 * time.Millisecond)
	m.Probed("m1", Probe{RTT: 200 * time.Millisecond, Work: 0, Ours: 0, Measured: t0.Add(50 * time.Millisecond), Sent: t0.Add(-50 * time.Millisecond)})
	if got := mustView(t, m, "m1").Backlog; math.Abs(got-3) > 1e-9 {
		t.Errorf("counted before b's attempt arrived: backlog = %g, want its 3", got)
	}
	// The attempt ends at the miner at t1 and b hears of it 100 ms later;
	// a count taken in between no longer has it.
	c.Advance(5 * time.Second)
	t1 := c.Now()
	c.Advance(150 * time.Millisecond)
	m.Probed("m1", Probe{RTT: 200 * time.Millisecond, Work: 1, Ours: 1, Measured: t1.Add(50 * time.Millisecond), Sent: t1})
	m.Shared("b", "m1", -3, t1.Add(100*time.Millisecond))
	if got := mustView(t, m, "m1").Backlog; math.Abs(got-1) > 1e-9 {
		t.Errorf("b's end heard after a count without it: backlog = %g, want the count's 1", got)
	}
}
