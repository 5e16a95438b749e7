package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// TestMinerFailuresAreShared: a job that fails on one miner and completes
// on another shares exactly one failure, the failing miner's, through the
// store.
func TestMinerFailuresAreShared(t *testing.T) {
	e := startFirstOn(t, failing{refengine.New()}, nil)
	job := completedAfterAFault(t, e, "a grey owl at dusk")
	log, ok := e.gw.Queue.(fractal.FailureLog)
	if !ok {
		t.Fatal("the store's queue carries no failures")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := log.NextFailure(ctx, "validator")
	if err != nil {
		t.Fatal(err)
	}
	first := job.Attempts[0]
	if f.Miner.Hotkey != first.Miner.Hotkey || f.RequestID != first.RequestID || f.Reason != fractal.FailureJobFailed || f.Cost <= 0 {
		t.Errorf("got a failure of %s, request %s, reason %s, cost %g; want %s's job failure of request %s with the spec's cost",
			f.Miner.Hotkey, f.RequestID, f.Reason, f.Cost, first.Miner.Hotkey, first.RequestID)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer wcancel()
	if f, err := log.NextFailure(wctx, "validator"); err == nil {
		t.Errorf("shared a second failure, of %s (request %s), want one", f.Miner.Hotkey, f.RequestID)
	}
}

// TestRefusalForLoadIsNotShared: a miner that refuses a job for load (its
// engine out of capacity, as an honest busy miner says) is tried, the job
// completes on the other miner, and no failure is shared.
func TestRefusalForLoadIsNotShared(t *testing.T) {
	e := startFirstOn(t, busy{refengine.New()}, nil)
	completedAfterAFault(t, e, "a yellow tram in the rain")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if f, err := e.gw.Queue.(fractal.FailureLog).NextFailure(ctx, "validator"); err == nil {
		t.Errorf("shared a failure of %s (%s: %s), want none for a refusal for load", f.Miner.Hotkey, f.Reason, f.Detail)
	}
}

// busy is an engine that refuses every generation for load.
type busy struct{ fractal.Engine }

func (busy) Generate(context.Context, fractal.Spec, fractal.GenerateOptions) (*fractal.Result, error) {
	return nil, fmt.Errorf("no free GPU memory: %w", fractal.ErrOverloaded)
}

// completedAfterAFault creates a job with prompt and returns it once it
// completed, failing unless its first attempt ended as the miner's fault
// and its second completed.
func completedAfterAFault(t *testing.T, e *env, prompt string) *fractal.Job {
	t.Helper()
	v := e.create(t, fmt.Sprintf(`{"prompt": %q, %s}`, prompt, small))
	if done := e.wait(t, v.ID); done.Status != "completed" {
		t.Fatalf("job: %+v, want completed", done)
	}
	job, err := e.gw.Jobs.Get(context.Background(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(job); got != "miner_fault completed" {
		t.Fatalf("outcomes %q, want a miner fault then completed", got)
	}
	return job
}

// startFirstOn runs a gateway over a miner of first and a healthy one,
// withholding the healthy one from routing until first was tried, so a
// job meets both whatever the router draws. hook, when set, changes the
// gateway before it serves.
func startFirstOn(t *testing.T, first fractal.Engine, hook func(*gateway.Gateway)) *env {
	t.Helper()
	healthy := testenv.Key(t, "//Alice//miner1").SS58() // the second miner started
	var release atomic.Bool
	var gwp atomic.Pointer[gateway.Gateway]
	tried := reporting{first, func() {
		release.Store(true)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if v, ok := gwp.Load().Grid().View(healthy); ok && v.Eligible {
				return
			}
		}
	}}
	return startHook(t, func(gw *gateway.Gateway) {
		gwp.Store(gw)
		if hook != nil {
			hook(gw)
		}
		all := gw.Standings
		gw.Standings = fractal.StandingFunc(func(ctx context.Context) (map[string]fractal.Standing, error) {
			out, err := all.Standings(ctx)
			if !release.Load() {
				delete(out, healthy)
			}
			return out, err
		})
	}, tried, refengine.New())
}

// TestInProcessValidatorTakesFailures: a gateway whose validator runs in
// its process hands failures to it, and shares none through the store.
func TestInProcessValidatorTakesFailures(t *testing.T) {
	handed := make(chan *fractal.AttemptFailure, 8)
	e := startWith(t, failureSampler(handed), failing{refengine.New()})
	v := e.create(t, fmt.Sprintf(`{"prompt": "a green kite", %s}`, small))
	if done := e.wait(t, v.ID); done.Status != "failed" {
		t.Fatalf("job: %+v, want failed on its only miner", done)
	}
	select {
	case f := <-handed:
		if f.Miner.Hotkey != e.grid.Miners[0].Hotkey.SS58() || f.Reason != fractal.FailureJobFailed {
			t.Errorf("handed a failure of %s for %s, want the miner's job failure", f.Miner.Hotkey, f.Reason)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the failure was not handed to the validator in the process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if f, err := e.gw.Queue.(fractal.FailureLog).NextFailure(ctx, "validator"); err == nil {
		t.Errorf("shared %s through the store as well, want it handed over once", f.RequestID)
	}
}

// failureSampler is an in-process validator that only takes failures.
type failureSampler chan *fractal.AttemptFailure

func (failureSampler) Sample(context.Context, fractal.Neuron, fractal.Claim) {}

func (s failureSampler) SampleFailure(_ context.Context, f *fractal.AttemptFailure) { s <- f }

// TestFailureReasons: what a miner is blamed for, and what it is not: a
// refusal for load, in any form the miner's protocol carries it, is none.
func TestFailureReasons(t *testing.T) {
	overloaded := apierr.Miner.Err(apierr.Body{Code: "overloaded", Message: "queue full"}, 503, 0)
	for _, c := range []struct {
		name   string
		cause  error
		want   fractal.FailureReason
		shared bool
	}{
		{"queue full", &apierr.RetryAfterError{Err: fmt.Errorf("queue full (8 waiting, 1 running): %w", fractal.ErrOverloaded), After: time.Second}, "", false},
		{"answered 503 overloaded", fmt.Errorf("miner http://x: %w", overloaded), "", false},
		{"job event overloaded", fmt.Errorf("miner http://x: job failed: %w", overloaded), "", false},
		{"gateway stopping", fmt.Errorf("miner http://x: %w", context.Canceled), "", false},
		{"deadline", fmt.Errorf("miner http://x: %w", context.DeadlineExceeded), fractal.FailureTimeout, true},
		{"truncated stream", fmt.Errorf("miner http://x: %w: stream ended before the frames", minerapi.ErrStream), fractal.FailureStream, true},
		{"frames unlike the receipt", fmt.Errorf("frames: %w", fractal.ErrMismatch), fractal.FailureStream, true},
		{"unreachable", fmt.Errorf("miner http://x: %w: connection refused", fractal.ErrUnavailable), fractal.FailureUnavailable, true},
		{"refused the caller", fmt.Errorf("miner http://x: %w", fractal.ErrForbidden), fractal.FailureRefused, true},
		{"job failed", fmt.Errorf("miner http://x: job failed: %w", errors.New("out of GPU memory")), fractal.FailureJobFailed, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, shared := gateway.FailureReason(c.cause)
			if got != c.want || shared != c.shared {
				t.Errorf("got %q, shared %v; want %q, shared %v", got, shared, c.want, c.shared)
			}
		})
	}
}
