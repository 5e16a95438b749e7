package devchain

import (
	"cmp"
	"math"
	"slices"
)

// epoch runs a simplified Yuma consensus on sn at block and pays out the
// emission accrued since the last epoch.
//
// The algorithm, with validators V and neurons J:
//
//  1. V is every neuron that holds a validator permit, has set weights and
//     is active (its last update is within ActivityCutoff blocks). Its
//     relative stake is S_v = stake_v / Σ_V stake.
//  2. Each validator's weight row is normalised to sum to 1: W[v][j].
//  3. The consensus weight of neuron j is the stake-weighted median of its
//     column (κ = 1/2): C_j is the largest w such that validators holding at
//     least half of the stake give j a weight of w or more.
//  4. Weights are clipped to consensus, W'[v][j] = min(W[v][j], C_j), so a
//     minority of stake cannot lift a neuron above what the majority agrees.
//  5. Rank R_j = Σ_v S_v·W'[v][j]; incentive I_j = R_j / Σ_j R_j, stored
//     u16-normalised (the incentives of a subnet sum to about 65535).
//  6. The emission E = EmissionPerBlock × blocks since the last epoch is
//     split: half to neurons in proportion to I_j, half to validators in
//     proportion to S_v·Σ_j W'[v][j] (stake times the part of its weight
//     that survived clipping). Neuron.Emission is what a neuron earned in
//     the last epoch, in rao; when nobody set weights it is zero.
//
// Unlike Bittensor there are no bonds, no moving averages and nothing is
// staked back: stakes stay what the operator set. Floats are combined in a
// fixed order, so the result is deterministic.
func (s *state) epoch(sn *subnet, block uint64) {
	blocks := block - sn.LastEpoch
	sn.LastEpoch = block
	s.recomputePermits(sn)
	n := len(sn.Neurons)
	for _, nr := range sn.Neurons {
		nr.Incentive, nr.Emission = 0, 0
	}
	vals, stake := s.epochValidators(sn, block)
	if len(vals) == 0 {
		return
	}
	// Dense normalised rows, one per validator.
	w := make([][]float64, len(vals))
	for i, v := range vals {
		row := make([]float64, n)
		var sum float64
		for _, x := range sn.Neurons[v].Weights {
			sum += float64(x.Value)
		}
		for _, x := range sn.Neurons[v].Weights {
			row[x.UID] = float64(x.Value) / sum
		}
		w[i] = row
	}
	consensus := make([]float64, n)
	col := make([]stakedWeight, len(vals))
	for j := range n {
		for i := range vals {
			col[i] = stakedWeight{w: w[i][j], s: stake[i]}
		}
		consensus[j] = weightedMedian(col)
	}
	rank := make([]float64, n)
	trust := make([]float64, len(vals))
	var rankSum, trustSum float64
	for i := range vals {
		for j := range n {
			clipped := min(w[i][j], consensus[j])
			rank[j] += stake[i] * clipped
			trust[i] += clipped
		}
		trust[i] *= stake[i]
		trustSum += trust[i]
	}
	for _, r := range rank {
		rankSum += r
	}
	if rankSum == 0 {
		return
	}
	emission := float64(blocks) * float64(sn.Params.EmissionPerBlock)
	for j, nr := range sn.Neurons {
		inc := rank[j] / rankSum
		nr.Incentive = uint16(math.Round(inc * math.MaxUint16))
		nr.Emission = uint64(emission / 2 * inc)
	}
	for i, v := range vals {
		sn.Neurons[v].Emission += uint64(emission / 2 * trust[i] / trustSum)
	}
}

// epochValidators returns the uids taking part in consensus and their
// relative stakes (alpha plus weighted root, as stakeOf counts it).
func (s *state) epochValidators(sn *subnet, block uint64) ([]int, []float64) {
	var vals []int
	var total float64
	for uid, nr := range sn.Neurons {
		if nr.Permit && len(nr.Weights) > 0 && block-nr.LastUpdate <= sn.Params.ActivityCutoff {
			vals = append(vals, uid)
			total += float64(s.stakeOf(nr))
		}
	}
	stake := make([]float64, len(vals))
	for i, v := range vals {
		stake[i] = float64(s.stakeOf(sn.Neurons[v])) / total
	}
	return vals, stake
}

type stakedWeight struct{ w, s float64 }

// weightedMedian returns the largest weight that validators holding at least
// half of the stake meet or exceed. It reorders col.
func weightedMedian(col []stakedWeight) float64 {
	slices.SortFunc(col, func(a, b stakedWeight) int { return cmp.Compare(b.w, a.w) })
	var acc float64
	for _, x := range col {
		acc += x.s
		if acc >= 0.5-1e-12 {
			return x.w
		}
	}
	return 0
}
