package adversary

import (
	"math"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/validator"
)

// TestSweepReportMainnet: a sweep that takes one generation of every GPU
// costs on mainnet what validator.SweepCost estimates; one that takes a
// Sybil's GPU three generations (and each hotkey one) three times that of
// the grid.
func TestSweepReportMainnet(t *testing.T) {
	for _, tc := range []struct {
		name              string
		perGPU, perHotkey float64
		wantShare         float64 // × validator.SweepCost
	}{
		{"one generation each", 1, 1, 1},
		{"three hotkeys on a GPU", 3, 1, 3},
		{"half the work", 0.5, 0.5, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &SweepReport{PerGPU: tc.perGPU, PerHotkey: tc.perHotkey}
			share, perHotkey := r.Mainnet(2, 80, 360, 12*time.Second)
			want := tc.wantShare * validator.SweepCost(2, 80, 360, 12*time.Second)
			if math.Abs(share-want) > 1e-12 {
				t.Errorf("share %g, want %g", share, want)
			}
			if want := 2 * tc.perHotkey * 80; math.Abs(perHotkey-want) > 1e-9 {
				t.Errorf("GPU-seconds per tempo per hotkey %g, want %g", perHotkey, want)
			}
		})
	}
	if share, _ := (&SweepReport{PerGPU: 1}).Mainnet(2, 80, 0, 12*time.Second); share != 0 {
		t.Errorf("a tempo of no time: share %g, want 0", share)
	}
}
