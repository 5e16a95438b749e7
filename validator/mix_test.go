package validator

import (
	"math/rand/v2"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

func TestMixFollowsUsers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	prof := refengine.New().Profile()
	m := newMix()
	user := fractal.Spec{Prompt: "x", Width: 192, Height: 128, Frames: 12, FPS: 12, Steps: 16}
	for range mixMin - 1 {
		m.add(user)
	}
	if _, ok := m.draw(r, prof); ok {
		t.Fatalf("drew from %d jobs, want nothing before %d", mixMin-1, mixMin)
	}
	m.add(user)
	got, ok := m.draw(r, prof)
	if want := (Shape{192, 128, 12, 12, 16}); !ok || got != want {
		t.Fatalf("got %+v %v, want %+v", got, ok, want)
	}
	// The ring forgets old jobs: after mixSize jobs of another shape, only
	// that shape is drawn.
	other := user
	other.Width, other.Height = 128, 128
	for range mixSize {
		m.add(other)
	}
	for range 50 {
		if s, _ := m.draw(r, prof); s.Width != 128 || s.Height != 128 {
			t.Fatalf("drew %+v, want only the recent 128×128 shape", s)
		}
	}
	c := &challenger{shapes: DefaultShapes(), mix: m, rand: r}
	var fromMix int
	for range 1000 {
		if c.shape(prof) == (Shape{128, 128, 12, 12, 16}) {
			fromMix++
		}
	}
	if fromMix < 850 || fromMix > 950 {
		t.Errorf("%d of 1000 challenge shapes from users' mix, want about 900", fromMix)
	}
}
