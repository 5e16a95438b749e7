package devchain_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/sr25519"
)

// fixture is a subnet with registered neurons on an in-process chain.
type fixture struct {
	c      *devchain.Chain
	alice  *sr25519.Keypair
	netuid uint16
	keys   []*sr25519.Keypair // keys[i] is registered as uid i
}

// newFixture creates a subnet with params changed by mod and registers n
// hotkeys.
func newFixture(t *testing.T, n int, mod func(*devchain.SubnetParams)) *fixture {
	t.Helper()
	return newFixtureOn(t, mustOpen(t, nil), n, mod)
}

// newFixtureOn is newFixture on chain c.
func newFixtureOn(t *testing.T, c *devchain.Chain, n int, mod func(*devchain.SubnetParams)) *fixture {
	t.Helper()
	f := &fixture{c: c, alice: testenv.Key(t, "//Alice")}
	ctx := t.Context()
	id, err := f.c.CreateSubnet(ctx, f.alice)
	if err != nil {
		t.Fatal(err)
	}
	f.netuid = id
	p := devchain.DefaultSubnetParams()
	p.WeightsRateLimit = 0
	p.CommitReveal = false // the set_weights tests; commits_test.go turns it on
	if mod != nil {
		mod(&p)
	}
	if err := f.c.SetSubnetParams(ctx, f.alice, id, p); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		f.register(t, fmt.Sprintf("//hot%d", i))
	}
	return f
}

func (f *fixture) register(t *testing.T, uri string) *sr25519.Keypair {
	t.Helper()
	k := testenv.Key(t, uri)
	if err := f.c.BurnedRegister(t.Context(), f.alice, f.netuid, k.SS58()); err != nil {
		t.Fatalf("register %s: %v", uri, err)
	}
	f.keys = append(f.keys, k)
	return k
}

func (f *fixture) stake(t *testing.T, uid int, tao uint64) {
	t.Helper()
	if err := f.c.AddStake(t.Context(), f.alice, f.netuid, f.keys[uid].SS58(), tao*fractal.RaoPerTAO); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) metagraph(t *testing.T) *fractal.Metagraph {
	t.Helper()
	m, err := f.c.Metagraph(t.Context(), f.netuid)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) advance(t *testing.T, n int) {
	t.Helper()
	if _, err := f.c.Advance(n); err != nil {
		t.Fatal(err)
	}
}

func permits(m *fractal.Metagraph) []uint16 {
	var out []uint16
	for _, n := range m.Neurons {
		if n.ValidatorPermit {
			out = append(out, n.UID)
		}
	}
	return out
}

func TestPermitsTopK(t *testing.T) {
	f := newFixture(t, 4, func(p *devchain.SubnetParams) { p.MaxValidators = 2 })
	if got := permits(f.metagraph(t)); len(got) != 0 {
		t.Errorf("permits without stake: got %v, want none", got)
	}
	f.stake(t, 0, 10)
	f.stake(t, 1, 30)
	f.stake(t, 2, 20)
	if got, want := permits(f.metagraph(t)), []uint16{1, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("permits: got %v, want %v", got, want)
	}
	f.stake(t, 0, 25) // 35 TAO: now the largest
	if got, want := permits(f.metagraph(t)), []uint16{0, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("permits after stake change: got %v, want %v", got, want)
	}
}

func TestSetWeightsRules(t *testing.T) {
	f := newFixture(t, 3, func(p *devchain.SubnetParams) {
		p.WeightsRateLimit = 5
		p.WeightsVersionKey = 3
	})
	f.stake(t, 0, 100)
	ctx := t.Context()
	set := func(k *sr25519.Keypair, uids, ws []uint16, version uint64) error {
		return f.c.SetWeights(ctx, k, f.netuid, uids, ws, version)
	}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"NoPermit", set(f.keys[1], []uint16{2}, []uint16{1}, 3), fractal.ErrForbidden},
		{"OldVersionKey", set(f.keys[0], []uint16{1}, []uint16{1}, 2), fractal.ErrInvalid},
		{"AllZero", set(f.keys[0], []uint16{1, 2}, []uint16{0, 0}, 3), fractal.ErrInvalid},
		{"DuplicateUID", set(f.keys[0], []uint16{1, 1}, []uint16{1, 2}, 3), fractal.ErrInvalid},
		{"Empty", set(f.keys[0], nil, nil, 3), fractal.ErrInvalid},
		{"Accepted", set(f.keys[0], []uint16{1, 2}, []uint16{65535, 100}, 3), nil},
		{"TooFast", set(f.keys[0], []uint16{1}, []uint16{1}, 3), fractal.ErrConflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) || (tc.want == nil) != (tc.err == nil) {
				t.Errorf("got %v, want %v", tc.err, tc.want)
			}
		})
	}
	f.advance(t, 4)
	if err := set(f.keys[0], []uint16{1}, []uint16{1}, 3); !errors.Is(err, fractal.ErrConflict) {
		t.Errorf("4 blocks later: got %v, want ErrConflict", err)
	} else if !strings.Contains(err.Error(), "next allowed at block") {
		t.Errorf("rate limit error %q does not say when to retry", err)
	}
	f.advance(t, 1)
	if err := set(f.keys[0], []uint16{1}, []uint16{1}, 3); err != nil {
		t.Errorf("5 blocks later: got %v, want nil", err)
	}
}

func TestYumaConsensus(t *testing.T) {
	const tempo = 10
	f := newFixture(t, 5, func(p *devchain.SubnetParams) { p.Tempo = tempo })
	// Validators 0, 1, 2 hold 60%, 30% and 10% of the stake; 3 and 4 mine.
	for uid, tao := range []uint64{60, 30, 10} {
		f.stake(t, uid, tao)
	}
	rows := [][2][]uint16{
		{{3}, {65535}},           // W0 = [1, 0]
		{{3, 4}, {65535, 65535}}, // W1 = [.5, .5]
		{{4}, {65535}},           // W2 = [0, 1]
	}
	for uid, r := range rows {
		if err := f.c.SetWeights(t.Context(), f.keys[uid], f.netuid, r[0], r[1], 0); err != nil {
			t.Fatal(err)
		}
	}
	f.advance(t, tempo)
	// Consensus: miner 3 gets 1 (60% of stake weighs it 1), miner 4 gets 0
	// (only 40% weighs it above 0). Clipped rank: miner 3 = .6·1 + .3·.5 =
	// .75, miner 4 = 0, so miner 3 takes all incentive. Validator shares:
	// .6·1 = .6, .3·.5 = .15 and 0, of .75.
	e := float64(tempo * fractal.RaoPerTAO)
	want := []struct {
		incentive uint16
		emission  float64
	}{{0, e / 2 * .6 / .75}, {0, e / 2 * .15 / .75}, {0, 0}, {65535, e / 2}, {0, 0}}
	m := f.metagraph(t)
	for uid, w := range want {
		n := m.Neurons[uid]
		if n.Incentive != w.incentive {
			t.Errorf("uid %d incentive: got %d, want %d", uid, n.Incentive, w.incentive)
		}
		if d := float64(n.Emission) - w.emission; d > 1 || d < -1 {
			t.Errorf("uid %d emission: got %d rao, want %.0f", uid, n.Emission, w.emission)
		}
	}
}

func TestPruning(t *testing.T) {
	const tempo, immunity = 5, 10
	f := newFixture(t, 4, func(p *devchain.SubnetParams) {
		p.MaxUIDs, p.MaxValidators, p.Tempo, p.ImmunityPeriod = 4, 4, tempo, immunity
	})
	f.stake(t, 0, 100)
	if err := f.c.SetWeights(t.Context(), f.keys[0], f.netuid, []uint16{1, 2, 3}, []uint16{65535, 65535, 1}, 0); err != nil {
		t.Fatal(err)
	}
	late := testenv.Key(t, "//late")
	err := f.c.BurnedRegister(t.Context(), f.alice, f.netuid, late.SS58())
	if !errors.Is(err, fractal.ErrConflict) || !strings.Contains(err.Error(), "immune") {
		t.Fatalf("register into a full, immune subnet: got %v, want ErrConflict naming immunity", err)
	}
	f.advance(t, immunity)
	before := f.metagraph(t)
	if e3 := before.Neurons[3].Emission; e3 == 0 || e3 >= before.Neurons[1].Emission {
		t.Fatalf("uid 3 emission %d: want the lowest non-zero (uid 1 has %d)", e3, before.Neurons[1].Emission)
	}
	f.register(t, "//late")
	m := f.metagraph(t)
	if got := len(m.Neurons); got != 4 {
		t.Errorf("neurons after pruning: got %d, want 4", got)
	}
	if got := m.Neurons[3].Hotkey; got != late.SS58() {
		t.Errorf("uid 3 hotkey: got %s, want the new registration %s", got, late.SS58())
	}
	if _, ok := m.ByHotkey(f.keys[3].SS58()); ok {
		t.Error("pruned hotkey still in the metagraph")
	}
	// The validator's weight on the pruned uid is gone: the newcomer earns
	// nothing at the next epoch.
	f.advance(t, tempo)
	if got := f.metagraph(t).Neurons[3].Incentive; got != 0 {
		t.Errorf("incentive of the new uid 3: got %d, want 0", got)
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	open := func() *devchain.Chain {
		cfg := devchain.DefaultConfig()
		cfg.BlockTime, cfg.DataDir = 0, dir
		c := devchain.New(cfg)
		if err := c.Open(t.Context()); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := open()
	alice, hot := testenv.Key(t, "//Alice"), testenv.Key(t, "//hot")
	ctx := t.Context()
	for _, step := range []func() error{
		func() error { return c.BurnedRegister(ctx, alice, 1, hot.SS58()) },
		func() error { return c.AddStake(ctx, alice, 1, hot.SS58(), 5*fractal.RaoPerTAO) },
		func() error {
			return c.ServeAxon(ctx, hot, 1, fractal.Axon{IP: mustAddr("10.1.2.3"), Port: 9000, Protocol: 4, Version: 2})
		},
		func() error { _, err := c.Advance(3); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	want, err := c.Metagraph(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = open()
	got, err := c.Metagraph(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metagraph after restart:\n got %+v\nwant %+v", got, want)
	}
	c.Close()
	if err := os.WriteFile(filepath.Join(dir, "devchain.json"), []byte("{truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := devchain.DefaultConfig()
	cfg.DataDir = dir
	if err := devchain.New(cfg).Open(t.Context()); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("open a corrupt snapshot: got %v, want an error saying it is corrupt", err)
	}
}

func TestBlockTimer(t *testing.T) {
	c := mustOpen(t, func(cfg *devchain.Config) { cfg.BlockTime = devchain.MinBlockTime })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	ch, err := c.WatchBlocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := <-ch
	for want := first + 1; want <= first+2; want++ {
		select {
		case b := <-ch:
			if b != want {
				t.Errorf("got block %d, want %d", b, want)
			}
		case <-ctx.Done():
			t.Fatalf("no block %d within 5 s at a 100 ms block time", want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	mod := map[string]func(*devchain.Config){
		"BlockTimeTooShort": func(c *devchain.Config) { c.BlockTime = 50 * time.Millisecond },
		"BadSudo":           func(c *devchain.Config) { c.Sudo = "alice" },
		"ZeroTempo":         func(c *devchain.Config) { c.Subnet.Tempo = 0 },
		"TooManyUIDs":       func(c *devchain.Config) { c.Subnet.MaxUIDs = 257 },
	}
	for name, m := range mod {
		t.Run(name, func(t *testing.T) {
			cfg := devchain.DefaultConfig()
			m(&cfg)
			if err := cfg.Validate(); !errors.Is(err, fractal.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
	if err := devchain.DefaultConfig().Validate(); err != nil {
		t.Errorf("default config: got %v, want nil", err)
	}
}

func TestAdminNeedsSudo(t *testing.T) {
	f := newFixture(t, 1, nil)
	bob := testenv.Key(t, "//Bob")
	if err := f.c.AddStake(t.Context(), bob, f.netuid, f.keys[0].SS58(), 1); !errors.Is(err, fractal.ErrForbidden) {
		t.Errorf("add stake by Bob: got %v, want ErrForbidden", err)
	}
	if _, err := f.c.AdvanceBlocks(t.Context(), bob, 1); !errors.Is(err, fractal.ErrForbidden) {
		t.Errorf("advance by Bob: got %v, want ErrForbidden", err)
	}
}

// TestAdvanceInOneCall checks that producing blocks in one call leaves the
// same state as producing them one at a time (only the last epoch runs).
func TestAdvanceInOneCall(t *testing.T) {
	setup := func() *fixture {
		f := newFixture(t, 4, func(p *devchain.SubnetParams) { p.Tempo, p.ActivityCutoff = 4, 9 })
		f.stake(t, 0, 30)
		f.stake(t, 1, 10)
		for uid, row := range [][]uint16{{0, 1, 65535, 200}, {0, 0, 100, 65535}} {
			if err := f.c.SetWeights(t.Context(), f.keys[uid], f.netuid, []uint16{0, 1, 2, 3}, row, 0); err != nil {
				t.Fatal(err)
			}
		}
		return f
	}
	for _, blocks := range []int{3, 4, 9, 11, 25} {
		t.Run(fmt.Sprint(blocks), func(t *testing.T) {
			one, many := setup(), setup()
			one.advance(t, blocks)
			for range blocks {
				many.advance(t, 1)
			}
			if got, want := one.metagraph(t), many.metagraph(t); !reflect.DeepEqual(got, want) {
				t.Errorf("after Advance(%d):\n got %+v\nwant %+v (one block at a time)", blocks, got, want)
			}
		})
	}
}

func TestNilSigner(t *testing.T) {
	c := mustOpen(t, nil)
	chains := map[string]fractal.Chain{"InProcess": c, "Served": mustServe(t, c)}
	for name, chain := range chains {
		t.Run(name, func(t *testing.T) {
			var none *sr25519.Keypair
			axon := fractal.Axon{IP: mustAddr("10.0.0.1"), Port: 1}
			for call, err := range map[string]error{
				"serve_axon":      chain.ServeAxon(t.Context(), none, 1, axon),
				"set_weights":     chain.SetWeights(t.Context(), nil, 1, []uint16{0}, []uint16{1}, 0),
				"burned_register": chain.BurnedRegister(t.Context(), nil, 1, devchain.AliceSS58),
			} {
				if !errors.Is(err, fractal.ErrInvalid) {
					t.Errorf("%s without a key: got %v, want ErrInvalid", call, err)
				}
			}
		})
	}
}

func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, func(cfg *devchain.Config) { cfg.DataDir = dir })
	cfg := devchain.DefaultConfig()
	cfg.DataDir = dir
	second := devchain.New(cfg)
	if err := second.Open(t.Context()); !errors.Is(err, fractal.ErrConflict) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second devchain on one data directory: got %v, want ErrConflict saying it is in use", err)
		second.Close()
	}
}
