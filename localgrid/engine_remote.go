package localgrid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/remote"
)

// SharedEngine is one engine slot shared by several callers: the grid's
// miners and its validator all call one engine-protocol server, which runs
// one generation at a time and refuses a second with 503 overloaded (so do a
// validator's parallel checks, and 'fractal validator' wraps its engine
// servers in one too). Each call waits here for the slot instead, in turn,
// so a job waits in its miner's queue and then here rather than failing; a
// call whose context ends while it waits returns the context's error. A
// refusal for load from the server itself (another client shares it) is
// retried until ctx ends.
type SharedEngine struct {
	Engine fractal.Engine
	slot   chan struct{}
}

var (
	_ fractal.Engine           = (*SharedEngine)(nil)
	_ fractal.FrameDecoder     = (*SharedEngine)(nil)
	_ fractal.ExecutionClasser = (*SharedEngine)(nil)
)

// ExecutionClass is the shared engine's class.
func (s *SharedEngine) ExecutionClass() string { return fractal.ClassOf(s.Engine) }

// NewSharedEngine returns e behind one slot.
func NewSharedEngine(e fractal.Engine) *SharedEngine {
	return &SharedEngine{Engine: e, slot: make(chan struct{}, 1)}
}

// overloadedRetry is the wait before asking a busy engine server again.
const overloadedRetry = 200 * time.Millisecond

// inSlot runs call holding the slot, retrying while the server is busy.
func inSlot[T any](ctx context.Context, s *SharedEngine, call func() (T, error)) (T, error) {
	var zero T
	select {
	case s.slot <- struct{}{}:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	defer func() { <-s.slot }()
	for {
		v, err := call()
		if !errors.Is(err, fractal.ErrOverloaded) {
			return v, err
		}
		t := time.NewTimer(overloadedRetry)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return zero, err
		}
	}
}

// Profile returns the engine's profile.
func (s *SharedEngine) Profile() fractal.Profile { return s.Engine.Profile() }

// Generate waits for the slot and generates.
func (s *SharedEngine) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	return inSlot(ctx, s, func() (*fractal.Result, error) { return s.Engine.Generate(ctx, spec, opts) })
}

// Step waits for the slot and computes state t.
func (s *SharedEngine) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	return inSlot(ctx, s, func() (fractal.State, error) { return s.Engine.Step(ctx, spec, t, prev) })
}

// Decode waits for the slot and decodes.
func (s *SharedEngine) Decode(ctx context.Context, spec fractal.Spec, final fractal.State) (*fractal.Frames, error) {
	return inSlot(ctx, s, func() (*fractal.Frames, error) { return s.Engine.Decode(ctx, spec, final) })
}

// DecodeFrame waits for the slot and decodes frame i, with the engine's own
// DecodeFrame when it has one and a whole Decode otherwise.
func (s *SharedEngine) DecodeFrame(ctx context.Context, spec fractal.Spec, final fractal.State, i int) ([]byte, error) {
	return inSlot(ctx, s, func() ([]byte, error) { return fractal.DecodeFrame(ctx, s.Engine, spec, final, i) })
}

// openEngine connects to the engine server at Config.Engine, waiting while
// it answers unavailable (it loads and warms its weights first) for up to
// Config.EngineWait.
func (g *Grid) openEngine(ctx context.Context) error {
	if g.Config.Engine == "" {
		return nil
	}
	e, err := remote.New(g.Config.Engine, nil)
	if err != nil {
		return fmt.Errorf("engine %s: %w", g.Config.Engine, err)
	}
	wctx, cancel := context.WithTimeout(ctx, g.Config.EngineWait)
	defer cancel()
	logged := false
	for {
		err := e.Open(wctx)
		if err == nil {
			break
		}
		if !errors.Is(err, fractal.ErrUnavailable) || wctx.Err() != nil {
			return fmt.Errorf("engine %s: %w", g.Config.Engine, err)
		}
		if !logged {
			g.logger.Warn("waiting for the engine to load", slog.String("engine", g.Config.Engine), slog.Any(logKeyError, err))
			logged = true
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("engine %s not ready within %s: %w", g.Config.Engine, g.Config.EngineWait, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	g.engine = NewSharedEngine(e)
	return nil
}

// Engine returns the engine every miner and the validator share, or nil when
// the grid runs the reference engine.
func (g *Grid) Engine() *SharedEngine { return g.engine }

// gridPins are the grid's pins: the engine server's profile for good, the
// rehearsal's, or nil for the defaults (the reference engine's profile).
func (g *Grid) gridPins() fractal.Pins {
	if g.engine != nil {
		return fractal.PinsOf(g.engine.Profile())
	}
	return g.pins()
}

// challengeTimeout is the fixed part of a challenge's deadline on an engine
// server: a challenge may wait for the shared slot behind a generation of
// every other miner and the validator's own checks.
func (g *Grid) challengeTimeout() time.Duration {
	return time.Duration(g.Config.Miners+1) * time.Minute
}
