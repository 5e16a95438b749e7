package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// startPinned runs a gateway over miners of engines in which the router
// may choose only miners[routable]: every other miner is kept out of
// routing by its standing.
func startPinned(t *testing.T, routable int, engines ...fractal.Engine) *env {
	t.Helper()
	return startPinnedHook(t, routable, func(*gateway.Gateway) {}, engines...)
}

// startPinnedHook is startPinned with a change to the gateway before it
// opens.
func startPinnedHook(t *testing.T, routable int, hook func(*gateway.Gateway), engines ...fractal.Engine) *env {
	t.Helper()
	keep := testenv.Key(t, fmt.Sprintf("//Alice//miner%d", routable)).SS58() // as gridtest names its miners
	return startHook(t, func(gw *gateway.Gateway) {
		hook(gw)
		all := gw.Standings
		gw.Standings = fractal.StandingFunc(func(ctx context.Context) (map[string]fractal.Standing, error) {
			out, err := all.Standings(ctx)
			for hotkey := range out {
				if hotkey != keep {
					delete(out, hotkey)
				}
			}
			return out, err
		})
	}, engines...)
}

// challenge queues a challenge pinned to hotkey and returns its id.
func (e *env) challenge(t *testing.T, hotkey, prompt string) string {
	t.Helper()
	return e.challengeAt(t, hotkey, prompt, time.Now())
}

// challengeAt is challenge created at created, queued as a validator
// queues it: in the challenges' own queue.
func (e *env) challengeAt(t *testing.T, hotkey, prompt string, created time.Time) string {
	t.Helper()
	return e.challengeIn(t, e.gw.Queue.(fractal.ChallengeQueues).Challenges(), hotkey, prompt, created)
}

// challengeIn is challenge created at created and queued in q.
func (e *env) challengeIn(t *testing.T, q fractal.JobQueue, hotkey, prompt string, created time.Time) string {
	t.Helper()
	ctx := context.Background()
	id := "challenge-" + minerapi.NewRequestID()
	spec := fractal.Spec{Prompt: prompt, Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 6, Seed: 3, Profile: refengine.New().Profile().String()}
	if err := e.gw.Jobs.Create(ctx, fractal.NewChallenge(id, fractal.MinerRef{Hotkey: hotkey}, spec, 0, created)); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// ended waits for job id to reach a terminal status and returns it.
func (e *env) ended(t *testing.T, id string) *fractal.Job {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		j, err := e.gw.Jobs.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status.Terminal() {
			return j
		}
	}
	t.Fatalf("job %s did not end", id)
	return nil
}

// TestPinnedGoesToItsMiner: a challenge pinned to a miner the router would
// never choose runs there, once, and comes back to the validators as a
// challenge's sample: its job, the instant it was sent, and the claim of
// the request the miner saw. The API does not show it.
func TestPinnedGoesToItsMiner(t *testing.T) {
	e := startPinned(t, 1, refengine.New(), refengine.New())
	pinned := e.grid.Miners[0].Hotkey.SS58()
	before := time.Now()
	id := e.challenge(t, pinned, "a lighthouse in fog")
	job := e.ended(t, id)
	if job.Status != fractal.JobCompleted || len(job.Attempts) != 1 || job.Attempts[0].Miner.Hotkey != pinned {
		t.Fatalf("challenge %s with attempts %+v; want completed by the pinned miner %s alone", job.Status, job.Attempts, pinned)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := e.gw.Queue.(fractal.SampleLog).NextSample(ctx, "validator")
	if err != nil {
		t.Fatal(err)
	}
	a := job.Attempts[0]
	switch {
	case !s.Challenge || s.Job != id:
		t.Errorf("sample of job %q (challenge %v), want challenge %s", s.Job, s.Challenge, id)
	case s.Miner.Hotkey != pinned || s.Claim.RequestID != a.RequestID:
		t.Errorf("sample of %s, request %s; want %s's request %s", s.Miner.Hotkey, s.Claim.RequestID, pinned, a.RequestID)
	case s.Dispatched.Before(before) || s.Dispatched.Before(a.Started) || s.Dispatched.After(s.Finished):
		t.Errorf("sent at %s; want between the attempt's start %s and the end %s", s.Dispatched, a.Started, s.Finished)
	case len(s.Claim.RequestID) != len(minerapi.NewRequestID()):
		t.Errorf("request id %q, want one of the form users' jobs get", s.Claim.RequestID)
	}
	if _, err := e.gw.Blobs.Get(ctx, s.FramesKey); err != nil {
		t.Errorf("frames %s: %v", s.FramesKey, err)
	}
	if resp, body := e.do(t, "GET", "/v1/videos/"+id, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the API shows the challenge: %d %s", resp.StatusCode, body)
	}
	_, page := e.do(t, "GET", "/metrics", "", nil)
	if !strings.Contains(string(page), `fractal_gateway_challenges_total{status="completed"} 1`) || strings.Contains(string(page), `fractal_gateway_jobs_total{status="completed"}`) {
		t.Errorf("metrics count the challenge as a user's job, or not at all:\n%s", page)
	}
}

// TestPinnedFaultFailsIt: a challenge whose miner fails is not tried on the
// healthy miner the router would choose; its attempt is recorded as the
// miner's fault and the failure shared as a challenge's, with its reason,
// a refusal for load included.
func TestPinnedFaultFailsIt(t *testing.T) {
	for _, c := range []struct {
		name   string
		engine fractal.Engine
		want   fractal.FailureReason
	}{
		{"job failed", failing{refengine.New()}, fractal.FailureJobFailed},
		{"refused for load", busy{refengine.New()}, fractal.FailureOverloaded},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := startPinned(t, 1, c.engine, refengine.New())
			pinned := e.grid.Miners[0].Hotkey.SS58()
			id := e.challenge(t, pinned, "a red canoe")
			job := e.ended(t, id)
			if job.Status != fractal.JobFailed || outcomes(job) != "miner_fault" || job.Attempts[0].Miner.Hotkey != pinned {
				t.Fatalf("challenge %s with attempts %q on %+v; want failed after one miner fault of %s", job.Status, outcomes(job), job.Attempts, pinned)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			f, err := e.gw.Queue.(fractal.FailureLog).NextFailure(ctx, "validator")
			if err != nil {
				t.Fatal(err)
			}
			if !f.Challenge || f.Job != id || f.Reason != c.want || f.RequestID != job.Attempts[0].RequestID || f.Dispatched.IsZero() {
				t.Errorf("shared %+v; want challenge %s's %s failure of request %s with its dispatch time", f, id, c.want, job.Attempts[0].RequestID)
			}
		})
	}
}

// TestPinnedToNobodyIsNoAttempt: a challenge pinned to a hotkey that
// serves nothing fails before any miner is tried, so that no miner is
// blamed for it.
func TestPinnedToNobodyIsNoAttempt(t *testing.T) {
	e := startPinned(t, 0, refengine.New())
	id := e.challenge(t, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "a tin robot") // //Alice, registered as no miner
	job := e.ended(t, id)
	if job.Status != fractal.JobFailed || len(job.Attempts) != 0 {
		t.Fatalf("challenge %s with %d attempts (%s); want failed with none", job.Status, len(job.Attempts), job.Error)
	}
}

// TestStaleChallengeIsNotSent: a challenge queued longer ago than
// fractal.ChallengeQueueLimit (its validator stopped waiting) fails
// unsent, with no attempt on its miner.
func TestStaleChallengeIsNotSent(t *testing.T) {
	e := startPinned(t, 0, refengine.New())
	id := e.challengeAt(t, e.grid.Miners[0].Hotkey.SS58(), "a paper crane", time.Now().Add(-fractal.ChallengeQueueLimit-time.Second))
	job := e.ended(t, id)
	if job.Status != fractal.JobFailed || len(job.Attempts) != 0 {
		t.Fatalf("challenge %s with %d attempts (%s); want failed with none", job.Status, len(job.Attempts), job.Error)
	}
}

// TestChallengeFailureReasons: a challenge's failure is named as the
// validator names one it sent itself: a refusal for load counts, and
// frames unlike the receipt are a cheat, not a broken stream.
func TestChallengeFailureReasons(t *testing.T) {
	for _, c := range []struct {
		name  string
		cause error
		want  fractal.FailureReason
	}{
		{"queue full", &apierr.RetryAfterError{Err: fmt.Errorf("queue full: %w", fractal.ErrOverloaded), After: time.Second}, fractal.FailureOverloaded},
		{"deadline", fmt.Errorf("miner http://x: %w", context.DeadlineExceeded), fractal.FailureTimeout},
		{"frames unlike the receipt", fmt.Errorf("frames: %w", fractal.ErrMismatch), fractal.FailureFrames},
		{"truncated stream", fmt.Errorf("miner http://x: %w: stream ended", minerapi.ErrStream), fractal.FailureStream},
		{"unreachable", fmt.Errorf("miner http://x: %w", fractal.ErrUnavailable), fractal.FailureUnavailable},
		{"refused the caller", fmt.Errorf("miner http://x: %w", fractal.ErrUnauthorized), fractal.FailureRefused},
		{"job failed", errors.New("out of GPU memory"), fractal.FailureJobFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := gateway.ChallengeFailure(c.cause); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestChallengeHoldsNoDispatcher: with the replica's one dispatcher held by
// a user's job still generating, a challenge queued behind it is sent and
// completed at once: a sweep's challenges go out together however busy the
// dispatchers are.
func TestChallengeHoldsNoDispatcher(t *testing.T) {
	held := &gated{Engine: refengine.New(), started: make(chan struct{}, 4), release: make(chan struct{})}
	e := startPinnedHook(t, 0, func(gw *gateway.Gateway) { gw.Config.Dispatchers = 1 }, held, refengine.New())
	v := e.create(t, `{"prompt": "a slow river", `+small+`}`)
	select {
	case <-held.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the user's job never reached its miner")
	}
	id := e.challenge(t, e.grid.Miners[1].Hotkey.SS58(), "a kite over dunes")
	job := e.ended(t, id)
	close(held.release)
	if job.Status != fractal.JobCompleted {
		t.Fatalf("challenge %s (%s); want completed while the dispatcher was held", job.Status, job.Error)
	}
	if got := e.wait(t, v.ID); got.Status != "completed" {
		t.Errorf("the user's job ended %s (%+v), want completed once released", got.Status, got.Error)
	}
}

// TestPinnedInUsersQueue: a challenge queued with users' jobs, as a
// validator whose store has no queue of challenges queues it, still runs
// on its pinned miner alone.
func TestPinnedInUsersQueue(t *testing.T) {
	e := startPinned(t, 1, refengine.New(), refengine.New())
	pinned := e.grid.Miners[0].Hotkey.SS58()
	job := e.ended(t, e.challengeIn(t, e.gw.Queue, pinned, "a glass harbour", time.Now()))
	if job.Status != fractal.JobCompleted || len(job.Attempts) != 1 || job.Attempts[0].Miner.Hotkey != pinned {
		t.Fatalf("challenge %s with attempts %+v; want completed by the pinned miner %s alone", job.Status, job.Attempts, pinned)
	}
}
