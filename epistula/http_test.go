package epistula_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/internal/testenv"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type echo struct {
	Signer string `json:"signer"`
	Body   string `json:"body"`
	Length int64  `json:"length"`
}

// newServer serves an echo handler behind an Authenticator on 127.0.0.1.
func newServer(t *testing.T, cfg epistula.Config, setup func(*epistula.Authenticator)) *httptest.Server {
	t.Helper()
	v, err := epistula.NewAuthenticator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v.Logger = slog.New(slog.NewTextHandler(testenv.LogWriter(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
	if setup != nil {
		setup(v)
	}
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signer, ok := epistula.SignerFrom(r.Context())
		if !ok {
			http.Error(w, "no signer in context", http.StatusInternalServerError)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(echo{Signer: signer, Body: string(body), Length: r.ContentLength})
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type result struct {
	status int
	echo   echo
	err    string
	header http.Header
}

func do(t *testing.T, c *http.Client, method, url, body string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	res := result{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &res.echo); err != nil {
			t.Fatalf("decode %q: %v", raw, err)
		}
		return res
	}
	var e struct{ Error string }
	if err := json.Unmarshal(raw, &e); err != nil || e.Error == "" {
		t.Fatalf("refusal %d is not a JSON error: %q", resp.StatusCode, raw)
	}
	res.err = e.Error
	return res
}

func client(tr *epistula.Transport) *http.Client {
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func forAddr(addr string) func(*http.Request) string {
	return func(*http.Request) string { return addr }
}

func TestHTTP(t *testing.T) {
	alice, bob, charlie := testenv.Key(t, "//Alice"), testenv.Key(t, "//Bob"), testenv.Key(t, "//Charlie")
	srv := newServer(t, epistula.DefaultConfig(bob.SS58()), nil)
	signed := &epistula.Transport{Signer: alice, SignedFor: forAddr(bob.SS58())}

	// replayed captures what the signing transport sends and sends it again.
	var captured *http.Request
	var capturedBody []byte
	recorder := &epistula.Transport{Signer: alice, SignedFor: forAddr(bob.SS58()), Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		captured = r.Clone(r.Context())
		capturedBody, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(capturedBody))
		return http.DefaultTransport.RoundTrip(r)
	})}
	if res := do(t, client(recorder), "POST", srv.URL, `{"n":1}`); res.status != http.StatusOK {
		t.Fatalf("first request: got %d %s, want 200", res.status, res.err)
	}

	tampering := &epistula.Transport{Signer: alice, SignedFor: forAddr(bob.SS58()), Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body = io.NopCloser(strings.NewReader(`{"n":2}`))
		return http.DefaultTransport.RoundTrip(r)
	})}
	skewed := func(d time.Duration) *epistula.Transport {
		return &epistula.Transport{Signer: alice, SignedFor: forAddr(bob.SS58()), Now: func() time.Time { return time.Now().Add(d) }}
	}

	for _, tc := range []struct {
		name    string
		client  *http.Client
		method  string
		body    string
		status  int
		mention string
	}{
		{"signed post", client(signed), "POST", `{"prompt":"a red ball"}`, http.StatusOK, ""},
		{"signed get", client(signed), "GET", "", http.StatusOK, ""},
		{"unsigned", http.DefaultClient, "POST", `{"n":1}`, http.StatusUnauthorized, "missing header"},
		{"stale", client(skewed(-9 * time.Second)), "POST", `{"n":1}`, http.StatusUnauthorized, "outside the window"},
		{"future", client(skewed(30 * time.Second)), "POST", `{"n":1}`, http.StatusUnauthorized, "outside the window"},
		{"wrong signed-for", client(&epistula.Transport{Signer: alice, SignedFor: forAddr(charlie.SS58())}), "POST", `{"n":1}`, http.StatusUnauthorized, "signed for another receiver"},
		{"unaddressed", client(&epistula.Transport{Signer: alice}), "POST", `{"n":1}`, http.StatusUnauthorized, "signed for another receiver"},
		{"tampered body", client(tampering), "POST", `{"n":1}`, http.StatusUnauthorized, "bad signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, tc.client, tc.method, srv.URL, tc.body)
			if res.status != tc.status {
				t.Fatalf("got %d (%s), want %d", res.status, res.err, tc.status)
			}
			if tc.status != http.StatusOK {
				if !strings.Contains(res.err, tc.mention) {
					t.Errorf("error %q does not mention %q", res.err, tc.mention)
				}
				return
			}
			if res.echo.Signer != alice.SS58() || res.echo.Body != tc.body || res.echo.Length != int64(len(tc.body)) {
				t.Errorf("handler saw %+v, want signer %s and the body of %d bytes", res.echo, alice.SS58(), len(tc.body))
			}
		})
	}

	t.Run("replayed", func(t *testing.T) {
		replay := captured.Clone(context.Background())
		replay.Body = io.NopCloser(bytes.NewReader(capturedBody))
		replay.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(replay)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(raw), "replayed") {
			t.Errorf("got %d %s, want 401 replayed", resp.StatusCode, raw)
		}
	})
}

// A receiver configured for unaddressed requests accepts an empty
// Signed-For, which must survive the trip through net/http.
func TestHTTPUnaddressed(t *testing.T) {
	alice, bob := testenv.Key(t, "//Alice"), testenv.Key(t, "//Bob")
	cfg := epistula.DefaultConfig("")
	cfg.AllowUnaddressed = true
	srv := newServer(t, cfg, nil)
	if res := do(t, client(&epistula.Transport{Signer: alice}), "POST", srv.URL, "x"); res.status != http.StatusOK {
		t.Errorf("unaddressed: got %d %s, want 200", res.status, res.err)
	}
	res := do(t, client(&epistula.Transport{Signer: alice, SignedFor: forAddr(bob.SS58())}), "POST", srv.URL, "x")
	if res.status != http.StatusUnauthorized {
		t.Errorf("addressed to bob: got %d, want 401", res.status)
	}
	ctx := epistula.WithReceiver(context.Background(), bob.SS58())
	if got := epistula.ReceiverFrom(ctx); got != bob.SS58() {
		t.Errorf("ReceiverFrom = %q, want %q", got, bob.SS58())
	}
}

func TestHTTPAdmit(t *testing.T) {
	alice, bob, charlie := testenv.Key(t, "//Alice"), testenv.Key(t, "//Bob"), testenv.Key(t, "//Charlie")
	srv := newServer(t, epistula.DefaultConfig(bob.SS58()), func(v *epistula.Authenticator) {
		v.Admit = func(_ context.Context, signer string) error {
			if signer != alice.SS58() {
				return fmt.Errorf("%s has no validator permit: %w", signer, fractal.ErrForbidden)
			}
			return nil
		}
	})
	if res := do(t, client(&epistula.Transport{Signer: alice, SignedFor: forAddr(bob.SS58())}), "POST", srv.URL, "x"); res.status != http.StatusOK {
		t.Errorf("permitted signer: got %d %s, want 200", res.status, res.err)
	}
	res := do(t, client(&epistula.Transport{Signer: charlie, SignedFor: forAddr(bob.SS58())}), "POST", srv.URL, "x")
	if res.status != http.StatusForbidden || !strings.Contains(res.err, "no validator permit") {
		t.Errorf("refused signer: got %d %q, want 403 naming the reason", res.status, res.err)
	}
}

// When the replay cache is full the verifier refuses with 503 rather than
// forget an unexpired request; one signer cannot take more than its share.
func TestHTTPReplayCacheFull(t *testing.T) {
	alice, bob, charlie := testenv.Key(t, "//Alice"), testenv.Key(t, "//Bob"), testenv.Key(t, "//Charlie")
	cfg := epistula.DefaultConfig(bob.SS58())
	cfg.ReplayEntries, cfg.ReplayPerSigner = 3, 2
	srv := newServer(t, cfg, nil)
	fromAlice := client(&epistula.Transport{Signer: alice, SignedFor: forAddr(bob.SS58())})
	fromCharlie := client(&epistula.Transport{Signer: charlie, SignedFor: forAddr(bob.SS58())})
	for i, tc := range []struct {
		c      *http.Client
		status int
	}{
		{fromAlice, 200}, {fromAlice, 200}, {fromAlice, 503}, // alice's share is 2
		{fromCharlie, 200}, {fromCharlie, 503}, // the cache holds 3
	} {
		res := do(t, tc.c, "POST", srv.URL, "x")
		if res.status != tc.status {
			t.Fatalf("request %d: got %d %s, want %d", i, res.status, res.err, tc.status)
		}
		if tc.status == 503 && res.header.Get("Retry-After") == "" {
			t.Errorf("request %d: 503 without Retry-After", i)
		}
	}
}

// Bodies over MaxBody get 413, whether the length is announced or not.
func TestBodyLimit(t *testing.T) {
	alice, bob := testenv.Key(t, "//Alice"), testenv.Key(t, "//Bob")
	cfg := epistula.DefaultConfig(bob.SS58())
	cfg.MaxBody = 1024
	srv := newServer(t, cfg, nil)
	signed := client(&epistula.Transport{Signer: alice, SignedFor: forAddr(bob.SS58())})
	if res := do(t, signed, "POST", srv.URL, strings.Repeat("x", 1024)); res.status != http.StatusOK {
		t.Errorf("body at the limit: got %d %s, want 200", res.status, res.err)
	}
	res := do(t, signed, "POST", srv.URL, strings.Repeat("x", 1025))
	if res.status != http.StatusRequestEntityTooLarge || !strings.Contains(res.err, "over the limit") {
		t.Errorf("announced length: got %d %q, want 413", res.status, res.err)
	}

	v, err := epistula.NewAuthenticator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("y", 1025)
	h, err := epistula.Sign(alice, []byte(body), bob.SS58(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header = h
	rec := httptest.NewRecorder()
	v.Middleware(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("unannounced length: got %d %s, want 413", rec.Code, rec.Body)
	}
}

// A server with its own error format gets the refusal through WriteError.
func TestHTTPWriteError(t *testing.T) {
	bob := testenv.Key(t, "//Bob")
	var got error
	srv := newServer(t, epistula.DefaultConfig(bob.SS58()), func(v *epistula.Authenticator) {
		v.WriteError = func(w http.ResponseWriter, _ *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusTeapot)
			_, _ = fmt.Fprintf(w, `{"error":{"code":"unauthorized","message":%q}}`, err.Error())
		}
	})
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || !errors.Is(got, epistula.ErrMissingHeader) || !errors.Is(got, fractal.ErrUnauthorized) {
		t.Errorf("got %d with %v, want 418 from WriteError with ErrMissingHeader", resp.StatusCode, got)
	}
}
