package router

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/gridmap"
)

// TestP2CSpreadsWhenReplicasDecideUnseen checks that a miner that looks
// idle to every replica at once is not chosen by all of them: with other
// replicas' dispatches unheard of, the policy spreads its choices over the
// next-best miners so that none is expected to end up worse than another.
func TestP2CSpreadsWhenReplicasDecideUnseen(t *testing.T) {
	cands := make([]gridmap.View, 20)
	for i := range cands {
		cands[i] = gridmap.View{ID: fmt.Sprintf("m%02d", i), Service: 4 * time.Second, Slots: 1, Success: 1, Backlog: 1}
	}
	cands[7].Backlog = 0 // the idle one
	share := func(unseen, weight float64) float64 {
		p, rng := NewP2C(), rand.New(rand.NewPCG(1, 2))
		p.HerdWeight = weight
		idle := 0
		const n = 4000
		for range n {
			if p.Choose(rng, Request{Cost: 1, Unseen: unseen, UnseenCost: 1}, cands) == 7 {
				idle++
			}
		}
		return float64(idle) / n
	}
	alone, herd, twice := share(0, 1), share(8, 1), share(8, NewP2C().HerdWeight)
	if alone < 0.95 {
		t.Errorf("no unseen dispatches: the idle miner got %.3f of the choices, want ≥ 0.95", alone)
	}
	// The others' 8 attempts of 4 s each spread so that every miner ends
	// with the same marginal score: 4 + 64c = 8 + 64(1 − c)/19, c ≈ 0.109.
	if herd < 0.09 || herd > 0.13 {
		t.Errorf("8 unseen dispatches counted once: the idle miner got %.3f of the choices, want about 0.109", herd)
	}
	// Counted twice, as the production policy does: 4 + 128c = 8 +
	// 128(1 − c)/19, c ≈ 0.080.
	if twice < 0.065 || twice > 0.095 {
		t.Errorf("8 unseen dispatches counted twice: the idle miner got %.3f of the choices, want about 0.080", twice)
	}
}

// TestPickPassesUnseen checks that Pick fills in the others' unseen
// dispatches from the grid map.
func TestPickPassesUnseen(t *testing.T) {
	grid := MustGrid(t, 4)
	for range 50 {
		grid.Shared("other", "m00", 2, fixedClock().Add(-50*time.Millisecond))
	}
	var got Request
	r := New(grid, recordPolicy{&got}, rand.New(rand.NewPCG(1, 1)))
	l, err := r.Pick(Request{Cost: 1})
	if err != nil {
		t.Fatalf("Pick: %v", err)
	}
	l.Done(gridmap.Outcome{Result: gridmap.Released})
	want, wantCost := grid.Unseen()
	if got.Unseen != want || got.UnseenCost != wantCost || want <= 0 || wantCost != 2 {
		t.Errorf("policy saw Unseen %g, cost %g; want the map's %g, %g (positive, cost 2)", got.Unseen, got.UnseenCost, want, wantCost)
	}
}

// recordPolicy chooses the first candidate and keeps the request.
type recordPolicy struct{ req *Request }

func (recordPolicy) Name() string { return "record" }

func (p recordPolicy) Choose(_ *rand.Rand, req Request, _ []gridmap.View) int {
	*p.req = req
	return 0
}
