package gateway_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/refengine"
)

// openReplica opens a gateway replica over the grid's chain and a shared
// KV. It probes only when it opens, so that what it knows of other
// replicas' attempts comes from their shared dispatches alone.
func openReplica(t *testing.T, grid *gridtest.Grid, kv fractal.KV, name string) *gateway.Gateway {
	t.Helper()
	st, err := jetstream.Open(context.Background(), jetstream.DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	gw := gateway.New()
	gw.Config.Replica, gw.Config.AllowPrivateAxons, gw.Config.ProbeInterval = name, true, time.Hour
	gw.Jobs, gw.Queue, gw.Blobs, gw.KV = st.Jobs(), st.Queue(), st.Blobs(), kv
	gw.Chain, gw.Hotkey, gw.Logger = grid.Chain, grid.Validator, gridtest.Logger(t)
	gw.Standings = fractal.StandingFunc(func(context.Context) (map[string]fractal.Standing, error) {
		return map[string]fractal.Standing{}, nil
	})
	if err := gw.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return gw
}

// waitBacklog waits until the replica's grid map shows want units of work
// ahead of a new job at the miner.
func waitBacklog(t *testing.T, gw *gateway.Gateway, miner string, want float64) {
	t.Helper()
	var got float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		v, _ := gw.Grid().View(miner)
		if got = v.Backlog; math.Abs(got-want) < 1e-9 {
			return
		}
	}
	t.Fatalf("replica %s: backlog at the miner %g, want %g", gw.Config.Replica, got, want)
}

// twoReplicas opens replicas a and b of a gateway on one embedded
// JetStream store, whose KV is their feed, over a grid of one miner.
func twoReplicas(t *testing.T) (miner string, a, b *gateway.Gateway) {
	t.Helper()
	grid := gridtest.New(t)
	m := grid.AddMiner(t, refengine.New(), nil)
	st, err := jetstream.Open(context.Background(), jetstream.DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kv, err := st.KV(context.Background(), "gateway", 0)
	if err != nil {
		t.Fatal(err)
	}
	return m.Hotkey.SS58(), openReplica(t, grid, kv, "a"), openReplica(t, grid, kv, "b")
}

// TestReplicasShareDispatches runs two replicas on one embedded JetStream
// store: replica b counts the work replica a sends to a miner, and stops
// counting it when a's attempt ends, without either probing again.
func TestReplicasShareDispatches(t *testing.T) {
	miner, a, b := twoReplicas(t)
	if _, ok := b.Grid().View(miner); !ok {
		t.Fatalf("replica b does not know the miner %s", miner)
	}
	waitBacklog(t, b, miner, 0)

	a.Grid().Dispatched(miner, 3)
	waitBacklog(t, b, miner, 3)
	b.Grid().Dispatched(miner, 1) // b's own, shared with a
	waitBacklog(t, a, miner, 4)
	waitBacklog(t, b, miner, 4)

	a.Grid().Finished(miner, gridmap.Outcome{Result: gridmap.Released, Cost: 3})
	waitBacklog(t, b, miner, 1)
	waitBacklog(t, a, miner, 1)
}

// TestReplicasSharePaces runs two replicas on one embedded JetStream
// store: a pace replica a reads from one of its attempts reaches replica
// b, which then takes the miner to be as slow as a saw it.
func TestReplicasSharePaces(t *testing.T) {
	miner, a, b := twoReplicas(t)
	before, _ := b.Grid().View(miner)
	// Subscriptions settle before the first message is sent.
	waitBacklog(t, b, miner, 0)
	a.Grid().Dispatched(miner, 1)
	waitBacklog(t, b, miner, 1)

	slow := 100 * before.Service
	now := time.Now()
	a.Grid().Paced(miner, gridmap.Pace{Cost: 1, Started: now.Add(-slow / 10), Step: 1, Steps: 10, At: now})
	var got time.Duration
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		v, _ := b.Grid().View(miner)
		if got = v.Service; got > slow/2 {
			return
		}
	}
	t.Fatalf("replica b: service at the miner %v, want about %v (a's pace)", got, slow)
}
