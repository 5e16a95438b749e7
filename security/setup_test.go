package security_test

import (
	"context"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/jetstream"
)

// startGateway serves a gateway over g's miners on an embedded store and
// returns it with an API key.
func startGateway(t *testing.T, g *gridtest.Grid, allowPrivate bool) (*gateway.Gateway, string) {
	t.Helper()
	ctx := context.Background()
	st, err := jetstream.Open(ctx, jetstream.DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kv, err := st.KV(ctx, "gateway", 0)
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New()
	gw.Config.AllowPrivateAxons = allowPrivate
	gw.Config.ProbeInterval = 100 * time.Millisecond
	gw.Jobs, gw.Queue, gw.Blobs, gw.KV = st.Jobs(), st.Queue(), st.Blobs(), kv
	gw.Chain, gw.Hotkey, gw.Logger = g.Chain, g.Validator, gridtest.Logger(t)
	gw.Standings = fractal.StandingFunc(func(context.Context) (map[string]fractal.Standing, error) {
		out := map[string]fractal.Standing{}
		for _, m := range g.Miners {
			out[m.Hotkey.SS58()] = fractal.Standing{Hotkey: m.Hotkey.SS58(), Passed: 1, Success: 1, Tier: 1}
		}
		return out, nil
	})
	if err := gw.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := gw.Serve("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	_, key, err := gw.Keys().Create(ctx, "security", 100, 100, 8)
	if err != nil {
		t.Fatal(err)
	}
	return gw, key
}
