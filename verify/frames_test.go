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
	across := &fractal.CrossClassTolerance{MaxError: 0.1, MinCosine: 0.9, FrameLevels: 3}
	for _, tc := range []struct {
		name   string
		got    []byte
		p      fractal.Profile
		across *fractal.CrossClassTolerance
		want   bool
	}{
		{"exact, equal", []byte{100, 100, 100}, exact, nil, true},
		{"exact, one level", []byte{100, 101, 100}, exact, nil, false},
		{"loose, six levels", []byte{94, 106, 100}, loose, nil, true},
		{"loose, seven levels", []byte{93, 100, 100}, loose, nil, false},
		{"tight, two levels", []byte{98, 102, 100}, tight, nil, true},
		{"tight, three levels", []byte{100, 100, 103}, tight, nil, false},
		{"other size", []byte{100, 100}, loose, nil, false},
		{"exact profile across classes, three levels", []byte{97, 103, 100}, exact, across, true},
		{"exact profile across classes, four levels", []byte{96, 100, 100}, exact, across, false},
		{"tolerant profile across classes takes the cross-class levels", []byte{94, 100, 100}, loose, across, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &trajectory{profile: tc.p, across: tc.across}
			if got := framesMatch(tc.got, want, tr.levels()); got != tc.want {
				t.Errorf("framesMatch(%v, %v, %d levels) = %v, want %v", tc.got, want, tr.levels(), got, tc.want)
			}
		})
	}
}
