package router

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/gridmap"
)

// BenchmarkPick measures one routing decision (Pick and the lease's Done)
// over grids of uneven miners with some work queued; with unseen=8, as a
// replica among 16 decides (the simulation's large-16), others' attempts
// are unheard of and the policy shortlists and spreads over more miners.
func BenchmarkPick(b *testing.B) {
	for _, c := range []struct{ miners, unseen int }{{200, 0}, {2000, 0}, {20000, 0}, {20000, 8}} {
		name := fmt.Sprintf("miners=%d", c.miners)
		if c.unseen > 0 {
			name += fmt.Sprintf("/unseen=%d", c.unseen)
		}
		b.Run(name, func(b *testing.B) {
			grid := benchGrid(b, c.miners)
			// Others' dispatches heard 0.4 ms late, the clock standing
			// still: 1 attempt unseen for every 2.5 heard.
			for range c.unseen * 5 / 2 {
				grid.Shared("other", "m00000", 1, fixedClock().Add(-400*time.Microsecond))
			}
			r := New(grid, nil, rand.New(rand.NewPCG(3, 4)))
			for b.Loop() {
				l, err := r.Pick(Request{Cost: 1})
				if err != nil {
					b.Fatalf("Pick: %v", err)
				}
				l.Done(gridmap.Outcome{Result: gridmap.Released})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/decision")
		})
	}
}

// benchGrid returns a grid of n verified miners of uneven speed, distance
// and queue.
func benchGrid(b *testing.B, n int) *gridmap.Map {
	cfg := gridmap.DefaultConfig()
	cfg.Now = fixedClock
	grid, err := gridmap.New(cfg)
	if err != nil {
		b.Fatalf("gridmap.New: %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		id := fmt.Sprintf("m%05d", i)
		grid.SetStanding(id, gridmap.Standing{Verified: true, Tier: i % 4})
		grid.Probed(id, gridmap.Probe{
			RTT: time.Duration(5+rng.IntN(250)) * time.Millisecond, Queue: rng.IntN(4), Slots: 1 + rng.IntN(2),
			ETA: time.Duration(2+rng.IntN(16)) * time.Second,
		})
		grid.Dispatched(id, 1)
		grid.Finished(id, gridmap.Outcome{Result: gridmap.Succeeded, Service: time.Duration(2+rng.IntN(16)) * time.Second, Cost: 1})
	}
	return grid
}
