package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/refengine"
)

// TestRemix remixes a video on a grid with a miner: the new video has the
// source's model, seed and shape, the new prompt and remixed_from_video_id,
// and is the video the engine makes of that spec, not the source's.
func TestRemix(t *testing.T) {
	eng := refengine.New()
	e := start(t, eng)
	src := e.wait(t, e.create(t, `{"prompt": "a red kite over a beach", "seed": 42, `+small+`}`).ID)
	resp, b := e.do(t, "POST", "/v1/videos/"+src.ID+"/remix", `{"prompt": "a blue kite over a field"}`, nil)
	var rm gateway.Video
	json.Unmarshal(b, &rm)
	if resp.StatusCode != http.StatusAccepted || rm.RemixedFromVideoID == nil || *rm.RemixedFromVideoID != src.ID {
		t.Fatalf("remix: %d %s, want 202 remixed from %s", resp.StatusCode, b, src.ID)
	}
	if rm.ID == src.ID || rm.Seed != 42 || rm.Size != src.Size || rm.Frames != src.Frames || rm.Steps != src.Steps ||
		rm.FPS != src.FPS || rm.Model != src.Model || rm.Prompt != "a blue kite over a field" {
		t.Errorf("remix %+v, want the source's seed, shape and model with the new prompt", rm)
	}
	done := e.wait(t, rm.ID)
	spec := fractal.Spec{Profile: eng.Profile().String(), Prompt: "a blue kite over a field", Seed: 42, Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 6}
	local, err := eng.Generate(context.Background(), spec, fractal.GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != "completed" || done.Digest != local.Frames.Digest().String() || done.Digest == src.Digest {
		t.Errorf("remix finished %s with digest %s; want completed with the engine's %s, not the source's %s",
			done.Status, done.Digest, local.Frames.Digest(), src.Digest)
	}
	if done.RemixedFromVideoID == nil || *done.RemixedFromVideoID != src.ID {
		t.Errorf("remix record lost remixed_from_video_id: %+v", done.RemixedFromVideoID)
	}
	if src.RemixedFromVideoID != nil {
		t.Errorf("source has remixed_from_video_id %q, want null", *src.RemixedFromVideoID)
	}
}

// TestRemixRefused covers every remix that must not create a video.
func TestRemixRefused(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	e := startHook(t, func(gw *gateway.Gateway) { gw.Now, gw.Config.Retention = clk.Now, time.Hour })
	src := completeOffline(t, e, "a tall cactus", clk.Now)
	queued := e.create(t, `{"prompt": "a short cactus", `+small+`}`)
	deleted := completeOffline(t, e, "a round cactus", clk.Now)
	if resp, b := e.do(t, "DELETE", "/v1/videos/"+deleted.ID, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	_, otherKey, err := e.gw.Keys().Create(ctx, "other", 100, 100, 8)
	if err != nil {
		t.Fatal(err)
	}
	remix := func(id string) string { return "/v1/videos/" + id + "/remix" }
	for _, tc := range []struct {
		name, path, body string
		key              string
		status           int
		code, param      string
		says             string
	}{
		{"unknown source", remix("vid_nope"), `{"prompt": "x"}`, "", 404, "not_found", "", "vid_nope"},
		{"another owner's", remix(src.ID), `{"prompt": "x"}`, otherKey, 404, "not_found", "", src.ID},
		{"deleted source", remix(deleted.ID), `{"prompt": "x"}`, "", 404, "not_found", "", "deleted"},
		{"unfinished source", remix(queued.ID), `{"prompt": "x"}`, "", 409, "conflict", "", "only a completed video"},
		{"no prompt", remix(src.ID), `{}`, "", 400, "invalid", "prompt", "empty"},
		{"a seed", remix(src.ID), `{"prompt": "x", "seed": 3}`, "", 400, "invalid", "seed", "source video's"},
		{"a size", remix(src.ID), `{"prompt": "x", "size": "64x64"}`, "", 400, "invalid", "size", "source video's"},
		{"a model", remix(src.ID), `{"prompt": "x", "model": "fractal-ref"}`, "", 400, "invalid", "model", "source video's"},
		{"not json", remix(src.ID), `prompt=x`, "", 400, "invalid", "body", ""},
		{"no key", remix(src.ID), `{"prompt": "x"}`, "-", 401, "unauthorized", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := e.key
			defer func() { e.key = saved }()
			switch tc.key {
			case "-":
				e.key = ""
			case "":
			default:
				e.key = tc.key
			}
			resp, b := e.do(t, "POST", tc.path, tc.body, nil)
			eb := errorOf(t, b)
			param := ""
			if eb.Param != nil {
				param = *eb.Param
			}
			if resp.StatusCode != tc.status || eb.Code != tc.code || param != tc.param || !strings.Contains(eb.Message, tc.says) {
				t.Errorf("got %d %s, want %d %s naming %q and saying %q", resp.StatusCode, b, tc.status, tc.code, tc.param, tc.says)
			}
		})
	}
	// Expired: the record stays, the remix is refused with when it expired.
	clk.Advance(2 * time.Hour)
	resp, b := e.do(t, "POST", remix(src.ID), `{"prompt": "x"}`, nil)
	if eb := errorOf(t, b); resp.StatusCode != http.StatusGone || !strings.Contains(eb.Message, "can no longer be remixed") {
		t.Errorf("expired source: %d %s, want 410 saying it can no longer be remixed", resp.StatusCode, b)
	}
	// Nothing above made a video: the owner sees the two it made and kept.
	_, b = e.do(t, "GET", "/v1/videos", "", nil)
	var page struct{ Data []gateway.Video }
	json.Unmarshal(b, &page)
	if len(page.Data) != 2 {
		t.Errorf("videos after refused remixes: %d, want the 2 made (one deleted): %s", len(page.Data), b)
	}
}

// TestRemixIdempotent: a retried remix with the same Idempotency-Key gets
// the video the first made.
func TestRemixIdempotent(t *testing.T) {
	e := start(t)
	src := completeOffline(t, e, "a glass marble", time.Now)
	h := map[string]string{"Idempotency-Key": "remix-1"}
	r1, b1 := e.do(t, "POST", "/v1/videos/"+src.ID+"/remix", `{"prompt": "a steel marble"}`, h)
	r2, b2 := e.do(t, "POST", "/v1/videos/"+src.ID+"/remix", `{"prompt": "a steel marble"}`, h)
	var v1, v2 gateway.Video
	json.Unmarshal(b1, &v1)
	json.Unmarshal(b2, &v2)
	if r1.StatusCode != http.StatusAccepted || r2.StatusCode != http.StatusOK || v1.ID == "" || v1.ID != v2.ID {
		t.Errorf("repeated remix: %d %s / %d %s, want the same video", r1.StatusCode, b1, r2.StatusCode, b2)
	}
}
