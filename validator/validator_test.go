package validator_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

func openStore(t *testing.T, dir string) *jetstream.Store {
	t.Helper()
	st, err := jetstream.Open(context.Background(), jetstream.DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newValidator(t *testing.T, g *gridtest.Grid, st *jetstream.Store) *validator.Validator {
	t.Helper()
	return openValidator(t, g, st, func(*validator.Validator) {})
}

// openValidator is newValidator with a change to the validator before it
// opens.
func openValidator(t *testing.T, g *gridtest.Grid, st *jetstream.Store, hook func(*validator.Validator)) *validator.Validator {
	t.Helper()
	kv, err := st.KV(context.Background(), "validator", 0)
	if err != nil {
		t.Fatal(err)
	}
	v := validator.New()
	v.Config.NetUID = gridtest.NetUID
	v.Config.AllowPrivateAxons = true
	v.Config.PerRound = 3
	v.Config.SharedProb = 0
	v.Config.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 8}}
	v.Config.ChallengeTimeout = 10 * time.Second
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), g.Validator, g.Chain, kv, st.Audit()
	v.Words, v.Logger = refengine.Words(), gridtest.Logger(t)
	hook(v)
	if err := v.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRoundsScoresAndRestart(t *testing.T) {
	g := gridtest.New(t)
	honest1 := g.AddMiner(t, refengine.New(), nil)
	honest2 := g.AddMiner(t, refengine.New(), nil)
	cheat := g.AddMiner(t, gridtest.Lazy{Engine: refengine.New()}, nil)
	dir := t.TempDir()
	st := openStore(t, dir)
	v := newValidator(t, g, st)
	ctx := context.Background()
	for range 4 {
		if n := v.Round(ctx); n != 3 {
			t.Fatalf("round sent %d challenges, want 3", n)
		}
	}
	byHotkey := map[string]validator.Stats{}
	for _, s := range v.Stats() {
		byHotkey[s.Hotkey] = s
	}
	for _, m := range []string{honest1.Hotkey.SS58(), honest2.Hotkey.SS58()} {
		if s := byHotkey[m]; s.Passed != 4 || s.Failed != 0 {
			t.Errorf("honest miner %s: %+v, want 4 passed", m, s)
		}
	}
	if s := byHotkey[cheat.Hotkey.SS58()]; s.Cheats != 4 || s.Passed != 0 {
		t.Errorf("lazy miner: %+v, want 4 caught", s)
	}
	w := v.Weights()
	mg, _ := g.Chain.Metagraph(ctx, gridtest.NetUID)
	cheatN, _ := mg.ByHotkey(cheat.Hotkey.SS58())
	if w[cheatN.UID] != 0 || len(w) != 2 {
		t.Errorf("weights %v: the lazy miner (uid %d) must get none", w, cheatN.UID)
	}
	if err := v.SetWeights(ctx, 1); err != nil {
		t.Fatal(err)
	}
	recs, err := st.Audit().Read(ctx, "", 1, 100)
	if err != nil || len(recs) != 12 {
		t.Errorf("audit holds %d records (%v), want 12", len(recs), err)
	}

	// Kill and restart: the scores survive.
	before := v.Stats()
	v.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := openStore(t, dir)
	defer st2.Close()
	v2 := newValidator(t, g, st2)
	after := v2.Stats()
	if len(after) != len(before) {
		t.Fatalf("after restart %d miners, want %d", len(after), len(before))
	}
	for i := range before {
		b, _ := json.Marshal(before[i])
		a, _ := json.Marshal(after[i])
		if string(a) != string(b) {
			t.Errorf("miner %s: after restart %+v, want %+v", before[i].Hotkey, after[i], before[i])
		}
	}
}

func TestUnreachableMinerFailsWithReason(t *testing.T) {
	g := gridtest.New(t)
	m := g.AddMiner(t, refengine.New(), nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	v := newValidator(t, g, st)
	v.Config.PerRound = 1
	m.Close() // the axon stays on chain; nobody answers
	v.Round(context.Background())
	s := v.Stats()
	if len(s) != 1 || s[0].Failed != 1 || s[0].LastReason != validator.ReasonUnavailable || s[0].Cheats != 0 {
		t.Errorf("got %+v, want one failure for %q and no cheat", s, validator.ReasonUnavailable)
	}
}
