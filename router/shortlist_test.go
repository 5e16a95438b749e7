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
	if best, _ := p.Shortlist(Request{Cost: 1}); best <= 0 || best >= 3000 {
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

// TestShortlistWidensWithUnseenAttempts checks that when other replicas
// decide unseen, the production policy shortlists more miners and spreads
// its choices over them, rather than over the Best it shortlists alone:
// on a grid of 200 fast miners, a little apart, among 3,000 slow ones, the
// replicas would otherwise all draw from the same 24 and meet there.
func TestShortlistWidensWithUnseenAttempts(t *testing.T) {
	grid := MustGrid(t, 0)
	for i := range 3000 {
		id := fmt.Sprintf("m%04d", i)
		service := 8 * time.Second
		if i < 200 {
			service = 2*time.Second + time.Duration(i)*5*time.Millisecond
		}
		grid.SetStanding(id, gridmap.Standing{Verified: true})
		grid.Probed(id, gridmap.Probe{RTT: 20 * time.Millisecond, Slots: 1})
		grid.Dispatched(id, 1)
		grid.Finished(id, gridmap.Outcome{Result: gridmap.Succeeded, Service: service, Cost: 1})
	}
	// Another replica's dispatches, heard 0.4 ms after they were sent:
	// with the map's clock standing still, about 8 attempts unseen.
	for range 20 {
		grid.Shared("other", "m2999", 1, fixedClock().Add(-400*time.Microsecond))
	}
	unseen, _ := grid.Unseen()
	if unseen < 4 || unseen > 16 {
		t.Fatalf("Unseen = %g, want about 8", unseen)
	}
	chosen := func(p *P2C) int {
		r := New(grid, p, rand.New(rand.NewPCG(7, 8)))
		got := map[string]bool{}
		for i := range 2000 {
			l, err := r.Pick(Request{Cost: 1})
			if err != nil {
				t.Fatalf("Pick %d: %v", i, err)
			}
			got[l.Miner] = true
			l.Done(gridmap.Outcome{Result: gridmap.Released})
		}
		return len(got)
	}
	narrow := NewP2C()
	narrow.HerdBest = 0
	wide := NewP2C()
	if best, _ := wide.Shortlist(Request{Cost: 1, Unseen: unseen, UnseenCost: 1}); best <= wide.Best {
		t.Errorf("Shortlist with %g unseen: best = %d, want more than %d", unseen, best, wide.Best)
	}
	if best, _ := wide.Shortlist(Request{Cost: 1, Unseen: 1000, UnseenCost: 1}); best != wide.Best+wide.HerdMaxBest {
		t.Errorf("Shortlist with 1000 unseen: best = %d, want the bound %d", best, wide.Best+wide.HerdMaxBest)
	}
	n, m := chosen(narrow), chosen(wide)
	if n > 40 || m < 2*n {
		t.Errorf("2,000 picks went to %d miners from the narrow shortlist and %d from the wide one, want ≤ 40 and at least twice as many", n, m)
	}
}
