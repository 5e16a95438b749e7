// Package e2e holds end-to-end tests that run several roles of a grid
// over one real embedded NATS JetStream store.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/validator"
)

// TestChallengesTravelTheUsersPath runs a validator whose challenges go
// through the store's job queue and a gateway replica, in another role,
// that dispatches them along with a user's job. The miners' own request
// logs show every request, challenge or user's, signed by the same hotkey
// with a request id of the same form, each challenge's being the one the
// replica made; the honest miner is scored and the lazy one caught.
func TestChallengesTravelTheUsersPath(t *testing.T) {
	ctx := context.Background()
	requests := &requestLog{}
	e := openEnv(t, slog.New(requests))
	honest, err := e.sub.AddMiner(ctx, testenv.Key(t, "//Alice//miner0"), refengine.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cheat, err := e.sub.AddMiner(ctx, testenv.Key(t, "//Alice//miner1"), gridtest.Lazy{Engine: refengine.New()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gw := e.replica(t)
	v := e.validator(t, validator.ChallengeQueue)
	st, vkey := e.st, e.vkey
	const rounds = 2
	for range rounds {
		if n := v.Round(ctx); n != 2 {
			t.Fatalf("round sent %d challenges, want 2", n)
		}
	}
	stats := map[string]validator.Stats{}
	for _, s := range v.Stats() {
		stats[s.Hotkey] = s
	}
	if s := stats[honest.Hotkey.SS58()]; s.Passed != rounds || s.Failed != 0 {
		t.Errorf("honest miner: %+v, want %d passed", s, rounds)
	}
	if s := stats[cheat.Hotkey.SS58()]; s.Cheats != rounds || s.Passed != 0 {
		t.Errorf("lazy miner: %+v, want %d caught", s, rounds)
	}

	user := userJob(t, gw, `{"prompt": "a kite over the dunes", "size": "64x64", "frames": 4, "steps": 6}`)
	challenges, _, err := st.Jobs().List(ctx, fractal.ChallengeOwner, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(challenges) != 2*rounds {
		t.Fatalf("the store holds %d challenges, want %d", len(challenges), 2*rounds)
	}
	sent := map[string]string{} // request id → what it was
	for _, j := range append(challenges, user) {
		what := "challenge " + j.ID
		if j == user {
			what = "the user's job"
		}
		if len(j.Attempts) != 1 {
			t.Fatalf("%s has %d attempts, want 1", what, len(j.Attempts))
		}
		sent[j.Attempts[0].RequestID] = what
	}
	seen := requests.all()
	for id, what := range sent {
		caller, ok := seen[id]
		switch {
		case !ok:
			t.Errorf("%s: request %s is not in any miner's log", what, id)
		case caller != vkey.SS58():
			t.Errorf("%s: signed by %s, want the validator's hotkey %s", what, caller, vkey.SS58())
		case !requestIDForm.MatchString(id):
			t.Errorf("%s: request id %q, want %s", what, id, requestIDForm)
		}
	}
	if len(seen) != len(sent) {
		t.Errorf("the miners saw %d requests, want the %d the replica sent: %v", len(seen), len(sent), seen)
	}
}

// env is a dev subnet and one embedded store that the roles share.
type env struct {
	sub   *localgrid.Subnet
	chain localgrid.DevChain
	st    *jetstream.Store
	kv    fractal.KV
	vkey  *sr25519.Keypair
}

// openEnv opens a dev subnet whose miners log to minerLog, and a store.
func openEnv(tb testing.TB, minerLog *slog.Logger) *env {
	tb.Helper()
	ctx := context.Background()
	vkey := testenv.Key(tb, "//Alice//validator")
	sub, chain, err := localgrid.OpenDevSubnet(ctx, vkey, minerLog)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sub.Close() })
	st, err := jetstream.Open(ctx, jetstream.DefaultConfig(tb.TempDir()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	kv, err := st.KV(ctx, jetstream.SharedKV, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{sub: sub, chain: chain, st: st, kv: kv, vkey: vkey}
}

// replica opens a gateway replica over the store: its own process in
// production, on the validator's wallet, routing users' jobs by the
// standings the validator publishes.
func (e *env) replica(tb testing.TB) *gateway.Gateway {
	tb.Helper()
	gw := gateway.New()
	gw.Config.Replica, gw.Config.AllowPrivateAxons, gw.Config.ProbeInterval = "replica", true, 100*time.Millisecond
	gw.Jobs, gw.Queue, gw.Blobs, gw.KV = e.st.Jobs(), e.st.Queue(), e.st.Blobs(), e.kv
	gw.Chain, gw.Hotkey, gw.Logger = e.chain, e.vkey, testenv.Logger(tb, slog.LevelWarn)
	if err := gw.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { gw.Close() })
	if err := gw.Serve("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	return gw
}

// validator opens a validator that challenges every miner each round,
// over path.
func (e *env) validator(tb testing.TB, path string) *validator.Validator {
	tb.Helper()
	v := validator.New()
	v.Config.NetUID, v.Config.AllowPrivateAxons, v.Config.PerRound, v.Config.SharedProb = localgrid.DevNetUID, true, len(e.sub.Miners()), 0
	v.Config.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 6}}
	v.Config.ChallengeTimeout = 10 * time.Second
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), e.vkey, e.chain, e.kv, e.st.Audit()
	v.Words, v.Logger = refengine.Words(), testenv.Logger(tb, slog.LevelWarn)
	if path == validator.ChallengeQueue {
		localgrid.QueueChallenges(v, e.st)
	}
	if err := v.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// requestIDForm is the form of every request id a gateway sends.
var requestIDForm = regexp.MustCompile(`^[a-z2-7]{26}$`)

// userJob submits body to gw's API as a user and returns the job once it
// completed.
func userJob(t *testing.T, gw *gateway.Gateway, body string) *fractal.Job {
	t.Helper()
	ctx := context.Background()
	_, key, err := gw.Keys().Create(ctx, "user", 100, 100, 8)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "http://"+gw.Addr()+"/v1/videos", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created gateway.Video
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create: %d %v", resp.StatusCode, err)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		j, err := gw.Jobs.Get(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status.Terminal() {
			if j.Status != fractal.JobCompleted {
				t.Fatalf("the user's job %s: %s", j.Status, j.Error)
			}
			return j
		}
	}
	t.Fatalf("the user's job %s did not end", created.ID)
	return nil
}

// requestLog is a slog handler that keeps what the miners log of each
// generation they finished: its request id and the signer who sent it.
type requestLog struct {
	mu      sync.Mutex
	callers map[string]string // request id → signer
}

func (l *requestLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *requestLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *requestLog) WithGroup(string) slog.Handler            { return l }

func (l *requestLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "job done" {
		return nil
	}
	var id, caller string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "request":
			id = a.Value.String()
		case "caller":
			caller = a.Value.String()
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.callers == nil {
		l.callers = map[string]string{}
	}
	l.callers[id] = caller
	return nil
}

// all returns every request logged so far.
func (l *requestLog) all() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.callers))
	for id, caller := range l.callers {
		out[id] = caller
	}
	return out
}
