package devchain_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/sr25519"
)

// TestSimulation drives a small, crowded subnet with a seeded random mix of
// registrations, stake, weights and blocks, and checks the chain's
// invariants after every step.
func TestSimulation(t *testing.T) {
	const maxUIDs, k, tempo = 12, 4, 5
	f := newFixture(t, 0, func(p *devchain.SubnetParams) {
		p.MaxUIDs, p.MaxValidators, p.Tempo, p.ImmunityPeriod, p.EmissionPerBlock = maxUIDs, k, tempo, 8, 1000
	})
	rng := rand.New(rand.NewPCG(1, 2))
	var keys []*sr25519.Keypair
	for i := range 30 {
		keys = append(keys, testenv.Key(t, fmt.Sprintf("//sim%d", i)))
	}
	ctx := t.Context()
	var pruned, paid int // coverage: the run must exercise pruning and payouts
	for step := range 400 {
		key := keys[rng.IntN(len(keys))]
		switch op := rng.IntN(10); {
		case op < 3:
			full := len(f.metagraph(t).Neurons) == maxUIDs
			// May be refused: full and immune, or already registered.
			if err := f.c.BurnedRegister(ctx, f.alice, f.netuid, key.SS58()); err == nil && full {
				pruned++
			}
		case op < 5:
			f.c.AddStake(ctx, f.alice, f.netuid, key.SS58(), uint64(1+rng.IntN(100))*fractal.RaoPerTAO)
		case op < 8:
			uids := []uint16{uint16(rng.IntN(maxUIDs)), uint16(rng.IntN(maxUIDs))}
			f.c.SetWeights(ctx, key, f.netuid, uids, []uint16{uint16(rng.IntN(65536)), uint16(rng.IntN(65536))}, 0)
		default:
			f.advance(t, 1+rng.IntN(2*tempo))
		}
		m := f.metagraph(t)
		checkInvariants(t, step, m, maxUIDs, k, tempo*1000)
		if slices.ContainsFunc(m.Neurons, func(n fractal.Neuron) bool { return n.Incentive > 0 }) {
			paid++
		}
	}
	if pruned == 0 || paid == 0 {
		t.Errorf("the run pruned %d times and paid incentive after %d steps; want both above 0", pruned, paid)
	}
	t.Logf("pruned %d neurons; incentive paid after %d of 400 steps", pruned, paid)
}

func checkInvariants(t *testing.T, step int, m *fractal.Metagraph, maxUIDs, k int, maxEmission uint64) {
	t.Helper()
	if len(m.Neurons) > maxUIDs {
		t.Fatalf("step %d: %d neurons, want at most %d", step, len(m.Neurons), maxUIDs)
	}
	hotkeys := map[string]bool{}
	var incentive, emission uint64
	for i, n := range m.Neurons {
		if int(n.UID) != i || hotkeys[n.Hotkey] {
			t.Fatalf("step %d: neuron %d has uid %d / duplicate hotkey %s", step, i, n.UID, n.Hotkey)
		}
		hotkeys[n.Hotkey] = true
		incentive += uint64(n.Incentive)
		emission += n.Emission
	}
	// Permits go to exactly the top-k staked neurons.
	order := slices.Clone(m.Neurons)
	slices.SortStableFunc(order, func(a, b fractal.Neuron) int { return cmp.Compare(b.Stake, a.Stake) })
	for rank, n := range order {
		want := rank < k && n.Stake > 0
		if n.ValidatorPermit != want {
			t.Fatalf("step %d: uid %d with stake %d (rank %d): permit %v, want %v", step, n.UID, n.Stake, rank, n.ValidatorPermit, want)
		}
	}
	if incentive != 0 && (incentive < 65535-uint64(len(m.Neurons)) || incentive > 65535+uint64(len(m.Neurons))) {
		t.Fatalf("step %d: incentives sum to %d, want 0 or about 65535", step, incentive)
	}
	if emission > maxEmission {
		t.Fatalf("step %d: emission %d rao per epoch, want at most %d", step, emission, maxEmission)
	}
}
