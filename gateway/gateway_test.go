package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/ffmpeg"
	"github.com/fractal-grid/fractal/framesfile"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gatewaytest"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/refengine"
)

type env struct {
	url  string
	key  string
	gw   *gateway.Gateway
	grid *gridtest.Grid
}

// start runs a gateway over a real grid of miners and an embedded store.
func start(t testing.TB, engines ...fractal.Engine) *env {
	t.Helper()
	return startWith(t, nil, engines...)
}

// startWith is start with an organic hand-over.
func startWith(t testing.TB, organic fractal.Sampler, engines ...fractal.Engine) *env {
	t.Helper()
	return startHook(t, func(gw *gateway.Gateway) { gw.Sampler = organic }, engines...)
}

// startHook is start with a change to the gateway before it opens.
func startHook(t testing.TB, hook func(*gateway.Gateway), engines ...fractal.Engine) *env {
	t.Helper()
	g := gridtest.New(t)
	for _, e := range engines {
		g.AddMiner(t, e, nil)
	}
	gw := gatewaytest.Start(t, g, func(gw *gateway.Gateway) {
		gw.Config.AllowPrivateHooks = true
		gw.Config.ProbeInterval = testProbeInterval
		gw.Config.Dispatchers = 4
		hook(gw)
	})
	key := gatewaytest.APIKey(t, gw, "test", 100, 100, 8)
	return &env{url: gatewaytest.URL(gw), key: key, gw: gw, grid: g}
}

func (e *env) do(t *testing.T, method, path, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.key)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *env) create(t *testing.T, body string) gateway.Video {
	t.Helper()
	resp, b := e.do(t, "POST", "/v1/videos", body, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create: status %d: %s", resp.StatusCode, b)
	}
	var v gateway.Video
	json.Unmarshal(b, &v)
	return v
}

func (e *env) wait(t *testing.T, id string) gateway.Video {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		_, b := e.do(t, "GET", "/v1/videos/"+id, "", nil)
		var v gateway.Video
		json.Unmarshal(b, &v)
		if v.Status == "completed" || v.Status == "failed" || v.Status == "cancelled" {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("video %s did not finish", id)
	return gateway.Video{}
}

// testProbeInterval makes tests see miners quickly; benchmarks use the
// production interval.
var testProbeInterval = 100 * time.Millisecond

const small = `"size": "64x64", "frames": 4, "steps": 6`

func TestVideoLifecycle(t *testing.T) {
	eng := refengine.New()
	e := start(t, eng, refengine.New())
	v := e.create(t, `{"prompt": "a red ball bouncing over the ocean at night", "seed": 42, `+small+`}`)
	if v.Status != "queued" || v.Seed != 42 || v.Size != "64x64" {
		t.Fatalf("created %+v", v)
	}
	done := e.wait(t, v.ID)
	if done.Status != "completed" || done.Progress != 100 || done.Miner == nil || done.Timings == nil {
		t.Fatalf("finished %+v", done)
	}
	// Same prompt and seed ⇒ the same video as the engine makes locally.
	spec := fractal.Spec{Prompt: "a red ball bouncing over the ocean at night", Seed: 42, Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 6}
	local, err := eng.Generate(context.Background(), spec, fractal.GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if done.Digest != local.Frames.Digest().String() {
		t.Errorf("digest %s, want the local engine's %s", done.Digest, local.Frames.Digest())
	}
	// Frames content checks against the digest.
	resp, b := e.do(t, "GET", "/v1/videos/"+v.ID+"/content?variant=frames", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("frames: %d %s", resp.StatusCode, b)
	}
	frames, err := framesfile.Unmarshal(bytes.NewReader(b), 1<<24)
	if err != nil || frames.Digest().String() != done.Digest {
		t.Errorf("frames content: %v, digest mismatch", err)
	}
	// MP4, checked by ffprobe.
	testenv.Tool(t, "ffprobe")
	resp, b = e.do(t, "GET", "/v1/videos/"+v.ID+"/content?variant=mp4", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("mp4: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	path := filepath.Join(t.TempDir(), "v.mp4")
	os.WriteFile(path, b, 0o600)
	info, err := ffmpeg.Probe(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Codec != "h264" || info.Frames != 4 || info.Width != 64 {
		t.Errorf("ffprobe: %+v, want h264 4 frames 64 wide", info)
	}
	// GIF too.
	if resp, _ := e.do(t, "GET", "/v1/videos/"+v.ID+"/content?variant=gif", "", nil); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
		t.Errorf("gif: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Listing shows it.
	_, b = e.do(t, "GET", "/v1/videos?limit=5", "", nil)
	if !strings.Contains(string(b), v.ID) {
		t.Errorf("list does not show %s: %s", v.ID, b)
	}
	// The grid map lists both miners.
	resp, b = e.do(t, "GET", "/v1/grid", "", nil)
	var grid struct{ Miners []gateway.GridMiner }
	json.Unmarshal(b, &grid)
	if resp.StatusCode != 200 || len(grid.Miners) != 2 {
		t.Errorf("grid: %d with %d miners, want 2", resp.StatusCode, len(grid.Miners))
	}
}

func TestEventsAndWait(t *testing.T) {
	e := start(t, refengine.New())
	v := e.create(t, `{"prompt": "two yellow stars spinning in a purple sky", `+small+`}`)
	req, _ := http.NewRequest("GET", e.url+"/v1/videos/"+v.ID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	var statuses []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var got gateway.Video
			json.Unmarshal([]byte(d), &got)
			statuses = append(statuses, got.Status)
		}
	}
	if len(statuses) < 2 || statuses[len(statuses)-1] != "completed" {
		t.Errorf("events %v, want a stream ending in completed", statuses)
	}
	// Prefer: wait returns the finished job.
	resp2, b := e.do(t, "POST", "/v1/videos", `{"prompt": "a cube", `+small+`}`, map[string]string{"Prefer": "wait=30"})
	var done gateway.Video
	json.Unmarshal(b, &done)
	if resp2.StatusCode != 200 || done.Status != "completed" {
		t.Errorf("Prefer: wait: %d %s", resp2.StatusCode, b)
	}
}

func TestIdempotencyAndCancel(t *testing.T) {
	e := start(t) // no miners: jobs stay queued
	body := `{"prompt": "a green tree", ` + small + `}`
	h := map[string]string{"Idempotency-Key": "order-17"}
	r1, b1 := e.do(t, "POST", "/v1/videos", body, h)
	r2, b2 := e.do(t, "POST", "/v1/videos", body, h)
	var v1, v2 gateway.Video
	json.Unmarshal(b1, &v1)
	json.Unmarshal(b2, &v2)
	if r1.StatusCode != 202 || r2.StatusCode != 200 || v1.ID != v2.ID {
		t.Errorf("idempotent repeat: %d %s / %d %s, want the same job", r1.StatusCode, v1.ID, r2.StatusCode, v2.ID)
	}
	resp, b := e.do(t, "GET", "/v1/videos/"+v1.ID+"/content", "", nil)
	if resp.StatusCode != 409 {
		t.Errorf("content before completion: %d %s, want 409", resp.StatusCode, b)
	}
	resp, b = e.do(t, "POST", "/v1/videos/"+v1.ID+"/cancel", "", nil)
	var c gateway.Video
	json.Unmarshal(b, &c)
	if resp.StatusCode != 200 || c.Status != "failed" || c.Error == nil || c.Error.Code != "cancelled" {
		t.Errorf("cancel: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.do(t, "POST", "/v1/videos/"+v1.ID+"/cancel", "", nil); resp.StatusCode != 409 {
		t.Errorf("second cancel: %d, want 409", resp.StatusCode)
	}
}

// crashingQueue aborts the first request that enqueues, after the job was
// stored: a replica dying between the two, whose client gets no answer.
type crashingQueue struct {
	fractal.JobQueue
	crashed atomic.Bool
}

func (q *crashingQueue) Enqueue(ctx context.Context, id string) error {
	if q.crashed.CompareAndSwap(false, true) {
		panic(http.ErrAbortHandler)
	}
	return q.JobQueue.Enqueue(ctx, id)
}

func TestRetryAfterCrashBeforeQueueing(t *testing.T) {
	e := startHook(t, func(gw *gateway.Gateway) { gw.Queue = &crashingQueue{JobQueue: gw.Queue} }, refengine.New())
	body := `{"prompt": "a blue kite over a hill", "seed": 3, ` + small + `}`
	req, _ := http.NewRequest("POST", e.url+"/v1/videos", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Idempotency-Key", "kite-1")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("first POST answered %d, want the connection cut", resp.StatusCode)
	}
	// The client retries with the same key: it gets the stored job, which
	// must now run although its first queueing never happened.
	resp, b := e.do(t, "POST", "/v1/videos", body, map[string]string{"Idempotency-Key": "kite-1"})
	var v gateway.Video
	json.Unmarshal(b, &v)
	if resp.StatusCode != http.StatusOK || v.Status != "queued" {
		t.Fatalf("retry: %d %s, want 200 with the queued job", resp.StatusCode, b)
	}
	if done := e.wait(t, v.ID); done.Status != "completed" {
		t.Fatalf("job %s ended %s, want completed", v.ID, done.Status)
	}
	// A third retry, after it ran, queues nothing more: it stays completed
	// and no second run starts.
	resp, b = e.do(t, "POST", "/v1/videos", body, map[string]string{"Idempotency-Key": "kite-1"})
	json.Unmarshal(b, &v)
	if resp.StatusCode != http.StatusOK || v.Status != "completed" || v.Attempts != 1 {
		t.Fatalf("retry after completion: %d %s, want 200, completed after one attempt", resp.StatusCode, b)
	}
}

func TestBadInput(t *testing.T) {
	e := start(t)
	for _, tc := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"empty prompt", `{"prompt": ""}`, 400, "prompt"},
		{"long prompt", `{"prompt": "` + strings.Repeat("a", 1001) + `"}`, 400, "prompt"},
		{"invalid utf8", "{\"prompt\": \"ball \xff\"}", 400, "prompt"},
		{"bad size", `{"prompt": "x", "size": "big"}`, 400, "size"},
		{"odd size", `{"prompt": "x", "size": "100x100"}`, 400, "size"},
		{"frames", `{"prompt": "x", "frames": 0}`, 400, "frames"},
		{"fps", `{"prompt": "x", "fps": 61}`, 400, "fps"},
		{"steps", `{"prompt": "x", "steps": 1000}`, 400, "steps"},
		{"both lengths", `{"prompt": "x", "frames": 4, "seconds": 2}`, 400, "seconds"},
		{"unknown field", `{"prompt": "x", "colour": "red"}`, 400, "colour"},
		{"wrong type", `{"prompt": "x", "frames": "four"}`, 400, "frames"},
		{"private webhook", `{"prompt": "x", "webhook_url": "ftp://x"}`, 400, "webhook_url"},
		{"unknown model", `{"prompt": "x", "model": "sora-2"}`, 400, "model"},
		{"model not a string", `{"prompt": "x", "model": 4}`, 400, "model"},
		{"not json", `prompt=x`, 400, "body"},
		{"too large", `{"prompt": "` + strings.Repeat("a", 20<<10) + `"}`, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := e.do(t, "POST", "/v1/videos", tc.body, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.status)
			}
			var eb struct{ Error struct{ Field string } }
			json.Unmarshal(b, &eb)
			if eb.Error.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", eb.Error.Field, tc.field, b)
			}
		})
	}
	// None of those created a job.
	_, b := e.do(t, "GET", "/v1/videos", "", nil)
	if !strings.Contains(string(b), `"data":[]`) {
		t.Errorf("bad input created jobs: %s", b)
	}
	if resp, _ := e.do(t, "GET", "/v1/videos/vid_nope", "", nil); resp.StatusCode != 404 {
		t.Errorf("unknown id: %d, want 404", resp.StatusCode)
	}
	e.key = "fk_wrong_key"
	if resp, _ := e.do(t, "GET", "/v1/videos", "", nil); resp.StatusCode != 401 {
		t.Errorf("wrong key: %d, want 401", resp.StatusCode)
	}
}

func TestRetryOnAnotherMiner(t *testing.T) {
	e := start(t, failing{refengine.New()}, refengine.New())
	for i := range 4 {
		v := e.create(t, fmt.Sprintf(`{"prompt": "a blue fish %d", %s}`, i, small))
		if done := e.wait(t, v.ID); done.Status != "completed" {
			t.Fatalf("job %d: %+v, want completed on the healthy miner", i, done)
		}
	}
}

// failing is an engine whose every generation fails.
type failing struct{ fractal.Engine }

func (failing) Generate(context.Context, fractal.Spec, fractal.GenerateOptions) (*fractal.Result, error) {
	return nil, fmt.Errorf("out of GPU memory")
}

func TestOpenAPI(t *testing.T) {
	e := start(t)
	resp, b := e.do(t, "GET", "/v1/openapi.json", "", nil)
	var doc struct {
		OpenAPI string
		Paths   map[string]any
	}
	if err := json.Unmarshal(b, &doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("openapi: %d %v", resp.StatusCode, err)
	}
	for _, p := range []string{"/v1/videos", "/v1/videos/{id}", "/v1/videos/{id}/content", "/v1/videos/{id}/events", "/v1/videos/{id}/cancel", "/v1/videos/{id}/remix", "/v1/grid", "/v1/models", "/v1/models/{id}"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("openapi lacks %s", p)
		}
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q, want 3.x", doc.OpenAPI)
	}
}

// TestMetricsStayPrivate: GET /metrics answers loopback and private
// callers, and a public one only with Config.PublicMetrics: its counters
// of challenges, read as requests arrive, would tell a miner which are
// challenges.
func TestMetricsStayPrivate(t *testing.T) {
	e := start(t, refengine.New())
	for _, c := range []struct {
		from   string
		public bool
		want   int
	}{
		{"127.0.0.1:40000", false, http.StatusOK},
		{"10.1.2.3:40000", false, http.StatusOK},
		{"[::1]:40000", false, http.StatusOK},
		{"203.0.113.9:40000", false, http.StatusForbidden},
		{"[2001:db8::1]:40000", false, http.StatusForbidden},
		{"203.0.113.9:40000", true, http.StatusOK},
	} {
		e.gw.Config.PublicMetrics = c.public
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.RemoteAddr = c.from
		w := httptest.NewRecorder()
		e.gw.Handler().ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("from %s (public metrics %v): %d %s, want %d", c.from, c.public, w.Code, w.Body.String(), c.want)
		}
		if w.Code == http.StatusOK && !strings.Contains(w.Body.String(), "fractal_gateway_") {
			t.Errorf("from %s: no gateway series in %q", c.from, w.Body.String())
		}
	}
}
