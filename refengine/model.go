package refengine

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/fractal-grid/fractal"
)

// Latent geometry and sampling constants. They are part of the model and are
// hashed into the profile digest.
const (
	latentFactor = 4    // latent pixels are latentFactor×latentFactor image pixels
	channels     = 4    // R, G, B and glow
	noiseSigma   = 0.6  // noise level of state 0
	denoiseBlend = 0.35 // weight of the smoothed previous state in the x0 estimate
	keepRatio    = 0.8  // share of the previous noise carried into the next state
	freshNoise   = 0.6  // share of fresh noise added at each step
	initialMean  = 0.5
	noiseStream  = 0x5eed
	jitterStream = 0x717
)

// rowChunk is the number of rows in one unit of parallel work.
const rowChunk = 4

// model is a spec compiled for sampling: the scene, its layout and every
// frame precomputed. Building one is cheap next to a step.
type model struct {
	spec   fractal.Spec
	lw, lh int
	frames []frameScene
}

func newModel(spec fractal.Spec, salt uint64) *model {
	spec.Seed ^= salt
	sc := parseScene(spec.Prompt)
	aspect := float32(spec.Width) / float32(spec.Height)
	inst := layout(&sc, spec.Seed, aspect)
	m := &model{spec: spec, lw: spec.Width / latentFactor, lh: spec.Height / latentFactor}
	m.frames = make([]frameScene, spec.Frames)
	for f := range m.frames {
		m.frames[f] = newFrameScene(&sc, inst, spec.Seed, aspect, f, spec.FPS)
	}
	return m
}

// shape is the state shape of the spec.
func (m *model) shape() []int { return []int{m.spec.Frames, m.lh, m.lw, channels} }

func (m *model) size() int { return m.spec.Frames * m.lh * m.lw * channels }

// sigma is the noise level after step t: linear from noiseSigma to 0.
func (m *model) sigma(t int) float32 {
	return float32(noiseSigma*float32(m.spec.Steps-t)) / float32(m.spec.Steps)
}

// initial returns state 0: seeded noise around mid-grey.
func (m *model) initial(ctx context.Context) (fractal.State, error) {
	out := make([]float32, m.size())
	err := m.initialFrames(ctx, out, 0, m.spec.Frames)
	return fractal.State{Shape: m.shape(), Data: out}, err
}

// initialFrames writes frames [f0, f1) of state 0 into out.
func (m *model) initialFrames(ctx context.Context, out []float32, f0, f1 int) error {
	key := noiseKey(m.spec.Seed, 0, noiseStream)
	row := m.lw * channels
	return parallel(ctx, (f1-f0)*m.lh, func(r int) {
		pos := (r % m.lh) * row // noise is shared by all frames
		for i := 0; i < row; i++ {
			out[r*row+i] = initialMean + float32(noiseSigma*noiseAt(key, pos+i))
		}
	})
}

// step computes state t (≥ 1) from prev. jitter, when non-zero, adds
// relative noise of that amplitude keyed by jitterSeed.
func (m *model) step(ctx context.Context, t int, prev []float32, jitter float32, jitterSeed uint64) (fractal.State, error) {
	out := make([]float32, len(prev))
	err := m.stepFrames(ctx, t, prev, out, 0, m.spec.Frames, jitter, jitterSeed)
	return fractal.State{Shape: m.shape(), Data: out}, err
}

// stepFrames writes frames [f0, f1) of state t into out, reading the whole
// previous state prev. Frame f of state t depends only on frame f of prev.
func (m *model) stepFrames(ctx context.Context, t int, prev, out []float32, f0, f1 int, jitter float32, jitterSeed uint64) error {
	ratio := float32(m.sigma(t)/m.sigma(t-1)) * keepRatio
	fresh := float32(m.sigma(t) * freshNoise)
	key := noiseKey(m.spec.Seed, t, noiseStream)
	jkey := noiseKey(jitterSeed^m.spec.Seed, t, jitterStream)
	lw, lh := m.lw, m.lh
	px := float32(latentFactor) / float32(m.spec.Height)
	invPx := float32(m.spec.Height) / float32(latentFactor)
	row := lw * channels
	return parallel(ctx, (f1-f0)*lh, func(r int) {
		f, ly := f0+r/lh, r%lh
		fs := &m.frames[f]
		base := (f*lh + ly) * row
		pos := ly * row // noise is shared by all frames
		up, down := base-row, base+row
		if ly == 0 {
			up = base
		}
		if ly == lh-1 {
			down = base
		}
		cur, above, below := prev[base:base+row], prev[up:up+row], prev[down:down+row]
		dst := out[r*row : (r+1)*row]
		var targetBuf [fractal.MaxSide / latentFactor * channels]float32
		target := targetBuf[:row]
		y := float32((float32(ly) + 0.5) * px)
		for lx := 0; lx < lw; lx++ {
			x := float32((float32(lx) + 0.5) * px)
			col, glow := fs.shade(x, y, px, invPx, true)
			target[lx*channels], target[lx*channels+1], target[lx*channels+2], target[lx*channels+3] = col[0], col[1], col[2], glow
		}
		for o, g := range target {
			left, right := o-channels, o+channels
			if left < 0 {
				left = o
			}
			if right >= row {
				right = o
			}
			p := cur[o]
			nb := above[o] + below[o] + cur[left] + cur[right]
			b := float32(0.5*p) + float32(0.125*nb)
			x0 := g + float32(denoiseBlend*(b-g))
			v := x0 + float32(ratio*(p-x0)) + float32(fresh*noiseAt(key, pos+o))
			if jitter != 0 {
				v += float32(float32(v*jitter) * noiseAt(jkey, base+o))
			}
			dst[o] = v
		}
	})
}

// parallel runs fn for every row in [0, n) on GOMAXPROCS goroutines. Rows are
// independent, so results never depend on scheduling.
func parallel(ctx context.Context, n int, fn func(row int)) error {
	workers := min(runtime.GOMAXPROCS(0), (n+rowChunk-1)/rowChunk)
	var next atomic.Int64
	var failed atomic.Bool
	work := func() {
		for !failed.Load() {
			lo := int(next.Add(rowChunk)) - rowChunk
			if lo >= n {
				return
			}
			if ctx.Err() != nil {
				failed.Store(true)
				return
			}
			for r := lo; r < min(lo+rowChunk, n); r++ {
				fn(r)
			}
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(work)
	}
	work()
	wg.Wait()
	return ctx.Err()
}
