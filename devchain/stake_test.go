package devchain_test

import (
	"errors"
	"math"
	"math/bits"
	"reflect"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
)

// taoWeighted is root × w / u64::MAX rounded down, w being TaoWeight as the
// runtime stores it.
func taoWeighted(root, w uint64) uint64 {
	hi, lo := bits.Mul64(root, w)
	q, _ := bits.Div64(hi, lo, math.MaxUint64)
	return q
}

// TestStakeSplit stakes alpha on a subnet and TAO on the root network and
// reads both parts back from the metagraph, with the stake that counts:
// alpha + TaoWeight × root.
func TestStakeSplit(t *testing.T) {
	dir := t.TempDir()
	c := mustOpen(t, func(cfg *devchain.Config) { cfg.TaoWeight, cfg.DataDir = 0.25, dir })
	f := newFixtureOn(t, c, 2, nil)
	const w = math.MaxUint64 / 4 // 0.25 as a fraction of u64::MAX, rounded down
	f.stake(t, 0, 100)
	if err := f.c.AddStake(t.Context(), f.alice, devchain.RootNetUID, f.keys[0].SS58(), 1000*fractal.RaoPerTAO); err != nil {
		t.Fatal(err)
	}
	if err := f.c.AddStake(t.Context(), f.alice, devchain.RootNetUID, f.keys[1].SS58(), 40*fractal.RaoPerTAO); err != nil {
		t.Fatal(err)
	}
	m := f.metagraph(t)
	for uid, want := range []struct{ alpha, root uint64 }{{100, 1000}, {0, 40}} {
		n := m.Neurons[uid]
		alpha, root := want.alpha*fractal.RaoPerTAO, want.root*fractal.RaoPerTAO
		stake := alpha + taoWeighted(root, w)
		if n.AlphaStake != alpha || n.RootStake != root || n.Stake != stake {
			t.Errorf("uid %d: got stake %d (alpha %d, root %d), want %d (alpha %d + 0.25 × root %d)",
				uid, n.Stake, n.AlphaStake, n.RootStake, stake, alpha, root)
		}
		if d := int64(n.Stake) - int64(alpha+root/4); d < -1 || d > 0 {
			t.Errorf("uid %d: stake %d is %d rao from alpha + root/4", uid, n.Stake, d)
		}
	}
	t.Logf("uid 0: stake %d rao = alpha %d + 0.25 × root %d", m.Neurons[0].Stake, m.Neurons[0].AlphaStake, m.Neurons[0].RootStake)
	if got, want := permits(m), []uint16{0, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("permits: got %v, want %v (root stake alone earns one)", got, want)
	}

	err := f.c.AddStake(t.Context(), f.alice, devchain.RootNetUID, testenv.Key(t, "//nobody").SS58(), 1)
	if !errors.Is(err, fractal.ErrNotFound) {
		t.Errorf("root stake on an unregistered hotkey: got %v, want ErrNotFound", err)
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	again := devchain.New(devchain.Config{DataDir: dir, Sudo: devchain.AliceSS58, Subnet: devchain.DefaultSubnetParams(), TaoWeight: 1})
	if err := again.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	after, err := again.Metagraph(t.Context(), f.netuid)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after.Neurons, m.Neurons) {
		t.Errorf("after a restart with another TaoWeight:\n got %+v\nwant %+v (the stored TaoWeight and root stake)", after.Neurons, m.Neurons)
	}
}

// TestPermitsCountRootStake checks the permit rule and StakeThreshold
// against alpha + TaoWeight × root: a hotkey with less alpha but enough
// root TAO outranks one with more alpha, and the threshold is met by the
// sum, not by alpha alone.
func TestPermitsCountRootStake(t *testing.T) {
	c := mustOpen(t, func(cfg *devchain.Config) { cfg.TaoWeight = 0.18 })
	f := newFixtureOn(t, c, 3, func(p *devchain.SubnetParams) {
		p.MaxValidators = 1
		p.StakeThreshold = 200 * fractal.RaoPerTAO
	})
	ctx := t.Context()
	f.stake(t, 0, 150) // 150 TAO of alpha
	f.stake(t, 1, 50)  // 50 TAO of alpha...
	if got, want := permits(f.metagraph(t)), []uint16{0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("permits on alpha alone: got %v, want %v", got, want)
	}
	// ...plus 1000 TAO on root: 50 + 0.18 × 1000 = 230 TAO > 150.
	if err := f.c.AddStake(ctx, f.alice, devchain.RootNetUID, f.keys[1].SS58(), 1000*fractal.RaoPerTAO); err != nil {
		t.Fatal(err)
	}
	m := f.metagraph(t)
	if got, want := permits(m), []uint16{1}; !reflect.DeepEqual(got, want) {
		t.Errorf("permits with root stake: got %v, want %v (stakes %d, %d)", got, want, m.Neurons[0].Stake, m.Neurons[1].Stake)
	}
	if err := f.c.SetWeights(ctx, f.keys[1], f.netuid, []uint16{2}, []uint16{1}, 0); err != nil {
		t.Errorf("set_weights with 50 TAO alpha + 0.18 × 1000 root over a 200 TAO threshold: %v", err)
	}

	// Two permits: uid 0 holds one again but its 150 TAO is under the
	// threshold, which root stake of another hotkey does not lift.
	p := devchain.DefaultSubnetParams()
	p.MaxValidators, p.StakeThreshold, p.WeightsRateLimit, p.CommitReveal = 2, 200*fractal.RaoPerTAO, 0, false
	if err := f.c.SetSubnetParams(ctx, f.alice, f.netuid, p); err != nil {
		t.Fatal(err)
	}
	err := f.c.SetWeights(ctx, f.keys[0], f.netuid, []uint16{2}, []uint16{1}, 0)
	if !errors.Is(err, fractal.ErrForbidden) || fractal.ChainErrorName(err) != fractal.ErrNameNotEnoughStake {
		t.Errorf("set_weights with 150 TAO alpha under a 200 TAO threshold: got %v, want %s", err, fractal.ErrNameNotEnoughStake)
	}
	// 300 TAO on root lifts uid 0 to 150 + 54 = 204 TAO.
	if err := f.c.AddStake(ctx, f.alice, devchain.RootNetUID, f.keys[0].SS58(), 300*fractal.RaoPerTAO); err != nil {
		t.Fatal(err)
	}
	if err := f.c.SetWeights(ctx, f.keys[0], f.netuid, []uint16{2}, []uint16{1}, 0); err != nil {
		t.Errorf("set_weights with 150 TAO alpha + 0.18 × 300 root: %v", err)
	}
}
