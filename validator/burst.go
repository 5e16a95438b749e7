package validator

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// Operators: hotkeys that share a coldkey, or (on a public grid) an axon IP,
// are taken to be one operator's. They are picked in the same round and
// challenged in one burst, at the same instant, so hotkeys that share a GPU
// contend for it the way users' jobs would; and each passing hotkey is
// timed by the burst's makespan, the group's throughput under concurrent
// load. An operator with a GPU per hotkey answers a burst about as fast as
// one hotkey alone; n hotkeys on one GPU take n times as long.

// operators returns, for each neuron, the index of its operator group: the
// smallest index of a neuron it shares a coldkey or (when sameIP) a public
// axon IP with, transitively.
func operators(ns []fractal.Neuron, sameIP bool) []int { return linkedOperators(ns, sameIP, nil) }

// linkedOperators is operators with links too: hotkeys the linker found
// sharing a GPU (hotkey → the name of its linked set).
func linkedOperators(ns []fractal.Neuron, sameIP bool, links map[string]string) []int {
	parent := make([]int, len(ns))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	union := func(i, j int) {
		a, b := find(i), find(j)
		if a > b {
			a, b = b, a
		}
		parent[b] = a
	}
	byKey := map[string]int{}
	join := func(i int, key string) {
		if j, ok := byKey[key]; ok {
			union(i, j)
		} else {
			byKey[key] = i
		}
	}
	for i, n := range ns {
		if n.Coldkey != "" {
			join(i, "c:"+n.Coldkey)
		}
		if sameIP && n.Axon.IP.IsValid() && fractal.IsPublicIP(n.Axon.IP) {
			join(i, "ip:"+n.Axon.IP.Unmap().String())
		}
		if l, ok := links[n.Hotkey]; ok {
			join(i, "link:"+l)
		}
	}
	out := make([]int, len(ns))
	for i := range ns {
		out[i] = find(i)
	}
	return out
}

// operatorsOf names each hotkey's operator group, as operators finds them.
func operatorsOf(ns []fractal.Neuron, sameIP bool, links map[string]string) map[string]string {
	group := linkedOperators(ns, sameIP, links)
	out := make(map[string]string, len(ns))
	for i, n := range ns {
		out[n.Hotkey] = ns[group[i]].Hotkey
	}
	return out
}

// byOperator orders serving miners so that each operator's hotkeys are
// adjacent (the operator at its lowest uid, its hotkeys by uid) and returns
// the group of each position.
func byOperator(serving []fractal.Neuron, sameIP bool, links map[string]string) ([]fractal.Neuron, []int) {
	slices.SortFunc(serving, func(a, b fractal.Neuron) int { return cmp.Compare(a.UID, b.UID) })
	group := linkedOperators(serving, sameIP, links)
	idx := make([]int, len(serving))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(group[a], group[b]) })
	out := make([]fractal.Neuron, len(serving))
	groups := make([]int, len(serving))
	for i, j := range idx {
		out[i], groups[i] = serving[j], group[j]
	}
	return out, groups
}

// burstMakespan is how long a burst's passing answers took, from the
// instant the last of them was sent to the last answer. Challenges the
// validator sent itself went at one instant; queued ones went when a
// gateway replica took each (attempt.sent), and measuring from the last
// of those never charges an operator for the queue's skew, while hotkeys
// that share a GPU still show the turns they took at it.
func burstMakespan(tries []attempt) time.Duration {
	var last time.Time
	for _, a := range tries {
		if a.rec.OK && a.out != nil && a.sent.After(last) {
			last = a.sent
		}
	}
	var makespan time.Duration
	for _, a := range tries {
		if !a.rec.OK || a.out == nil {
			continue
		}
		end := a.out.Total
		if !a.sent.IsZero() {
			end += a.sent.Sub(last)
		}
		makespan = max(makespan, end)
	}
	return makespan
}

// job is one challenge of a round.
type job struct {
	miner fractal.Neuron
	req   minerapi.GenerateRequest
	group int
}

// burst runs jobs, each operator's at the same instant, with at most
// Parallel challenges in flight unless one operator has more hotkeys: its
// burst then goes out whole on its own.
func (v *Validator) burst(ctx context.Context, jobs []job) {
	var groups [][]job
	at := map[int]int{} // group → index in groups
	for _, j := range jobs {
		if i, ok := at[j.group]; ok {
			groups[i] = append(groups[i], j)
			continue
		}
		at[j.group] = len(groups)
		groups = append(groups, []job{j})
	}
	sem := make(chan struct{}, v.Config.Parallel)
	var wg sync.WaitGroup
	for _, g := range groups {
		need := min(len(g), v.Config.Parallel)
		for range need {
			sem <- struct{}{}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				for range need {
					<-sem
				}
			}()
			v.challengeGroup(ctx, g, false)
		}()
	}
	wg.Wait()
}

// challengeGroup challenges one operator's hotkeys at once and records each
// outcome, timing the passing ones by the burst's makespan; swept: as part
// of a sweep, whose timings set the miners' speed.
func (v *Validator) challengeGroup(ctx context.Context, g []job, swept bool) []attempt {
	tries := make([]attempt, len(g))
	var wg sync.WaitGroup
	for i, j := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tries[i] = v.attempt(ctx, j.miner, j.req)
		}()
	}
	wg.Wait()
	makespan := burstMakespan(tries)
	for _, a := range tries {
		if a.scored {
			a.swept = swept
			v.record(ctx, a, makespan)
		}
	}
	return tries
}
