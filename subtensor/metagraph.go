package subtensor

import (
	"context"
	"fmt"

	"github.com/fractal-grid/fractal"
)

const (
	palletSubtensor = "SubtensorModule"
	neuronAPI       = "NeuronInfoRuntimeApi"
	neuronsLite     = "get_neurons_lite"
	neuronsLiteAPI  = neuronAPI + "_" + neuronsLite
)

// Metagraph reads the subnet's neurons and tempo at the best block. An
// unknown subnet gives an error wrapping fractal.ErrNotFound.
func (c *Client) Metagraph(ctx context.Context, netuid uint16) (*fractal.Metagraph, error) {
	rt, err := c.cachedRuntime(ctx)
	if err != nil {
		return nil, err
	}
	at, key, number, err := c.subnetAt(ctx, rt, netuid)
	if err != nil {
		return nil, err
	}
	neurons, err := c.NeuronsLite(ctx, netuid, at)
	if err != nil {
		return nil, err
	}
	tempoRaw, err := c.storageOrDefault(ctx, rt, at, palletSubtensor, "Tempo", key)
	if err != nil {
		return nil, err
	}
	r := newReader(tempoRaw)
	tempo := r.u16()
	if r.err != nil {
		return nil, fmt.Errorf("tempo of subnet %d: %w", netuid, r.err)
	}
	m := &fractal.Metagraph{NetUID: netuid, Block: number, Tempo: tempo, Neurons: make([]fractal.Neuron, len(neurons))}
	for i := range neurons {
		m.Neurons[i] = neurons[i].Neuron()
	}
	if err := c.dynamicStake(ctx, rt, at, neurons, m.Neurons); err != nil {
		return nil, fmt.Errorf("metagraph of subnet %d: %w", netuid, err)
	}
	return m, nil
}

// NeuronsLite calls NeuronInfoRuntimeApi_get_neurons_lite at block hash at
// ("" for the best block) and decodes the result in the shape the runtime's
// metadata gives it.
func (c *Client) NeuronsLite(ctx context.Context, netuid uint16, at string) ([]NeuronInfoLite, error) {
	rt, err := c.cachedRuntime(ctx)
	if err != nil {
		return nil, err
	}
	args, err := rt.runtimeArgs(neuronAPI, neuronsLite, appendU16(nil, netuid), netuid)
	if err != nil {
		return nil, err
	}
	raw, err := c.stateCall(ctx, neuronsLiteAPI, args, at)
	if err != nil {
		return nil, fmt.Errorf("read neurons of subnet %d: %w", netuid, err)
	}
	neurons, err := rt.decodeNeuronsLite(raw)
	if err != nil {
		return nil, fmt.Errorf("subnet %d: %w", netuid, err)
	}
	return neurons, nil
}

// maxCatchUp bounds how many missed block numbers WatchBlocks replays after
// a gap; beyond it only the newest is sent.
const maxCatchUp = 256

// WatchBlocks polls for new blocks every PollInterval and sends each new
// block number until ctx is done or the client is closed. When the node is
// unreachable it keeps retrying with backoff, so a daemon outlives its node.
func (c *Client) WatchBlocks(ctx context.Context) (<-chan uint64, error) {
	if c.ctx.Err() != nil {
		return nil, errClosed
	}
	out := make(chan uint64, 16)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(out)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(c.ctx, cancel)
		defer stop()
		c.watch(ctx, out)
	}()
	return out, nil
}

func (c *Client) watch(ctx context.Context, out chan<- uint64) {
	var last uint64
	fails := 0
	for {
		wait := c.cfg.PollInterval
		n, err := c.Block(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			fails++
			wait = max(wait, c.cfg.backoff(fails))
			c.log.Warn("watching blocks: chain node unreachable, retrying", "err", err, "retry_in", wait)
		default:
			if fails > 0 {
				c.log.Info("watching blocks again", "block", n)
			}
			fails = 0
			if n < last { // the node restarted or reorganised below us
				last = 0
			}
			from := last + 1
			if last == 0 || n-last > maxCatchUp {
				from = n
			}
			for b := from; b <= n; b++ {
				select {
				case out <- b:
				case <-ctx.Done():
					return
				}
			}
			last = max(last, n)
		}
		if sleep(ctx, wait) != nil {
			return
		}
	}
}

// subnetAt checks that netuid exists at the best block; it returns the
// block's hash and number and the SCALE-encoded netuid.
func (c *Client) subnetAt(ctx context.Context, rt *Runtime, netuid uint16) (string, []byte, uint64, error) {
	at, number, err := c.best(ctx)
	if err != nil {
		return "", nil, 0, err
	}
	key := appendU16(nil, netuid)
	if _, err := rt.storageEntry(palletSubtensor, "NetworksAdded"); err != nil {
		return at, key, number, nil // a runtime without the map: let the call itself tell
	}
	added, err := c.storageOrDefault(ctx, rt, at, palletSubtensor, "NetworksAdded", key)
	if err != nil {
		return "", nil, 0, err
	}
	if len(added) != 1 || added[0] != 1 {
		return "", nil, 0, fmt.Errorf("subnet %d does not exist at block %d: %w", netuid, number, fractal.ErrNotFound)
	}
	return at, key, number, nil
}
