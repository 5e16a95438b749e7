package refengine

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"slices"

	"github.com/fractal-grid/fractal"
)

// Model identity.
const (
	ProfileID = "fractal-ref"
	// Version is bumped on any change to the model's output.
	Version = "4"
	// JitterTolerance is the tolerance a jittered engine states.
	JitterTolerance = 1e-3
	// MaxJitter is the largest relative jitter NewWithJitter accepts. The
	// jitter is a triangular variate of up to √6 times the amplitude, so two
	// honest engines at MaxJitter differ by at most 2·√6/8 ≈ 0.61 of the
	// tolerance: a verifier never accuses an honest noisy engine.
	MaxJitter = JitterTolerance / 8
)

// Engine is the reference engine. It holds no mutable state, so one Engine
// serves any number of concurrent calls; each call spreads its work over
// GOMAXPROCS goroutines. The zero value is not usable; call New.
type Engine struct {
	profile    fractal.Profile
	jitter     float32
	jitterSeed uint64
	salt       uint64 // 0 for Version; a variant's output differs from every other version's
}

var (
	_ fractal.Engine       = (*Engine)(nil)
	_ fractal.FrameDecoder = (*Engine)(nil)
)

// New returns the exact reference engine.
func New() *Engine {
	return &Engine{profile: profile(Version, fractal.LegacyLimits(), 0)}
}

// profile returns the reference profile of a version with its limits; a
// positive jitter amplitude makes it tolerant.
func profile(version string, limits fractal.Limits, jitter float32) fractal.Profile {
	p := fractal.Profile{
		ID: ProfileID, Version: version, Digest: paramsDigest(version, jitter), Determinism: fractal.Exact,
		Limits: limits, Cost: fractal.LegacyCost(),
	}
	if jitter > 0 {
		p.Determinism, p.Tolerance, p.FrameTolerance = fractal.Tolerant, JitterTolerance, fractal.LegacyFrameTolerance
	}
	return p
}

// Variant is another version of the reference model, for rehearsing an
// upgrade: its output differs from every other version's (the version salts
// the seed) and it serves its own limits.
type Variant struct {
	Version string
	Limits  fractal.Limits
}

// NewVariant returns the exact reference engine of a variant.
func NewVariant(v Variant) (*Engine, error) {
	if v.Version == "" || v.Version == Version {
		return nil, fmt.Errorf("variant version %q: must differ from %q: %w", v.Version, Version, fractal.ErrInvalid)
	}
	p := profile(v.Version, v.Limits, 0)
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("variant %s: %w", p, err)
	}
	h := fnv.New64a()
	h.Write([]byte(v.Version))
	return &Engine{profile: p, salt: h.Sum64()}, nil
}

// NewWithJitter returns a tolerant variant of the reference engine: every
// step adds relative noise of the given amplitude keyed by seed, the way
// nondeterministic GPU kernels differ from run to run. Engines with different
// seeds agree within the profile's tolerance but not bit for bit.
func NewWithJitter(amplitude float32, seed uint64) (*Engine, error) {
	if !(amplitude > 0 && amplitude <= MaxJitter) {
		return nil, fmt.Errorf("jitter amplitude %g: must be in (0, %g]: %w", amplitude, MaxJitter, fractal.ErrInvalid)
	}
	return &Engine{profile: profile(Version, fractal.LegacyLimits(), amplitude), jitter: amplitude, jitterSeed: seed}, nil
}

// Profile names the model.
func (e *Engine) Profile() fractal.Profile { return e.profile }

// StateShape returns the shape of every state of a spec's trajectory:
// (frames, height/4, width/4, 4).
func StateShape(spec fractal.Spec) []int {
	return []int{spec.Frames, spec.Height / latentFactor, spec.Width / latentFactor, channels}
}

// Generate runs a whole generation: state 0, spec.Steps sampling steps and
// the decode. The states are exactly those that chaining Step gives.
func (e *Engine) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	if err := e.profile.Check(spec); err != nil {
		return nil, err
	}
	m := newModel(spec, e.salt)
	res := &fractal.Result{Profile: e.profile, Spec: spec, StateDigests: make([]fractal.Digest, spec.Steps+1)}
	dg := newDigester(res.StateDigests)
	defer dg.close()
	cur, err := m.initial(ctx)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	for t := 0; ; t++ {
		dg.add(t, cur)
		if opts.KeepStates {
			res.States = append(res.States, cur)
		}
		if t == spec.Steps {
			break
		}
		if cur, err = m.step(ctx, t+1, cur.Data, e.jitter, e.jitterSeed); err != nil {
			return nil, fmt.Errorf("generate: step %d: %w", t+1, err)
		}
		if opts.Progress != nil {
			opts.Progress(fractal.Progress{Step: t + 1, Steps: spec.Steps})
		}
	}
	frames := fractal.NewFrames(spec.Frames, spec.Width, spec.Height, spec.FPS)
	if err := m.decodeFrames(ctx, cur.Data, allFrames(spec.Frames), splitFrames(frames)); err != nil {
		return nil, fmt.Errorf("generate: decode: %w", err)
	}
	res.Frames = frames
	dg.close()
	return res, nil
}

// Step computes state t of the trajectory: the seeded noise for t == 0 (prev
// is ignored), otherwise one sampling step from state t-1.
func (e *Engine) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	if err := e.profile.Check(spec); err != nil {
		return fractal.State{}, err
	}
	if t < 0 || t > spec.Steps {
		return fractal.State{}, fmt.Errorf("step %d: %w", t, fractal.Errorf("t", "must be between 0 and %d", spec.Steps))
	}
	m := newModel(spec, e.salt)
	if t == 0 {
		return m.initial(ctx)
	}
	if err := checkState(spec, prev); err != nil {
		return fractal.State{}, fmt.Errorf("step %d: %w", t, err)
	}
	return m.step(ctx, t, prev.Data, e.jitter, e.jitterSeed)
}

// StepFrame computes frame i of state t: exactly the elements of Step's
// result for that frame, at about 1/frames of its cost, because frame i of
// a state depends only on frame i of the state before. A verifier can check
// one frame of a committed step this way once both states are opened. prev
// is the whole state t-1 (ignored when t is 0).
func (e *Engine) StepFrame(ctx context.Context, spec fractal.Spec, t int, prev fractal.State, i int) ([]float32, error) {
	if err := e.profile.Check(spec); err != nil {
		return nil, err
	}
	if t < 0 || t > spec.Steps {
		return nil, fmt.Errorf("step %d: %w", t, fractal.Errorf("t", "must be between 0 and %d", spec.Steps))
	}
	if i < 0 || i >= spec.Frames {
		return nil, fmt.Errorf("step %d frame %d: %w", t, i, fractal.Errorf("frame", "must be between 0 and %d", spec.Frames-1))
	}
	m := newModel(spec, e.salt)
	out := make([]float32, m.size()/spec.Frames)
	var err error
	if t == 0 {
		err = m.initialFrames(ctx, out, i, i+1)
	} else if err = checkState(spec, prev); err == nil {
		err = m.stepFrames(ctx, t, prev.Data, out, i, i+1, e.jitter, e.jitterSeed)
	}
	if err != nil {
		return nil, fmt.Errorf("step %d frame %d: %w", t, i, err)
	}
	return out, nil
}

// Decode renders the final state into frames.
func (e *Engine) Decode(ctx context.Context, spec fractal.Spec, final fractal.State) (*fractal.Frames, error) {
	if err := e.profile.Check(spec); err != nil {
		return nil, err
	}
	if err := checkState(spec, final); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	frames := fractal.NewFrames(spec.Frames, spec.Width, spec.Height, spec.FPS)
	if err := newModel(spec, e.salt).decodeFrames(ctx, final.Data, allFrames(spec.Frames), splitFrames(frames)); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return frames, nil
}

// DecodeFrame renders frame i of the final state: exactly the bytes of
// Decode's frame i, at about 1/frames of its cost.
func (e *Engine) DecodeFrame(ctx context.Context, spec fractal.Spec, final fractal.State, i int) ([]byte, error) {
	if err := e.profile.Check(spec); err != nil {
		return nil, err
	}
	if i < 0 || i >= spec.Frames {
		return nil, fmt.Errorf("decode frame %d: %w", i, fractal.Errorf("frame", "must be between 0 and %d", spec.Frames-1))
	}
	if err := checkState(spec, final); err != nil {
		return nil, fmt.Errorf("decode frame %d: %w", i, err)
	}
	out := make([]byte, spec.Width*spec.Height*3)
	if err := newModel(spec, e.salt).decodeFrames(ctx, final.Data, []int{i}, [][]byte{out}); err != nil {
		return nil, fmt.Errorf("decode frame %d: %w", i, err)
	}
	return out, nil
}

// checkState verifies that s has the spec's state shape and finite values.
func checkState(spec fractal.Spec, s fractal.State) error {
	if want := StateShape(spec); !slices.Equal(s.Shape, want) {
		return fractal.Errorf("state", "shape %v, want %v", s.Shape, want)
	}
	if err := s.Validate(); err != nil {
		return err
	}
	for i, v := range s.Data {
		if math.Float32bits(v)&expMask == expMask { // NaN or ±Inf
			return fractal.Errorf("state", "element %d is %v, want a finite value", i, v)
		}
	}
	return nil
}

const expMask = 0x7f800000 // exponent bits of a float32

func allFrames(n int) []int {
	sel := make([]int, n)
	for i := range sel {
		sel[i] = i
	}
	return sel
}

func splitFrames(f *fractal.Frames) [][]byte {
	out := make([][]byte, f.Count)
	for i := range out {
		out[i] = f.Frame(i)
	}
	return out
}
