package validator_test

import (
	"context"
	"testing"

	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/refengine"
)

// TestSweepChallengesEveryMiner: a sweep round challenges every serving
// miner at once, whatever PerRound says, and its passes are swept.
func TestSweepChallengesEveryMiner(t *testing.T) {
	g := gridtest.New(t)
	for range 3 {
		g.AddMiner(t, refengine.New(), nil)
	}
	st := openStore(t, t.TempDir())
	defer st.Close()
	v := newValidator(t, g, st)
	v.Config.PerRound = 1
	v.Config.SweepsPerTempo = 1000 // every round
	if n := v.Round(context.Background()); n != 3 {
		t.Fatalf("sweep sent %d challenges, want 3", n)
	}
	for _, s := range v.Stats() {
		if s.Passed != 1 || s.Swept != 1 {
			t.Errorf("%s: %d passed, %d swept; want one swept pass", s.Hotkey, s.Passed, s.Swept)
		}
	}
}
