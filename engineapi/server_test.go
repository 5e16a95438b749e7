package engineapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/engineapi"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/refengine"
)

var smallSpec = fractal.Spec{Prompt: "a red ball bouncing over the ocean at night", Seed: 1, Frames: 2, Width: 64, Height: 64, FPS: 8, Steps: 3}

// testLogger sends logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return testenv.Logger(t, slog.LevelDebug)
}

func serve(t *testing.T, e fractal.Engine, cfg engineapi.Config) *httptest.Server {
	t.Helper()
	srv, err := engineapi.NewServer(e, cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs
}

func record(t *testing.T, v any, payload []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := engineapi.WriteRecord(&buf, v, payload); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// errorReply reads a non-200 reply, checking its status and code.
func errorReply(t *testing.T, resp *http.Response, status int, code string) engineapi.ErrorBody {
	t.Helper()
	defer resp.Body.Close()
	var reply engineapi.ErrorReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		t.Fatalf("status %d: error body: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != status || reply.Error.Code != code {
		t.Errorf("got %d %q (%s), want %d %q", resp.StatusCode, reply.Error.Code, reply.Error.Message, status, code)
	}
	return reply.Error
}

func post(t *testing.T, hs *httptest.Server, path string, body []byte) *http.Response {
	t.Helper()
	resp, err := hs.Client().Post(hs.URL+path, engineapi.ContentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestProfile(t *testing.T) {
	e := refengine.New()
	hs := serve(t, e, engineapi.DefaultConfig())
	resp, err := hs.Client().Get(hs.URL + "/v1/profile")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply engineapi.ProfileReply
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(reply.Profile, e.Profile()) || reply.Protocol != engineapi.Protocol {
		t.Errorf("got %+v, want profile %+v and protocol %s", reply, e.Profile(), engineapi.Protocol)
	}
	if len(reply.Capabilities) != 1 || reply.Capabilities[0] != engineapi.CapDecodeFrame {
		t.Errorf("got capabilities %v, want [%s]", reply.Capabilities, engineapi.CapDecodeFrame)
	}
}

func TestRequestErrors(t *testing.T) {
	hs := serve(t, refengine.New(), engineapi.DefaultConfig())
	state := fractal.State{Shape: []int{4}, Data: []float32{1, 2, 3, 4}}
	badDigest := engineapi.Header(state)
	badDigest.Digest[0] ^= 1
	tests := []struct {
		name, path, field string
		body              []byte
	}{
		{"Empty", "/v1/generate", "", nil},
		{"NotJSON", "/v1/generate", "", []byte("spec please\n")},
		{"WrongType", "/v1/generate", "", record(t, engineapi.StepRequest{Type: engineapi.TypeStep, Spec: smallSpec}, nil)},
		{"TrailingData", "/v1/generate", "", append(record(t, engineapi.GenerateRequest{Spec: smallSpec}, nil), "{}\n"...)},
		{"InvalidSpec", "/v1/generate", "width", record(t, engineapi.GenerateRequest{Spec: fractal.Spec{Prompt: "x", Frames: 1, Width: 100, Height: 64, FPS: 8, Steps: 1}}, nil)},
		{"StepMissingState", "/v1/step", "state", record(t, engineapi.StepRequest{Spec: smallSpec, T: 2}, nil)},
		{"StepBadDType", "/v1/step", "state", record(t, engineapi.StepRequest{Spec: smallSpec, T: 2,
			State: &engineapi.StateHeader{Shape: []int{4}, DType: "float16"}, Bytes: 16}, state.Bytes())},
		{"StepBytesShapeMismatch", "/v1/step", "state", record(t, engineapi.StepRequest{Spec: smallSpec, T: 2,
			State: &engineapi.StateHeader{Shape: []int{5}, DType: "float32"}, Bytes: 16}, state.Bytes())},
		{"StepDigestMismatch", "/v1/step", "state", record(t, engineapi.StepRequest{Spec: smallSpec, T: 2,
			State: &badDigest, Bytes: 16}, state.Bytes())},
		{"DecodeWrongShape", "/v1/decode", "", record(t, engineapi.DecodeRequest{Spec: smallSpec, State: engineapi.Header(state), Bytes: 16}, state.Bytes())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := errorReply(t, post(t, hs, tc.path, tc.body), http.StatusBadRequest, apierr.CodeInvalid)
			if tc.field != "" && got.Field != tc.field {
				t.Errorf("got field %q (%s), want %q", got.Field, got.Message, tc.field)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	hs := serve(t, refengine.New(), engineapi.DefaultConfig())
	resp, err := hs.Client().Get(hs.URL + "/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	errorReply(t, resp, http.StatusNotFound, apierr.CodeNotFound)
	resp, err = hs.Client().Get(hs.URL + "/v1/generate")
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Allow"); got != http.MethodPost {
		t.Errorf("got Allow %q, want %s", got, http.MethodPost)
	}
	errorReply(t, resp, http.StatusMethodNotAllowed, apierr.CodeMethod)
}

func TestBodyLimit(t *testing.T) {
	cfg := engineapi.DefaultConfig()
	cfg.MaxBodyBytes = 1 << 20
	hs := serve(t, refengine.New(), cfg)
	big := fractal.State{Shape: []int{1 << 19}, Data: make([]float32, 1<<19)}
	body := record(t, engineapi.StepRequest{Spec: smallSpec, T: 1, State: &engineapi.StateHeader{Shape: big.Shape, DType: "float32"}, Bytes: 4 << 19}, big.Bytes())
	t.Run("ContentLength", func(t *testing.T) {
		errorReply(t, post(t, hs, "/v1/step", body), http.StatusRequestEntityTooLarge, apierr.CodeTooLarge)
	})
	t.Run("Chunked", func(t *testing.T) {
		// io.MultiReader hides the length, so the body is sent chunked.
		resp, err := hs.Client().Post(hs.URL+"/v1/step", engineapi.ContentType, io.MultiReader(bytes.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		errorReply(t, resp, http.StatusRequestEntityTooLarge, apierr.CodeTooLarge)
	})
}

// gated holds every Generate until released, to fill the server's slots.
type gated struct {
	fractal.Engine
	entered, release chan struct{}
}

func (g gated) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Engine.Generate(ctx, spec, opts)
}

func TestBusy(t *testing.T) {
	g := gated{Engine: refengine.New(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	cfg := engineapi.DefaultConfig()
	cfg.Concurrency = 1
	cfg.RetryAfter = 2 * time.Second
	hs := serve(t, g, cfg)
	body := record(t, engineapi.GenerateRequest{Spec: smallSpec}, nil)
	first := make(chan *http.Response, 1)
	go func() {
		resp, err := hs.Client().Post(hs.URL+"/v1/generate", engineapi.ContentType, bytes.NewReader(body))
		if err != nil {
			t.Error(err)
		}
		first <- resp
	}()
	<-g.entered
	resp := post(t, hs, "/v1/step", record(t, engineapi.StepRequest{Spec: smallSpec}, nil))
	if got := resp.Header.Get("Retry-After"); got != "2" {
		t.Errorf("got Retry-After %q, want 2", got)
	}
	errorReply(t, resp, http.StatusServiceUnavailable, apierr.CodeOverloaded)
	close(g.release)
	if resp := <-first; resp != nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the admitted call got %d, want 200", resp.StatusCode)
		}
	}
	resp = post(t, hs, "/v1/step", record(t, engineapi.StepRequest{Spec: smallSpec}, nil))
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the slot freed got %d, want 200", resp.StatusCode)
	}
}

// watched reports how each Generate ended and how many steps it ran.
type watched struct {
	fractal.Engine
	steps atomic.Int64
	done  chan error
}

func (w *watched) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	inner := opts.Progress
	opts.Progress = func(p fractal.Progress) {
		w.steps.Add(1)
		inner(p)
	}
	res, err := w.Engine.Generate(ctx, spec, opts)
	w.done <- err
	return res, err
}

// TestDisconnectStopsEngine: a caller that goes away mid-generation stops
// the engine's work.
func TestDisconnectStopsEngine(t *testing.T) {
	w := &watched{Engine: refengine.New(), done: make(chan error, 1)}
	hs := serve(t, w, engineapi.DefaultConfig())
	spec := fractal.DefaultSpec("a blue cube spinning in a forest", 3)
	spec.Steps = fractal.MaxSteps
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL+"/v1/generate", bytes.NewReader(record(t, engineapi.GenerateRequest{Spec: spec}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(line, `"progress"`) {
		t.Fatalf("first record %q, %v; want progress", line, err)
	}
	cancel()
	resp.Body.Close()
	select {
	case err := <-w.done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("engine Generate ended with %v, want %v", err, context.Canceled)
		}
		if n := w.steps.Load(); n >= int64(spec.Steps) {
			t.Errorf("engine ran all %d steps after the caller left", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("engine still generating 20s after the caller left")
	}
}

// broken breaks its contract after streaming progress: one digest short.
type broken struct{ fractal.Engine }

func (b broken) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	res, err := b.Engine.Generate(ctx, spec, opts)
	if err == nil {
		res.StateDigests = res.StateDigests[1:]
	}
	return res, err
}

func TestMidStreamErrorRecord(t *testing.T) {
	hs := serve(t, broken{refengine.New()}, engineapi.DefaultConfig())
	resp := post(t, hs, "/v1/generate", record(t, engineapi.GenerateRequest{Spec: smallSpec}, nil))
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200 (progress was streamed)", resp.StatusCode)
	}
	rd := engineapi.NewReader(resp.Body, 1<<20)
	var types []string
	for {
		rec, err := rd.Next()
		if errors.Is(err, engineapi.ErrNoRecord) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, rec.Type)
	}
	want := "progress progress progress error"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("got records %q, want %q", got, want)
	}
}

// TestInternalErrorHidden: an engine that breaks its contract is an internal
// error; the record says only "internal error" with the request id, and the
// server's log holds the cause with that id.
func TestInternalErrorHidden(t *testing.T) {
	var logs bytes.Buffer
	srv, err := engineapi.NewServer(broken{refengine.New()}, engineapi.DefaultConfig(), slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	resp := post(t, hs, "/v1/generate", record(t, engineapi.GenerateRequest{Spec: smallSpec}, nil))
	defer resp.Body.Close()
	id := resp.Header.Get(apierr.HeaderRequestID)
	rd := engineapi.NewReader(resp.Body, 1<<20)
	var reply engineapi.ErrorReply
	for {
		rec, err := rd.Next()
		if err != nil {
			t.Fatalf("no error record: %v", err)
		}
		if rec.Type == engineapi.TypeError {
			if err := rec.Decode(&reply); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	want := engineapi.ErrorBody{Code: apierr.CodeInternal, Message: "internal error", RequestID: id}
	if id == "" || reply.Error != want {
		t.Errorf("got %+v, want %+v", reply.Error, want)
	}
	if !strings.Contains(logs.String(), `"request_id":"`+id+`"`) || !strings.Contains(logs.String(), "state digests") {
		t.Errorf("got log %s, want the cause with request id %s", logs.String(), id)
	}
}

// TestBackToBack: a caller that has read a reply gets its slot back at once,
// even with a single slot.
func TestBackToBack(t *testing.T) {
	cfg := engineapi.DefaultConfig()
	cfg.Concurrency = 1
	hs := serve(t, refengine.New(), cfg)
	body := record(t, engineapi.GenerateRequest{Spec: smallSpec}, nil)
	for i := range 30 {
		resp := post(t, hs, "/v1/generate", body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d got %d, want 200", i, resp.StatusCode)
		}
		// Stop at the end record, as a client does, without waiting for EOF.
		rd := engineapi.NewReader(resp.Body, 1<<20)
		for rec, err := rd.Next(); rec == nil || rec.Type != engineapi.TypeEnd; rec, err = rd.Next() {
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		resp.Body.Close()
	}
}
