package miner

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/chainwatch"
)

// permits decides who may call the miner: hotkeys registered on the subnet
// with a validator permit and at least the minimum stake. It follows the
// metagraph, refreshed on new blocks.
type permits struct {
	chain    fractal.ChainReader
	netuid   uint16
	minStake uint64
	logger   *slog.Logger

	mu    sync.RWMutex
	graph *fractal.Metagraph
}

// refresh reads the metagraph once.
func (p *permits) refresh(ctx context.Context) error {
	g, err := p.chain.Metagraph(ctx, p.netuid)
	if err != nil {
		return fmt.Errorf("metagraph of netuid %d: %w", p.netuid, err)
	}
	p.mu.Lock()
	p.graph = g
	p.mu.Unlock()
	return nil
}

// follow refreshes on every new block until ctx ends, retrying with backoff
// while the chain is unreachable. The last good metagraph stays in force.
func (p *permits) follow(ctx context.Context) {
	chainwatch.Follow(ctx, p.chain, p.logger, "chain unreachable; keeping the last metagraph", func(uint64) {
		if err := p.refresh(ctx); err != nil && ctx.Err() == nil {
			p.logger.Warn("metagraph refresh failed", slog.Any(logKeyError, err))
		}
	})
}

// check returns nil when hotkey may be served, or an error wrapping
// fractal.ErrForbidden saying why not.
func (p *permits) check(hotkey string) error {
	p.mu.RLock()
	g := p.graph
	p.mu.RUnlock()
	if g == nil {
		return fmt.Errorf("metagraph not loaded yet: %w", fractal.ErrUnavailable)
	}
	n, ok := g.ByHotkey(hotkey)
	switch {
	case !ok:
		return fmt.Errorf("hotkey %s is not registered on netuid %d: %w", hotkey, p.netuid, fractal.ErrForbidden)
	case !n.ValidatorPermit:
		return fmt.Errorf("hotkey %s (uid %d) has no validator permit: %w", hotkey, n.UID, fractal.ErrForbidden)
	case n.Stake < p.minStake:
		return fmt.Errorf("hotkey %s (uid %d) stakes %d rao, below the minimum %d: %w", hotkey, n.UID, n.Stake, p.minStake, fractal.ErrForbidden)
	}
	return nil
}

// Log keys.
const (
	logKeyError   = "err"
	logKeyRequest = "request"
	logKeyCaller  = "caller"
	logKeyAddr    = "addr"
)
