package validator

import (
	"context"
	"log/slog"
	"time"

	"github.com/fractal-grid/fractal"
)

// StandingsEvery is how often a started validator publishes its standings
// for gateway replicas in other processes (PublishStandings).
const StandingsEvery = 2 * time.Second

var _ fractal.StandingSource = (*Validator)(nil)

// Standings returns the validator's verdict on every registered miner it
// has checked, by hotkey: what a gateway in this process routes by. Miners
// that left the subnet since are left out, so the published record does not
// grow with every hotkey that ever registered.
func (v *Validator) Standings(ctx context.Context) (map[string]fractal.Standing, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]fractal.Standing, len(v.stats))
	for hotkey, s := range v.stats {
		if v.graph != nil {
			if _, ok := v.graph.ByHotkey(hotkey); !ok {
				continue
			}
		}
		out[hotkey] = s.Standing()
	}
	return out, nil
}

// PublishStandings writes the standings to the validator's KV under
// fractal.StandingsKey, where gateway replicas read them
// (fractal.KVStandings).
func (v *Validator) PublishStandings(ctx context.Context) error {
	st, err := v.Standings(ctx)
	if err != nil {
		return err
	}
	pub := fractal.KVStandings{KV: v.KV, NetUID: v.Config.NetUID}
	return pub.Publish(ctx, st, v.now())
}

// publishLoop publishes the standings at once and then every
// StandingsEvery until ctx ends.
func (v *Validator) publishLoop(ctx context.Context) {
	t := time.NewTicker(StandingsEvery)
	defer t.Stop()
	for {
		if err := v.PublishStandings(ctx); err != nil && ctx.Err() == nil {
			v.logger.Warn("publishing standings failed", slog.Any(logKeyError, err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
