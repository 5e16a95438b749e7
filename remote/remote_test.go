package remote_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
	"github.com/fractal-grid/fractal/enginetest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/remote"
)

var smallSpec = fractal.Spec{Prompt: "a red ball bouncing over the ocean at night", Seed: 5, Frames: 3, Width: 64, Height: 72, FPS: 8, Steps: 4}

// serve starts the engine server on loopback around e.
func serve(tb testing.TB, e fractal.Engine, cfg engineapi.Config, wrap func(http.Handler) http.Handler) *httptest.Server {
	tb.Helper()
	srv, err := engineapi.NewServer(e, cfg, slog.New(slog.NewTextHandler(testenv.LogWriter(tb), nil)))
	if err != nil {
		tb.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(h)
	}
	hs := httptest.NewServer(h)
	tb.Cleanup(hs.Close)
	return hs
}

// open returns an opened client of hs.
func open(tb testing.TB, hs *httptest.Server) *remote.Engine {
	tb.Helper()
	e, err := remote.New(hs.URL, hs.Client())
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	return e
}

// TestContract runs the engine contract suite over the whole remote path:
// remote client → loopback HTTP → engineapi server → reference engine.
func TestContract(t *testing.T) {
	enginetest.Run(t, func(t *testing.T) fractal.Engine {
		return open(t, serve(t, refengine.New(), engineapi.DefaultConfig(), nil))
	})
}

// TestSameAsDirect checks that the remote path gives exactly what the
// engine gives when called directly.
func TestSameAsDirect(t *testing.T) {
	direct := refengine.New()
	rem := open(t, serve(t, direct, engineapi.DefaultConfig(), nil))
	if err := direct.Profile().Same(rem.Profile()); err != nil {
		t.Fatalf("profile: %v", err)
	}
	other := smallSpec
	other.Prompt, other.Seed, other.Width = "a yellow star drifting through space", 9, 128
	for _, spec := range []fractal.Spec{smallSpec, other} {
		want := enginetest.MustGenerate(t, direct, spec, true)
		got := enginetest.MustGenerate(t, rem, spec, true)
		if got.Commit() != want.Commit() {
			t.Errorf("spec %s: remote commitment %+v, direct %+v", spec.Hash(), got.Commit(), want.Commit())
		}
		if !slices.Equal(got.StateDigests, want.StateDigests) {
			t.Errorf("spec %s: remote state digests differ from direct", spec.Hash())
		}
		for i := range want.States {
			if err := fractal.CompareStates(got.States[i], want.States[i], 0); err != nil {
				t.Errorf("spec %s state %d: %v", spec.Hash(), i, err)
			}
		}
		s, err := rem.Step(t.Context(), spec, 2, want.States[1])
		if err != nil {
			t.Fatal(err)
		}
		if s.Digest() != want.StateDigests[2] {
			t.Errorf("remote Step(2) digest %s, direct %s", s.Digest(), want.StateDigests[2])
		}
	}
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

func TestOverloaded(t *testing.T) {
	g := gated{Engine: refengine.New(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	cfg := engineapi.DefaultConfig()
	cfg.Concurrency = 1
	rem := open(t, serve(t, g, cfg, nil))
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := rem.Generate(t.Context(), smallSpec, fractal.GenerateOptions{}); err != nil {
			t.Errorf("admitted Generate: %v", err)
		}
	})
	<-g.entered
	_, err := rem.Step(t.Context(), smallSpec, 0, fractal.State{})
	var oe *engineapi.OverloadedError
	if !errors.Is(err, fractal.ErrOverloaded) || !errors.As(err, &oe) || oe.After != time.Second {
		t.Errorf("Step while busy: got %v, want %v retrying after 1s", err, fractal.ErrOverloaded)
	}
	close(g.release)
	wg.Wait()
}

func TestUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e, err := remote.New("http://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Open(t.Context()); !errors.Is(err, fractal.ErrUnavailable) {
		t.Errorf("Open on a closed port: got %v, want %v", err, fractal.ErrUnavailable)
	}
	if _, err := e.Generate(t.Context(), smallSpec, fractal.GenerateOptions{}); !errors.Is(err, fractal.ErrUnavailable) {
		t.Errorf("Generate on a closed port: got %v, want %v", err, fractal.ErrUnavailable)
	}
}

func TestNewRefusesBadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:7070", "ftp://host", "http://", "://x"} {
		if _, err := remote.New(u, nil); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("New(%q): got %v, want %v", u, err, fractal.ErrInvalid)
		}
	}
}

func TestProfileChecked(t *testing.T) {
	tests := []struct{ name, body string }{
		{"OtherProtocol", `{"id":"x","version":"1","determinism":"exact","protocol":"fractal-engine/9"}`},
		{"InvalidProfile", `{"id":"","version":"1","determinism":"exact","protocol":"fractal-engine/1"}`},
		{"NotJSON", `<html>`},
		{"TooLarge", `{"id":"` + strings.Repeat("x", engineapi.MaxLineBytes) + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(tc.body))
			}))
			defer hs.Close()
			e, err := remote.New(hs.URL, hs.Client())
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Open(t.Context()); !errors.Is(err, remote.ErrProtocol) {
				t.Errorf("Open: got %v, want %v", err, remote.ErrProtocol)
			}
		})
	}
}

// plainEngine hides the reference engine's FrameDecoder, so the server does
// not offer decode_frame and the client must fall back to a full decode.
type plainEngine struct{ fractal.Engine }

func TestContractWithoutDecodeFrame(t *testing.T) {
	enginetest.Run(t, func(t *testing.T) fractal.Engine {
		return open(t, serve(t, plainEngine{refengine.New()}, engineapi.DefaultConfig(), nil))
	})
}
