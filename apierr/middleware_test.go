package apierr_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

const secret = "dial tcp 10.0.0.7:4222: connection refused"

var requestID = regexp.MustCompile(`^req_[0-9a-f]{24}$`)

// failing answers every request with an unexpected error.
func failing(p *apierr.Protocol) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Write(w, errors.New("store jobs: "+secret))
	})
}

// logTo returns a logger writing JSON lines into buf.
func logTo(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, nil))
}

func TestInternalHidden(t *testing.T) {
	var logs bytes.Buffer
	hs := httptest.NewServer(apierr.Middleware(logTo(&logs), failing(apierr.API)))
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/v1/videos")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("got status %d, want 500", resp.StatusCode)
	}
	id := resp.Header.Get(apierr.HeaderRequestID)
	if !requestID.MatchString(id) {
		t.Fatalf("got request id %q, want req_ and 24 hex digits", id)
	}
	want := `{"error":{"message":"internal error","type":"server_error","param":null,"code":"internal","request_id":"` + id + `"}}` + "\n"
	if body.String() != want {
		t.Errorf("got body %s, want %s", body.String(), want)
	}
	var entry struct {
		Level     string `json:"level"`
		RequestID string `json:"request_id"`
		Path      string `json:"path"`
		Err       string `json:"err"`
	}
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if entry.Level != "ERROR" || entry.RequestID != id || entry.Path != "/v1/videos" || !strings.Contains(entry.Err, secret) {
		t.Errorf("got log %s, want an error with request id %s and the cause", logs.String(), id)
	}
}

func TestInternalHiddenDevchain(t *testing.T) {
	var logs bytes.Buffer
	rec := httptest.NewRecorder()
	apierr.Middleware(logTo(&logs), failing(apierr.Devchain)).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/block", nil))
	id := rec.Header().Get(apierr.HeaderRequestID)
	want := `{"error":"internal error","code":"internal","request_id":"` + id + `"}` + "\n"
	if rec.Code != 500 || rec.Body.String() != want {
		t.Errorf("got %d %s, want 500 %s", rec.Code, rec.Body.String(), want)
	}
	if !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), secret) {
		t.Errorf("got log %s, want the cause with request id %s", logs.String(), id)
	}
}

// TestInternalWithoutMiddleware: Write still hides the cause and gives an id.
func TestInternalWithoutMiddleware(t *testing.T) {
	rec := httptest.NewRecorder()
	failing(apierr.Miner).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if strings.Contains(rec.Body.String(), secret) {
		t.Errorf("body %s holds the cause", rec.Body.String())
	}
	var reply apierr.Reply
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatal(err)
	}
	b := reply.Error
	if b.Code != "internal" || b.Message != "internal error" || !requestID.MatchString(b.RequestID) {
		t.Errorf("got %+v, want internal error with a request id", b)
	}
	if got := rec.Header().Get(apierr.HeaderRequestID); got != b.RequestID {
		t.Errorf("header request id %q, body's %q", got, b.RequestID)
	}
	back := apierr.Miner.Read(rec.Result())
	if !strings.Contains(back.Error(), b.RequestID) {
		t.Errorf("read back %v, want it to name request %s", back, b.RequestID)
	}
}

// TestKnownKindNotLogged: a refusal is the caller's business, not a fault.
func TestKnownKindNotLogged(t *testing.T) {
	var logs bytes.Buffer
	h := apierr.Middleware(logTo(&logs), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apierr.Write(w, fractal.Errorf("width", "too wide"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/videos", nil))
	want := `{"error":{"message":"width: too wide","type":"invalid_request_error","param":"width","code":"invalid","field":"width"}}` + "\n"
	if rec.Code != 400 || rec.Body.String() != want {
		t.Errorf("got %d %s, want 400 %s", rec.Code, rec.Body.String(), want)
	}
	if logs.Len() != 0 {
		t.Errorf("got log %s, want none", logs.String())
	}
	if rec.Header().Get(apierr.HeaderRequestID) == "" {
		t.Error("no request id header")
	}
}

// TestMiddlewareWriter: the wrapped writer still flushes, and RequestID finds
// the id through another wrapper.
func TestMiddlewareWriter(t *testing.T) {
	var id string
	h := apierr.Middleware(nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("writer is not an http.Flusher")
		}
		id = apierr.RequestID(wrapped{w})
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if id == "" || rec.Header().Get(apierr.HeaderRequestID) != id || !rec.Flushed {
		t.Errorf("got id %q, header %q, flushed %v", id, rec.Header().Get(apierr.HeaderRequestID), rec.Flushed)
	}
	if apierr.RequestID(rec) != "" {
		t.Error("a plain writer has a request id")
	}
}

type wrapped struct{ http.ResponseWriter }

func (w wrapped) Unwrap() http.ResponseWriter { return w.ResponseWriter }
