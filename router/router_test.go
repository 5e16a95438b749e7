package router

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gridmap"
)

// fixedClock returns a constant instant.
func fixedClock() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// MustGrid returns a map with n verified miners m00…, each probed once with
// an empty queue and the given RTT and service time.
func MustGrid(tb testing.TB, n int) *gridmap.Map {
	tb.Helper()
	cfg := gridmap.DefaultConfig()
	cfg.Now = fixedClock
	m, err := gridmap.New(cfg)
	if err != nil {
		tb.Fatalf("gridmap.New: %v", err)
	}
	for i := range n {
		id := fmt.Sprintf("m%02d", i)
		m.SetStanding(id, gridmap.Standing{Verified: true, Tier: i % 4})
		m.Probed(id, gridmap.Probe{RTT: 20 * time.Millisecond, Slots: 1})
	}
	return m
}

func TestPredict(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    gridmap.View
		cost float64
		want time.Duration
	}{
		{"idle miner", gridmap.View{RTT: 50 * time.Millisecond, Service: 4 * time.Second, Slots: 1}, 1, 4050 * time.Millisecond},
		{"queue of two, one slot: RTT + (2+1)×service", gridmap.View{RTT: 100 * time.Millisecond, Backlog: 2, Service: 4 * time.Second, Slots: 1}, 1, 12100 * time.Millisecond},
		{"two slots halve the wait", gridmap.View{RTT: 100 * time.Millisecond, Backlog: 2, Service: 4 * time.Second, Slots: 2}, 1, 8100 * time.Millisecond},
		{"spec cost scales the job's own service", gridmap.View{Backlog: 1, Service: 2 * time.Second, Slots: 1}, 4, 10 * time.Second},
		{"zero cost counts as one", gridmap.View{Service: 3 * time.Second}, 0, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Predict(tc.v, tc.cost); got != tc.want {
				t.Errorf("Predict = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestP2CScorePenalisesFailures(t *testing.T) {
	v := gridmap.View{Service: 4 * time.Second, Slots: 1, Success: 1}
	for _, tc := range []struct {
		name    string
		k       float64
		cap     float64
		cost    float64
		success float64
		factor  float64 // score ÷ the score at full success
	}{
		{"full success", 1, 0, 1, 1, 1},
		{"k = 1 at 50%", 1, 0, 1, 0.5, 2},
		{"k = 2 at 50%", 2, 0, 1, 0.5, 4},
		{"k = 0.5 at 25%", 0.5, 0, 1, 0.25, 2},
		{"floored at 0%", 1, 0, 1, 0, 1 / 0.05},
		{"k = 0 ignores failures", 0, 0, 1, 0.1, 1},
		{"not scaled: a job of cost 4 at 25%, k = 0.5", 0.5, 0, 4, 0.25, 2},
		{"scaled: a job of cost 4 at 25%, k = 0.5 × 4", 0.5, 4, 4, 0.25, 16},
		{"scaled up to the cap: cost 16, k = 0.5 × 4", 0.5, 4, 16, 0.25, 16},
		{"scaled, a cost below 1 counts as 1", 0.5, 4, 0.5, 0.25, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &P2C{FailurePenalty: tc.k, FailureCostCap: tc.cap, MinSuccess: 0.05}
			good := p.Score(v, tc.cost)
			w := v
			w.Success = tc.success
			if got, want := p.Score(w, tc.cost), good*tc.factor; math.Abs(got-want) > 1e-9*want {
				t.Errorf("score = %g, want %g", got, want)
			}
		})
	}
}

func TestPickHonoursEligibilityAndExclusion(t *testing.T) {
	grid := MustGrid(t, 10)
	// m00 and m01: breaker open; m02: unverified; m03, m04: excluded.
	for _, id := range []string{"m00", "m01"} {
		for range gridmap.DefaultConfig().BreakerFailures {
			grid.Dispatched(id, 1)
			grid.Finished(id, gridmap.Outcome{Result: gridmap.Failed})
		}
	}
	grid.SetStanding("m02", gridmap.Standing{Verified: false})
	exclude := []string{"m03", "m04"}
	forbidden := []string{"m00", "m01", "m02", "m03", "m04"}

	for _, p := range []Policy{NewP2C(), &P2C{FailurePenalty: 1, Sharpness: 0}, Random{}, &RoundRobin{}, BestTierOfThree{}, LeastOutstanding{}} {
		t.Run(p.Name(), func(t *testing.T) {
			r := New(grid, p, rand.New(rand.NewPCG(1, 2)))
			seen := map[string]bool{}
			var picked []*Lease
			for range 500 {
				l, err := r.Pick(Request{Cost: 1, Exclude: exclude})
				if err != nil {
					t.Fatalf("Pick: %v", err)
				}
				if slices.Contains(forbidden, l.Miner) {
					t.Fatalf("Pick chose %s, which is open, unverified or excluded", l.Miner)
				}
				seen[l.Miner] = true
				picked = append(picked, l)
			}
			for _, l := range picked {
				l.Done(gridmap.Outcome{Result: gridmap.Succeeded, Service: time.Second})
			}
			if len(seen) < 3 {
				t.Errorf("500 picks in flight used %d of the 5 eligible miners, want at least 3", len(seen))
			}
		})
	}
}

func TestPickNoMiner(t *testing.T) {
	grid := MustGrid(t, 2)
	r := New(grid, nil, rand.New(rand.NewPCG(1, 2)))
	_, err := r.Pick(Request{Cost: 1, Exclude: []string{"m00", "m01"}})
	if !errors.Is(err, ErrNoMiner) || !errors.Is(err, fractal.ErrUnavailable) {
		t.Errorf("Pick with every miner excluded: err = %v, want ErrNoMiner (unavailable)", err)
	}
}

// TestPickOnlyMinersServingTheProfile: during an upgrade window a job goes
// only to miners whose last probe said they serve its profile.
func TestPickOnlyMinersServingTheProfile(t *testing.T) {
	grid := MustGrid(t, 4)
	serves := map[string][]string{"m00": {"ref@4"}, "m01": {"ref@4", "ref@5"}, "m02": {"ref@5"}}
	for id, ps := range serves {
		grid.Probed(id, gridmap.Probe{RTT: 20 * time.Millisecond, Slots: 1, Profiles: ps})
	}
	r := New(grid, nil, rand.New(rand.NewPCG(1, 2)))
	for _, tc := range []struct {
		profile string
		want    []string
	}{{"ref@4", []string{"m00", "m01"}}, {"ref@5", []string{"m01", "m02"}}, {"", []string{"m00", "m01", "m02", "m03"}}} {
		got := map[string]bool{}
		for range 60 {
			l, err := r.Pick(Request{Profile: tc.profile, Cost: 1})
			if err != nil {
				t.Fatalf("%q: %v", tc.profile, err)
			}
			got[l.Miner] = true
			l.Done(gridmap.Outcome{Result: gridmap.Released})
		}
		var ids []string
		for id := range got {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, tc.want) {
			t.Errorf("profile %q went to %v, want %v", tc.profile, ids, tc.want)
		}
	}
	if _, err := r.Pick(Request{Profile: "ref@6", Cost: 1}); !errors.Is(err, ErrNoMiner) {
		t.Errorf("a profile nobody serves: got %v, want ErrNoMiner", err)
	}
}

func TestPickReservesTheMiner(t *testing.T) {
	grid := MustGrid(t, 3)
	r := New(grid, nil, rand.New(rand.NewPCG(1, 2)))
	l, err := r.Pick(Request{Cost: 2})
	if err != nil {
		t.Fatalf("Pick: %v", err)
	}
	v, _ := grid.View(l.Miner)
	if v.Outstanding != 1 || v.Backlog != 2 {
		t.Errorf("after Pick: outstanding %d backlog %g, want 1 and the job's cost 2", v.Outstanding, v.Backlog)
	}
}

// TestLeaseReleasesOnce checks that a lease returns exactly the work Pick
// booked, whatever cost the caller puts in the outcome, and only once.
func TestLeaseReleasesOnce(t *testing.T) {
	for _, result := range []gridmap.AttemptResult{gridmap.Succeeded, gridmap.Failed, gridmap.Rejected, gridmap.Released} {
		grid := MustGrid(t, 1)
		r := New(grid, nil, rand.New(rand.NewPCG(1, 2)))
		l, err := r.Pick(Request{Cost: 3})
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		if open, _ := r.Leases(); open != 1 {
			t.Fatalf("%v: %d leases open after Pick, want 1", result, open)
		}
		if !l.Done(gridmap.Outcome{Result: result, Service: time.Second, Cost: 1}) {
			t.Fatalf("%v: first Done returned false", result)
		}
		if l.Done(gridmap.Outcome{Result: gridmap.Failed}) {
			t.Fatalf("%v: second Done returned true", result)
		}
		v, _ := grid.View(l.Miner)
		if v.Outstanding != 0 || v.Backlog != 0 {
			t.Errorf("%v: after Done outstanding %d backlog %g, want 0 and 0", result, v.Outstanding, v.Backlog)
		}
		if open, doubled := r.Leases(); open != 0 || doubled != 1 {
			t.Errorf("%v: %d open, %d ended twice; want 0 and 1", result, open, doubled)
		}
	}
}

func TestP2CPrefersTheFasterMiner(t *testing.T) {
	grid := MustGrid(t, 2)
	grid.Dispatched("m00", 1)
	grid.Finished("m00", gridmap.Outcome{Result: gridmap.Succeeded, Service: 2 * time.Second, Cost: 1})
	grid.Dispatched("m01", 1)
	grid.Finished("m01", gridmap.Outcome{Result: gridmap.Succeeded, Service: 8 * time.Second, Cost: 1})
	// With two candidates both are always drawn; the better one must win.
	r := New(grid, &P2C{FailurePenalty: 1, Sharpness: 0}, rand.New(rand.NewPCG(3, 4)))
	for i := range 20 {
		l, err := r.Pick(Request{Cost: 1})
		if err != nil {
			t.Fatalf("Pick: %v", err)
		}
		if l.Miner != "m00" {
			t.Fatalf("pick %d chose %s, want the faster, idle m00", i, l.Miner)
		}
		l.Done(gridmap.Outcome{Result: gridmap.Succeeded, Service: 2 * time.Second})
	}
	// Once m00's backlog predicts a later finish than m01, m01 wins: the
	// fifth job would wait 4 × 2 s on m00 and finish in 10 s, m01 in 8 s.
	for range 5 {
		if _, err := r.Pick(Request{Cost: 1}); err != nil {
			t.Fatalf("Pick: %v", err)
		}
	}
	if v, _ := grid.View("m01"); v.Outstanding == 0 {
		t.Error("m01 got nothing while m00 queued 5 jobs, want the queue to send work to m01")
	}
}

func TestPoliciesDeterministic(t *testing.T) {
	for _, newPolicy := range []func() Policy{
		func() Policy { return NewP2C() }, func() Policy { return Random{} }, func() Policy { return BestTierOfThree{} },
		func() Policy { return LeastOutstanding{} }, func() Policy { return &RoundRobin{} },
	} {
		t.Run(newPolicy().Name(), func(t *testing.T) {
			run := func() []string {
				grid := MustGrid(t, 16)
				r := New(grid, newPolicy(), rand.New(rand.NewPCG(9, 9)))
				var ids []string
				for range 50 {
					l, err := r.Pick(Request{Cost: 1})
					if err != nil {
						t.Fatalf("Pick: %v", err)
					}
					ids = append(ids, l.Miner)
				}
				return ids
			}
			if a, b := run(), run(); !slices.Equal(a, b) {
				t.Errorf("same seed gave different choices:\n%v\n%v", a, b)
			}
		})
	}
}

func TestBaselinePolicies(t *testing.T) {
	cands := []gridmap.View{
		{ID: "a", Tier: 1, Outstanding: 3},
		{ID: "b", Tier: 4, Outstanding: 1},
		{ID: "c", Tier: 2, Outstanding: 2},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	t.Run("round robin cycles", func(t *testing.T) {
		rr := &RoundRobin{}
		var got []int
		for range 4 {
			got = append(got, rr.Choose(rng, Request{}, cands))
		}
		if want := []int{0, 1, 2, 0}; !slices.Equal(got, want) {
			t.Errorf("choices = %v, want %v", got, want)
		}
	})
	t.Run("best tier of three", func(t *testing.T) {
		for range 20 {
			if got := (BestTierOfThree{}).Choose(rng, Request{}, cands); got != 1 {
				t.Fatalf("chose %d, want 1 (tier 4) when all three are drawn", got)
			}
		}
	})
	t.Run("least outstanding", func(t *testing.T) {
		if got := (LeastOutstanding{}).Choose(rng, Request{}, cands); got != 1 {
			t.Errorf("chose %d, want 1 (one outstanding)", got)
		}
	})
}

func TestHedgeable(t *testing.T) {
	for method, want := range map[string]bool{"GET": true, "HEAD": true, "POST": false, "PUT": false, "DELETE": false} {
		if got := Hedgeable(method); got != want {
			t.Errorf("Hedgeable(%s) = %v, want %v", method, got, want)
		}
	}
}

// TestPickNeverForbiddenRandomGrids checks, over many random grid states,
// that no policy ever picks a miner that is open, unverified, full or
// already tried.
func TestPickNeverForbiddenRandomGrids(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	breakerFailures := gridmap.DefaultConfig().BreakerFailures
	for trial := range 50 {
		n := 2 + rng.IntN(20)
		grid := MustGrid(t, n)
		forbidden := map[string]bool{}
		var exclude []string
		for i := range n {
			id := fmt.Sprintf("m%02d", i)
			switch rng.IntN(5) {
			case 0:
				for range breakerFailures {
					grid.Dispatched(id, 1)
					grid.Finished(id, gridmap.Outcome{Result: gridmap.Failed})
				}
				forbidden[id] = true
			case 1:
				grid.SetStanding(id, gridmap.Standing{Verified: false})
				forbidden[id] = true
			case 2:
				exclude = append(exclude, id)
				forbidden[id] = true
			case 3:
				grid.Dispatched(id, 1)
				grid.Finished(id, gridmap.Outcome{Result: gridmap.Rejected, RetryAfter: time.Minute})
				forbidden[id] = true
			default:
				for range rng.IntN(4) {
					grid.Dispatched(id, 1+3*rng.Float64())
				}
			}
		}
		for _, p := range []Policy{NewP2C(), Random{}, &RoundRobin{}, BestTierOfThree{}, LeastOutstanding{}} {
			r := New(grid, p, rand.New(rand.NewPCG(uint64(trial), 1)))
			for range 20 {
				l, err := r.Pick(Request{Cost: 1 + rng.Float64(), Exclude: exclude})
				if len(forbidden) == n {
					if !errors.Is(err, ErrNoMiner) {
						t.Fatalf("trial %d, %s: every miner forbidden, got %v, %v; want ErrNoMiner", trial, p.Name(), l, err)
					}
					continue
				}
				if err != nil || forbidden[l.Miner] {
					t.Fatalf("trial %d, %s: Pick = %v, %v; want an allowed miner", trial, p.Name(), l, err)
				}
			}
		}
	}
}
