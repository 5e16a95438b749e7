package devchain

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// maxSubnets bounds the subnets of one devchain (netuids 1..maxSubnets).
const maxSubnets = 1024

func sortedSubnets(st *state) []*subnet {
	out := make([]*subnet, 0, len(st.Subnets))
	for _, sn := range st.Subnets {
		out = append(out, sn)
	}
	slices.SortFunc(out, func(a, b *subnet) int { return cmp.Compare(a.NetUID, b.NetUID) })
	return out
}

// createSubnet adds a subnet at the lowest free netuid from 1 (0 is the root
// network on Bittensor).
func (s *state) createSubnet(owner string, p SubnetParams) (uint16, error) {
	for id := uint16(1); id <= maxSubnets; id++ {
		if _, ok := s.Subnets[id]; !ok {
			s.Subnets[id] = &subnet{NetUID: id, Owner: owner, Params: p, CreatedAt: s.Block,
				LastEpoch: s.Block, uids: map[string]uint16{}}
			return id, nil
		}
	}
	return 0, fmt.Errorf("devchain holds %d subnets, the most it allows: %w", maxSubnets, fractal.ErrConflict)
}

// neuronOf returns the neuron registered with hotkey, or an error wrapping
// fractal.ErrForbidden naming what to do.
func (sn *subnet) neuronOf(hotkey, call string) (*neuron, uint16, error) {
	uid, ok := sn.uids[hotkey]
	if !ok {
		return nil, 0, fmt.Errorf("%s: hotkey %s is not registered on subnet %d (register it first): %w",
			call, hotkey, sn.NetUID, fractal.ErrForbidden)
	}
	return sn.Neurons[uid], uid, nil
}

// burnedRegister registers hotkey under coldkey, pruning a neuron when the
// subnet is full.
func (s *state) burnedRegister(coldkey string, netuid uint16, hotkey string) (uint16, error) {
	if _, err := sr25519.ParseSS58(hotkey); err != nil {
		return 0, fmt.Errorf("burned_register: hotkey: %w", err)
	}
	sn, err := s.subnet(netuid)
	if err != nil {
		return 0, err
	}
	if uid, ok := sn.uids[hotkey]; ok {
		return 0, fmt.Errorf("burned_register: hotkey %s is already registered on subnet %d as uid %d: %w",
			hotkey, netuid, uid, fractal.ErrConflict)
	}
	if owner, ok := s.Owners[hotkey]; ok && owner != coldkey {
		return 0, fmt.Errorf("burned_register: hotkey %s belongs to coldkey %s, not %s: %w",
			hotkey, owner, coldkey, fractal.ErrForbidden)
	}
	n := &neuron{Hotkey: hotkey, Coldkey: coldkey, RegisteredAt: s.Block, LastUpdate: s.Block}
	var uid uint16
	if len(sn.Neurons) < int(sn.Params.MaxUIDs) {
		uid = uint16(len(sn.Neurons))
		sn.Neurons = append(sn.Neurons, n)
	} else {
		if uid, err = sn.pruneCandidate(s.Block); err != nil {
			return 0, err
		}
		sn.replace(uid, n)
	}
	s.Owners[hotkey] = coldkey
	sn.uids[hotkey] = uid
	s.recomputePermits(sn)
	return uid, nil
}

// pruneCandidate picks the neuron to replace in a full subnet: the lowest
// emission among neurons past their immunity period, ties broken by the
// earliest registration, then the lowest uid.
func (sn *subnet) pruneCandidate(block uint64) (uint16, error) {
	best := -1
	for uid, n := range sn.Neurons {
		if block-n.RegisteredAt < sn.Params.ImmunityPeriod {
			continue
		}
		if best < 0 {
			best = uid
			continue
		}
		b := sn.Neurons[best]
		if n.Emission < b.Emission || (n.Emission == b.Emission && n.RegisteredAt < b.RegisteredAt) {
			best = uid
		}
	}
	if best < 0 {
		oldest := slices.MinFunc(sn.Neurons, func(a, b *neuron) int { return cmp.Compare(a.RegisteredAt, b.RegisteredAt) })
		return 0, fmt.Errorf("burned_register: subnet %d is full (%d uids) and every neuron is immune for %d blocks after registering; retry at block %d: %w",
			sn.NetUID, len(sn.Neurons), sn.Params.ImmunityPeriod, oldest.RegisteredAt+sn.Params.ImmunityPeriod, fractal.ErrConflict)
	}
	return uint16(best), nil
}

// replace puts n at uid and drops every weight that pointed at the old
// neuron there.
func (sn *subnet) replace(uid uint16, n *neuron) {
	delete(sn.uids, sn.Neurons[uid].Hotkey)
	sn.Neurons[uid] = n
	for _, v := range sn.Neurons {
		v.Weights = slices.DeleteFunc(v.Weights, func(w weight) bool { return w.UID == uid })
	}
}

// recomputePermits gives a validator permit to the MaxValidators neurons of
// sn with the most stake as stakeOf counts it (ties: lower uid); a neuron
// without stake holds none.
func (s *state) recomputePermits(sn *subnet) {
	order := make([]int, 0, len(sn.Neurons))
	stake := make([]uint64, len(sn.Neurons))
	for uid, n := range sn.Neurons {
		n.Permit = false
		if stake[uid] = s.stakeOf(n); stake[uid] > 0 {
			order = append(order, uid)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(stake[b], stake[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, uid := range order[:min(len(order), int(sn.Params.MaxValidators))] {
		sn.Neurons[uid].Permit = true
	}
}

func (s *state) serveAxon(hotkey string, netuid uint16, axon fractal.Axon) error {
	if err := axon.Validate(); err != nil {
		return fmt.Errorf("serve_axon: %w", err)
	}
	sn, err := s.subnet(netuid)
	if err != nil {
		return err
	}
	n, _, err := sn.neuronOf(hotkey, "serve_axon")
	if err != nil {
		return err
	}
	n.Axon = axon
	return nil
}

func (s *state) setWeights(hotkey string, netuid uint16, uids, ws []uint16, versionKey uint64) error {
	sn, err := s.subnet(netuid)
	if err != nil {
		return err
	}
	if sn.Params.CommitReveal {
		return chainErr(callSetWeights, fractal.ErrNameCommitRevealEnabled, fractal.ErrConflict,
			"subnet %d has commit-reveal on; commit the weights (commit_timelocked_weights, or commit_weights then reveal_weights)", netuid)
	}
	if n, _, err := sn.neuronOf(hotkey, callSetWeights); err == nil {
		if lim := sn.Params.WeightsRateLimit; n.WeightsSet && s.Block-n.WeightsAt < lim {
			return chainErr(callSetWeights, fractal.ErrNameTooFast, fractal.ErrConflict,
				"last set at block %d, rate limit %d blocks, next allowed at block %d (now %d)", n.WeightsAt, lim, n.WeightsAt+lim, s.Block)
		}
	}
	return s.applyWeights(sn, callSetWeights, hotkey, uids, ws, versionKey, s.Block)
}

// applyWeights checks and records hotkey's weights at block: what
// set_weights and every reveal do.
func (s *state) applyWeights(sn *subnet, call, hotkey string, uids, ws []uint16, versionKey, block uint64) error {
	netuid := sn.NetUID
	if err := fractal.CheckWeights(uids, ws); err != nil {
		return fmt.Errorf("%s: %w", call, err)
	}
	n, _, err := sn.neuronOf(hotkey, call)
	if err != nil {
		return err
	}
	if !n.Permit {
		return fmt.Errorf("%s: hotkey %s has no validator permit on subnet %d (the top %d by stake hold one; add stake): %w",
			call, hotkey, netuid, sn.Params.MaxValidators, fractal.ErrForbidden)
	}
	if stake := s.stakeOf(n); stake < sn.Params.StakeThreshold {
		return chainErr(call, fractal.ErrNameNotEnoughStake, fractal.ErrForbidden,
			"hotkey %s holds %d rao of stake (alpha %d + TaoWeight × root %d), the subnet's threshold is %d",
			hotkey, stake, n.Stake, s.RootStake[hotkey], sn.Params.StakeThreshold)
	}
	if versionKey < sn.Params.WeightsVersionKey {
		return fmt.Errorf("%s: %w", call, fractal.Errorf("version_key", "%d is below the subnet's weights version key %d", versionKey, sn.Params.WeightsVersionKey))
	}
	row := make([]weight, 0, len(uids))
	for i, uid := range uids {
		if int(uid) >= len(sn.Neurons) {
			return fmt.Errorf("%s: %w", call, fractal.Errorf("uids", "uid %d does not exist on subnet %d (it has uids 0-%d)", uid, netuid, len(sn.Neurons)-1))
		}
		if ws[i] > 0 {
			row = append(row, weight{UID: uid, Value: ws[i]})
		}
	}
	if len(row) == 0 {
		return fmt.Errorf("%s: %w", call, fractal.Errorf("weights", "all weights are zero"))
	}
	slices.SortFunc(row, func(a, b weight) int { return cmp.Compare(a.UID, b.UID) })
	n.Weights, n.WeightsSet, n.WeightsAt, n.LastUpdate = row, true, block, block
	return nil
}
