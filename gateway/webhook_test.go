package gateway_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/refengine"
)

func TestWebhookSignedAndRetried(t *testing.T) {
	e := start(t, refengine.New())
	var mu sync.Mutex
	var calls int
	got := make(chan []byte, 1)
	var sigOK bool
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 { // the first delivery fails: it must be retried
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		// The app checks the signature with the secret it derives from its key.
		ts, mac, _ := strings.Cut(strings.TrimPrefix(r.Header.Get(gateway.HeaderSignature), "t="), ",v1=")
		h := hmac.New(sha256.New, []byte(gateway.WebhookSecret(e.key)))
		fmt.Fprintf(h, "%s.", ts)
		h.Write(body)
		sigOK = hmac.Equal([]byte(mac), []byte(hex.EncodeToString(h.Sum(nil))))
		got <- body
	}))
	defer hook.Close()
	v := e.create(t, fmt.Sprintf(`{"prompt": "a pink heart pulsing", "webhook_url": %q, %s}`, hook.URL, small))
	select {
	case body := <-got:
		var ev struct {
			Type string
			Data gateway.Video
		}
		json.Unmarshal(body, &ev)
		if ev.Type != "video.completed" || ev.Data.ID != v.ID || ev.Data.Digest == "" {
			t.Errorf("webhook %s, want video.completed for %s", body, v.ID)
		}
		if !sigOK {
			t.Error("webhook signature does not verify with the key's secret")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("webhook never delivered")
	}
}

func TestOrganicHandOver(t *testing.T) {
	handed := make(chan fractal.Claim, 1)
	organic := fractal.SamplerFunc(func(ctx context.Context, n fractal.Neuron, c fractal.Claim) {
		if c.Frames.Digest() == c.Receipt.Commitment.FramesDigest && c.Miner == n.Hotkey {
			handed <- c
		}
	})
	e := startWith(t, organic, refengine.New())
	v := e.create(t, `{"prompt": "a white cloud drifting", `+small+`}`)
	e.wait(t, v.ID)
	select {
	case req := <-handed:
		if req.Spec.Prompt != "a white cloud drifting" {
			t.Errorf("handed over %q", req.Spec.Prompt)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("completed job was not handed to the verifier")
	}
}
