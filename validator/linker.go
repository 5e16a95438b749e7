package validator

import (
	"sort"
	"sync"
	"time"
)

// Hotkeys whose latencies move together are one operator's. In a sweep
// every miner is asked at once; hotkeys that share a GPU are served one
// after another, so the second one starts just as the first one's answer
// is done, sweep after sweep. An honest miner in a sweep starts at once. A
// hotkey's start is estimated as its first progress less one step's time
// (its first event reports the first step done; the time per step is the
// rest of its answer over the remaining steps, which the decode makes an
// overestimate), so a model with few, long steps does not seem to start a
// step late. In a sweep, a hotkey that started late (after lateShare of
// its total) waited for the hotkey that, of those done before its first
// progress, finished closest to its estimated start, if within linkSlack
// of a generation of it; the line of waits runs on through the one that
// hotkey waited for, and so on. The linker counts, per pair, the sweeps in
// which one was up the other's line of waits, and links a pair seen so in
// linkMin sweeps and in at least half the sweeps both were in. Linked
// hotkeys are grouped like hotkeys that share a coldkey: challenged in one
// burst and timed by its makespan.
const (
	lateShare = 0.4
	linkSlack = 0.1 // of the late hotkey's own generation (total − start)
	linkMin   = 3
)

// linker accumulates the evidence.
type linker struct {
	mu     sync.Mutex
	swept  map[[2]string]int // sweeps both hotkeys of a pair were timed in
	chains map[[2]string]int // of which one started as the other finished
}

func newLinker() *linker {
	return &linker{swept: map[[2]string]int{}, chains: map[[2]string]int{}}
}

// timing is one hotkey's passing answer in a sweep of a spec of steps
// sampling steps.
type timing struct {
	hotkey               string
	firstProgress, total time.Duration
	steps                int
}

// start estimates when the hotkey's generation began: its first progress
// less one step, the time per step taken from the rest of the answer.
func (t timing) start() time.Duration {
	if t.steps < 2 || t.total <= t.firstProgress {
		return t.firstProgress
	}
	step := (t.total - t.firstProgress) / time.Duration(t.steps-1)
	return max(0, t.firstProgress-step)
}

func pairOf(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// observe folds one sweep's answers in: each hotkey that started late
// waited for the one hotkey, of those done before its first progress,
// whose answer finished closest to its estimated start, if that was within
// linkSlack of its generation; it is chained to that one and to every
// hotkey up that one's line of waits.
func (l *linker) observe(ts []timing) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, a := range ts {
		for _, b := range ts[i+1:] {
			l.swept[pairOf(a.hotkey, b.hotkey)]++
		}
	}
	waited := map[string]string{}
	for _, b := range ts {
		if a, ok := waitedFor(b, ts); ok {
			waited[b.hotkey] = a
		}
	}
	// On a GPU of n hotkeys served in turn, the third waited for the
	// second, which waited for the first: all three are one GPU's, though
	// in a random order a given pair is served back to back in only 2
	// sweeps of n (a quarter of them with eight hotkeys, too few to pass
	// for more than chance).
	for _, b := range ts {
		seen := map[string]bool{b.hotkey: true}
		for a, ok := waited[b.hotkey]; ok && !seen[a]; a, ok = waited[a] {
			seen[a] = true
			l.chains[pairOf(a, b.hotkey)]++
		}
	}
}

// waitedFor returns the hotkey b waited for: b started late, just as it
// finished.
func waitedFor(b timing, ts []timing) (string, bool) {
	start := b.start()
	gen := b.total - start
	if b.total <= 0 || float64(start) < lateShare*float64(b.total) || gen <= 0 {
		return "", false
	}
	best, gap := "", time.Duration(-1)
	for _, a := range ts {
		if g := (start - a.total).Abs(); a.hotkey != b.hotkey && a.total <= b.firstProgress && (gap < 0 || g < gap) {
			best, gap = a.hotkey, g
		}
	}
	return best, gap >= 0 && float64(gap) <= linkSlack*float64(gen)
}

// links returns, for each linked hotkey, the name of its linked set (the
// smallest hotkey in it).
func (l *linker) links() map[string]string {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	var pairs [][2]string
	for p, n := range l.chains {
		if n >= linkMin && 2*n >= l.swept[p] {
			pairs = append(pairs, p)
		}
	}
	l.mu.Unlock()
	sort.Slice(pairs, func(i, j int) bool {
		return pairs[i][0] < pairs[j][0] || pairs[i][0] == pairs[j][0] && pairs[i][1] < pairs[j][1]
	})
	root := map[string]string{}
	var find func(string) string
	find = func(h string) string {
		r, ok := root[h]
		if !ok || r == h {
			return h
		}
		r = find(r)
		root[h] = r
		return r
	}
	for _, p := range pairs {
		a, b := find(p[0]), find(p[1])
		if a > b {
			a, b = b, a
		}
		root[a], root[b] = a, a
	}
	out := make(map[string]string, len(root))
	for h := range root {
		out[h] = find(h)
	}
	return out
}
