package validator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/minerapi"
)

// maxFramesFile bounds a sample's frames read from the blob store.
const maxFramesFile = 1 << 30

// sampleConsumer names the validator's durable consumer of the sample log.
func (v *Validator) sampleConsumer() string {
	return fmt.Sprintf("validator_%d_%s", v.Config.NetUID, v.Hotkey.SS58())
}

// ConsumeSamples takes users' finished jobs that gateway replicas shared
// through the store (Samples and Blobs) and hands each to Organic, which
// verifies a share of them, at most Parallel at a time, until ctx ends.
// When Samples carries failures of users' jobs too (fractal.FailureLog),
// it counts them meanwhile (ConsumeFailures). Start runs it; a caller that
// drives Round itself runs it too.
func (v *Validator) ConsumeSamples(ctx context.Context) {
	sem := make(chan struct{}, v.Config.Parallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	if log, ok := v.Samples.(fractal.FailureLog); ok {
		wg.Add(1)
		go func() { defer wg.Done(); v.ConsumeFailures(ctx, log) }()
	}
	for {
		s, err := v.Samples.NextSample(ctx, v.sampleConsumer())
		if err != nil {
			if ctx.Err() == nil {
				v.logger.Warn("sample log failed; retrying", slog.Any(logKeyError, err))
				continue
			}
			return
		}
		if s.Challenge {
			v.takeChallengeEnd(s.Job, challengeEnd{sample: s})
			continue
		}
		if age := v.now().Sub(s.Finished); age > MinerRetention {
			continue // the miner need no longer hold its states
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := v.takeSample(ctx, s); err != nil && ctx.Err() == nil {
				v.logger.Warn("sample not verified", slog.String(logKeyMiner, s.Miner.Hotkey), slog.Any(logKeyError, err))
			}
		}()
	}
}

// takeSample decides whether to verify s and, if so, reads its frames and
// verifies it.
func (v *Validator) takeSample(ctx context.Context, s *fractal.Sample) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Challenge {
		return fmt.Errorf("sample %s is a challenge's, not a user's job", s.Claim.RequestID)
	}
	req := minerapi.GenerateRequest{RequestID: s.Claim.RequestID, Spec: s.Claim.Spec}
	out := &minerapi.Outcome{
		Result:   &minerapi.ResultEvent{Profile: s.Claim.Profile, Receipt: s.Claim.Receipt},
		Accepted: s.Claim.Accepted, FirstProgress: s.Claim.FirstProgress, Total: s.Claim.Total, QueuePosition: s.Load,
	}
	rate, ok := v.sampled(s.Miner, req.Spec, out)
	if !ok {
		return nil
	}
	rc, err := v.Blobs.Get(ctx, s.FramesKey)
	if errors.Is(err, fractal.ErrNotFound) {
		return nil // the user deleted the video: nothing to check it against
	}
	if err != nil {
		return fmt.Errorf("frames of %s: %w", s.Claim.RequestID, err)
	}
	defer rc.Close()
	if out.Frames, err = framesfile.Unmarshal(rc, maxFramesFile); err != nil {
		return fmt.Errorf("frames of %s: %w", s.Claim.RequestID, err)
	}
	v.verifyOrganic(ctx, s.Miner, req, out, rate)
	return nil
}
