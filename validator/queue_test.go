package validator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// queuedValidator opens a validator whose challenges go through st's job
// queue; mod changes its configuration before it opens.
func queuedValidator(t *testing.T, g *gridtest.Grid, st *jetstream.Store, mod func(*validator.Config)) *validator.Validator {
	t.Helper()
	v := openValidator(t, g, st, func(v *validator.Validator) {
		v.Config.PerRound = len(g.Miners)
		v.Config.ChallengePath = validator.ChallengeQueue
		if mod != nil {
			mod(&v.Config)
		}
		v.Jobs, v.Queue, v.Samples, v.Blobs = st.Jobs(), st.Queue(), st.Queue(), st.Blobs()
	})
	t.Cleanup(func() { v.Close() })
	return v
}

// openDispatcher opens a gateway replica over st that dispatches the
// queue's jobs, signing with the validator's hotkey; mod changes it
// before it opens.
func openDispatcher(t *testing.T, g *gridtest.Grid, st *jetstream.Store, mod func(*gateway.Gateway)) *gateway.Gateway {
	t.Helper()
	kv, err := st.KV(context.Background(), "gateway", 0)
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New()
	gw.Config.AllowPrivateAxons, gw.Config.Dispatchers = true, 4
	gw.Jobs, gw.Queue, gw.Blobs, gw.KV = st.Jobs(), st.Queue(), st.Blobs(), kv
	gw.Chain, gw.Hotkey, gw.Logger = g.Chain, g.Validator, gridtest.Logger(t)
	gw.Standings = fractal.StandingFunc(func(context.Context) (map[string]fractal.Standing, error) {
		return map[string]fractal.Standing{}, nil
	})
	if mod != nil {
		mod(gw)
	}
	if err := gw.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return gw
}

// statsByHotkey returns the validator's statistics by hotkey.
func statsByHotkey(v *validator.Validator) map[string]validator.Stats {
	out := map[string]validator.Stats{}
	for _, s := range v.Stats() {
		out[s.Hotkey] = s
	}
	return out
}

// TestQueuedChallengesAreScored: challenges dispatched by a gateway replica
// from the queue pass for an honest miner, catch a lazy one, and count a
// miner's failure against it, as the same challenges sent directly would.
func TestQueuedChallengesAreScored(t *testing.T) {
	g := gridtest.New(t)
	honest := g.AddMiner(t, refengine.New(), nil)
	cheat := g.AddMiner(t, gridtest.Lazy{Engine: refengine.New()}, nil)
	broken := g.AddMiner(t, failing{refengine.New()}, nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	openDispatcher(t, g, st, nil)
	v := queuedValidator(t, g, st, func(c *validator.Config) { c.SharedProb = 1 }) // cross-checks: one request, two miners
	ctx := context.Background()
	const rounds = 2
	for range rounds {
		if n := v.Round(ctx); n != 3 {
			t.Fatalf("round sent %d challenges, want 3", n)
		}
	}
	stats := statsByHotkey(v)
	if s := stats[honest.Hotkey.SS58()]; s.Passed != rounds || s.Failed != 0 {
		t.Errorf("honest miner: %+v, want %d passed", s, rounds)
	}
	if s := stats[cheat.Hotkey.SS58()]; s.Cheats != rounds || s.Passed != 0 {
		t.Errorf("lazy miner: %+v, want %d caught", s, rounds)
	}
	if s := stats[broken.Hotkey.SS58()]; s.Failed != rounds || s.Cheats != 0 || s.LastReason != validator.ReasonJobFailed {
		t.Errorf("failing miner: %+v, want %d failures for %q and no cheat", s, rounds, validator.ReasonJobFailed)
	}
}

// failing is an engine whose every generation fails.
type failing struct{ fractal.Engine }

func (failing) Generate(context.Context, fractal.Spec, fractal.GenerateOptions) (*fractal.Result, error) {
	return nil, errors.New("out of GPU memory")
}

// TestQueuedInfrastructureFaultIsNoVerdict: a challenge the replica could
// not send (its miner is not one it may reach) fails with no attempt, and
// the miner gets no verdict.
func TestQueuedInfrastructureFaultIsNoVerdict(t *testing.T) {
	g := gridtest.New(t)
	g.AddMiner(t, refengine.New(), nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	openDispatcher(t, g, st, func(gw *gateway.Gateway) { gw.Config.AllowPrivateAxons = false })
	v := queuedValidator(t, g, st, nil)
	if n := v.Round(context.Background()); n != 1 {
		t.Fatalf("round sent %d challenges, want 1", n)
	}
	if s := v.Stats(); len(s) != 0 {
		t.Errorf("stats %+v, want none: the gateway's fault is nobody's", s)
	}
	wantChallenges(t, st, fractal.JobFailed, 1)
}

// TestQueuedWithoutReplicaIsNoVerdict: a challenge no replica takes within
// QueueWait is cancelled, so that no replica sends it later, and gets no
// verdict.
func TestQueuedWithoutReplicaIsNoVerdict(t *testing.T) {
	g := gridtest.New(t)
	g.AddMiner(t, refengine.New(), nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	v := queuedValidator(t, g, st, func(c *validator.Config) { c.QueueWait = 100 * time.Millisecond })
	if n := v.Round(context.Background()); n != 1 {
		t.Fatalf("round sent %d challenges, want 1", n)
	}
	if s := v.Stats(); len(s) != 0 {
		t.Errorf("stats %+v, want none with no replica to dispatch", s)
	}
	wantChallenges(t, st, fractal.JobCancelled, 1)
}

// wantChallenges checks that the store holds n challenges, all in status.
func wantChallenges(t *testing.T, st *jetstream.Store, status fractal.JobStatus, n int) {
	t.Helper()
	jobs, _, err := st.Jobs().List(context.Background(), fractal.ChallengeOwner, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, fmt.Sprintf("%s %s", j.Status, j.Error))
	}
	if len(jobs) != n {
		t.Fatalf("challenges %q, want %d %s", got, n, status)
	}
	for _, j := range jobs {
		if j.Status != status {
			t.Errorf("challenges %q, want every one %s", got, status)
		}
	}
}

// TestQueuePathNeedsTheStore: the queue path refuses to open without the
// job store and queue that carry challenges, or without failures coming
// back.
func TestQueuePathNeedsTheStore(t *testing.T) {
	g := gridtest.New(t)
	st := openStore(t, t.TempDir())
	defer st.Close()
	kv, err := st.KV(context.Background(), "validator", 0)
	if err != nil {
		t.Fatal(err)
	}
	v := validator.New()
	v.Config.NetUID, v.Config.ChallengePath = gridtest.NetUID, validator.ChallengeQueue
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit, v.Words = refengine.New(), g.Validator, g.Chain, kv, st.Audit(), refengine.Words()
	v.Samples, v.Blobs = st.Queue(), st.Blobs()
	if err := v.Open(context.Background()); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("opened with no job store or queue: %v, want %v", err, fractal.ErrInvalid)
	}
}

// slow is an engine that starts each generation after d, or gives up when
// its caller does.
type slow struct {
	fractal.Engine
	d time.Duration
}

func (s slow) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	select {
	case <-time.After(s.d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Engine.Generate(ctx, spec, opts)
}

// TestQueuedChallengeKeepsItsDeadline: the replica holds the miner to the
// validator's deadline, not its own longer one, and the miner that misses
// it is scored a timeout, as on the direct path.
func TestQueuedChallengeKeepsItsDeadline(t *testing.T) {
	g := gridtest.New(t)
	late := g.AddMiner(t, slow{refengine.New(), 3 * time.Second}, nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	openDispatcher(t, g, st, nil)
	v := queuedValidator(t, g, st, func(c *validator.Config) { c.ChallengeTimeout, c.SecsPerCost = 300*time.Millisecond, 0 })
	if n := v.Round(context.Background()); n != 1 {
		t.Fatalf("round sent %d challenges, want 1", n)
	}
	if s := statsByHotkey(v)[late.Hotkey.SS58()]; s.Failed != 1 || s.LastReason != validator.ReasonTimeout || s.Cheats != 0 {
		t.Errorf("slow miner: %+v, want one %q and no cheat", s, validator.ReasonTimeout)
	}
}

// TestStrayChallengeEndIsNotAUsersJob: the failure of a challenge nobody
// waits for (sent before a restart) is dropped, not counted as a user's
// job's: a user's failure shared after it is the only one counted.
func TestStrayChallengeEndIsNotAUsersJob(t *testing.T) {
	g := gridtest.New(t)
	m := g.AddMiner(t, refengine.New(), nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	openDispatcher(t, g, st, nil)
	v := queuedValidator(t, g, st, nil)
	ctx := context.Background()
	v.Round(ctx) // loads the metagraph; the challenge passes
	mg, err := g.Chain.Metagraph(ctx, gridtest.NetUID)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := mg.ByHotkey(m.Hotkey.SS58())
	stray := &fractal.AttemptFailure{Miner: n, RequestID: "stray", Reason: fractal.FailureJobFailed, Cost: 1, Failed: time.Now(),
		Challenge: true, Job: "challenge-from-before-a-restart", Dispatched: time.Now()}
	user := &fractal.AttemptFailure{Miner: n, RequestID: "users", Reason: fractal.FailureJobFailed, Cost: 1, Failed: time.Now()}
	for _, f := range []*fractal.AttemptFailure{stray, user} {
		if err := st.Queue().PublishFailure(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	// The failures are taken in order: once the user's is in the audit
	// log, the stray one was taken before it.
	audited := map[string]bool{}
	for deadline := time.Now().Add(30 * time.Second); !audited["users"] && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		recs, err := st.Audit().Read(ctx, "", 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			var rec validator.Record
			if err := json.Unmarshal(r.Data, &rec); err != nil {
				t.Fatal(err)
			}
			audited[rec.RequestID] = true
		}
	}
	if !audited["users"] || audited["stray"] {
		t.Errorf("audited requests %v: want the user's failure and not the stray challenge's", audited)
	}
	if s := statsByHotkey(v)[n.Hotkey]; s.Failed != 1 || s.Passed != 1 {
		t.Errorf("miner: %+v, want its challenge passed and only the user's failure counted", s)
	}
}
