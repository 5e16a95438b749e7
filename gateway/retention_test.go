package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// clock is a gateway clock a test moves forward. Only a gateway without
// miners may use it: requests to miners are signed with its time.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// completeOffline creates a video and completes it as a dispatcher would
// when a miner delivered the reference engine's frames, with no miner
// involved; now stamps the attempt.
func completeOffline(t *testing.T, e *env, prompt string, now func() time.Time) gateway.Video {
	t.Helper()
	ctx := context.Background()
	v := e.create(t, `{"prompt": "`+prompt+`", "seed": 9, `+small+`}`)
	job, err := e.gw.Jobs.Update(ctx, v.ID, func(j *fractal.Job) error {
		_, err := j.StartAttempt("req-"+v.ID, fractal.MinerRef{UID: 1, Hotkey: e.grid.Validator.SS58()}, now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := refengine.New().Generate(ctx, job.Spec, fractal.GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := framesfile.Marshal(&file, res.Frames); err != nil {
		t.Fatal(err)
	}
	out := &minerapi.Outcome{Result: &minerapi.ResultEvent{Receipt: fractal.Receipt{Commitment: res.Commit()}}, Frames: res.Frames, FramesFile: file.Bytes()}
	if err := e.gw.Complete(ctx, job, "req-"+v.ID, out); err != nil {
		t.Fatal(err)
	}
	resp, b := e.do(t, "GET", "/v1/videos/"+v.ID, "", nil)
	var done gateway.Video
	json.Unmarshal(b, &done)
	if resp.StatusCode != http.StatusOK || done.Status != "completed" {
		t.Fatalf("video %s: %d %s, want completed", v.ID, resp.StatusCode, b)
	}
	return done
}

// blobsOf lists the blobs the store holds for video id.
func blobsOf(t *testing.T, e *env, id string) []string {
	t.Helper()
	lister, ok := e.gw.Blobs.(fractal.BlobLister)
	if !ok {
		t.Fatalf("%T lists no keys", e.gw.Blobs)
	}
	keys, err := lister.BlobKeys(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		if k == "frames."+id || strings.HasPrefix(k, "frames."+id+".") || strings.HasPrefix(k, "video."+id+".") {
			out = append(out, k)
		}
	}
	return out
}

// apiError is the error object of a reply.
type apiError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
	Field   string  `json:"field"`
}

func errorOf(t *testing.T, b []byte) apiError {
	t.Helper()
	var reply struct{ Error *apiError }
	if err := json.Unmarshal(b, &reply); err != nil || reply.Error == nil {
		t.Fatalf("body %s is not an error reply: %v", b, err)
	}
	return *reply.Error
}

// TestRetention completes one video, then another 40 minutes later, with a
// retention of an hour, and looks 70 minutes after the first: its content
// answers 410 while its record stays, and the sweep removes its frames and
// encodings and nothing of the second, whose content is still served.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	e := startHook(t, func(gw *gateway.Gateway) { gw.Now, gw.Config.Retention = clk.Now, time.Hour })
	a := completeOffline(t, e, "an old lighthouse", clk.Now)
	if a.ExpiresAt == nil || a.CompletedAt == nil || *a.ExpiresAt != *a.CompletedAt+3600 {
		t.Fatalf("expires_at %v, completed_at %v: want an hour after completion", a.ExpiresAt, a.CompletedAt)
	}
	for _, variant := range []string{"frames", "gif", "thumbnail"} {
		if resp, b := e.do(t, "GET", "/v1/videos/"+a.ID+"/content?variant="+variant, "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s before expiry: %d %s", variant, resp.StatusCode, b)
		}
	}
	if got := blobsOf(t, e, a.ID); len(got) != 2 {
		t.Fatalf("blobs of %s: %q, want its frames and GIF", a.ID, got)
	}
	clk.Advance(40 * time.Minute)
	b := completeOffline(t, e, "a new lighthouse", clk.Now)
	e.do(t, "GET", "/v1/videos/"+b.ID+"/content?variant=gif", "", nil)
	clk.Advance(30 * time.Minute)

	for _, variant := range []string{"frames", "gif", "thumbnail", "video"} {
		resp, body := e.do(t, "GET", "/v1/videos/"+a.ID+"/content?variant="+variant, "", nil)
		if resp.StatusCode != http.StatusGone {
			t.Fatalf("%s after expiry: %d %s, want 410", variant, resp.StatusCode, body)
		}
		if eb := errorOf(t, body); eb.Code != "gone" || eb.Type != "invalid_request_error" || !strings.Contains(eb.Message, "expired at") {
			t.Errorf("%s after expiry: %s, want code gone saying when it expired", variant, body)
		}
	}
	resp, body := e.do(t, "GET", "/v1/videos/"+a.ID, "", nil)
	var rec gateway.Video
	json.Unmarshal(body, &rec)
	if resp.StatusCode != http.StatusOK || rec.Status != "completed" || rec.ExpiresAt == nil || *rec.ExpiresAt != *a.ExpiresAt {
		t.Errorf("record after expiry: %d %s, want it completed with its expires_at", resp.StatusCode, body)
	}

	removed, err := e.gw.Sweep(ctx)
	if err != nil || removed != 2 {
		t.Fatalf("sweep: removed %d, %v; want the 2 blobs of %s", removed, err, a.ID)
	}
	if got := blobsOf(t, e, a.ID); len(got) != 0 {
		t.Errorf("blobs of the expired video after the sweep: %q, want none", got)
	}
	if got := blobsOf(t, e, b.ID); len(got) != 2 {
		t.Errorf("blobs of the live video after the sweep: %q, want its frames and GIF", got)
	}
	if resp, body := e.do(t, "GET", "/v1/videos/"+b.ID+"/content?variant=frames", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("live video's content after the sweep: %d %s", resp.StatusCode, body)
	}
	if removed, err := e.gw.Sweep(ctx); err != nil || removed != 0 {
		t.Errorf("second sweep: removed %d, %v; want nothing left to do", removed, err)
	}
}

// TestSweepForgottenBlobs: blobs of a deleted video, or of none on record,
// go once the retention has passed since their id was made.
func TestSweepForgottenBlobs(t *testing.T) {
	ctx := context.Background()
	clk := &clock{}
	e := startHook(t, func(gw *gateway.Gateway) { gw.Now, gw.Config.Retention = clk.Now, time.Hour })
	v := completeOffline(t, e, "a paper crane", clk.Now)
	orphan := "frames.vid_" + strings.TrimPrefix(v.ID, "vid_")[:11] + "orphan00.1"
	if err := e.gw.Blobs.Put(ctx, orphan, strings.NewReader("left by a crash")); err != nil {
		t.Fatal(err)
	}
	if n, err := e.gw.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep within the retention: removed %d, %v; want nothing", n, err)
	}
	clk.Advance(2 * time.Hour)
	if n, err := e.gw.Sweep(ctx); err != nil || n != 2 {
		t.Fatalf("sweep after the retention: removed %d, %v; want the video's frames and the orphan", n, err)
	}
	if _, err := e.gw.Blobs.Get(ctx, orphan); !errors.Is(err, fractal.ErrNotFound) {
		t.Errorf("orphan blob: got %v, want it removed", err)
	}
}

// TestDeleteRemovesBlobs deletes a completed video (its frames and
// encodings go, it answers 404 and leaves the list) and an unfinished one
// (it is cancelled first, so a result arriving later is dropped).
func TestDeleteRemovesBlobs(t *testing.T) {
	ctx := context.Background()
	e := start(t) // no miners: videos complete offline or stay queued
	v := completeOffline(t, e, "a snow globe", time.Now)
	e.do(t, "GET", "/v1/videos/"+v.ID+"/content?variant=gif", "", nil)
	if got := blobsOf(t, e, v.ID); len(got) != 2 {
		t.Fatalf("blobs before delete: %q, want frames and GIF", got)
	}
	resp, b := e.do(t, "DELETE", "/v1/videos/"+v.ID, "", nil)
	var del struct {
		ID, Object string
		Deleted    bool
	}
	json.Unmarshal(b, &del)
	if resp.StatusCode != http.StatusOK || del.ID != v.ID || del.Object != "video.deleted" || !del.Deleted {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	if got := blobsOf(t, e, v.ID); len(got) != 0 {
		t.Errorf("blobs after delete: %q, want none", got)
	}
	for _, path := range []string{"/v1/videos/" + v.ID, "/v1/videos/" + v.ID + "/content"} {
		if resp, b := e.do(t, "GET", path, "", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s after delete: %d %s, want 404", path, resp.StatusCode, b)
		}
	}
	if _, b := e.do(t, "GET", "/v1/videos", "", nil); strings.Contains(string(b), v.ID) {
		t.Errorf("list after delete shows %s: %s", v.ID, b)
	}

	running := e.create(t, `{"prompt": "a spinning top", `+small+`}`)
	job, err := e.gw.Jobs.Update(ctx, running.ID, func(j *fractal.Job) error {
		_, err := j.StartAttempt("req-late", fractal.MinerRef{UID: 1, Hotkey: e.grid.Validator.SS58()}, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp, b := e.do(t, "DELETE", "/v1/videos/"+running.ID, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("delete in progress: %d %s", resp.StatusCode, b)
	}
	if j, err := e.gw.Jobs.Get(ctx, running.ID); err != nil || j.Status != fractal.JobCancelled {
		t.Fatalf("job after delete: %v, %v; want it cancelled", j, err)
	}
	res, err := refengine.New().Generate(ctx, job.Spec, fractal.GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := &minerapi.Outcome{Result: &minerapi.ResultEvent{Receipt: fractal.Receipt{Commitment: res.Commit()}}, Frames: res.Frames}
	if err := e.gw.Complete(ctx, job, "req-late", out); !errors.Is(err, gateway.ErrJobOver) {
		t.Errorf("result after delete: got %v, want the job over", err)
	}
	if got := blobsOf(t, e, running.ID); len(got) != 0 {
		t.Errorf("blobs of the deleted video after a late result: %q, want none", got)
	}
}
