package security_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// privateAxons are axons a miner could publish to make validators and
// gateways call into their own networks.
var privateAxons = []string{"10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "fe80::1", "fc00::5", "::1"}

// servePrivateAxons registers one miner hotkey per private address and
// publishes it. Nothing ever listens there: the test only checks that
// nobody is sent there.
func servePrivateAxons(t *testing.T, g *gridtest.Grid) {
	t.Helper()
	ctx := context.Background()
	for i, ip := range privateAxons {
		hot := testenv.Key(t, fmt.Sprintf("//Alice//private%d", i))
		if err := g.Chain.BurnedRegister(ctx, g.Sudo, gridtest.NetUID, hot.SS58()); err != nil {
			t.Fatal(err)
		}
		axon := fractal.Axon{IP: netip.MustParseAddr(ip), Port: 8091, Protocol: 4, Version: 1}
		if err := g.Chain.ServeAxon(ctx, hot, gridtest.NetUID, axon); err != nil {
			t.Fatalf("serve_axon %s: %v", ip, err)
		}
	}
}

// TestPrivateAxonsRefused checks that the gateway routes to, and the
// validator challenges, no miner whose axon is private, loopback or
// link-local (a cloud metadata address among them) unless it is told it
// runs a local grid (--allow-private-axons, which fractal up sets).
func TestPrivateAxonsRefused(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		g := gridtest.New(t)
		g.AddMiner(t, refengine.New(), nil) // on 127.0.0.1
		servePrivateAxons(t, g)
		gw, _ := startGateway(t, g, false)
		time.Sleep(300 * time.Millisecond) // a few grid refreshes
		if n := gridMiners(t, gw); n != 0 {
			t.Errorf("gateway routes to %d miners on private addresses, want 0", n)
		}
		if n := newValidator(t, g, false).Round(context.Background()); n != 0 {
			t.Errorf("validator sent %d challenges to private addresses, want 0", n)
		}
	})
	t.Run("allowed on a local grid", func(t *testing.T) {
		g := gridtest.New(t)
		g.AddMiner(t, refengine.New(), nil)
		gw, _ := startGateway(t, g, true)
		time.Sleep(300 * time.Millisecond)
		if n := gridMiners(t, gw); n != 1 {
			t.Errorf("gateway routes to %d miners, want the loopback one", n)
		}
		v := newValidator(t, g, true)
		if n := v.Round(context.Background()); n != 1 {
			t.Errorf("validator sent %d challenges, want 1", n)
		}
		if s := v.Stats(); len(s) != 1 || s[0].Passed != 1 {
			t.Errorf("stats %+v, want one passed challenge", s)
		}
	})
}

// gridMiners returns how many miners the gateway's grid map lists.
func gridMiners(t *testing.T, gw *gateway.Gateway) int {
	t.Helper()
	resp, err := http.Get("http://" + gw.Addr() + "/v1/grid")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var grid struct{ Miners []gateway.GridMiner }
	if err := json.NewDecoder(resp.Body).Decode(&grid); err != nil {
		t.Fatal(err)
	}
	return len(grid.Miners)
}

func newValidator(t *testing.T, g *gridtest.Grid, allowPrivate bool) *validator.Validator {
	t.Helper()
	ctx := context.Background()
	st, err := jetstream.Open(ctx, jetstream.DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kv, err := st.KV(ctx, "validator", 0)
	if err != nil {
		t.Fatal(err)
	}
	v := validator.New()
	v.Config.NetUID, v.Config.AllowPrivateAxons, v.Config.PerRound, v.Config.SharedProb = gridtest.NetUID, allowPrivate, 16, 0
	v.Config.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 6}}
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), g.Validator, g.Chain, kv, st.Audit()
	v.Words, v.Logger = refengine.Words(), gridtest.Logger(t)
	if err := v.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
