// Package adversary is the validator's adversarial suite: cheating
// strategies served by real miners over signed HTTP, the honest miners they
// compete with, and the measurements `fractal bench verify` prints —
// detection rates, weight shares, false positives over many honest
// verifications and the verification cost ratio. docs/verification.md
// explains the figures.
package adversary

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// Strategy is how a miner produces a result. Produce returns the result
// with every state and the share of an honest generation's work it did
// (1 for honest work).
type Strategy interface {
	Name() string
	Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error)
}

// Strategy names.
const (
	NameHonest     = "honest"
	NameLazy       = "lazy"
	NameFakeFrames = "fake-frames"
	NameReplay     = "replay"
	NameSkipHalf   = "skip-half"
	NameSkipFourth = "skip-quarter"
	NameLowSteps   = "low-steps"
	NameWrongModel = "wrong-model"
	NameSybil      = "sybil"
	// NameSybilUnlinked is a Sybil whose hotkeys have nothing in common on
	// chain: different coldkeys (and, on a public grid, addresses). The
	// suite fields one per Config.UnlinkedSizes, reported as
	// UnlinkedName(n).
	NameSybilUnlinked = "sybil-unlinked"
	NameSlow          = "slow"
	NameFlaky         = "flaky"
)

// workShare is the share of an honest generation's work done by running
// steps of total sampling steps honestly and, when decoded, the decode;
// sigma is the share of a generation spent in sampling steps.
func workShare(sigma float64, steps, total int, decoded bool) float64 {
	w := sigma * float64(steps) / float64(total)
	if decoded {
		w += 1 - sigma
	}
	return w
}

// Honest generates with the base engine.
type Honest struct{}

func (Honest) Name() string { return NameHonest }

func (Honest) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	res, err := base.Generate(ctx, spec, fractal.GenerateOptions{KeepStates: true})
	return res, 1, err
}

// Lazy returns random frames and a random trajectory: no work at all.
type Lazy struct{}

func (Lazy) Name() string { return NameLazy }

func (Lazy) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	r := rand.New(rand.NewPCG(spec.Seed, 0x1a2e))
	states := make([]fractal.State, spec.Steps+1)
	shape := refengine.StateShape(spec)
	for t := range states {
		s := fractal.State{Shape: shape, Data: make([]float32, fractal.State{Shape: shape}.Len())}
		for i := range s.Data {
			s.Data[i] = r.Float32()
		}
		states[t] = s
	}
	frames := fractal.NewFrames(spec.Frames, spec.Width, spec.Height, spec.FPS)
	for i := range frames.Pix {
		frames.Pix[i] = byte(r.Uint32())
	}
	return result(base, spec, states, frames), 0, nil
}

// FakeFrames samples the trajectory honestly but skips the decode: its
// frames are noise, and the receipt commits to them.
type FakeFrames struct{ StepShare float64 }

func (FakeFrames) Name() string { return NameFakeFrames }

func (f FakeFrames) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	res, honest, err := trajectory(ctx, base, spec, func(t int, states []fractal.State) (fractal.State, bool, error) {
		st, err := base.Step(ctx, spec, t, states[t-1])
		return st, true, err
	})
	if err != nil {
		return nil, 0, err
	}
	r := rand.New(rand.NewPCG(spec.Seed, 0xf4ce))
	frames := fractal.NewFrames(spec.Frames, spec.Width, spec.Height, spec.FPS)
	for i := range frames.Pix {
		frames.Pix[i] = byte(r.Uint32())
	}
	res.Frames = frames
	return res, workShare(f.StepShare, honest, spec.Steps, false), nil
}

// result assembles a Result from states and frames.
func result(base *refengine.Engine, spec fractal.Spec, states []fractal.State, frames *fractal.Frames) *fractal.Result {
	res := &fractal.Result{Profile: base.Profile(), Spec: spec, Frames: frames, States: states}
	for _, s := range states {
		res.StateDigests = append(res.StateDigests, s.Digest())
	}
	return res
}

// trajectory builds states 0..spec.Steps, state 0 honestly and state t from
// next(t, states so far); it decodes the final state honestly and returns
// how many steps next computed honestly.
func trajectory(ctx context.Context, base *refengine.Engine, spec fractal.Spec,
	next func(t int, states []fractal.State) (fractal.State, bool, error)) (*fractal.Result, int, error) {
	s0, err := base.Step(ctx, spec, 0, fractal.State{})
	if err != nil {
		return nil, 0, err
	}
	states := []fractal.State{s0}
	honest := 0
	for t := 1; t <= spec.Steps; t++ {
		s, real, err := next(t, states)
		if err != nil {
			return nil, 0, err
		}
		if real {
			honest++
		}
		states = append(states, s)
	}
	frames, err := base.Decode(ctx, spec, states[spec.Steps])
	if err != nil {
		return nil, 0, err
	}
	return result(base, spec, states, frames), honest, nil
}

// SkipSteps computes some steps honestly and fakes the others: step t is
// faked when t mod Period < Fake (Period 2, Fake 1 fakes every other step;
// Period 4, Fake 1 fakes a quarter). A faked step copies the previous state
// or, with Extrapolate, continues the last change linearly.
type SkipSteps struct {
	Label        string
	Period, Fake int
	Extrapolate  bool
	StepShare    float64 // σ, for the work share
}

func (s SkipSteps) Name() string { return s.Label }

func (s SkipSteps) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	res, honest, err := trajectory(ctx, base, spec, func(t int, states []fractal.State) (fractal.State, bool, error) {
		prev := states[t-1]
		if t%s.Period >= s.Fake {
			st, err := base.Step(ctx, spec, t, prev)
			return st, true, err
		}
		fake := prev.Clone()
		if s.Extrapolate && t >= 2 {
			before := states[t-2]
			for i := range fake.Data {
				fake.Data[i] += fake.Data[i] - before.Data[i]
			}
		}
		return fake, false, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return res, workShare(s.StepShare, honest, spec.Steps, true), nil
}

// LowSteps samples with Steps/Divisor steps and stretches that trajectory
// to the asked length by repeating states.
type LowSteps struct {
	Divisor   int
	StepShare float64
}

func (LowSteps) Name() string { return NameLowSteps }

func (l LowSteps) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	short := spec
	short.Steps = max(1, spec.Steps/l.Divisor)
	low, err := base.Generate(ctx, short, fractal.GenerateOptions{KeepStates: true})
	if err != nil {
		return nil, 0, err
	}
	states := make([]fractal.State, spec.Steps+1)
	for t := range states {
		states[t] = low.States[(t*short.Steps+spec.Steps-1)/spec.Steps]
	}
	res := result(base, spec, states, low.Frames)
	return res, workShare(l.StepShare, short.Steps, spec.Steps, true), nil
}

// WrongModel runs another version of the model: every step uses a perturbed
// noise seed, so its states look like the model's but are not, while it
// claims the subnet's profile.
type WrongModel struct{}

func (WrongModel) Name() string { return NameWrongModel }

func (WrongModel) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	other := spec
	other.Seed ^= 0x9e3779b97f4a7c15
	res, _, err := trajectory(ctx, base, spec, func(t int, states []fractal.State) (fractal.State, bool, error) {
		st, err := base.Step(ctx, other, t, states[t-1])
		return st, true, err
	})
	return res, 1, err
}

// Replay answers from a cache of earlier results, keyed by the spec's shape
// and the prompt's known vocabulary words (other words are dropped, and the
// seed is ignored), or else with any warmed result of the spec's shape.
// Warm fills the cache from prompts a cheat can know in advance (the
// validator's prompt writer is public). A shape it never warmed is
// generated honestly and cached.
type Replay struct {
	known map[string]bool
	mu    sync.Mutex
	cache map[string]*fractal.Result
	shape map[string]*fractal.Result // the last warmed result of each shape
	hits  int
}

// NewReplay returns a replay cheat that knows the vocabulary words.
func NewReplay(words map[string][]string) *Replay {
	r := &Replay{known: map[string]bool{}, cache: map[string]*fractal.Result{}, shape: map[string]*fractal.Result{}}
	for _, ws := range words {
		for _, w := range ws {
			r.known[w] = true
		}
	}
	for _, w := range []string{"a", "over", "in", "across", "above", "the", "at"} {
		r.known[w] = true
	}
	return r
}

func (*Replay) Name() string { return NameReplay }

func shapeKey(spec fractal.Spec) string {
	return fmt.Sprintf("%dx%dx%d@%d/%d", spec.Width, spec.Height, spec.Frames, spec.FPS, spec.Steps)
}

func (r *Replay) key(spec fractal.Spec) string {
	var kept []string
	for _, w := range strings.Fields(strings.ToLower(spec.Prompt)) {
		if w = strings.Trim(w, ",."); r.known[w] {
			kept = append(kept, w)
		}
	}
	return shapeKey(spec) + ":" + strings.Join(kept, " ")
}

// Warm generates one result per prompt for spec's shape (any seed).
func (r *Replay) Warm(ctx context.Context, base *refengine.Engine, prompts []string, shape fractal.Spec) error {
	for i, p := range prompts {
		spec := shape
		spec.Prompt, spec.Seed = p, uint64(i)
		res, err := base.Generate(ctx, spec, fractal.GenerateOptions{KeepStates: true})
		if err != nil {
			return fmt.Errorf("replay warm-up: %w", err)
		}
		r.mu.Lock()
		r.cache[r.key(spec)] = res
		r.shape[shapeKey(spec)] = res
		r.mu.Unlock()
	}
	return nil
}

// Hits returns how many answers came from the cache.
func (r *Replay) Hits() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits
}

func (r *Replay) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	k := r.key(spec)
	r.mu.Lock()
	old, ok := r.cache[k]
	if !ok {
		old, ok = r.shape[shapeKey(spec)] // any video of the shape will do
	}
	if ok {
		r.hits++
	}
	r.mu.Unlock()
	if ok {
		res := *old
		res.Spec = spec
		return &res, 0, nil
	}
	res, err := base.Generate(ctx, spec, fractal.GenerateOptions{KeepStates: true})
	if err != nil {
		return nil, 0, err
	}
	r.mu.Lock()
	r.cache[k] = res
	r.mu.Unlock()
	return res, 1, nil
}

// Slow generates honestly and then holds the answer for Delay (past the
// validator's deadline), or until the request is dropped. The hold is not
// device time.
type Slow struct{ Delay time.Duration }

func (Slow) Name() string { return NameSlow }

func (s Slow) hold() time.Duration { return s.Delay }

func (Slow) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	return Honest{}.Produce(ctx, base, spec)
}

// Flaky generates honestly but fails a share Rate of its jobs, evenly
// spread: job i fails when i mod round(1/Rate) is Phase.
type Flaky struct {
	Rate  float64
	Phase int
	mu    sync.Mutex
	jobs  int
}

func (*Flaky) Name() string { return NameFlaky }

func (f *Flaky) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	f.mu.Lock()
	every := max(1, int(math.Round(1/f.Rate)))
	fail := f.Rate > 0 && f.jobs%every == f.Phase%every
	f.jobs++
	f.mu.Unlock()
	if fail {
		return nil, 0, fmt.Errorf("device lost: %w", fractal.ErrUnavailable)
	}
	return Honest{}.Produce(ctx, base, spec)
}

// Sybil is one operator's worker behind many hotkeys: every hotkey's
// engine shares one Device (one GPU) and this cache, so a spec that reaches
// two of its hotkeys is computed once and copied.
type Sybil struct {
	mu     sync.Mutex
	cache  map[fractal.Digest]*fractal.Result
	order  []fractal.Digest
	copies int
}

// NewSybil returns an empty Sybil worker.
func NewSybil() *Sybil { return &Sybil{cache: map[fractal.Digest]*fractal.Result{}} }

func (*Sybil) Name() string { return NameSybil }

// Unlinked is a Sybil worker whose Hotkeys hotkeys each sit under a
// coldkey (and, on a public grid, an address) of their own, so no grouping
// by coldkey or address puts them together.
type Unlinked struct {
	*Sybil
	Hotkeys int
}

func (u Unlinked) Name() string { return UnlinkedName(u.Hotkeys) }

// UnlinkedName names the unlinkable Sybil of n hotkeys in reports.
func UnlinkedName(n int) string { return fmt.Sprintf("%s-%d", NameSybilUnlinked, n) }

// Copies returns how many answers were copied from another hotkey's work.
func (s *Sybil) Copies() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copies
}

func (s *Sybil) Produce(ctx context.Context, base *refengine.Engine, spec fractal.Spec) (*fractal.Result, float64, error) {
	h := spec.Hash()
	s.mu.Lock()
	res, ok := s.cache[h]
	if ok {
		s.copies++
	}
	s.mu.Unlock()
	if ok {
		return res, 0, nil
	}
	res, err := base.Generate(ctx, spec, fractal.GenerateOptions{KeepStates: true})
	if err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cache[h] = res
	s.order = append(s.order, h)
	if len(s.order) > 64 {
		delete(s.cache, s.order[0])
		s.order = s.order[1:]
	}
	return res, 1, nil
}
