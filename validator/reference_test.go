package validator

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// TestSpeedReferenceCountsOperators: hotkeys added by one operator do not
// move the reference the others are scored against, whether they are slow
// (a Sybil's hotkeys on one GPU) or fast: the operator counts once.
func TestSpeedReferenceCountsOperators(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	miner := func(uid uint16, op string, secs float64) *Stats {
		return &Stats{Hotkey: fmt.Sprint("hot", uid), UID: uid, Operator: op, Passed: 10, Success: 1, SecsPerCost: secs, Tier: 2}
	}
	honest := []*Stats{miner(0, "a", 1), miner(1, "b", 1.1), miner(2, "c", 0.9), miner(3, "d", 1)}
	base := Weights(DefaultScoreConfig(), now, honest)
	for _, tc := range []struct {
		name  string
		extra int
		secs  float64
	}{
		{"8 slow hotkeys", 8, 3},
		{"20 slow hotkeys", 20, 2.5},
		{"8 fast hotkeys", 8, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := append([]*Stats(nil), honest...)
			for i := range tc.extra {
				all = append(all, miner(uint16(10+i), "sybil", tc.secs))
			}
			one := append(append([]*Stats(nil), honest...), miner(10, "sybil", tc.secs))
			if got, want := speedReference(DefaultScoreConfig(), now, all), speedReference(DefaultScoreConfig(), now, one); got != want {
				t.Errorf("reference %g with %d of the operator's hotkeys, want %g as with one", got, tc.extra, want)
			}
			w := Weights(DefaultScoreConfig(), now, all)
			// The honest miners' weights keep their proportions to one another.
			for uid := range uint16(4) {
				got, want := w[uid]/w[0], base[uid]/base[0]
				if math.Abs(got-want) > 1e-9 {
					t.Errorf("uid %d: %.4f of uid 0's weight, want %.4f", uid, got, want)
				}
			}
		})
	}
	// Unlinked, each hotkey is an operator, but one weighs the cost units
	// per second it delivers: 8 hotkeys at 3 s per cost weigh 8/3 of one at
	// 1 s, under the four honest miners' 4.02, so the honest miners keep
	// the reference (the slowest of them, 1.1, where half the throughput
	// is reached); 20 such hotkeys (6.7) would outweigh them.
	for _, tc := range []struct {
		extra int
		want  float64
	}{{8, 1.1}, {20, 3}} {
		t.Run(fmt.Sprintf("%d unlinked hotkeys weigh their throughput", tc.extra), func(t *testing.T) {
			all := append([]*Stats(nil), honest...)
			for i := range tc.extra {
				all = append(all, miner(uint16(10+i), "", 3))
			}
			if got := speedReference(DefaultScoreConfig(), now, all); got != tc.want {
				t.Errorf("reference %g, want %g", got, tc.want)
			}
		})
	}
}
