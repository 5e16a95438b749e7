package validator

import (
	"context"
	"math"
	"sync"
	"time"
)

// Capacity is measured, not assumed. A round is now and then a sweep: every
// serving miner is challenged at the same instant, whatever operator it
// belongs to, so hotkeys that share a GPU queue for it however unlinkable
// their coldkeys and addresses, and each is timed by its own answer: the
// throughput it delivers while the whole grid is asked at once. Once a
// miner has been swept, only sweeps set its speed; isolated challenges
// still count for its success and its checks. Sweeps come at random rounds,
// Config.SweepsPerTempo of them per tempo on average, so a miner cannot
// tell a sweep is coming.

// sweepNow draws whether this round is a sweep.
func (v *Validator) sweepNow(tempo uint64) bool {
	if v.Config.SweepsPerTempo <= 0 {
		return false
	}
	rounds := float64(time.Duration(max(tempo, 1))*v.Config.BlockTime) / float64(v.Config.Round)
	p := math.Min(1, v.Config.SweepsPerTempo/math.Max(rounds, 1))
	return v.challenger.rand.Float64() < p
}

// sweep runs jobs all at once: each operator's group as one burst, every
// group at the same instant, with no limit on challenges in flight.
func (v *Validator) sweep(ctx context.Context, jobs []job) {
	groups := map[int][]job{}
	var order []int
	for _, j := range jobs {
		if _, ok := groups[j.group]; !ok {
			order = append(order, j.group)
		}
		groups[j.group] = append(groups[j.group], j)
	}
	// In a random order: hotkeys queued on one GPU take turns at being
	// first, instead of the lowest uid always being served at full speed.
	v.challenger.rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var wg sync.WaitGroup
	var mu sync.Mutex
	var passed []attempt
	for _, g := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, a := range v.challengeGroup(ctx, groups[g], true) {
				if a.rec.OK && a.out != nil {
					mu.Lock()
					passed = append(passed, a)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if ctx.Err() == nil {
		v.linker.observe(sweepTimings(passed))
	}
}

// sweepTimings times each passing answer of a sweep from the sweep's
// start. Challenges the validator sent itself went at one instant; a
// queued one went when a gateway replica took it (attempt.sent), so its
// times are moved by how much later than the first it was sent, and the
// linker compares every hotkey on one clock.
func sweepTimings(passed []attempt) []timing {
	var first time.Time
	for _, a := range passed {
		if !a.sent.IsZero() && (first.IsZero() || a.sent.Before(first)) {
			first = a.sent
		}
	}
	ts := make([]timing, 0, len(passed))
	for _, a := range passed {
		var late time.Duration
		if !a.sent.IsZero() {
			late = a.sent.Sub(first)
		}
		ts = append(ts, timing{hotkey: a.miner.Hotkey, firstProgress: late + a.out.FirstProgress, total: late + a.out.Total, steps: a.req.Spec.Steps})
	}
	return ts
}

// SweepCost is the share of a miner's GPU time that sweeps take: sweeps
// per tempo × one generation's seconds ÷ the tempo's seconds.
func SweepCost(sweepsPerTempo, generateSecs float64, tempo uint64, blockTime time.Duration) float64 {
	secs := float64(tempo) * blockTime.Seconds()
	if secs <= 0 {
		return 0
	}
	return sweepsPerTempo * generateSecs / secs
}
