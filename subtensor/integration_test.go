package subtensor

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/testenv"
)

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestChopsticksRuntime reads the live runtime: its metadata gives the same
// signed extensions as the recorded one, and the genesis hash comes from
// the node.
func TestChopsticksRuntime(t *testing.T) {
	forEachRuntime(t, testRuntime)
}

func testRuntime(t *testing.T, d *devnet) {
	ctx := testCtx(t, time.Minute)
	rt, err := d.client.Runtime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := wantRuntime(t, d.runtime)
	if got := rt.SignedExtensions(); !slices.Equal(got, want.extensions) {
		t.Errorf("signed extensions: got %v, want %v", got, want.extensions)
	}
	if rt.SpecVersion != want.spec || (want.genesis != [32]byte{} && rt.Genesis != want.genesis) {
		t.Errorf("got spec %d genesis %x, want %d %x", rt.SpecVersion, rt.Genesis, want.spec, want.genesis)
	}
	var chain string
	if err := d.client.Call(ctx, &chain, "system_chain"); err != nil || chain != "bittensor" {
		t.Errorf("system_chain: got %q, %v; want bittensor", chain, err)
	}
}

// TestChopsticksSubnet creates a subnet, registers hotkeys, serves axons,
// sets weights, and reads it all back; it checks the runtime's errors come
// back named and classified on the way.
func TestChopsticksSubnet(t *testing.T) {
	forEachRuntime(t, testSubnet)
}

func testSubnet(t *testing.T, d *devnet) {
	ctx := testCtx(t, 2*time.Minute)
	c := d.client
	alice, bob, charlie, dave, eve := testenv.Key(t, "//Alice"), testenv.Key(t, "//Bob"), testenv.Key(t, "//Charlie"), testenv.Key(t, "//Dave"), testenv.Key(t, "//Eve")
	netuid, err := d.registerNetwork(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.BurnedRegister(ctx, alice, netuid, charlie.SS58()); err != nil {
		t.Fatalf("burned_register //Charlie: %v", err)
	}
	if err := c.BurnedRegister(ctx, eve, netuid, dave.SS58()); err != nil {
		t.Fatalf("burned_register //Dave: %v", err)
	}

	t.Run("RejectsLoopbackIP", func(t *testing.T) {
		err := c.ServeAxon(ctx, bob, netuid, fractal.Axon{IP: netip.MustParseAddr("127.0.0.1"), Port: 8091, Protocol: 4})
		// Spec 218 includes the extrinsic and fails it; spec 293's
		// transaction extension refuses it before the pool takes it, with
		// the custom validity error of the same name.
		want := ErrDispatch
		if d.runtime.Name != runtime218Spec.Name {
			want = ErrRejected
		}
		if fractal.ChainErrorName(err) != "InvalidIpAddress" || !errors.Is(err, want) {
			t.Fatalf("serve_axon on 127.0.0.1: got %v, want InvalidIpAddress wrapping %v", err, want)
		}
		if !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("error %v does not wrap ErrInvalid", err)
		}
	})
	axons := map[string]fractal.Axon{
		bob.SS58():     {IP: netip.MustParseAddr("127.0.0.2"), Port: 8091, Protocol: 4, Version: 9001},
		charlie.SS58(): {IP: netip.MustParseAddr("127.0.0.2"), Port: 8092, Protocol: 4, Version: 9002},
	}
	for _, k := range []fractal.Signer{bob, charlie} {
		if err := c.ServeAxon(ctx, k, netuid, axons[k.SS58()]); err != nil {
			t.Fatalf("serve_axon %s: %v", k.SS58(), err)
		}
	}
	t.Run("RateLimitedWeights", func(t *testing.T) {
		err := c.SetWeights(ctx, bob, netuid, []uint16{1, 2}, []uint16{65535, 100}, 0)
		if !errors.Is(err, fractal.ErrOverloaded) || !errors.Is(err, ErrDispatch) {
			t.Fatalf("set_weights within the rate limit: got %v, want SettingWeightsTooFast", err)
		}
		var de *DispatchError
		if errors.As(err, &de) && de.Pallet+"."+de.Name != "SubtensorModule.SettingWeightsTooFast" {
			t.Errorf("got %s.%s, want SubtensorModule.SettingWeightsTooFast", de.Pallet, de.Name)
		}
	})
	if err := d.setRaw(ctx, "WeightsSetRateLimit", [][]byte{appendU16(nil, netuid)}, appendU64(nil, 0)); err != nil {
		t.Fatal(err)
	}
	if d.runtime.Name != runtime218Spec.Name {
		// Spec 218 gives every neuron a permit each block; spec 293 gives
		// them by stake at its epochs, and new subnets have commit-reveal on.
		if err := d.setStakeAndPermit(ctx, netuid, bob.SS58(), 1000*fractal.RaoPerTAO); err != nil {
			t.Fatal(err)
		}
		if err := d.setRaw(ctx, "CommitRevealWeightsEnabled", [][]byte{appendU16(nil, netuid)}, appendBool(nil, false)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetWeights(ctx, bob, netuid, []uint16{0, 1, 2}, []uint16{65535, 32768, 16384}, 0); err != nil {
		t.Fatalf("set_weights: %v", err)
	}

	m, err := c.Metagraph(ctx, netuid)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		hotkey, coldkey string
	}{{bob.SS58(), alice.SS58()}, {charlie.SS58(), alice.SS58()}, {dave.SS58(), eve.SS58()}}
	if len(m.Neurons) != len(want) || m.Tempo == 0 || m.Block == 0 {
		t.Fatalf("metagraph: got %d neurons, tempo %d, block %d; want 3 neurons at a non-zero tempo and block", len(m.Neurons), m.Tempo, m.Block)
	}
	for uid, w := range want {
		n := m.Neurons[uid]
		if n.UID != uint16(uid) || n.Hotkey != w.hotkey || n.Coldkey != w.coldkey || !n.Active {
			t.Errorf("uid %d: got %+v, want hotkey %s coldkey %s, active", uid, n, w.hotkey, w.coldkey)
		}
		if n.Axon != axons[w.hotkey] {
			t.Errorf("uid %d axon: got %+v, want %+v", uid, n.Axon, axons[w.hotkey])
		}
	}
	if m.Neurons[0].LastUpdate == 0 || m.Neurons[0].LastUpdate > m.Block {
		t.Errorf("uid 0 last update: got %d, want the block of set_weights (<= %d)", m.Neurons[0].LastUpdate, m.Block)
	}
	t.Run("WeightsStored", func(t *testing.T) {
		rt, err := c.cachedRuntime(ctx)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := c.storage(ctx, rt, "", palletSubtensor, "Weights", appendU16(nil, netuid), appendU16(nil, 0))
		if err != nil {
			t.Fatal(err)
		}
		// Vec<(u16, u16)> as the runtime stores it.
		r := newReader(raw)
		var got [][2]uint16
		for range r.length(4) {
			got = append(got, [2]uint16{r.u16(), r.u16()})
		}
		wantPairs := [][2]uint16{{0, 65535}, {1, 32768}, {2, 16384}}
		if r.err != nil || !slices.Equal(got, wantPairs) {
			t.Errorf("Weights(%d, 0): got %v (%x, %v), want %v", netuid, got, raw, r.err, wantPairs)
		}
	})
}

func TestChopsticksUnknownSubnet(t *testing.T) {
	forEachRuntime(t, testUnknownSubnet)
}

func testUnknownSubnet(t *testing.T, d *devnet) {
	ctx := testCtx(t, time.Minute)
	_, err := d.client.Metagraph(ctx, 4242)
	if !errors.Is(err, fractal.ErrNotFound) {
		t.Errorf("metagraph of subnet 4242: got %v, want ErrNotFound", err)
	}
}
