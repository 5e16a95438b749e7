package gridmap

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// predicted is what Shortlist ranks by, from a view.
func predicted(v View, cost float64) float64 {
	return v.RTT.Seconds() + (v.Backlog/float64(v.Slots)+cost)*v.Service.Seconds()
}

// randomGrid fills m with n miners of uneven RTT, speed (a measured
// service time), slots and queues; some unverified, some serving another
// profile.
func randomGrid(m *Map, n int, rng *rand.Rand) {
	speeds := []float64{2, 1, 0.7, 0.5, 0.25}
	for i := range n {
		id := fmt.Sprintf("m%04d", i)
		m.SetStanding(id, Standing{Verified: rng.IntN(10) > 0})
		profile := "wan@1"
		if rng.IntN(5) == 0 {
			profile = "ltx@1"
		}
		m.Probed(id, Probe{
			RTT: time.Duration(5+rng.IntN(250)) * time.Millisecond, Queue: rng.IntN(4), Slots: 1 + rng.IntN(2),
			Profiles: []string{profile},
		})
		service := 4 / speeds[rng.IntN(len(speeds))] * (0.9 + 0.2*rng.Float64())
		m.Dispatched(id, 1)
		m.Finished(id, Outcome{Result: Succeeded, Service: time.Duration(service * float64(time.Second)), Cost: 1})
		for range rng.IntN(3) {
			m.Dispatched(id, 0.5+4*rng.Float64())
		}
	}
}

func TestShortlistFindsTheBest(t *testing.T) {
	m, _ := MustNew(t, "a")
	rng := rand.New(rand.NewPCG(1, 2))
	randomGrid(m, 2000, rng)
	m.Remove("m0007")
	skip := func(id string) bool { return strings.HasSuffix(id, "3") }
	for _, c := range []struct {
		cost float64
		k    int
	}{{0.5, 16}, {1, 16}, {4, 16}, {32, 16}, {1, 100}, {4, 100}} {
		cost, k := c.cost, c.k
		if c.k == 100 && m.Candidates(nil, "", func(id string) bool { return id != "m1500x" }) == nil {
			// A miner joins in the middle of the order by id.
			m.SetStanding("m1500x", Standing{Verified: true})
			m.Probed("m1500x", Probe{RTT: 5 * time.Millisecond, Slots: 2, Profiles: []string{"wan@1"}})
			m.Dispatched("m1500x", 1)
			m.Finished("m1500x", Outcome{Result: Succeeded, Service: 100 * time.Millisecond, Cost: 1}) // the fastest: shortlisted
		}
		t.Run(fmt.Sprintf("cost=%g/k=%d", cost, k), func(t *testing.T) {
			all := m.Candidates(nil, "wan@1", skip)
			sort.Slice(all, func(i, j int) bool { return predicted(all[i], cost) < predicted(all[j], cost) })
			got := m.Shortlist(nil, Query{Profile: "wan@1", Cost: cost, Skip: skip, Best: k}, rng)
			if len(got) != k {
				t.Fatalf("got %d miners, want %d", len(got), k)
			}
			ids := map[string]bool{}
			for _, v := range got {
				if ids[v.ID] {
					t.Errorf("%s shortlisted twice", v.ID)
				}
				ids[v.ID] = true
			}
			// Keys share buckets about 2% wide, so the shortlist's worst
			// may be a bucket or two past the true k-th best.
			kth := predicted(all[k-1], cost)
			for _, v := range got {
				if !v.Eligible || skip(v.ID) || !slices.Contains(v.Profiles, "wan@1") || v.ID == "m0007" {
					t.Errorf("%s: eligible %v, profiles %v: should not be shortlisted", v.ID, v.Eligible, v.Profiles)
				}
				if p := predicted(v, cost); p > kth*1.05 {
					t.Errorf("%s predicted %.3f s, want at most the %dth best %.3f s (+5%%)", v.ID, p, k, kth)
				}
			}
		})
	}
}

func TestShortlistRandomExtras(t *testing.T) {
	m, _ := MustNew(t, "a")
	rng := rand.New(rand.NewPCG(3, 4))
	randomGrid(m, 300, rng)
	got := m.Shortlist(nil, Query{Cost: 1, Best: 4, Random: 3}, rng)
	if len(got) < 4 || len(got) > 7 {
		t.Fatalf("got %d miners, want 4 best and up to 3 drawn", len(got))
	}
	seen := map[string]bool{}
	for _, v := range got {
		if seen[v.ID] || !v.Eligible {
			t.Errorf("%s: listed twice or not eligible", v.ID)
		}
		seen[v.ID] = true
	}
}

func TestShortlistFollowsEvents(t *testing.T) {
	m, _ := MustNew(t, "a")
	for _, id := range []string{"fast", "slow"} {
		m.SetStanding(id, Standing{Verified: true})
	}
	m.Probed("fast", Probe{RTT: time.Millisecond, ETA: 2 * time.Second})
	m.Probed("slow", Probe{RTT: time.Millisecond, ETA: 8 * time.Second})
	best := func() string { return m.Shortlist(nil, Query{Cost: 1, Best: 1}, nil)[0].ID }
	if got := best(); got != "fast" {
		t.Fatalf("idle grid: best %s, want fast", got)
	}
	for range 4 { // 4 jobs of cost 1 queue 8 s of work at fast
		m.Dispatched("fast", 1)
	}
	if got := best(); got != "slow" {
		t.Errorf("fast busy: best %s, want slow", got)
	}
	for range 4 {
		m.Finished("fast", Outcome{Result: Released, Cost: 1})
	}
	if got := best(); got != "fast" {
		t.Errorf("fast idle again: best %s, want fast", got)
	}
	m.Remove("fast")
	if got := best(); got != "slow" {
		t.Errorf("fast removed: best %s, want slow", got)
	}
}
