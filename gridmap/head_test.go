package gridmap

import (
	"testing"
	"time"
)

// TestHeadJobOverdue checks that a miner whose oldest attempt has run
// longer than its cost at the measured service time looks as slow as
// that, and no longer once it came back.
func TestHeadJobOverdue(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Probed("m1", Probe{RTT: 2 * time.Millisecond, Slots: 1, Sent: c.Now()})
	m.Dispatched("m1", 1)
	m.Finished("m1", Outcome{Result: Succeeded, Service: 4 * time.Second, Cost: 1})
	m.Dispatched("m1", 2)
	m.Shared("b", "m1", 1, c.Now()) // queued behind ours
	steps := []struct {
		name string
		do   func()
		want time.Duration
	}{
		{"ours within its time", func() { c.Advance(5 * time.Second) }, 4 * time.Second},
		{"ours overdue: 20 s for 2 units", func() { c.Advance(15 * time.Second) }, 10 * time.Second},
		{"ours failed; b's just started", func() {
			m.Finished("m1", Outcome{Result: Failed, Cost: 2})
			c.Advance(time.Second)
		}, 4 * time.Second},
		{"b's overdue", func() { c.Advance(5 * time.Second) }, 6 * time.Second},
		{"b's ended", func() { m.Shared("b", "m1", -1, c.Now()) }, 4 * time.Second},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do()
			if got := mustView(t, m, "m1").Service; got < s.want-5*time.Millisecond || got > s.want+5*time.Millisecond {
				t.Errorf("service = %v, want about %v", got, s.want)
			}
		})
	}
}
