// Package refengine is the built-in reference engine: a small procedural
// diffusion model in pure Go. A prompt is parsed into a scene; sampling runs
// from seeded noise toward that scene for a number of steps, each depending on
// the previous state, the scene and fresh noise; a decoder renders RGB frames.
// Every result is bit-exact across runs, GOMAXPROCS values and architectures.
package refengine

import (
	"context"
	"errors"

	"github.com/fractal-grid/fractal"
)

// Model identity.
const (
	ProfileID = "fractal-ref"
	// Version is bumped on any change to the model's output.
	Version = "1"
)

// Engine is the reference engine. The zero value is not usable; call New.
type Engine struct {
	profile fractal.Profile
}

var (
	_ fractal.Engine       = (*Engine)(nil)
	_ fractal.FrameDecoder = (*Engine)(nil)
)

// New returns the exact reference engine.
func New() *Engine {
	return &Engine{profile: fractal.Profile{ID: ProfileID, Version: Version, Determinism: fractal.Exact}}
}

// Profile names the model.
func (e *Engine) Profile() fractal.Profile { return e.profile }

var errTODO = errors.New("refengine: not implemented yet")

// Generate runs a whole generation.
func (e *Engine) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return nil, errTODO
}

// Step computes state t from state t-1 (state 0 from the seed when t is 0).
func (e *Engine) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	return fractal.State{}, errTODO
}

// Decode renders the final state into frames.
func (e *Engine) Decode(ctx context.Context, spec fractal.Spec, final fractal.State) (*fractal.Frames, error) {
	return nil, errTODO
}

// DecodeFrame renders frame i of the final state.
func (e *Engine) DecodeFrame(ctx context.Context, spec fractal.Spec, final fractal.State, i int) ([]byte, error) {
	return nil, errTODO
}
