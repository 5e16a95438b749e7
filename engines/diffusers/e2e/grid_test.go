package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engines/diffusers/diffuserstest"
	"github.com/fractal-grid/fractal/ffmpeg"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// catchWithin bounds the wait for the validator to catch both cheats. Each
// round challenges one miner in turn; the other-weights miner fails every
// check and the skipping one four checks in five, so a few rounds do.
const catchWithin = 5 * time.Minute

// TestGridOnTinyWan runs a local grid whose three miners and validator share
// the Python engine's tiny Wan profile. A user's job completes and its MP4
// plays; every miner's first challenge verifies. Then one miner starts
// skipping every other step and another serves the same architecture with
// other weights while claiming the profile: the validator catches both on a
// checked step and takes their standing away, while the honest miner keeps
// passing.
func TestGridOnTinyWan(t *testing.T) {
	testenv.Tool(t, "ffprobe")
	honest := diffuserstest.MustStartEngine(t)
	other := diffuserstest.MustStart(t, diffuserstest.Command(t, diffuserstest.Script(t, "other_weights.py"), "--addr", "127.0.0.1:0"))

	g := openGrid(t, honest, 3)
	profile := g.Engine().Profile()
	if profile.ID != "wan2.1-t2v-1.3b-tiny" {
		t.Fatalf("grid profile %s, want the tiny Wan", profile)
	}

	t.Run("job plays", func(t *testing.T) {
		id := submit(t, g, map[string]any{"prompt": "a yellow kite flying over green hills on a windy day", "seed": 42, "size": "96x64", "frames": 5, "steps": 4})
		waitDone(t, g, id)
		mp4 := get(t, g, "v1/videos/"+id+"/content?variant=mp4")
		path := filepath.Join(t.TempDir(), "video.mp4")
		if err := os.WriteFile(path, mp4, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		info, err := ffmpeg.Probe(ctx, path)
		if err != nil {
			t.Fatalf("ffprobe: %v", err)
		}
		if info.Codec != "h264" || info.Width != 96 || info.Height != 64 || info.Frames != 5 {
			t.Errorf("ffprobe: got %s %dx%d with %d frames, want h264 96x64 with 5 frames", info.Codec, info.Width, info.Height, info.Frames)
		}
	})

	t.Run("challenges verify", func(t *testing.T) {
		stats := statsByHotkey(g)
		for i, m := range g.Miners() {
			s := stats[m.Hotkey.SS58()]
			if s.Passed < 1 || s.Cheats != 0 {
				t.Errorf("miner %d: passed %d, cheats %d (%s); want its opening challenge verified", i, s.Passed, s.Cheats, s.LastReason)
			}
		}
	})

	otherEngine := diffuserstest.MustOpen(t, other)
	if got := otherEngine.Profile(); got.String() != profile.String() || got.Digest != profile.Digest {
		t.Fatalf("the other-weights engine claims %s %s, want the grid's %s %s", got, got.Digest, profile, profile.Digest)
	}
	honestMiner, skipper, impostor := g.Miners()[0], g.Miners()[1], g.Miners()[2]
	before := statsByHotkey(g)[honestMiner.Hotkey.SS58()].Passed
	if err := skipper.SetEngines(&skipEngine{Engine: g.Engine()}); err != nil {
		t.Fatal(err)
	}
	if err := impostor.SetEngines(otherEngine); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(catchWithin)
	for {
		stats := statsByHotkey(g)
		caught := 0
		for _, m := range []string{skipper.Hotkey.SS58(), impostor.Hotkey.SS58()} {
			if stats[m].Cheats > 0 {
				caught++
			}
		}
		if caught == 2 && stats[honestMiner.Hotkey.SS58()].Passed > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: skipper %+v, impostor %+v, honest %+v; want both cheats caught and the honest miner passing", catchWithin,
				stats[skipper.Hotkey.SS58()], stats[impostor.Hotkey.SS58()], stats[honestMiner.Hotkey.SS58()])
		}
		time.Sleep(250 * time.Millisecond)
	}

	standings, err := g.Validator().Standings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stats := statsByHotkey(g)
	now := time.Now()
	for _, tc := range []struct {
		name   string
		hotkey string
	}{{"skipper", skipper.Hotkey.SS58()}, {"impostor", impostor.Hotkey.SS58()}} {
		s := stats[tc.hotkey]
		if s.LastReason != verify.ReasonStep {
			t.Errorf("%s: last reason %q, want %q", tc.name, s.LastReason, verify.ReasonStep)
		}
		if s.Tier != validator.TierProbation || !s.CooldownUntil.After(now) {
			t.Errorf("%s: tier %d, cooldown until %s; want probation and a cooldown", tc.name, s.Tier, s.CooldownUntil)
		}
		if standings[tc.hotkey].Verified(now) {
			t.Errorf("%s: still verified in the published standing %+v", tc.name, standings[tc.hotkey])
		}
	}
	if s := stats[honestMiner.Hotkey.SS58()]; s.Cheats != 0 || !standings[honestMiner.Hotkey.SS58()].Verified(now) {
		t.Errorf("honest miner: cheats %d (%s), standing %+v; want no cheat and verified", s.Cheats, s.LastReason, standings[honestMiner.Hotkey.SS58()])
	}
}

// openGrid opens a local grid of n miners and a validator that share the
// engine server at engine, with fast blocks and rounds and one small
// challenge shape.
func openGrid(t *testing.T, engine string, n int) *localgrid.Grid {
	t.Helper()
	cfg := localgrid.DefaultConfig()
	cfg.DataDir, cfg.Addr, cfg.Miners, cfg.Engine = t.TempDir(), "127.0.0.1:0", n, engine
	cfg.BlockTime, cfg.Round = 200*time.Millisecond, time.Second
	cfg.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 6}}
	g := localgrid.New()
	g.Config, g.Logger = cfg, gridtest.Logger(t)
	if err := g.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func statsByHotkey(g *localgrid.Grid) map[string]validator.Stats {
	out := map[string]validator.Stats{}
	for _, s := range g.Validator().Stats() {
		out[s.Hotkey] = s
	}
	return out
}

// submit creates a video through the API and returns its id.
func submit(tb testing.TB, g *localgrid.Grid, body map[string]any) string {
	tb.Helper()
	var v struct{ ID string }
	if err := json.Unmarshal(do(tb, g, "POST", "v1/videos", body, http.StatusAccepted), &v); err != nil {
		tb.Fatal(err)
	}
	return v.ID
}

// waitDone polls a video until it ends and fails unless it completed.
func waitDone(tb testing.TB, g *localgrid.Grid, id string) {
	tb.Helper()
	deadline := time.Now().Add(catchWithin)
	for {
		var v struct{ Status, Error string }
		if err := json.Unmarshal(get(tb, g, "v1/videos/"+id), &v); err != nil {
			tb.Fatal(err)
		}
		switch v.Status {
		case string(fractal.JobCompleted):
			return
		case string(fractal.JobFailed), string(fractal.JobCancelled):
			tb.Fatalf("video %s: got %s (%s), want completed", id, v.Status, v.Error)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("video %s: still %s after %s", id, v.Status, catchWithin)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(tb testing.TB, g *localgrid.Grid, path string) []byte {
	tb.Helper()
	return do(tb, g, "GET", path, nil, http.StatusOK)
}

// do sends one API call with the grid's key and fails unless the status is want.
func do(tb testing.TB, g *localgrid.Grid, method, path string, body any, want int) []byte {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, g.URL()+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != want {
		tb.Fatalf("%s /%s: got status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	return b
}
