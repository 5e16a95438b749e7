package e2e

import (
	"context"

	"github.com/fractal-grid/fractal"
)

// skipEngine is a cheating miner's engine: it skips every odd step (the
// state stays as it was) and computes the even ones, so it runs half the
// sampling steps, still commits to a whole trajectory and decodes its final
// state honestly. Its Step skips too, so the miner's own recomputation of
// states between its checkpoints agrees with what it committed: only the
// validator's engine tells.
type skipEngine struct {
	fractal.Engine
}

var _ fractal.Engine = (*skipEngine)(nil)

// ExecutionClass is its engine's: the receipts name the class honestly.
func (s *skipEngine) ExecutionClass() string { return fractal.ClassOf(s.Engine) }

func (s *skipEngine) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	if t%2 == 1 {
		return prev.Clone(), nil
	}
	return s.Engine.Step(ctx, spec, t, prev)
}

func (s *skipEngine) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	state, err := s.Step(ctx, spec, 0, fractal.State{})
	if err != nil {
		return nil, err
	}
	states := []fractal.State{state}
	for t := 1; t <= spec.Steps; t++ {
		if state, err = s.Step(ctx, spec, t, state); err != nil {
			return nil, err
		}
		states = append(states, state)
		if opts.Progress != nil {
			opts.Progress(fractal.Progress{Step: t, Steps: spec.Steps})
		}
	}
	frames, err := s.Engine.Decode(ctx, spec, state)
	if err != nil {
		return nil, err
	}
	res := &fractal.Result{Profile: s.Profile(), Spec: spec, Frames: frames}
	for _, st := range states {
		res.StateDigests = append(res.StateDigests, st.Digest())
	}
	if opts.KeepStates {
		res.States = states
	}
	return res, nil
}
