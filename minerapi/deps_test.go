package minerapi_test

import (
	"slices"
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
)

// TestNoEncoders keeps the miner protocol's client light: reading a frames
// file needs package framesfile, never the encoders of package video or the
// ffmpeg subprocess behind them.
func TestNoEncoders(t *testing.T) {
	deps := testenv.Deps(t, "minerapi")
	if !slices.Contains(deps, testenv.Module+"/framesfile") {
		t.Fatalf("minerapi depends on %v, want framesfile among them", deps)
	}
	for _, banned := range []string{"video", "ffmpeg", "gifvideo"} {
		if slices.Contains(deps, testenv.Module+"/"+banned) {
			t.Errorf("minerapi depends on %s, want the frames file through framesfile alone", banned)
		}
	}
}
