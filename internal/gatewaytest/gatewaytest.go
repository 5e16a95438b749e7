// Package gatewaytest serves a gateway for tests over the miners of a
// gridtest grid: an embedded JetStream store in a temporary directory,
// miners on loopback allowed, probes every 100 ms and every miner of the
// grid in tier 1, so that jobs reach them as soon as they are probed.
package gatewaytest

import (
	"context"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/jetstream"
)

// ProbeInterval is how often a test gateway probes its miners.
const ProbeInterval = 100 * time.Millisecond

// Start opens a gateway over g's miners and serves it on a loopback port
// until the test ends. mod, when not nil, changes the gateway before it
// opens.
func Start(tb testing.TB, g *gridtest.Grid, mod func(*gateway.Gateway)) *gateway.Gateway {
	tb.Helper()
	ctx := context.Background()
	st, err := jetstream.Open(ctx, jetstream.DefaultConfig(tb.TempDir()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	kv, err := st.KV(ctx, "gateway", 0)
	if err != nil {
		tb.Fatal(err)
	}
	gw := gateway.New()
	gw.Config.AllowPrivateAxons = true
	gw.Config.ProbeInterval = ProbeInterval
	gw.Jobs, gw.Queue, gw.Blobs, gw.KV = st.Jobs(), st.Queue(), st.Blobs(), kv
	gw.Chain, gw.Hotkey, gw.Logger = g.Chain, g.Validator, gridtest.Logger(tb)
	gw.Standings = fractal.StandingFunc(func(context.Context) (map[string]fractal.Standing, error) {
		return standings(g), nil
	})
	if mod != nil {
		mod(gw)
	}
	if err := gw.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := gw.Serve("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { gw.Close() })
	return gw
}

// standings returns a passing tier-1 standing for each of g's miners.
func standings(g *gridtest.Grid) map[string]fractal.Standing {
	out := make(map[string]fractal.Standing, len(g.Miners))
	for _, m := range g.Miners {
		hotkey := m.Hotkey.SS58()
		out[hotkey] = fractal.Standing{Hotkey: hotkey, Passed: 1, Success: 1, Tier: 1}
	}
	return out
}

// URL returns the base URL gw serves.
func URL(gw *gateway.Gateway) string { return "http://" + gw.Addr() }

// APIKey creates an API key on gw allowing rate requests per second after
// a burst of burst, with at most active unfinished jobs, and returns its
// secret.
func APIKey(tb testing.TB, gw *gateway.Gateway, name string, rate float64, burst, active int) string {
	tb.Helper()
	_, key, err := gw.Keys().Create(context.Background(), name, rate, burst, active)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}
