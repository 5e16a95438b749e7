package localgrid_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// nextVersion is the reference model's next version, with frames of the form 4k+1.
func nextVersion() refengine.Variant {
	lim := fractal.LegacyLimits()
	lim.Frames = fractal.Range{Min: 1, Max: 33, Step: 4}
	lim.Default.Frames = 5
	return refengine.Variant{Version: "5", Limits: lim}
}

// waitFor polls cond every 100ms until it holds, failing after limit.
func waitFor(tb testing.TB, what string, limit time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("still waiting after %s for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func statsOf(g *localgrid.Grid, hotkey string) validator.Stats {
	for _, s := range g.Validator().Stats() {
		if s.Hotkey == hotkey {
			return s
		}
	}
	return validator.Stats{}
}

// An upgrade window on a live grid: miner 0 moves to the next version, miner 1
// stays on the old one. In the window each model's jobs go to miners that
// serve it and verify; after it the old model is refused, the miner that
// stayed gets no traffic and loses weight, the one that moved keeps its score.
func TestUpgradeWindow(t *testing.T) {
	cfg := testConfig(t.TempDir(), 2)
	cfg.Round = 300 * time.Millisecond
	cfg.Upgrade = &localgrid.Upgrade{To: nextVersion(), From: 5, Until: 60, Every: 1, Stay: 1}
	g := startGrid(t, cfg)
	key, base := g.APIKey(), g.URL()
	st, _ := g.Upgrade()
	a, b := st.Pins[0].Profile.String(), st.Pins[1].Profile.String()
	moved, stayed := g.Miners()[0].Hotkey.SS58(), g.Miners()[1].Hotkey.SS58()

	waitFor(t, "miner 0 to serve both models", 20*time.Second, func() bool {
		st, _ := g.Upgrade()
		_, ok := st.Moved[0]
		return ok
	})
	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	waitFor(t, "GET /v1/models to list both models", 10*time.Second, func() bool {
		call(t, "GET", base+"v1/models", key, nil, http.StatusOK, &models)
		return len(models.Data) == 2
	})

	// The new model's limits: 4 frames is not of the form 4k+1.
	body := call(t, "POST", base+"v1/videos", key, map[string]any{"prompt": "a kite", "model": b, "size": "64x64", "frames": 4, "steps": 4}, http.StatusBadRequest, nil)
	if !strings.Contains(string(body), "every 4 from 1") {
		t.Errorf("4 frames on %s: %s, want the allowed frames named", b, body)
	}
	for i := range 2 {
		var v video
		call(t, "POST", base+"v1/videos", key, map[string]any{"prompt": "a kite over a beach", "model": b, "size": "64x64", "frames": 5, "steps": 4, "seed": i}, http.StatusAccepted, &v)
		done := waitCompleted(t, base, key, v.ID, 30*time.Second)
		if done.Miner == nil || done.Miner.Hotkey != moved {
			t.Errorf("a %s job ran on %+v, want the miner that serves it (%s)", b, done.Miner, moved)
		}
	}
	var v video
	call(t, "POST", base+"v1/videos", key, map[string]any{"prompt": "a kite over a beach", "model": a, "size": "64x64", "frames": 4, "steps": 4}, http.StatusAccepted, &v)
	waitCompleted(t, base, key, v.ID, 30*time.Second)
	waitFor(t, "the validator to verify the moved miner on both models", 30*time.Second, func() bool {
		p := statsOf(g, moved).Profiles
		return slices.Contains(p, a) && slices.Contains(p, b)
	})

	waitFor(t, "the window to close", 30*time.Second, func() bool {
		st, _ := g.Upgrade()
		return st.Done > 0
	})
	before := statsOf(g, stayed)
	body = call(t, "POST", base+"v1/videos", key, map[string]any{"prompt": "a kite", "model": a}, http.StatusBadRequest, nil)
	if !strings.Contains(string(body), b) {
		t.Errorf("the old model after its pin ended: %s, want the allowed models named", body)
	}
	for i := range 3 {
		var v video
		call(t, "POST", base+"v1/videos", key, map[string]any{"prompt": "a red ball", "size": "64x64", "steps": 4, "seed": 10 + i}, http.StatusAccepted, &v)
		done := waitCompleted(t, base, key, v.ID, 30*time.Second)
		if done.Miner == nil || done.Miner.Hotkey != moved {
			t.Errorf("after the window a job ran on %+v, want only %s", done.Miner, moved)
		}
	}
	waitFor(t, "the miner that stayed to fail on the ended model", 30*time.Second, func() bool {
		s := statsOf(g, stayed)
		return s.Failed > before.Failed && s.LastReason == "profile"
	})
	waitFor(t, "the miner that stayed to weigh less than the one that moved", 30*time.Second, func() bool {
		w := g.Validator().Weights()
		return w[statsOf(g, stayed).UID] < w[statsOf(g, moved).UID]
	})
	if s := statsOf(g, moved); s.Failed != 0 || s.Success < 0.5 {
		t.Errorf("the moved miner: %d failures, success %.2f; want its score kept", s.Failed, s.Success)
	}
	if s := statsOf(g, stayed); s.Success >= before.Success {
		t.Errorf("the miner that stayed: success %.3f, was %.3f; want it falling", s.Success, before.Success)
	}
}
