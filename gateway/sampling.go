package gateway

import (
	"context"
	"errors"
	"log/slog"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// shareSample hands a user's job that miner n finished to every validator
// through the store, when the queue carries samples (fractal.SampleLog):
// whichever replica dispatched the job, the validators can verify it. The
// frames stay where complete stored them. A gateway with a validator in
// its own process (Sampler) hands its jobs over directly instead, so none
// is sampled twice. A sample that cannot be stored is logged and dropped:
// sampling tolerates a gap, and the user's job is done.
func (g *Gateway) shareSample(ctx context.Context, n fractal.Neuron, job *fractal.Job, req minerapi.GenerateRequest, out *minerapi.Outcome) {
	log, ok := g.Queue.(fractal.SampleLog)
	if !ok || g.Sampler != nil {
		return
	}
	a := job.Attempts.Find(req.RequestID)
	if a == nil {
		return
	}
	claim := out.Claim(n.Hotkey, req)
	claim.Frames = nil
	s := &fractal.Sample{Miner: n, Claim: claim, FramesKey: framesKey(job.ID, a.N), Load: out.QueuePosition, Finished: g.now()}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := log.PublishSample(context.WithoutCancel(ctx), s); err != nil {
			g.logger.Warn("sample not shared", slog.String(logKeyJob, job.ID), slog.String(logKeyMiner, n.Hotkey), slog.Any(logKeyError, err))
		}
	}()
}

// shareFailure hands an attempt that failed by miner n's doing to the
// validators: to the validator in this process when it takes failures
// (fractal.FailureSampler), else through the store when the queue carries
// them (fractal.FailureLog). A refusal for load is no failure: an honest
// miner that is busy says so, and the job goes elsewhere. Like a sample, a
// failure that cannot be stored is logged and dropped.
func (g *Gateway) shareFailure(ctx context.Context, n fractal.Neuron, spec fractal.Spec, reqID string, cause error) {
	reason, ok := failureReason(cause)
	if !ok {
		return
	}
	f := &fractal.AttemptFailure{Miner: n, RequestID: reqID, Reason: reason, Detail: truncate(cause.Error(), fractal.MaxJobErrorBytes),
		Cost: g.costOf(spec), Failed: g.now()}
	var hand func(context.Context) error
	if g.Sampler != nil {
		fs, ok := g.Sampler.(fractal.FailureSampler)
		if !ok {
			return
		}
		hand = func(ctx context.Context) error { fs.SampleFailure(ctx, f); return nil }
	} else if log, ok := g.Queue.(fractal.FailureLog); ok {
		hand = func(ctx context.Context) error { return log.PublishFailure(ctx, f) }
	} else {
		return
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := hand(context.WithoutCancel(ctx)); err != nil {
			g.logger.Warn("failure not shared", slog.String(logKeyRequest, reqID), slog.String(logKeyMiner, n.Hotkey), slog.Any(logKeyError, err))
		}
	}()
}

// failureReason names the miner's failure that cause stands for; false for
// a refusal for load, or the end of the gateway's own context.
func failureReason(cause error) (fractal.FailureReason, bool) {
	switch {
	case errors.Is(cause, fractal.ErrOverloaded), errors.Is(cause, context.Canceled):
		return "", false
	case errors.Is(cause, context.DeadlineExceeded):
		return fractal.FailureTimeout, true
	case errors.Is(cause, minerapi.ErrStream), errors.Is(cause, fractal.ErrMismatch):
		return fractal.FailureStream, true
	case errors.Is(cause, fractal.ErrUnavailable):
		return fractal.FailureUnavailable, true
	case errors.Is(cause, fractal.ErrForbidden), errors.Is(cause, fractal.ErrUnauthorized), errors.Is(cause, fractal.ErrInvalid):
		return fractal.FailureRefused, true
	}
	return fractal.FailureJobFailed, true
}
