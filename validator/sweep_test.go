package validator

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestSweepSetsTheSpeed: once swept, a miner's speed comes from sweeps
// alone; the first sweep replaces the isolated timings.
func TestSweepSetsTheSpeed(t *testing.T) {
	cfg := DefaultScoreConfig()
	at := time.Unix(1_700_000_000, 0)
	s := &Stats{}
	for range 5 {
		s.Observe(cfg, Observation{At: at, OK: true, Cost: 1, Total: time.Second})
	}
	if s.SecsPerCost != 1 {
		t.Fatalf("isolated: %g s per cost, want 1", s.SecsPerCost)
	}
	s.Observe(cfg, Observation{At: at, OK: true, Cost: 1, Total: 3 * time.Second, Swept: true})
	if s.SecsPerCost != 3 || s.Swept != 1 {
		t.Fatalf("after a sweep: %g s per cost (%d swept), want 3 from the sweep alone", s.SecsPerCost, s.Swept)
	}
	s.Observe(cfg, Observation{At: at, OK: true, Cost: 1, Total: time.Second})
	if s.SecsPerCost != 3 || s.Passed != 7 {
		t.Errorf("an isolated pass after: %g s per cost, %d passed; want the speed kept and the pass counted", s.SecsPerCost, s.Passed)
	}
}

// TestUnlinkableSybilInSweeps: n hotkeys with nothing in common on chain
// share one GPU. Isolated challenges time each at the GPU's full speed;
// sweeps ask them all at once, so they queue (in a random order each
// sweep) and together earn far less than one honest GPU.
func TestUnlinkableSybilInSweeps(t *testing.T) {
	cfg := DefaultScoreConfig()
	for _, n := range []int{2, 3, 8} {
		t.Run(fmt.Sprint(n, " hotkeys"), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(n), 9))
			at := time.Unix(1_700_000_000, 0)
			const honest = 4
			var miners []*Stats
			for i := range honest + n {
				miners = append(miners, &Stats{Hotkey: fmt.Sprint("hot", i), UID: uint16(i)})
			}
			for range 60 { // sweeps, with isolated challenges between them
				at = at.Add(time.Minute)
				order := r.Perm(n)
				for i, m := range miners {
					total := time.Second
					if i >= honest {
						total = time.Duration(order[i-honest]+1) * time.Second // its place in the GPU's queue
					}
					m.Observe(cfg, Observation{At: at, OK: true, Cost: 1, Total: total, Swept: true})
					m.Observe(cfg, Observation{At: at, OK: true, Cost: 1, Total: time.Second}) // alone: full speed
				}
			}
			w := Weights(cfg, at, miners)
			var sybil float64
			for i := honest; i < honest+n; i++ {
				sybil += w[uint16(i)]
			}
			one := w[0]
			// The goal is ≤ 1.05; four honest miners keep 95% of the
			// weight only if it is under about 0.2.
			if ratio := sybil / one; ratio > 0.2 {
				t.Errorf("the Sybil's %d hotkeys earn %.3f× one honest GPU, want ≤ 0.2", n, ratio)
			} else {
				t.Logf("%d hotkeys on one GPU: %.3f× one honest GPU", n, ratio)
			}
		})
	}
}

func TestSweepCost(t *testing.T) {
	// Two sweeps a tempo of 360 12-second blocks, a 60-second generation.
	if got := SweepCost(2, 60, 360, 12*time.Second); got < 0.0277 || got > 0.0278 {
		t.Errorf("got %g, want 120 s of 4320 s = 0.0278", got)
	}
}

// TestSweepQuantile: a swept miner's speed is read from the 7th of its last
// 8 sweep timings (the median while it has fewer). One slow sweep in eight (a hiccup) costs an honest
// miner nothing; a hotkey served second on a shared GPU in two sweeps of
// eight is timed as second, however often it was first.
func TestSweepQuantile(t *testing.T) {
	cfg := DefaultScoreConfig()
	at := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name  string
		secs  []float64
		timed float64
	}{
		{"steady", []float64{1, 1, 1, 1, 1, 1, 1, 1}, 1},
		{"one hiccup", []float64{1, 1, 1, 3, 1, 1, 1, 1}, 1},
		{"second twice", []float64{1, 2, 1, 1, 1, 1, 2, 1}, 2},
		{"window", []float64{3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 1}, // only the last 8 count
		{"fewer than 8: the median", []float64{2, 1, 3}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Stats{}
			for _, x := range tc.secs {
				s.Observe(cfg, Observation{At: at, OK: true, Cost: 1, Total: time.Duration(x * float64(time.Second)), Swept: true})
			}
			if got := s.timedSecsPerCost(cfg); got != tc.timed {
				t.Errorf("timed at %g s per cost, want %g (window %v)", got, tc.timed, s.SweepSecs)
			}
			if len(s.SweepSecs) > cfg.SweepWindow {
				t.Errorf("kept %d sweeps, want at most %d", len(s.SweepSecs), cfg.SweepWindow)
			}
		})
	}
}
