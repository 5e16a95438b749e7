package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/remote"
)

type engineLogWriter struct{ t *testing.T }

func (w engineLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestEngineServes starts `fractal engine` on port 0, generates through it
// with the remote client, and shuts it down.
func TestEngineServes(t *testing.T) {
	c := NewEngineCommand(slog.New(slog.NewTextHandler(engineLogWriter{t}, nil)))
	if err := c.ParseFlags([]string{"--addr", "127.0.0.1:0", "--concurrency", "3"}, engineLogWriter{t}); err != nil {
		t.Fatal(err)
	}
	if c.Config.Concurrency != 3 {
		t.Errorf("got concurrency %d, want 3", c.Config.Concurrency)
	}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()

	e, err := remote.New("http://"+c.Listener().Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := fractal.Spec{Prompt: "a red ball bouncing over the ocean at night", Seed: 3, Frames: 2, Width: 64, Height: 64, FPS: 8, Steps: 3}
	got, err := e.Generate(t.Context(), spec, fractal.GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := refengine.New().Generate(t.Context(), spec, fractal.GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Commit() != want.Commit() {
		t.Errorf("served commitment %+v, want %+v", got.Commit(), want.Commit())
	}

	stop()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run after shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("engine did not shut down within 15s")
	}
}

func TestEngineFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"Help", []string{"engine", "-h"}, 0},
		{"ZeroConcurrency", []string{"engine", "--concurrency", "0"}, 2},
		{"TinyBody", []string{"engine", "--max-body", "10"}, 2},
		{"ExtraArgument", []string{"engine", "extra"}, 2},
		{"UnknownFlag", []string{"engine", "--gpu"}, 2},
		{"BadAddress", []string{"engine", "--addr", "127.0.0.1:99999"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, stderr := runCLI(t.Context(), tc.args...); code != tc.want {
				t.Errorf("fractal %v: got exit %d, want %d (stderr %q)", tc.args, code, tc.want, stderr)
			}
		})
	}
}

// TestEngineDrains: at shutdown an in-flight generation finishes within the
// drain time, and one that would take longer is cancelled.
func TestEngineDrains(t *testing.T) {
	tests := []struct {
		name     string
		drain    time.Duration
		steps    int
		finishes bool
	}{
		{"Finishes", 30 * time.Second, 4, true},
		{"CutOff", 50 * time.Millisecond, fractal.MaxSteps, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewEngineCommand(slog.New(slog.NewTextHandler(engineLogWriter{t}, nil)))
			c.Addr, c.DrainTime = "127.0.0.1:0", tc.drain
			if err := c.Open(); err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			ran := make(chan error, 1)
			go func() { ran <- c.Run(ctx) }()
			e, err := remote.New("http://"+c.Listener().Addr().String(), nil)
			if err != nil {
				t.Fatal(err)
			}
			spec := fractal.DefaultSpec("a green tree swaying in the desert", 4)
			spec.Steps = tc.steps
			_, err = e.Generate(t.Context(), spec, fractal.GenerateOptions{Progress: func(p fractal.Progress) {
				if p.Step == 1 {
					stop()
				}
			}})
			if finished := err == nil; finished != tc.finishes {
				t.Errorf("in-flight Generate error %v; want finished=%v", err, tc.finishes)
			}
			select {
			case err := <-ran:
				if err != nil {
					t.Errorf("Run after shutdown: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("engine did not shut down within 30s")
			}
		})
	}
}

// TestEngineLongGeneration: a generation may outlast the server's request
// read timeout; the timeout must not cancel it.
func TestEngineLongGeneration(t *testing.T) {
	c := NewEngineCommand(slog.New(slog.NewTextHandler(engineLogWriter{t}, nil)))
	c.Addr, c.readTimeout = "127.0.0.1:0", 50*time.Millisecond
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	defer func() {
		stop()
		if err := <-ran; err != nil {
			t.Errorf("Run after shutdown: %v", err)
		}
	}()
	e, err := remote.New("http://"+c.Listener().Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := fractal.DefaultSpec("a white bird flying over a city", 8)
	start := time.Now()
	if _, err := e.Generate(t.Context(), spec, fractal.GenerateOptions{}); err != nil {
		t.Fatalf("Generate taking %s with a %s read timeout: %v", time.Since(start), c.readTimeout, err)
	}
	if took := time.Since(start); took < c.readTimeout {
		t.Errorf("generation took %s, shorter than the %s read timeout: use a larger spec", took, c.readTimeout)
	}
}
