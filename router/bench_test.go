package router

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/gridmap"
)

// BenchmarkPick measures one routing decision (Pick and the lease's Done)
// over grids of uneven miners with some work queued.
func BenchmarkPick(b *testing.B) {
	for _, n := range []int{200, 2000, 20000} {
		b.Run(fmt.Sprintf("miners=%d", n), func(b *testing.B) {
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
