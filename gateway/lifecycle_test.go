package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/refengine"
)

// TestCancelSendsWebhook cancels a queued job: its webhook gets a signed
// video.cancelled, like the other terminal events.
func TestCancelSendsWebhook(t *testing.T) {
	e := start(t) // no miners: the job stays queued
	got := make(chan *http.Request, 1)
	bodies := make(chan []byte, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer hook.Close()
	v := e.create(t, fmt.Sprintf(`{"prompt": "a grey owl blinking", "webhook_url": %q, %s}`, hook.URL, small))
	if resp, b := e.do(t, "POST", "/v1/videos/"+v.ID+"/cancel", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %d %s", resp.StatusCode, b)
	}
	select {
	case r := <-got:
		body := <-bodies
		var ev struct {
			Type string
			Data gateway.Video
		}
		json.Unmarshal(body, &ev)
		if ev.Type != "video.cancelled" || ev.Data.ID != v.ID || ev.Data.Status != "failed" || ev.Data.Error == nil || ev.Data.Error.Code != "cancelled" {
			t.Errorf("webhook %s, want video.cancelled for %s", body, v.ID)
		}
		if !verifySignature(r.Header.Get(gateway.HeaderSignature), e.key, body) {
			t.Error("webhook signature does not verify with the key's secret")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook after cancel")
	}
}

// verifySignature checks a Fractal-Signature header as an app would.
func verifySignature(header, apiKey string, body []byte) bool {
	var ts int64
	var mac string
	if _, err := fmt.Sscanf(header, "t=%d,v1=%s", &ts, &mac); err != nil {
		return false
	}
	return gateway.WebhookSignature([]byte(gateway.WebhookSecret(apiKey)), time.Unix(ts, 0), body) == header
}

// TestAttemptHistory runs a job on a failing miner and then a healthy one:
// the job records both attempts in order, with the request ids the miners
// saw and their outcomes, and one Started, the first attempt's. The healthy
// miner is withheld from routing until the failing one has failed, so the
// order does not depend on the router's draw.
func TestAttemptHistory(t *testing.T) {
	handed := make(chan fractal.Claim, 8)
	organic := fractal.SamplerFunc(func(ctx context.Context, n fractal.Neuron, c fractal.Claim) {
		handed <- c
	})
	// The failing miner lets the healthy one into routing and fails only
	// once the gateway may route to it, so the retry finds it.
	e := startFirstOn(t, failing{refengine.New()}, func(gw *gateway.Gateway) { gw.Sampler = organic })
	healthy := testenv.Key(t, "//Alice//miner1").SS58() // the second miner started
	v := e.create(t, fmt.Sprintf(`{"prompt": "a brown horse running", %s}`, small))
	if done := e.wait(t, v.ID); done.Status != "completed" {
		t.Fatalf("job: %+v, want completed", done)
	}
	req := <-handed
	job, err := e.gw.Jobs.Get(context.Background(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(job); got != "miner_fault completed" {
		t.Fatalf("outcomes %q, want a miner fault then completed", got)
	}
	first, second := job.Attempts[0], job.Attempts[1]
	if first.N != 1 || second.N != 2 || first.RequestID == second.RequestID || first.Miner == second.Miner || second.Miner.Hotkey != healthy {
		t.Fatalf("attempts %+v, want two numbered attempts, the second on %s, with their own request ids", job.Attempts, healthy)
	}
	if second.RequestID != req.RequestID || job.ResultAttempt != 2 || job.Miner.Hotkey != second.Miner.Hotkey {
		t.Errorf("result from attempt %d on %s, request %s; want attempt 2 on %s, the request the miner saw (%s)",
			job.ResultAttempt, job.Miner.Hotkey, second.RequestID, second.Miner.Hotkey, req.RequestID)
	}
	if !job.Started.Equal(first.Started) || first.Ended.IsZero() || first.Error == "" || second.Started.Before(first.Ended) {
		t.Errorf("job started %v, attempts %+v; want the first attempt's start and the attempts in order", job.Started, job.Attempts)
	}
}

// reporting is an engine that calls called on every generation.
type reporting struct {
	fractal.Engine
	called func()
}

func (r reporting) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	r.called()
	return r.Engine.Generate(ctx, spec, opts)
}

// flakyJobs is a job store that is unavailable while down is set, as
// JetStream is during a leader election.
type flakyJobs struct {
	fractal.JobStore
	down   atomic.Bool
	faults atomic.Int64
}

func (s *flakyJobs) fault() error {
	if s.down.Load() {
		s.faults.Add(1)
		return fmt.Errorf("JetStream system temporarily unavailable: %w", fractal.ErrUnavailable)
	}
	return nil
}

func (s *flakyJobs) Get(ctx context.Context, id string) (*fractal.Job, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.JobStore.Get(ctx, id)
}

func (s *flakyJobs) Update(ctx context.Context, id string, fn func(*fractal.Job) error) (*fractal.Job, error) {
	if err := s.fault(); err != nil {
		return nil, err
	}
	return s.JobStore.Update(ctx, id, fn)
}

// gated is an engine that blocks each generation until released.
type gated struct {
	fractal.Engine
	started chan struct{}
	release chan struct{}
	runs    atomic.Int64
}

func (e *gated) Generate(ctx context.Context, s fractal.Spec, o fractal.GenerateOptions) (*fractal.Result, error) {
	e.runs.Add(1)
	e.started <- struct{}{}
	select {
	case <-e.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return e.Engine.Generate(ctx, s, o)
}

// TestStoreOutageIsNoMinerFault makes the job store unavailable while a
// miner generates and until after it delivered: the dispatcher holds the
// result, waits for the store, and completes the job from that one run;
// the miner is not charged and nothing else is tried.
func TestStoreOutageIsNoMinerFault(t *testing.T) {
	var jobs *flakyJobs
	eng := &gated{Engine: refengine.New(), started: make(chan struct{}, 4), release: make(chan struct{})}
	e := startHook(t, func(gw *gateway.Gateway) {
		jobs = &flakyJobs{JobStore: gw.Jobs}
		gw.Jobs = jobs
	}, eng)
	v := e.create(t, `{"prompt": "a silver train crossing a bridge", `+small+`}`)
	select {
	case <-eng.started:
	case <-time.After(20 * time.Second):
		t.Fatal("the miner never started")
	}
	miner := e.grid.Miners[0].Hotkey.SS58()
	before, _ := e.gw.Grid().View(miner)
	jobs.down.Store(true)
	close(eng.release) // the result arrives while the store is down
	time.Sleep(2 * time.Second)
	jobs.down.Store(false)
	done := e.wait(t, v.ID)
	if done.Status != "completed" || done.Attempts != 1 || eng.runs.Load() != 1 {
		t.Fatalf("got %s after %d attempts and %d runs (%s), want completed from the one run", done.Status, done.Attempts, eng.runs.Load(), done.Error)
	}
	if jobs.faults.Load() == 0 {
		t.Fatal("the store never refused a call: the test did not test an outage")
	}
	after, _ := e.gw.Grid().View(miner)
	if after.Success < before.Success || after.Breaker != before.Breaker || after.Outstanding != 0 || after.Booked != 0 {
		t.Errorf("miner after the outage: success %.3f (was %.3f), breaker %v (was %v), %d in flight with %g work; want it untouched and nothing booked",
			after.Success, before.Success, after.Breaker, before.Breaker, after.Outstanding, after.Booked)
	}
}

// TestFeedWakesWaiters checks that event streams and Prefer: wait are woken
// by the job's changes, and that their subscriptions end with them.
func TestFeedWakesWaiters(t *testing.T) {
	eng := &gated{Engine: refengine.New(), started: make(chan struct{}, 4), release: make(chan struct{})}
	e := start(t, eng)
	v := e.create(t, `{"prompt": "a red kite", `+small+`}`)
	var wg sync.WaitGroup
	var waited gateway.Video
	wg.Go(func() {
		resp, b := e.do(t, "GET", "/v1/videos/"+v.ID+"/events", "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("events: %d", resp.StatusCode)
		}
		_ = b
	})
	wg.Go(func() {
		_, b := e.do(t, "POST", "/v1/videos", `{"prompt": "a red kite", `+small+`}`, map[string]string{"Prefer": "wait=30"})
		json.Unmarshal(b, &waited)
	})
	<-eng.started
	start := time.Now()
	close(eng.release)
	wg.Wait()
	if waited.Status != "completed" {
		t.Errorf("Prefer: wait answered %s, want completed", waited.Status)
	}
	// Two generations of a tiny spec; a woken waiter answers well before
	// the one-in-ten-seconds safety read.
	if el := time.Since(start); el > 8*time.Second {
		t.Errorf("waiters answered %v after the result, want them woken by the feed", el)
	}
	if n := e.gw.Subscribers(); n != 0 {
		t.Errorf("%d subscriptions left after the waiters returned, want 0", n)
	}
}

// brokenJobs is a job store whose reads fail with an error no table names.
type brokenJobs struct{ fractal.JobStore }

func (brokenJobs) Get(context.Context, string) (*fractal.Job, error) {
	return nil, fmt.Errorf("decode job: unexpected end of JSON input at /var/lib/fractal/jobs")
}

// TestInternalErrorHidden checks that an unexpected error answers 500 with
// a request id and no internal text, and that the log holds the cause
// under the same id.
func TestInternalErrorHidden(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	e := startHook(t, func(gw *gateway.Gateway) {
		gw.Jobs = brokenJobs{gw.Jobs}
		gw.Logger = slog.New(slog.NewJSONHandler(&lockedBuffer{b: &logs, mu: &mu}, nil))
	})
	resp, b := e.do(t, "GET", "/v1/videos/vid_123", "", nil)
	var body struct {
		Error struct {
			Code, Message string
			RequestID     string `json:"request_id"`
		}
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	if resp.StatusCode != http.StatusInternalServerError || body.Error.Code != "internal" || body.Error.Message != "internal error" || body.Error.RequestID == "" {
		t.Fatalf("got %d %s, want 500 internal error with a request id", resp.StatusCode, b)
	}
	if bytes.Contains(b, []byte("/var/lib")) || bytes.Contains(b, []byte("JSON")) {
		t.Errorf("reply %s leaks the internal error", b)
	}
	if got := resp.Header.Get("X-Request-Id"); got != body.Error.RequestID {
		t.Errorf("X-Request-Id %q, want the body's %q", got, body.Error.RequestID)
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for line := range bytes.Lines(logs.Bytes()) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) == nil && rec["request_id"] == body.Error.RequestID {
			found = bytes.Contains(line, []byte("/var/lib/fractal/jobs"))
		}
	}
	if !found {
		t.Errorf("no log line holds the cause under request id %s; log:\n%s", body.Error.RequestID, logs.String())
	}
}

type lockedBuffer struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
