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
		if err := v.revealDue(ctx, b); err != nil && ctx.Err() == nil {
			v.logger.Warn("weights reveal failed; retrying next block", slog.Any(logKeyError, err))
		}
		if v.weightsDue(b) {
			if err := v.SetWeights(ctx, b); err != nil && ctx.Err() == nil && !errors.Is(err, errNoWeights) && !errors.Is(err, errCommitPending) {
				v.logger.Warn("weights not submitted; retrying next block", slog.Any(logKeyError, err))
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
	cs := v.commitState()
	cs.mu.Lock()
	if cs.policy != nil {
		tempo = max(tempo, cs.policy.RateLimit)
	}
	cs.mu.Unlock()
	return v.weightsSets == 0 || block >= v.weightsAt+tempo // block 0 is a real block
}

// SetWeights submits the current normalised scores at block the way the
// subnet wants them: set_weights, or a timelocked or hash commit when it
// has commit-reveal on (Config.CommitReveal picks which).
func (v *Validator) SetWeights(ctx context.Context, block uint64) error {
	decided := v.now()
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
	path, err := v.submit(ctx, block, u16uids, u16w, decided)
	if err != nil {
		return fmt.Errorf("weights (%s) at block %d: %w", path, block, err)
	}
	v.mu.Lock()
	v.weightsAt = block
	v.weightsSets++
	v.mu.Unlock()
	v.metrics.weightsSet.Inc()
	return nil
}

// WeightsSet returns how many times weights were set or committed and the
// last block.
func (v *Validator) WeightsSet() (int, uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.weightsSets, v.weightsAt
}
