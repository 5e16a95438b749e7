package verify

import (
	"testing"

	"github.com/fractal-grid/fractal"
)

func TestFramesMatchUsesTheProfileTolerance(t *testing.T) {
	want := []byte{100, 100, 100}
	exact := fractal.Profile{Determinism: fractal.Exact}
	loose := fractal.Profile{Determinism: fractal.Tolerant, FrameTolerance: 6}
	tight := fractal.Profile{Determinism: fractal.Tolerant, FrameTolerance: 2}
	for _, tc := range []struct {
		name string
		got  []byte
		p    fractal.Profile
		want bool
	}{
		{"exact, equal", []byte{100, 100, 100}, exact, true},
		{"exact, one level", []byte{100, 101, 100}, exact, false},
		{"loose, six levels", []byte{94, 106, 100}, loose, true},
		{"loose, seven levels", []byte{93, 100, 100}, loose, false},
		{"tight, two levels", []byte{98, 102, 100}, tight, true},
		{"tight, three levels", []byte{100, 100, 103}, tight, false},
		{"other size", []byte{100, 100}, loose, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := framesMatch(tc.got, want, tc.p); got != tc.want {
				t.Errorf("framesMatch(%v, %v, tolerance %d) = %v, want %v", tc.got, want, tc.p.FrameTolerance, got, tc.want)
			}
		})
	}
}
