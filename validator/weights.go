package validator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/chainwatch"
)

// errNoWeights means no miner has earned weight yet: nothing to set.
var errNoWeights = errors.New("no miner has earned weight yet")

// followBlocks sets weights once per tempo, retrying on the next blocks when
// the chain refuses or is away. Challenges go on regardless.
func (v *Validator) followBlocks(ctx context.Context) {
	chainwatch.Follow(ctx, v.Chain, v.logger, "chain unreachable; challenges continue", func(b uint64) {
		v.metrics.chainBlock.Set(float64(b))
		if v.weightsDue(b) {
			if err := v.SetWeights(ctx, b); err != nil && ctx.Err() == nil && !errors.Is(err, errNoWeights) {
				v.logger.Warn("set_weights failed; retrying next block", slog.Any(logKeyError, err))
			}
		}
	})
}

func (v *Validator) weightsDue(block uint64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	tempo := uint64(360)
	if v.graph != nil && v.graph.Tempo > 0 {
		tempo = uint64(v.graph.Tempo)
	}
	return v.weightsSets == 0 || block >= v.weightsAt+tempo // block 0 is a real block
}

// SetWeights submits the current normalised scores at block.
func (v *Validator) SetWeights(ctx context.Context, block uint64) error {
	v.mu.Lock()
	w := v.weightsLocked()
	v.mu.Unlock()
	if len(w) == 0 {
		return errNoWeights
	}
	uids := make([]uint16, 0, len(w))
	for uid := range w {
		uids = append(uids, uid)
	}
	sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	ws := make([]float64, len(uids))
	for i, uid := range uids {
		ws[i] = w[uid]
	}
	u16uids, u16w, err := fractal.NormalizeWeights(uids, ws)
	if err != nil {
		return err
	}
	if err := v.Chain.SetWeights(ctx, v.Hotkey, v.Config.NetUID, u16uids, u16w, v.Config.WeightsVersionKey); err != nil {
		return fmt.Errorf("set_weights at block %d: %w", block, err)
	}
	v.mu.Lock()
	v.weightsAt = block
	v.weightsSets++
	v.mu.Unlock()
	v.metrics.weightsSet.Inc()
	v.logger.Info("weights set", slog.Uint64("block", block), slog.Int("miners", len(u16uids)))
	return nil
}

// WeightsSet returns how many times weights were set and the last block.
func (v *Validator) WeightsSet() (int, uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.weightsSets, v.weightsAt
}
