package validator

import (
	"math/rand/v2"
	"sync"

	"github.com/fractal-grid/fractal"
)

// mix remembers the shapes of users' recent jobs (those handed over for
// sampling), so that challenges ask for what users ask for: a miner that
// cheats only on shapes the validator never draws gains nothing.
type mix struct {
	mu     sync.Mutex
	recent []Shape // a ring of the last cap(recent) shapes
	next   int
}

// mixSize is how many recent jobs the mix remembers; mixMin the fewest it
// needs before challenges follow it.
const (
	mixSize = 512
	mixMin  = 16
)

func newMix() *mix { return &mix{recent: make([]Shape, 0, mixSize)} }

// add records a user's job's shape.
func (m *mix) add(spec fractal.Spec) {
	s := Shape{Width: spec.Width, Height: spec.Height, Frames: spec.Frames, FPS: spec.FPS, Steps: spec.Steps}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.recent) < cap(m.recent) {
		m.recent = append(m.recent, s)
		return
	}
	m.recent[m.next] = s
	m.next = (m.next + 1) % len(m.recent)
}

// draw returns a recent user's shape that profile p serves, or false when
// too few jobs were seen: one job of the mix at random, so shapes come as
// often as users asked for them.
func (m *mix) draw(r *rand.Rand, p fractal.Profile) (Shape, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.recent) < mixMin {
		return Shape{}, false
	}
	for range 8 {
		s := m.recent[r.IntN(len(m.recent))]
		if p.Check(s.spec("x", p)) == nil && s.spec("x", fractal.Profile{}).CheckBounds() == nil {
			return s, true
		}
	}
	return Shape{}, false
}
