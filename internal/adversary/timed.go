package adversary

import (
	"context"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
)

// timedEngine adds up the wall time spent in an engine.
type timedEngine struct {
	fractal.Engine
	mu    sync.Mutex
	spent time.Duration
}

var (
	_ fractal.Engine       = (*timedEngine)(nil)
	_ fractal.FrameDecoder = (*timedEngine)(nil)
)

func (e *timedEngine) add(start time.Time) {
	d := time.Since(start)
	e.mu.Lock()
	e.spent += d
	e.mu.Unlock()
}

func (e *timedEngine) elapsed() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.spent
}

func (e *timedEngine) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	defer e.add(time.Now())
	return e.Engine.Generate(ctx, spec, opts)
}

func (e *timedEngine) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	defer e.add(time.Now())
	return e.Engine.Step(ctx, spec, t, prev)
}

func (e *timedEngine) Decode(ctx context.Context, spec fractal.Spec, final fractal.State) (*fractal.Frames, error) {
	defer e.add(time.Now())
	return e.Engine.Decode(ctx, spec, final)
}

// DecodeFrame keeps the wrapped engine's single-frame decode, or decodes
// everything when it has none.
func (e *timedEngine) DecodeFrame(ctx context.Context, spec fractal.Spec, final fractal.State, i int) ([]byte, error) {
	defer e.add(time.Now())
	return fractal.DecodeFrame(ctx, e.Engine, spec, final, i)
}
