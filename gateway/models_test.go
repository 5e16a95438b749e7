package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/refengine"
)

// steppedLimits are the limits of a second reference profile, shaped like a
// real model's: frames 4k+1, sides in steps of 32, one frame rate.
func steppedLimits() fractal.Limits {
	return fractal.Limits{
		Frames:      fractal.Range{Min: 5, Max: 33, Step: 4},
		Width:       fractal.Range{Min: 64, Max: 512, Step: 32},
		Height:      fractal.Range{Min: 64, Max: 512, Step: 32},
		FPS:         fractal.Range{Values: []int{16}},
		Steps:       fractal.Range{Min: 4, Max: 30},
		PromptBytes: 200,
		Default:     fractal.Shape{Frames: 9, Width: 128, Height: 128, FPS: 16, Steps: 8},
	}
}

// mustVariant returns the reference engine of version 5 with stepped limits.
func mustVariant(tb testing.TB) *refengine.Engine {
	tb.Helper()
	e, err := refengine.NewVariant(refengine.Variant{Version: "5", Limits: steppedLimits()})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// upgrade is a grid in an upgrade window: fractal-ref@4 is pinned from 0
// until block b+3, fractal-ref@5 from b+1, where b is the block when the
// gateway opens.
type upgrade struct {
	*env
	old, cur fractal.Profile
	b        uint64
}

func startUpgrade(t *testing.T) *upgrade {
	t.Helper()
	oldEng, curEng := refengine.New(), mustVariant(t)
	u := &upgrade{old: oldEng.Profile(), cur: curEng.Profile()}
	u.env = startHook(t, func(gw *gateway.Gateway) {
		mg, err := gw.Chain.Metagraph(context.Background(), gridtest.NetUID)
		if err != nil {
			t.Fatal(err)
		}
		u.b = mg.Block
		gw.Config.Pins = fractal.Pins{{Profile: u.old, Until: u.b + 3}, {Profile: u.cur, From: u.b + 1}}
	}, oldEng, curEng)
	return u
}

// modelList is the answer of GET /v1/models.
type modelList struct {
	Object string
	Block  uint64
	Data   []gateway.Model
}

// models reads GET /v1/models without a key once the gateway has seen
// block at least.
func (e *env) models(t *testing.T, block uint64) modelList {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(e.url + "/v1/models")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var l modelList
		if err := json.Unmarshal(b, &l); err != nil || resp.StatusCode != http.StatusOK || l.Object != "list" {
			t.Fatalf("GET /v1/models: %d %s (%v), want 200 with a list", resp.StatusCode, b, err)
		}
		if l.Block >= block {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway is at block %d after 10 s, want %d", l.Block, block)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// advance moves the chain to block.
func (u *upgrade) advance(t *testing.T, block uint64) {
	t.Helper()
	mg, err := u.grid.Chain.Metagraph(context.Background(), gridtest.NetUID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.grid.Chain.Advance(int(block - mg.Block)); err != nil {
		t.Fatal(err)
	}
}

// checkModel asserts that m shows profile p as its pin [from, until).
func checkModel(t *testing.T, m gateway.Model, p fractal.Profile, isDefault bool, from, until uint64) {
	t.Helper()
	got := fractal.Profile{ID: m.Profile, Version: m.Version, Determinism: m.Determinism, Limits: m.Limits, Cost: m.Cost}
	want := fractal.Profile{ID: p.ID, Version: p.Version, Determinism: p.Determinism, Limits: p.Limits, Cost: p.Cost}
	if m.ID != p.String() || m.Object != "model" || m.Digest != p.Digest.String() || !reflect.DeepEqual(got, want) {
		t.Errorf("model %s: got %+v, want the engine's profile %+v", p, m, p)
	}
	if m.Default != isDefault || m.FromBlock != from || (until == 0) != (m.UntilBlock == nil) || m.UntilBlock != nil && *m.UntilBlock != until {
		t.Errorf("model %s: default %v, blocks %d–%v; want default %v, blocks %d–%d", p, m.Default, m.FromBlock, m.UntilBlock, isDefault, from, until)
	}
	if len(m.Sizes) == 0 || m.Sizes[0] != "128x128" && m.Sizes[0] != "256x256" {
		t.Errorf("model %s: sizes %v, want the default size first", p, m.Sizes)
	}
}

// TestModelsFollowPins lists the models across an upgrade window: the
// engines' profiles, newest first, the one pinned first the default; the old
// one gone after its pin ends, when creates naming it are refused.
func TestModelsFollowPins(t *testing.T) {
	u := startUpgrade(t)
	l := u.models(t, u.b)
	if len(l.Data) != 1 {
		t.Fatalf("before the window: got %d models, want fractal-ref@4 alone: %+v", len(l.Data), l.Data)
	}
	checkModel(t, l.Data[0], u.old, true, 0, u.b+3)

	u.advance(t, u.b+1)
	l = u.models(t, u.b+1)
	if len(l.Data) != 2 {
		t.Fatalf("in the window: got %d models, want 2: %+v", len(l.Data), l.Data)
	}
	checkModel(t, l.Data[0], u.cur, false, u.b+1, 0)
	checkModel(t, l.Data[1], u.old, true, 0, u.b+3)
	for ref, want := range map[string]string{"fractal-ref": "fractal-ref@5", "fractal-ref@4": "fractal-ref@4", "fractal-ref@5": "fractal-ref@5"} {
		resp, b := u.do(t, "GET", "/v1/models/"+ref, "", nil)
		var m gateway.Model
		json.Unmarshal(b, &m)
		if resp.StatusCode != http.StatusOK || m.ID != want {
			t.Errorf("GET /v1/models/%s: got %d %s, want 200 with %s", ref, resp.StatusCode, b, want)
		}
	}
	v := u.create(t, `{"prompt": "a kite", "frames": 64, "size": "64x64", "steps": 1}`)
	if v.Model != "fractal-ref@4" || v.Frames != 64 {
		t.Errorf("create naming no model in the window: got model %s with %d frames, want fractal-ref@4 with 64", v.Model, v.Frames)
	}
	v = u.create(t, `{"prompt": "a kite", "model": "fractal-ref"}`)
	if v.Model != "fractal-ref@5" || v.Frames != 9 || v.Size != "128x128" || v.FPS != 16 || v.Steps != 8 {
		t.Errorf("create naming the bare id: got %+v, want fractal-ref@5's default shape", v)
	}

	u.advance(t, u.b+3)
	l = u.models(t, u.b+3)
	if len(l.Data) != 1 {
		t.Fatalf("after the window: got %d models, want fractal-ref@5 alone: %+v", len(l.Data), l.Data)
	}
	checkModel(t, l.Data[0], u.cur, true, u.b+1, 0)
	v = u.create(t, `{"prompt": "a kite"}`)
	if v.Model != "fractal-ref@5" {
		t.Errorf("create naming no model after the window: got model %s, want fractal-ref@5", v.Model)
	}
	resp, b := u.do(t, "POST", "/v1/videos", `{"prompt": "a kite", "model": "fractal-ref@4"}`, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "fractal-ref, fractal-ref@5") {
		t.Errorf("create naming fractal-ref@4 after its pin: got %d %s, want 400 listing fractal-ref, fractal-ref@5", resp.StatusCode, b)
	}
	resp, b = u.do(t, "GET", "/v1/models/fractal-ref@4", "", nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "fractal-ref@5") {
		t.Errorf("GET /v1/models/fractal-ref@4 after its pin: got %d %s, want 404 naming fractal-ref@5", resp.StatusCode, b)
	}
}

// TestCreateOutsideModelLimits refuses specs outside the requested model's
// limits with a message naming the allowed values, and creates no job.
func TestCreateOutsideModelLimits(t *testing.T) {
	u := startUpgrade(t)
	u.advance(t, u.b+1)
	u.models(t, u.b+1)
	for _, tc := range []struct {
		name, body, field string
		says              []string
	}{
		{"unknown model", `{"prompt": "x", "model": "sora-2"}`, "model", []string{"one of fractal-ref, fractal-ref@4, fractal-ref@5", `"sora-2"`}},
		{"unknown version", `{"prompt": "x", "model": "fractal-ref@9"}`, "model", []string{"fractal-ref@4, fractal-ref@5"}},
		{"frames of the new model", `{"prompt": "x", "model": "fractal-ref@5", "frames": 16}`, "frames", []string{"one of 5, 9, 13, … up to 33 (every 4 from 5)", "got 16", "fractal-ref@5"}},
		{"frames named by bare id", `{"prompt": "x", "model": "fractal-ref", "frames": 64}`, "frames", []string{"every 4 from 5", "fractal-ref@5"}},
		{"frames of the default model", `{"prompt": "x", "frames": 65}`, "frames", []string{"between 1 and 64", "fractal-ref@4"}},
		{"size of the new model", `{"prompt": "x", "model": "fractal-ref@5", "size": "1024x576"}`, "size", []string{"each side must be a multiple of 32 between 64 and 512", "such as 128x128, 512x512"}},
		{"size between steps", `{"prompt": "x", "model": "fractal-ref", "size": "100x100"}`, "size", []string{"100x100 is not a size fractal-ref@5 makes", "multiple of 32 between 64 and 512"}},
		{"size of the old model", `{"prompt": "x", "model": "fractal-ref@4", "size": "1280x720"}`, "size", []string{"each side must be a multiple of 8 between 64 and 1024", "such as 256x256"}},
		{"fps", `{"prompt": "x", "model": "fractal-ref@5", "fps": 8}`, "fps", []string{"one of 16", "got 8"}},
		{"fps with seconds", `{"prompt": "x", "model": "fractal-ref@5", "fps": 24, "seconds": 1}`, "fps", []string{"one of 16"}},
		{"seconds", `{"prompt": "x", "model": "fractal-ref@5", "seconds": 2}`, "seconds", []string{"one of 0.3125, 0.5625, 0.8125, 1.0625, 1.3125, 1.5625, 1.8125, 2.0625", "got 2"}},
		{"seconds of the old model", `{"prompt": "x", "model": "fractal-ref@4", "seconds": 9}`, "seconds", []string{"a multiple of 1/8 from 0.125 to 8", "whole seconds 1, 2, 3, 4, 5, 6, 7, 8"}},
		{"steps", `{"prompt": "x", "model": "fractal-ref@5", "steps": 40}`, "steps", []string{"between 4 and 30", "got 40"}},
		{"steps of the old model", `{"prompt": "x", "model": "fractal-ref@4", "steps": 0}`, "steps", []string{"between 1 and 100"}},
		{"prompt over the model's bytes", `{"model": "fractal-ref@5", "prompt": "` + strings.Repeat("a", 201) + `"}`, "prompt", []string{"at most 200 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := u.do(t, "POST", "/v1/videos", tc.body, nil)
			var eb struct {
				Error struct{ Code, Message, Field string }
			}
			json.Unmarshal(b, &eb)
			if resp.StatusCode != http.StatusBadRequest || eb.Error.Code != "invalid" || eb.Error.Field != tc.field {
				t.Fatalf("got %d %s, want 400 invalid on %s", resp.StatusCode, b, tc.field)
			}
			for _, s := range tc.says {
				if !strings.Contains(eb.Error.Message, s) {
					t.Errorf("message %q lacks %q", eb.Error.Message, s)
				}
			}
		})
	}
	_, b := u.do(t, "GET", "/v1/videos", "", nil)
	if !strings.Contains(string(b), `"data":[]`) {
		t.Errorf("refused creates made jobs: %s", b)
	}
}
