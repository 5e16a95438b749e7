package miner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
)

// grid is a devchain subnet with a miner and callers of each kind.
type grid struct {
	chain     *devchain.Chain
	miner     *miner.Miner
	target    minerapi.Target
	validator *sr25519.Keypair // permit and stake
	poor      *sr25519.Keypair // registered, permit, no stake
	outsider  *sr25519.Keypair // not registered
	noPermit  *sr25519.Keypair // registered, stake, but outside the top-k
}

func newGrid(t testing.TB, eng fractal.Engine, mod func(*miner.Config)) *grid {
	t.Helper()
	ctx := context.Background()
	cfg := devchain.DefaultConfig()
	cfg.BlockTime = 0
	cfg.Subnet.MaxValidators = 2
	chain := devchain.New(cfg)
	if err := chain.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	alice := testenv.Key(t, "//Alice")
	g := &grid{
		chain:     chain,
		validator: testenv.Key(t, "//Alice//validator"),
		poor:      testenv.Key(t, "//Alice//poor"),
		outsider:  testenv.Key(t, "//Alice//outsider"),
		noPermit:  testenv.Key(t, "//Alice//nopermit"),
	}
	hot := testenv.Key(t, "//Alice//miner")
	for _, k := range []*sr25519.Keypair{g.validator, g.poor, g.noPermit, hot} {
		if err := chain.BurnedRegister(ctx, alice, 1, k.SS58()); err != nil {
			t.Fatal(err)
		}
	}
	// The top-2 stakes hold the permits: validator and poor (whose stake is
	// below the miner's minimum); the miner and noPermit fall outside.
	for hk, rao := range map[string]uint64{g.validator.SS58(): 1000 * fractal.RaoPerTAO, hot.SS58(): 500, g.poor.SS58(): 600, g.noPermit.SS58(): 10} {
		if err := chain.AddStake(ctx, alice, 1, hk, rao); err != nil {
			t.Fatal(err)
		}
	}
	m := miner.New()
	m.Config.NetUID = 1
	m.Config.Addr = "127.0.0.1:0"
	m.Config.MinStake = fractal.RaoPerTAO
	m.Config.DrainTimeout = 5 * time.Second
	if mod != nil {
		mod(&m.Config)
	}
	m.Engine, m.Hotkey, m.Chain, m.Logger = eng, hot, chain, gridtest.Logger(t)
	if err := m.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	g.miner = m
	g.target = minerapi.Target{URL: "http://" + m.Addr(), Hotkey: hot.SS58()}
	return g
}

func client(k fractal.Signer) *minerapi.Client {
	return &minerapi.Client{HTTP: &http.Client{Transport: &epistula.Transport{Signer: k}}}
}

func smallSpec(prompt string, seed uint64) fractal.Spec {
	return fractal.Spec{Prompt: prompt, Seed: seed, Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 6}
}

func TestGenerateMatchesLocalEngine(t *testing.T) {
	eng := refengine.New()
	g := newGrid(t, eng, nil)
	spec := smallSpec("a red ball bouncing over the ocean at night", 42)
	var events []string
	var steps []int
	out, err := client(g.validator).Generate(context.Background(), g.target, minerapi.GenerateRequest{RequestID: "job-1", Spec: spec}, func(e minerapi.Event) {
		if e.Type == minerapi.EventProgress {
			steps = append(steps, e.Step)
			if len(events) > 0 && events[len(events)-1] == e.Type {
				return // one entry for a run of progress events
			}
		}
		events = append(events, e.Type)
	})
	if err != nil {
		t.Fatal(err)
	}
	local, err := eng.Generate(context.Background(), spec, fractal.GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.Result.Receipt.Commitment, local.Commit(); got != want {
		t.Errorf("commitment %+v, want the local engine's %+v", got, want)
	}
	if got, want := out.Frames.Digest(), local.Frames.Digest(); got != want {
		t.Errorf("frames digest %s, want %s", got, want)
	}
	want := []string{"accepted", "started", "progress", "result", "frames"}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", events, want)
	}
	// Progress may skip steps (at most one event per interval), never
	// goes back, and always reports the last step.
	if len(steps) == 0 || steps[len(steps)-1] != spec.Steps || !slices.IsSorted(steps) || len(slices.Compact(slices.Clone(steps))) != len(steps) {
		t.Errorf("progress steps %v, want increasing steps ending at %d", steps, spec.Steps)
	}
	var v sr25519.Verifier
	if err := out.Result.Receipt.Verify(&v); err != nil {
		t.Errorf("receipt: %v", err)
	}
	if out.Result.Receipt.Miner != g.target.Hotkey {
		t.Errorf("receipt miner %s, want %s", out.Result.Receipt.Miner, g.target.Hotkey)
	}

	// Opened states recompute with Step and their proofs verify.
	resp, err := client(g.validator).Open(context.Background(), g.target, minerapi.OpenRequest{RequestID: "job-1", Steps: []int{1, 3, 6}})
	if err != nil {
		t.Fatal(err)
	}
	root := out.Result.Receipt.Commitment.TrajectoryRoot
	for _, o := range resp.Openings {
		prev, err := o.Prev.State(1 << 24)
		if err != nil {
			t.Fatal(err)
		}
		cur, _ := o.State.State(1 << 24)
		if err := o.PrevProof.Verify(root, prev.Digest()); err != nil {
			t.Errorf("step %d: prev proof: %v", o.Step, err)
		}
		if err := o.Proof.Verify(root, cur.Digest()); err != nil {
			t.Errorf("step %d: proof: %v", o.Step, err)
		}
		next, err := eng.Step(context.Background(), spec, o.Step, prev)
		if err != nil {
			t.Fatal(err)
		}
		if next.Digest() != cur.Digest() {
			t.Errorf("step %d does not recompute", o.Step)
		}
	}

	// Another validator cannot open this caller's job; a repeated id conflicts.
	if _, err := client(g.poor).Open(context.Background(), g.target, minerapi.OpenRequest{RequestID: "job-1", Steps: []int{1}}); err == nil {
		t.Error("open by another caller succeeded")
	}
	_, err = client(g.validator).Generate(context.Background(), g.target, minerapi.GenerateRequest{RequestID: "job-1", Spec: spec}, nil)
	if !errors.Is(err, fractal.ErrConflict) {
		t.Errorf("repeated job id: got %v, want ErrConflict", err)
	}
}

func TestAdmission(t *testing.T) {
	g := newGrid(t, refengine.New(), nil)
	body, _ := json.Marshal(minerapi.GenerateRequest{RequestID: "j", Spec: smallSpec("a cube", 1)})
	url := g.target.URL + minerapi.PathGenerate
	signed := func(k fractal.Signer, signedFor string, body []byte, at time.Time) http.Header {
		h, err := epistula.Sign(k, body, signedFor, at)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	replayed := signed(g.validator, g.target.Hotkey, body, time.Now())
	post := func(h http.Header, b []byte) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := post(replayed, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("first signed request: status %d, want 200", resp.StatusCode)
	}
	for _, tc := range []struct {
		name   string
		header http.Header
		body   []byte
		want   int
	}{
		{"unsigned", http.Header{}, body, 401},
		{"replayed", replayed, body, 401},
		{"stale", signed(g.validator, g.target.Hotkey, body, time.Now().Add(-time.Minute)), body, 401},
		{"wrong signed-for", signed(g.validator, g.poor.SS58(), body, time.Now()), body, 401},
		{"tampered body", signed(g.validator, g.target.Hotkey, body, time.Now()), append([]byte(" "), body...), 401},
		{"not registered", signed(g.outsider, g.target.Hotkey, body, time.Now()), body, 403},
		{"no permit", signed(g.noPermit, g.target.Hotkey, body, time.Now()), body, 403},
		{"below min stake", signed(g.poor, g.target.Hotkey, body, time.Now()), body, 403},
		{"too large", signed(g.validator, g.target.Hotkey, bytes.Repeat([]byte(" "), 70<<10), time.Now()), bytes.Repeat([]byte(" "), 70<<10), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(tc.header, tc.body).StatusCode; got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
	// A signed request with a bad spec names the field.
	_, err := client(g.validator).Generate(context.Background(), g.target, minerapi.GenerateRequest{RequestID: "k", Spec: fractal.Spec{Prompt: "x", Width: 64, Height: 64, FPS: 8, Steps: 2}}, nil)
	if !errors.Is(err, fractal.ErrInvalid) || !strings.Contains(err.Error(), "frames") {
		t.Errorf("bad spec: got %v, want ErrInvalid naming frames", err)
	}
}

// gate is an engine whose Generate blocks until released, to fill queues.
type gate struct {
	fractal.Engine
	started chan struct{}
	release chan struct{}
	stopped chan error
}

func (g *gate) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	g.started <- struct{}{}
	select {
	case <-g.release:
		return g.Engine.Generate(ctx, spec, opts)
	case <-ctx.Done():
		g.stopped <- ctx.Err()
		return nil, ctx.Err()
	}
}

func TestQueueFullAndCancel(t *testing.T) {
	eng := &gate{Engine: refengine.New(), started: make(chan struct{}, 4), release: make(chan struct{}), stopped: make(chan error, 4)}
	g := newGrid(t, eng, func(c *miner.Config) { c.Concurrency, c.QueueLimit = 1, 1 })
	cl := client(g.validator)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = cl.Generate(ctx, g.target, minerapi.GenerateRequest{RequestID: fmt.Sprint("q", i), Spec: smallSpec("a cube", uint64(i))}, nil)
		}()
		if i == 0 {
			<-eng.started
		}
	}
	// Wait for the second to be queued.
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, err := cl.Health(context.Background(), g.target)
		if err != nil {
			t.Fatal(err)
		}
		if h.QueueDepth == 1 && h.InFlight == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue never filled: %+v", h)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err := cl.Generate(context.Background(), g.target, minerapi.GenerateRequest{RequestID: "q3", Spec: smallSpec("a cube", 3)}, nil)
	var ra *apierr.RetryAfterError
	if !errors.Is(err, fractal.ErrOverloaded) || !errors.As(err, &ra) || ra.After < time.Second {
		t.Errorf("full queue: got %v, want ErrOverloaded with Retry-After", err)
	}
	// The callers disconnect: the running job's engine work stops.
	cancel()
	select {
	case err := <-eng.stopped:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("engine stopped with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("engine work was not cancelled when the caller went away")
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			t.Errorf("caller %d: got nil error after cancelling", i)
		}
	}
	// The miner is free again.
	deadline = time.Now().Add(5 * time.Second)
	for {
		h, _ := cl.Health(context.Background(), g.target)
		if h.QueueDepth == 0 && h.InFlight == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slots not released: %+v", h)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAxonPublished(t *testing.T) {
	g := newGrid(t, refengine.New(), nil)
	mg, err := g.chain.Metagraph(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	n, ok := mg.ByHotkey(g.target.Hotkey)
	if !ok {
		t.Fatal("miner not in metagraph")
	}
	if got := "http://" + n.Axon.AddrPort().String(); got != g.target.URL {
		t.Errorf("axon %s, want %s", got, g.target.URL)
	}
}
