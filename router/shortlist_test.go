package router

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/gridmap"
)

// TestPickShortlistOnALargeGrid checks that the production policy, which
// sees only a shortlist, still sends each job to one of the few fast idle
// miners of a large grid, and spreads jobs over them as they fill up.
func TestPickShortlistOnALargeGrid(t *testing.T) {
	grid := MustGrid(t, 0)
	fast := map[string]bool{}
	for i := range 3000 {
		id := fmt.Sprintf("m%04d", i)
		service := 8 * time.Second
		if i%600 == 7 {
			service, fast[id] = 2*time.Second, true
		}
		grid.SetStanding(id, gridmap.Standing{Verified: true})
		grid.Probed(id, gridmap.Probe{RTT: 20 * time.Millisecond, Slots: 1})
		grid.Dispatched(id, 1)
		grid.Finished(id, gridmap.Outcome{Result: gridmap.Succeeded, Service: service, Cost: 1})
	}
	p := NewP2C()
	if best, _ := p.Shortlist(); best <= 0 || best >= 3000 {
		t.Fatalf("NewP2C().Shortlist() best = %d, want a shortlist", best)
	}
	r := New(grid, p, rand.New(rand.NewPCG(5, 6)))
	got := map[string]int{}
	for i := range 10 { // 5 fast miners, 2 jobs each: all finish by 4 s, before any slow one
		l, err := r.Pick(Request{Cost: 1})
		if err != nil {
			t.Fatalf("Pick %d: %v", i, err)
		}
		if !fast[l.Miner] {
			t.Fatalf("pick %d chose %s, want one of the fast miners %v", i, l.Miner, fast)
		}
		got[l.Miner]++
	}
	for id := range fast {
		if got[id] != 2 {
			t.Errorf("%s got %d jobs, want 2 each (by backlog)", id, got[id])
		}
	}
}
