// Package chainwatch follows a chain's blocks for daemons that must keep
// running while their chain node comes and goes.
package chainwatch

import (
	"context"
	"log/slog"
	"time"

	"github.com/fractal-grid/fractal"
)

// Backoff bounds between attempts to watch again.
const (
	MinBackoff = time.Second
	MaxBackoff = time.Minute
)

// Follow calls onBlock with every new block number until ctx ends. When
// the chain cannot be watched it logs lost (with the error) and tries
// again after a backoff that doubles from MinBackoff to MaxBackoff; a
// watch that ends (the node went away) is simply started again.
func Follow(ctx context.Context, chain fractal.ChainReader, logger *slog.Logger, lost string, onBlock func(block uint64)) {
	backoff := MinBackoff
	for ctx.Err() == nil {
		blocks, err := chain.WatchBlocks(ctx)
		if err != nil {
			logger.Warn(lost, slog.Any("err", err))
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, MaxBackoff)
			continue
		}
		backoff = MinBackoff
		for b := range blocks {
			onBlock(b)
		}
	}
}
