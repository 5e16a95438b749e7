package validator

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestLinkerFindsSharedGPUs: three hotkeys served one after another on one
// GPU, sweep after sweep in a random order, are linked; honest miners that
// start at once, some slower than others, are not.
func TestLinkerFindsSharedGPUs(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { testLinker(t, seed, 3, 2) })
	}
}

// TestLinkerFindsEightHotkeys: eight hotkeys of one GPU, of which a given
// pair is served back to back in only a quarter of the sweeps, are linked
// through their lines of waits, at least six of them into one set.
func TestLinkerFindsEightHotkeys(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { testLinker(t, seed, 8, 6) })
	}
}

// testLinker runs 10 sweeps of five honest miners and n hotkeys of one
// GPU queued in a random order, and wants at least want of them linked in
// one set and no honest miner linked.
func testLinker(t *testing.T, seed uint64, n, want int) {
	r := rand.New(rand.NewPCG(seed, 2))
	l := newLinker()
	gen, steps := 300*time.Millisecond, 20
	for sweep := range 10 {
		var ts []timing
		for i := range 5 { // honest: start at once, take 0.8–1.2 generations
			total := time.Duration(float64(gen) * (0.8 + 0.4*r.Float64()))
			ts = append(ts, timing{hotkey: fmt.Sprint("honest", i), firstProgress: total / time.Duration(steps), total: total, steps: steps})
		}
		for pos, k := range r.Perm(n) { // the Sybil's hotkeys queue; each reports its first step a step after it starts
			start := time.Duration(pos)*gen + time.Duration(r.IntN(3))*time.Millisecond
			ts = append(ts, timing{hotkey: fmt.Sprint("sybil", k), firstProgress: start + gen/time.Duration(steps), total: start + gen, steps: steps})
		}
		l.observe(ts)
		links := l.links()
		if sweep+1 < linkMin && len(links) > 0 {
			t.Fatalf("linked %v after %d sweeps, want nothing before %d", links, sweep+1, linkMin)
		}
	}
	links := l.links()
	// Every hotkey linked is a Sybil's, and the largest set holds at least
	// want of them (an honest miner finishing just as one starts can hide
	// a turn).
	sets := map[string]int{}
	for k := range n {
		if got, ok := links[fmt.Sprint("sybil", k)]; ok {
			sets[got]++
			if got[:5] != "sybil" {
				t.Errorf("sybil%d linked to %q, want another Sybil hotkey", k, got)
			}
		}
	}
	largest := 0
	for _, c := range sets {
		largest = max(largest, c)
	}
	if largest < want {
		t.Errorf("%d of the Sybil's %d hotkeys linked in one set (%v), want at least %d", largest, n, links, want)
	}
	for i := range 5 {
		if got, ok := links[fmt.Sprint("honest", i)]; ok {
			t.Errorf("honest%d linked to %q, want no link", i, got)
		}
	}
}
