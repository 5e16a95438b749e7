package localgrid

import (
	"context"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// PacedEngine is the reference engine slowed down by a factor: after each
// sampling step it waits (Factor-1) times as long as the step took, so a
// miner on a shared CPU behaves like one on a slower GPU without burning
// more CPU. Its output is the reference engine's, bit for bit, so it passes
// verification.
type PacedEngine struct {
	*refengine.Engine
	Factor float64 // 1 or more
}

var _ fractal.Engine = (*PacedEngine)(nil)

// Generate runs the reference engine, pausing after every step.
func (p *PacedEngine) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	if p.Factor <= 1 {
		return p.Engine.Generate(ctx, spec, opts)
	}
	report := opts.Progress
	last := time.Now()
	opts.Progress = func(pr fractal.Progress) {
		p.pause(ctx, time.Since(last))
		last = time.Now()
		if report != nil {
			report(pr)
		}
	}
	res, err := p.Engine.Generate(ctx, spec, opts)
	if err == nil {
		p.pause(ctx, time.Since(last)) // the decode after the last step
	}
	return res, err
}

// pause waits (Factor-1) × worked, or until ctx ends.
func (p *PacedEngine) pause(ctx context.Context, worked time.Duration) {
	t := time.NewTimer(time.Duration(float64(worked) * (p.Factor - 1)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// speedFactor is miner i's slowness on an uneven grid: 1×, 1.5×, 2.5×, 4×,
// then the same again.
func speedFactor(i int, uneven bool) float64 {
	if !uneven {
		return 1
	}
	return []float64{1, 1.5, 2.5, 4}[i%4]
}
