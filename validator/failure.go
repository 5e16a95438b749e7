package validator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fractal-grid/fractal"
)

var _ fractal.FailureSampler = (*Validator)(nil)

// Why a shared failure is not counted.
var (
	errFailureStale     = errors.New("older than the samples' retention")
	errFailureUnknown   = errors.New("names a miner not in the metagraph")
	errFailureDuplicate = errors.New("already counted")
	errFailureChallenge = errors.New("is a challenge's, not a user's job's")
)

// SampleFailure takes an attempt of a user's job that failed by the
// miner's doing, from a gateway in this process, and counts it against the
// miner (takeFailure).
func (v *Validator) SampleFailure(ctx context.Context, f *fractal.AttemptFailure) {
	if err := v.takeFailure(ctx, f); err != nil {
		v.logger.Debug("users' job failure not counted", slog.String(logKeyMiner, f.Miner.Hotkey), slog.Any(logKeyError, err))
	}
}

// ConsumeFailures takes the failures of users' jobs that gateway replicas
// shared through the store and counts each against its miner, until ctx
// ends. ConsumeSamples runs it when Samples carries failures
// (fractal.FailureLog).
func (v *Validator) ConsumeFailures(ctx context.Context, log fractal.FailureLog) {
	for {
		f, err := log.NextFailure(ctx, v.sampleConsumer())
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			v.logger.Warn("failure log failed; retrying", slog.Any(logKeyError, err))
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		if f.Challenge {
			v.takeChallengeEnd(f.Job, challengeEnd{failure: f})
			continue
		}
		if err := v.takeFailure(ctx, f); err != nil {
			v.logger.Debug("users' job failure not counted", slog.String(logKeyMiner, f.Miner.Hotkey), slog.Any(logKeyError, err))
		}
	}
}

// takeFailure counts a user's job that failed on a miner as a failed
// challenge that is not a cheat: its success falls as for a challenge it
// failed, with no cooldown. A failure is counted once by its request id,
// and not at all when it is older than fractal.SampleMaxAge or names a
// miner the metagraph does not hold (the uid is the metagraph's).
func (v *Validator) takeFailure(ctx context.Context, f *fractal.AttemptFailure) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if f.Challenge {
		return fmt.Errorf("failure %s: %w", f.RequestID, errFailureChallenge)
	}
	now := v.now()
	if now.Sub(f.Failed) > fractal.SampleMaxAge {
		return fmt.Errorf("failure %s: %w", f.RequestID, errFailureStale)
	}
	n, err := v.countFailure(f, now)
	if err != nil {
		return fmt.Errorf("failure %s: %w", f.RequestID, err)
	}
	rec := Record{RequestID: f.RequestID, Miner: n.Hotkey, UID: n.UID, Organic: true, Reason: string(f.Reason), Detail: f.Detail}
	v.fold(ctx, n, Observation{At: now, Reason: string(f.Reason), Cost: f.Cost}, rec)
	return nil
}

// countFailure returns f's miner as the metagraph holds it and remembers
// f's request id, unless it was counted before.
func (v *Validator) countFailure(f *fractal.AttemptFailure, now time.Time) (fractal.Neuron, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.graph == nil {
		return fractal.Neuron{}, errFailureUnknown
	}
	n, ok := v.graph.ByHotkey(f.Miner.Hotkey)
	if !ok {
		return fractal.Neuron{}, errFailureUnknown
	}
	if v.failures == nil || now.Sub(v.failuresPruned) > fractal.SampleMaxAge {
		v.pruneFailures(now)
	}
	if _, seen := v.failures[f.RequestID]; seen {
		return fractal.Neuron{}, errFailureDuplicate
	}
	v.failures[f.RequestID] = f.Failed
	return n, nil
}

// pruneFailures forgets the request ids of failures past the samples'
// retention: a failure that old is refused before its id is looked up.
// v.mu is held.
func (v *Validator) pruneFailures(now time.Time) {
	if v.failures == nil {
		v.failures = map[string]time.Time{}
	}
	for id, at := range v.failures {
		if now.Sub(at) > fractal.SampleMaxAge {
			delete(v.failures, id)
		}
	}
	v.failuresPruned = now
}
