package gateway_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/router"
)

// routeMiners is the grid each replica routes over in BenchmarkRouteCPU,
// the size of the routing simulation's large-16 scenario.
const routeMiners = 2000

// BenchmarkRouteCPU measures the CPU time one routed job costs the
// gateway replicas together: the pick on the replica that routes it, the
// booking and the end of its attempt, and each of them shared over the
// store's feed (the JetStream KV's NATS messages, the embedded server
// included) and counted by every other replica's grid map. Each replica is
// a gateway opened as production opens it, with its own grid map of 2,000
// miners and a router over it built as the gateway builds its own; the
// jobs go to the replicas in turn and each keeps a window of attempts in
// flight, ending the oldest as it books a new one. No miner is called:
// what a dispatch costs beyond routing (the request, the store's writes)
// is measured by BenchmarkCreate and the end-to-end benchmarks.
//
//	go test ./gateway -run '^$' -bench RouteCPU -benchtime 20000x
//
// It reports cpu-µs/job (user + system time of the whole process ÷ jobs)
// at 1 and 16 replicas, side by side, and lost/job, the attempts a
// replica's feed dropped because the publisher fell behind (it waits for
// the feed to keep that near 0).
func BenchmarkRouteCPU(b *testing.B) {
	for _, replicas := range []int{1, 16} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) { benchRouteCPU(b, replicas) })
	}
}

func benchRouteCPU(b *testing.B, replicas int) {
	ctx := context.Background()
	grid := gridtest.New(b)
	st, err := jetstream.Open(ctx, jetstream.DefaultConfig(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	kv, err := st.KV(ctx, "gateway", 0)
	if err != nil {
		b.Fatal(err)
	}
	// Count what the replicas publish, to wait for the feed to deliver.
	watch, cancel := context.WithCancel(ctx)
	b.Cleanup(cancel)
	msgs, err := kv.Subscribe(watch, "grid.attempts")
	if err != nil {
		b.Fatal(err)
	}
	var heard atomic.Int64
	go func() {
		for range msgs {
			heard.Add(1)
		}
	}()
	routers := make([]*router.Router, replicas)
	for r := range routers {
		gw := gateway.New()
		gw.Config.Replica, gw.Config.ProbeInterval, gw.Config.Dispatchers = fmt.Sprintf("r%02d", r), time.Hour, 1
		gw.Jobs, gw.Queue, gw.Blobs, gw.KV = st.Jobs(), st.Queue(), st.Blobs(), kv
		gw.Chain, gw.Hotkey, gw.Logger = grid.Chain, grid.Validator, gridtest.Logger(b)
		gw.Standings = fractal.StandingFunc(func(context.Context) (map[string]fractal.Standing, error) {
			return map[string]fractal.Standing{}, nil
		})
		if err := gw.Open(ctx); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { gw.Close() })
		addRouteMiners(gw.Grid(), uint64(r))
		routers[r] = router.New(gw.Grid(), nil, rand.New(rand.NewPCG(uint64(r), 1)))
	}
	window := routeMiners / replicas // attempts in flight per replica
	inFlight := make([][]*router.Lease, replicas)
	costs := rand.New(rand.NewPCG(7, 7))
	published := int64(0)
	keepUp := func() { // let the feed keep up rather than drop
		for published-heard.Load() > 256 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	b.ResetTimer()
	before := cpuTime()
	for i := range b.N {
		r := i % replicas
		l, err := routers[r].Pick(router.Request{Cost: []float64{0.5, 1, 1, 2, 4}[costs.IntN(5)]})
		if err != nil {
			b.Fatal(err)
		}
		published++
		if inFlight[r] = append(inFlight[r], l); len(inFlight[r]) > window {
			inFlight[r][0].Done(gridmap.Outcome{Result: gridmap.Succeeded, Service: 4 * time.Second})
			inFlight[r] = inFlight[r][1:]
			published++
		}
		keepUp()
	}
	for r := range inFlight {
		for _, l := range inFlight[r] {
			l.Done(gridmap.Outcome{Result: gridmap.Succeeded, Service: 4 * time.Second})
			published++
			keepUp()
		}
	}
	// Wait until the feed has delivered all, or stopped delivering.
	for last, still := heard.Load(), 0; heard.Load() < published && still < 200; {
		time.Sleep(5 * time.Millisecond)
		if now := heard.Load(); now == last {
			still++
		} else {
			last, still = now, 0
		}
	}
	used := cpuTime() - before
	b.StopTimer()
	b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-µs/job")
	b.ReportMetric(float64(published-heard.Load())/float64(b.N), "lost/job")
}

// addRouteMiners adds the benchmark's verified miners to a replica's grid
// map, uneven as in the routing simulation: GPU speeds 2 to 0.25, one or
// two slots, round trips of 5 to 250 ms.
func addRouteMiners(m *gridmap.Map, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	speeds := []float64{2, 1, 1, 0.7, 0.5, 0.25}
	for i := range routeMiners {
		id := fmt.Sprintf("miner-%05d", i)
		speed := speeds[i%len(speeds)]
		m.SetStanding(id, gridmap.Standing{Verified: true, Tier: 1 + i%4})
		m.Probed(id, gridmap.Probe{
			RTT:   time.Duration(5+rng.IntN(245)) * time.Millisecond,
			Slots: 1 + i%3/2,
			ETA:   time.Duration(4 / speed * float64(time.Second)),
		})
	}
}
