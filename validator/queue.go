package validator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/minerapi"
)

// On the queue path (Config.ChallengePath ChallengeQueue) a challenge
// travels the users' path: it is a job pinned to its miner
// (fractal.Job.Pinned), created in the job store and enqueued, and
// whichever gateway replica dequeues it sends it, with the gateway's
// signer, address, request id and timing. The replica shares its end
// through the store: the result as a sample marked as a challenge, with
// its timings and the instant it was sent, or a miner's failure with its
// reason. The validator verifies the result as if it had sent the
// challenge itself. A challenge no replica took within Config.QueueWait,
// or that ended with no miner tried (the miner gone from the gateway's
// metagraph, a store fault), gets no verdict: the infrastructure's fault
// is nobody's.

// logKeyJob names a challenge's job.
const logKeyJob = "job"

// shareGrace is how long after a challenge's deadline the validator still
// waits for its end to come through the store.
const shareGrace = 15 * time.Second

// pollEvery is how often a waiting challenge reads its job, to learn when
// it was dispatched and whether it ended with no miner tried.
const pollEvery = time.Second

// Why a queued challenge got no verdict.
var (
	errNotDispatched = errors.New("no gateway replica dispatched it in time")
	errNoMinerTried  = errors.New("it ended before its miner was tried")
	errEndLost       = errors.New("its end did not come through the store")
)

// challengeEnd is what ended a queued challenge: its sample or its
// failure.
type challengeEnd struct {
	sample  *fractal.Sample
	failure *fractal.AttemptFailure
}

// inflight holds the queued challenges waiting for their end, by job id.
type inflight struct {
	mu    sync.Mutex
	waits map[string]chan challengeEnd
}

func newInflight() *inflight { return &inflight{waits: map[string]chan challengeEnd{}} }

// wait registers id and returns the channel its end comes on, and a
// function that forgets it.
func (f *inflight) wait(id string) (<-chan challengeEnd, func()) {
	ch := make(chan challengeEnd, 1)
	f.mu.Lock()
	f.waits[id] = ch
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		delete(f.waits, id)
		f.mu.Unlock()
	}
}

// deliver hands e to the challenge id waits; false when none does (it
// ended meanwhile, or was sent before this validator started).
func (f *inflight) deliver(id string, e challengeEnd) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ok := f.waits[id]
	if !ok {
		return false
	}
	select {
	case ch <- e:
	default: // an end came already: a repeated one changes nothing
	}
	return true
}

// takeChallengeEnd hands a challenge's sample or failure, taken from the
// store, to the challenge waiting for it. One nobody waits for is this
// validator's own from before a restart, or another validator's: never a
// user's job, it is dropped.
func (v *Validator) takeChallengeEnd(job string, e challengeEnd) {
	if v.challenges == nil || !v.challenges.deliver(job, e) {
		v.logger.Debug("dropped the end of a challenge nobody waits for", slog.String(logKeyJob, job))
	}
}

// attemptQueued sends req to miner through the gateways' queue and
// verifies the answer.
func (v *Validator) attemptQueued(ctx context.Context, miner fractal.Neuron, req minerapi.GenerateRequest) attempt {
	a := attempt{miner: miner, req: req, block: v.block()}
	a.rec = Record{RequestID: req.RequestID, Miner: miner.Hotkey, UID: miner.UID, Profile: req.Spec.Profile, Prompt: req.Spec.Prompt, Seed: req.Spec.Seed, Steps: req.Spec.Steps}
	// A job of its own for each miner: a cross-check sends one request to
	// two miners.
	id := "challenge-" + minerapi.NewRequestID()
	ends, forget := v.challenges.wait(id)
	defer forget()
	deadline := v.Config.ChallengeTimeout + time.Duration(v.costOf(req.Spec)*float64(v.Config.SecsPerCost))
	job := fractal.NewChallenge(id, fractal.MinerRef{UID: miner.UID, Hotkey: miner.Hotkey}, req.Spec, deadline, v.now())
	if err := v.Jobs.Create(ctx, job); err != nil {
		v.noVerdict(ctx, a, fmt.Errorf("create its job: %w", err))
		return a
	}
	if err := v.challengeQueue().Enqueue(ctx, id); err != nil {
		v.cancelChallenge(ctx, id)
		v.noVerdict(ctx, a, fmt.Errorf("enqueue its job: %w", err))
		return a
	}
	e, err := v.awaitChallenge(ctx, id, ends, deadline)
	switch {
	case ctx.Err() != nil:
		v.cancelChallenge(ctx, id)
		return a // shutting down: no verdict
	case err != nil:
		v.cancelChallenge(ctx, id)
		v.noVerdict(ctx, a, err)
		return a
	case e.failure != nil:
		return v.challengeFailed(a, e.failure)
	}
	return v.challengeDone(ctx, a, e.sample, deadline)
}

// challengeQueue is the queue challenges go into: the challenges' own,
// which replicas drain beside their dispatchers (fractal.ChallengeQueues),
// where the store has one, else the users' queue.
func (v *Validator) challengeQueue() fractal.JobQueue {
	if q, ok := v.Queue.(fractal.ChallengeQueues); ok {
		return q.Challenges()
	}
	return v.Queue
}

// awaitChallenge waits for challenge id's end. It reads the job every
// pollEvery: once dispatched, the gateway holds the miner to deadline (the
// job's) and shares a timeout as the miner's failure, so an end that has
// not come shareGrace after that was lost by the store, not the miner. A
// job that ended with no miner tried, or that nobody dispatched within
// QueueWait, ends the wait too: none of these is a verdict.
func (v *Validator) awaitChallenge(ctx context.Context, id string, ends <-chan challengeEnd, deadline time.Duration) (challengeEnd, error) {
	queued := v.now()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	var ended time.Time // when the job was seen to end without its end shared yet
	for {
		select {
		case e := <-ends:
			return e, nil
		case <-ctx.Done():
			return challengeEnd{}, ctx.Err()
		case <-t.C:
		}
		job, err := v.Jobs.Get(ctx, id)
		now := v.now()
		switch {
		case err != nil && now.Sub(queued) > v.Config.QueueWait+deadline+shareGrace:
			return challengeEnd{}, fmt.Errorf("read its job: %w", err)
		case err != nil:
			continue // a store fault: the job may still run, and its end come
		case job.Status.Terminal() && len(job.Attempts) == 0 || job.Status == fractal.JobCancelled:
			return challengeEnd{}, fmt.Errorf("%w: %s", errNoMinerTried, job.Error)
		case job.Status.Terminal() && ended.IsZero():
			ended = now
		case job.Status.Terminal() && now.Sub(ended) > shareGrace:
			return challengeEnd{}, errEndLost
		case len(job.Attempts) == 0 && now.Sub(queued) > v.Config.QueueWait:
			return challengeEnd{}, errNotDispatched
		case len(job.Attempts) > 0 && !job.Status.Terminal():
			if sent := job.Attempts[len(job.Attempts)-1].Started; now.Sub(sent) > deadline+shareGrace {
				return challengeEnd{}, fmt.Errorf("%w: sent %s ago with a deadline of %s", errEndLost, now.Sub(sent).Round(time.Millisecond), deadline)
			}
		}
	}
}

// challengeFailed is the verdict on a challenge its miner failed, named as
// the validator names a challenge it sent itself.
func (v *Validator) challengeFailed(a attempt, f *fractal.AttemptFailure) attempt {
	a.rec.RequestID, a.sent = f.RequestID, f.Dispatched
	a.rec.Reason, a.rec.Detail = string(f.Reason), f.Detail
	a.cheat, a.scored = f.Reason == fractal.FailureFrames, true
	return a
}

// challengeDone verifies a challenge's result from its sample: its frames
// from the blob store, its timings as the gateway measured them. An answer
// that took longer than deadline is a timeout, as it is on the direct
// path.
func (v *Validator) challengeDone(ctx context.Context, a attempt, s *fractal.Sample, deadline time.Duration) attempt {
	if err := s.Validate(); err != nil || s.Miner.Hotkey != a.miner.Hotkey || s.Claim.Spec != a.req.Spec {
		v.noVerdict(ctx, a, fmt.Errorf("a sample unlike the challenge: %v", err))
		return a
	}
	a.req.RequestID, a.rec.RequestID, a.sent = s.Claim.RequestID, s.Claim.RequestID, s.Dispatched
	if s.Claim.Total > deadline {
		a.rec.Reason, a.rec.Detail, a.scored = ReasonTimeout, fmt.Sprintf("answered in %s, past the deadline of %s", s.Claim.Total, deadline), true
		return a
	}
	out := &minerapi.Outcome{
		Result:   &minerapi.ResultEvent{Profile: s.Claim.Profile, Receipt: s.Claim.Receipt},
		Accepted: s.Claim.Accepted, FirstProgress: s.Claim.FirstProgress, Total: s.Claim.Total, QueuePosition: s.Load,
	}
	frames, err := v.challengeFrames(ctx, s.FramesKey)
	if err != nil {
		v.noVerdict(ctx, a, err)
		return a
	}
	out.Frames = frames
	target := minerapi.Target{URL: "http://" + a.miner.Axon.AddrPort().String(), Hotkey: a.miner.Hotkey}
	return v.verify(ctx, target, a, out)
}

// challengeFrames reads a challenge's frames and removes them from the
// blob store: nobody but the validator asks for them.
func (v *Validator) challengeFrames(ctx context.Context, key string) (*fractal.Frames, error) {
	rc, err := v.Blobs.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("frames %s: %w", key, err)
	}
	frames, err := framesfile.Unmarshal(rc, maxFramesFile)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("frames %s: %w", key, err)
	}
	if err := v.Blobs.Delete(ctx, key); err != nil && !errors.Is(err, fractal.ErrNotFound) {
		v.logger.Debug("challenge frames not removed", slog.String("key", key), slog.Any(logKeyError, err))
	}
	return frames, nil
}

// cancelChallenge cancels a challenge's job unless it ended, so that no
// replica sends it once the validator stopped waiting. It is bookkeeping:
// a failure is logged, and the gateways' ChallengeQueueLimit ends the job
// anyway.
func (v *Validator) cancelChallenge(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := v.now()
	_, err := v.Jobs.Update(ctx, id, func(j *fractal.Job) error {
		if j.Status.Terminal() {
			return errChallengeOver
		}
		return j.Transition(fractal.JobCancelled, now)
	})
	if err != nil && !errors.Is(err, errChallengeOver) {
		v.logger.Info("challenge not cancelled", slog.String(logKeyJob, id), slog.Any(logKeyError, err))
	}
}

// errChallengeOver aborts the cancel of a challenge that ended.
var errChallengeOver = fmt.Errorf("challenge already ended: %w", fractal.ErrConflict)

// noVerdict logs why a queued challenge gets no verdict.
func (v *Validator) noVerdict(ctx context.Context, a attempt, err error) {
	if ctx.Err() != nil {
		return
	}
	v.logger.Warn("challenge through the queue got no verdict", slog.String(logKeyMiner, a.miner.Hotkey), slog.Any(logKeyError, err))
}
