package devchain

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// RootNetUID is the root network: stake added there is TAO, counted on
// every subnet the hotkey is registered on at TaoWeight.
const RootNetUID = 0

// DefaultTaoWeight is the part of root TAO a new devchain counts as
// subnet stake.
const DefaultTaoWeight = 0.18

// TaoWeightFraction turns a weight in [0, 1] into the runtime's form, a u64
// fraction of u64::MAX (rounded down).
func TaoWeightFraction(w float64) uint64 {
	if w >= 1 {
		return math.MaxUint64
	}
	if w <= 0 {
		return 0
	}
	f, _ := new(big.Float).Mul(big.NewFloat(w), new(big.Float).SetUint64(math.MaxUint64)).Uint64()
	return f
}

// weighted is x × w / u64::MAX, rounded down, as the runtime weighs root
// stake.
func weighted(x, w uint64) uint64 {
	hi, lo := bits.Mul64(x, w)
	q, _ := bits.Div64(hi, lo, math.MaxUint64)
	return q
}

// stakeOf is the stake that counts for n's permit, its weight in consensus
// and the subnet's StakeThreshold: its alpha on the subnet plus TaoWeight ×
// its hotkey's root TAO, as on dynamic-TAO Bittensor.
func (s *state) stakeOf(n *neuron) uint64 {
	root := weighted(s.RootStake[n.Hotkey], s.TaoWeight)
	if n.Stake > math.MaxUint64-root {
		return math.MaxUint64
	}
	return n.Stake + root
}

// addStake adds rao to hotkey's alpha on subnet netuid or, on the root
// network, to its root TAO, and recomputes the permits this changes.
func (s *state) addStake(netuid uint16, hotkey string, rao uint64) error {
	if _, err := sr25519.ParseSS58(hotkey); err != nil {
		return fmt.Errorf("add_stake: hotkey: %w", err)
	}
	if netuid == RootNetUID {
		return s.addRootStake(hotkey, rao)
	}
	sn, err := s.subnet(netuid)
	if err != nil {
		return err
	}
	uid, ok := sn.uids[hotkey]
	if !ok {
		return fmt.Errorf("add_stake: hotkey %s is not registered on subnet %d (register it first): %w",
			hotkey, netuid, fractal.ErrNotFound)
	}
	n := sn.Neurons[uid]
	if n.Stake+rao < n.Stake {
		return fmt.Errorf("add_stake: %w", fractal.Errorf("amount", "stake would overflow u64 rao"))
	}
	n.Stake += rao
	s.recomputePermits(sn)
	return nil
}

func (s *state) addRootStake(hotkey string, rao uint64) error {
	if _, ok := s.Owners[hotkey]; !ok {
		return fmt.Errorf("add_stake: hotkey %s is not registered on any subnet (register it first): %w",
			hotkey, fractal.ErrNotFound)
	}
	if s.RootStake[hotkey]+rao < s.RootStake[hotkey] {
		return fmt.Errorf("add_stake: %w", fractal.Errorf("amount", "root stake would overflow u64 rao"))
	}
	s.RootStake[hotkey] += rao
	for _, sn := range sortedSubnets(s) {
		if _, ok := sn.uids[hotkey]; ok {
			s.recomputePermits(sn)
		}
	}
	return nil
}
