package validator

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/verify"
)

// No free refusals. An opening that came too late (a timeout, an
// unreachable or overloaded miner) fails the challenge but accuses no one:
// a loaded honest miner can be late. It is asked again, the same steps,
// after Config.OpenRetryDelay, then twice that, and so on,
// Config.OpenRetries times, all within the miner's retention window (ten
// minutes by default). An answer ends it: verified, it is forgotten (the
// late failure stands); failing, it is recorded as the cheat it is. A miner
// still late after every retry will not open a step it must hold, and is
// recorded as open_refused, a cheat: refusing the openings that would
// expose a faked step no longer costs less than being caught.

// reopen is what asking a late opening again needs.
type reopen struct {
	target minerapi.Target
	claim  fractal.Claim
	block  uint64
	steps  []int
	decode bool
}

// reopener owns the goroutines that ask late openings again.
type reopener struct {
	mu     sync.Mutex
	closed bool
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newReopener() *reopener {
	ctx, cancel := context.WithCancel(context.Background())
	return &reopener{ctx: ctx, cancel: cancel}
}

// spawn runs fn in the background unless the reopener is closed.
func (r *reopener) spawn(fn func(ctx context.Context)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		fn(r.ctx)
	}()
	return true
}

// close stops every retry and waits for them.
func (r *reopener) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// wait waits for the retries in flight (tests).
func (r *reopener) wait() { r.wg.Wait() }

// scheduleReopen asks a's late opening again in the background.
func (v *Validator) scheduleReopen(a attempt) {
	if a.reopen == nil || v.Config.OpenRetries == 0 || v.reopens == nil {
		return
	}
	v.reopens.spawn(func(ctx context.Context) { v.retryOpening(ctx, a) })
}

// retryOpening asks the opening of a again until it is answered or the
// retries are spent, and records what that shows.
func (v *Validator) retryOpening(ctx context.Context, a attempt) {
	ro := a.reopen
	delay := v.Config.OpenRetryDelay
	start := v.now()
	for try := 1; try <= v.Config.OpenRetries; try++ {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		open := &minerapi.Opener{Client: v.client, Target: ro.target, RequestID: ro.claim.RequestID,
			MaxStateElems: v.maxStateElems(ro.claim.Receipt.Profile), Timeout: v.Config.ChallengeTimeout}
		verdict := v.newChecker().Recheck(ctx, ro.block, ro.claim, open, ro.steps, ro.decode)
		switch {
		case ctx.Err() != nil:
			return
		case verdict.Internal:
			v.logger.Error("verifier failed; no verdict", slog.Any(logKeyError, verdict.Detail))
			return
		case verdict.OK:
			v.metrics.reopened.WithLabelValues(verify.ReasonOK).Inc()
			v.logger.Info("late opening answered", slog.String(logKeyMiner, a.miner.Hotkey), slog.Int("try", try))
			return
		case verdict.Reason != verify.ReasonOpenLate:
			v.metrics.reopened.WithLabelValues(verdict.Reason).Inc()
			v.recordReopen(ctx, a, verdict.Reason, fmt.Sprintf("asked again (try %d): %s", try, verdict.Detail), verdict.Cheat())
			return
		}
		delay *= 2
	}
	v.metrics.reopened.WithLabelValues(verify.ReasonOpenRefused).Inc()
	v.recordReopen(ctx, a, verify.ReasonOpenRefused, fmt.Sprintf("steps %v not opened in %d tries over %s", ro.steps, v.Config.OpenRetries+1, v.now().Sub(start).Round(time.Millisecond)), true)
}

// recordReopen records the outcome of asking a late opening again as one
// more observation of the miner.
func (v *Validator) recordReopen(ctx context.Context, a attempt, reason, detail string, cheat bool) {
	a.rec.OK, a.rec.Reason, a.rec.Detail = false, reason, detail
	a.cheat, a.scored, a.out, a.reopen = cheat, true, nil, nil
	v.record(ctx, a, 0)
}

// MinerRetention is how long a miner must keep its committed states open
// (miner.Config.Retention's default): every retry of an opening falls
// within it.
const MinerRetention = 10 * time.Minute

// retriesSpan is how long the retries of one opening take at most:
// delay·(2^n − 1).
func retriesSpan(delay time.Duration, n int) time.Duration {
	return delay * time.Duration((1<<n)-1)
}
