package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/router"
)

// A validator's challenge travels the users' path: it is a job pinned to
// one miner (fractal.Job.Pinned), queued like any other, taken by whichever
// replica dequeues it and sent by the same attempt code, signed by the same
// hotkey with a request id of the same form. Only the choice of miner
// differs: no routing, whatever the miner's standing or cooldown, and no
// second miner after a fault, which fails the challenge. Its end always
// goes back to the validators through the store: the result as a sample
// marked as a challenge, a miner's fault as a failure with its reason. A
// challenge that could not reach its miner (the miner left the metagraph,
// too many deliveries) fails with no attempt, and a validator gives it no
// verdict.

// booking is an attempt's work booked on the grid map: a router's lease,
// or a pinned job's booking of its miner.
type booking struct {
	Miner string
	Cost  float64 // the spec's cost, as booked
	Done  func(gridmap.Outcome) bool
}

// leased books an attempt through the router's lease.
func leased(l *router.Lease) booking { return booking{Miner: l.Miner, Cost: l.Cost, Done: l.Done} }

// bookPinned books an attempt on miner directly, as the router would after
// choosing it, so that users' jobs see the miner's load.
func (g *Gateway) bookPinned(miner string, cost float64) booking {
	g.grid.Dispatched(miner, cost)
	var done atomic.Bool
	return booking{Miner: miner, Cost: cost, Done: func(o gridmap.Outcome) bool {
		if !done.CompareAndSwap(false, true) {
			return false
		}
		o.Cost = cost
		g.grid.Finished(miner, o)
		return true
	}}
}

// maxChallengesInFlight bounds the challenges a replica sends at once
// beside its dispatchers' jobs.
const maxChallengesInFlight = 1024

// dispatchChallenge sends a challenge that came through the users' queue
// (from a validator without fractal.ChallengeQueues) off the dispatcher
// that took it, so that a sweep's challenges go out together: hotkeys that
// share a GPU must be asked at the same time to queue for it. Past
// maxChallengesInFlight the dispatcher sends it itself.
func (g *Gateway) dispatchChallenge(ctx context.Context, d fractal.Delivery, job *fractal.Job) {
	select {
	case g.challengeSlots <- struct{}{}:
	default:
		g.dispatchPinned(ctx, d, job)
		return
	}
	g.wg.Add(1) // while this dispatcher's own count holds Close's wait open
	go func() {
		defer g.wg.Done()
		defer func() { <-g.challengeSlots }()
		g.dispatchPinned(ctx, d, job)
	}()
}

// dispatchPinned runs one delivery of a challenge: one attempt on its
// miner. A delivery again after a replica died mid-attempt tries the same
// miner again, as for a user's job.
func (g *Gateway) dispatchPinned(ctx context.Context, d fractal.Delivery, job *fractal.Job) {
	if _, faults := job.Attempts.MinerFaults(); faults > 0 || d.Attempt() > g.Config.MaxDeliveries || len(job.Attempts) >= fractal.MaxJobAttempts {
		g.fail(ctx, d, job, "the pinned miner could not be tried")
		return
	}
	if len(job.Attempts) == 0 && g.now().Sub(job.Created) > fractal.ChallengeQueueLimit {
		g.fail(ctx, d, job, "queued past the challenges' limit; its validator stopped waiting")
		return
	}
	if _, ok := g.Queue.(fractal.SampleLog); !ok {
		g.fail(ctx, d, job, "this gateway's store carries no samples: a challenge's result would be lost")
		return
	}
	if _, ok := g.neuron(job.Pinned.Hotkey); !ok {
		g.fail(ctx, d, job, fmt.Sprintf("pinned miner %s is not serving", job.Pinned.Hotkey))
		return
	}
	g.metrics.routing.WithLabelValues("pinned").Inc()
	v, _, err := g.attempt(ctx, d, job, g.bookPinned(job.Pinned.Hotkey, g.costOf(job.Spec)))
	switch v {
	case jobEnded:
		d.Ack(ctx)
	case storeDown:
		g.later(ctx, d, err)
	case minerFault:
		g.fail(ctx, d, job, "the pinned miner failed to generate it")
	}
}

// attemptTimeout is how long a miner has for an attempt at job: a
// challenge's own deadline, when it has one, else the gateway's for the
// job's cost.
func (g *Gateway) attemptTimeout(job *fractal.Job) time.Duration {
	if job.Pinned != nil && job.Deadline > 0 {
		return job.Deadline
	}
	return g.Config.AttemptTimeout + time.Duration(g.costOf(job.Spec)*float64(g.Config.SecsPerCost))
}

// shareChallenge hands a finished challenge to the validators through the
// store, always: its claim with the gateway's timings, the frames where
// complete stored them, and when it was sent to the miner.
func (g *Gateway) shareChallenge(ctx context.Context, n fractal.Neuron, job *fractal.Job, req minerapi.GenerateRequest, out *minerapi.Outcome, sent time.Time) {
	log, ok := g.Queue.(fractal.SampleLog)
	a := job.Attempts.Find(req.RequestID)
	if !ok || a == nil {
		return
	}
	claim := out.Claim(n.Hotkey, req)
	claim.Frames = nil
	s := &fractal.Sample{Miner: n, Claim: claim, FramesKey: framesKey(job.ID, a.N), Load: out.QueuePosition, Finished: g.now(),
		Challenge: true, Job: job.ID, Dispatched: sent}
	g.publish(ctx, job.ID, n.Hotkey, "challenge not shared", func(ctx context.Context) error { return log.PublishSample(ctx, s) })
}

// shareChallengeFailure hands a challenge's attempt that failed by the
// miner's doing to the validators through the store, whatever the reason:
// a refusal for load included, which a user's job would have taken
// elsewhere. The end of this gateway's own context is nobody's failure.
func (g *Gateway) shareChallengeFailure(ctx context.Context, n fractal.Neuron, job *fractal.Job, reqID string, sent time.Time, cause error) {
	log, ok := g.Queue.(fractal.FailureLog)
	if !ok || errors.Is(cause, context.Canceled) {
		return
	}
	f := &fractal.AttemptFailure{Miner: n, RequestID: reqID, Reason: challengeFailure(cause), Detail: truncate(cause.Error(), fractal.MaxJobErrorBytes),
		Cost: g.costOf(job.Spec), Failed: g.now(), Challenge: true, Job: job.ID, Dispatched: sent}
	g.publish(ctx, job.ID, n.Hotkey, "challenge failure not shared", func(ctx context.Context) error { return log.PublishFailure(ctx, f) })
}

// publish runs a store write off the dispatch path; Close waits for it. A
// write that fails is logged: the validator waiting for it gives the
// challenge no verdict.
func (g *Gateway) publish(ctx context.Context, job, miner, msg string, write func(context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := write(context.WithoutCancel(ctx)); err != nil {
			g.logger.Warn(msg, slog.String(logKeyJob, job), slog.String(logKeyMiner, miner), slog.Any(logKeyError, err))
		}
	}()
}

// challengeFailure names a challenge's failure as a validator that sent it
// itself would: frames unlike the receipt are a cheat, a refusal for load
// counts.
func challengeFailure(cause error) fractal.FailureReason {
	switch {
	case errors.Is(cause, context.DeadlineExceeded):
		return fractal.FailureTimeout
	case errors.Is(cause, fractal.ErrMismatch):
		return fractal.FailureFrames
	case errors.Is(cause, minerapi.ErrStream):
		return fractal.FailureStream
	case errors.Is(cause, fractal.ErrOverloaded):
		return fractal.FailureOverloaded
	case errors.Is(cause, fractal.ErrUnavailable):
		return fractal.FailureUnavailable
	case errors.Is(cause, fractal.ErrForbidden), errors.Is(cause, fractal.ErrUnauthorized):
		return fractal.FailureRefused
	}
	return fractal.FailureJobFailed
}
