package subtensor

import (
	"context"
	"fmt"
	"math"
	"math/bits"

	"github.com/fractal-grid/fractal"
)

// rootNetUID is the root network, where TAO itself is staked.
const rootNetUID = 0

// dynamicStake fills in the stake as dynamic-TAO runtimes count it for
// permits and StakeThreshold: alpha on the subnet (what the neuron API
// reports) plus TaoWeight × the hotkey's TAO on the root network, TaoWeight
// being a u64 fraction of u64::MAX. Runtimes without TaoWeight keep the
// neuron API's stake.
func (c *Client) dynamicStake(ctx context.Context, rt *Runtime, at string, lite []NeuronInfoLite, neurons []fractal.Neuron) error {
	if !rt.dynamicTAO() {
		return nil
	}
	weight, err := c.readUint(ctx, rt, at, "TaoWeight")
	if err != nil {
		return err
	}
	keys := make([][]byte, len(neurons))
	for i := range lite {
		if keys[i], err = rt.StorageKey(palletSubtensor, "TotalHotkeyAlpha", lite[i].Hotkey[:], appendU16(nil, rootNetUID)); err != nil {
			return err
		}
	}
	values, err := c.storageMany(ctx, at, keys)
	if err != nil {
		return fmt.Errorf("root stake: %w", err)
	}
	for i := range neurons {
		var b [8]byte
		copy(b[:], values[i])
		root := newReader(b[:]).u64()
		n := &neurons[i]
		n.AlphaStake, n.RootStake = n.Stake, root
		n.Stake = satAdd(n.Stake, weighted(root, weight))
	}
	return nil
}

// dynamicTAO reports a runtime that weighs root stake into subnet stake:
// a global TaoWeight and TotalHotkeyAlpha per hotkey and subnet. (Spec 218
// has a TaoWeight map of another meaning and does not.)
func (rt *Runtime) dynamicTAO() bool {
	tw, err := rt.storageEntry(palletSubtensor, "TaoWeight")
	if err != nil || !tw.Type.IsPlainType {
		return false
	}
	_, err = rt.storageEntry(palletSubtensor, "TotalHotkeyAlpha")
	return err == nil
}

// weighted is x × w / u64::MAX, rounded down.
func weighted(x, w uint64) uint64 {
	hi, lo := bits.Mul64(x, w)
	q, _ := bits.Div64(hi, lo, math.MaxUint64)
	return q
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// storageMany reads keys at block hash at in one state_queryStorageAt
// call; values come back in key order, nil where a key holds nothing.
func (c *Client) storageMany(ctx context.Context, at string, keys [][]byte) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	hexKeys := make([]string, len(keys))
	for i, k := range keys {
		hexKeys[i] = encodeHex(k)
	}
	var sets []struct {
		Changes [][2]*string `json:"changes"`
	}
	params := []any{hexKeys}
	if at != "" {
		params = append(params, at)
	}
	if err := c.rpc.call(ctx, &sets, "state_queryStorageAt", params...); err != nil {
		return nil, err
	}
	byKey := map[string][]byte{}
	for _, s := range sets {
		for _, ch := range s.Changes {
			if ch[0] == nil || ch[1] == nil {
				continue
			}
			v, err := decodeHex(*ch[1])
			if err != nil {
				return nil, err
			}
			byKey[*ch[0]] = v
		}
	}
	out := make([][]byte, len(keys))
	for i, k := range hexKeys {
		out[i] = byKey[k]
	}
	return out, nil
}
