package validator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// meanScore observes n challenges of a miner that fails each with
// probability rate (a seeded draw) and answers in secsPerCost, and returns
// its mean score over the last 3n/4 challenges against a reference of one
// second per cost.
func meanScore(cfg ScoreConfig, rate, secsPerCost float64, n int, seed uint64) float64 {
	r := rand.New(rand.NewPCG(seed, 5))
	s := &Stats{}
	at := time.Unix(1_700_000_000, 0)
	var sum float64
	for i := range n {
		at = at.Add(time.Minute)
		ok := r.Float64() >= rate
		s.Observe(cfg, Observation{At: at, OK: ok, Reason: "unavailable", Cost: 1, Total: time.Duration(secsPerCost * float64(time.Second))})
		if i >= n/4 {
			sum += s.Score(cfg, at, 1)
		}
	}
	return sum / float64(n-n/4)
}

func TestScoreReliability(t *testing.T) {
	cfg := DefaultScoreConfig()
	const n = 40_000
	perfect := meanScore(cfg, 0, 1, n, 1)
	if want := tierWeight[TierMax]; math.Abs(perfect-want) > 1e-9 {
		t.Fatalf("a miner that never fails scores %g, want the top tier's %g", perfect, want)
	}
	cases := []struct {
		name     string
		rate     float64
		min, max float64 // of a perfect miner's score
	}{
		// A rare failure caused by load costs an honest miner little.
		{"honest with 0.5% failures", 0.005, 0.9, 1},
		{"1% failures", 0.01, 0.8, 1},
		// Users see a failed job in twenty: most of the weight is gone.
		{"flaky with 5% failures", 0.05, 0, 0.3},
		{"20% failures", 0.2, 0, 0.05},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := meanScore(cfg, c.rate, 1, n, 2) / perfect
			t.Logf("mean score %.3f of a perfect miner's", got)
			if got < c.min || got > c.max {
				t.Errorf("got %.3f of a perfect miner's score, want within [%g, %g]", got, c.min, c.max)
			}
		})
	}
}

func TestScoreProbation(t *testing.T) {
	cfg := DefaultScoreConfig()
	at := time.Unix(1_700_000_000, 0)
	s := &Stats{}
	for i := range cfg.TierWindow {
		if s.Tier != TierProbation {
			t.Fatalf("tier %d after %d clean challenges, want probation until a window is complete", s.Tier, i)
		}
		s.Observe(cfg, Observation{At: at, OK: true, Cost: 1, Total: time.Second})
	}
	if s.Tier != 1 {
		t.Fatalf("tier %d after a clean window, want 1", s.Tier)
	}
	// One failure in a window moves it down one tier, no further.
	s.Tier = TierMax
	for i := range cfg.TierWindow {
		s.Observe(cfg, Observation{At: at, OK: i != 3, Cost: 1, Total: time.Second})
	}
	if s.Tier != TierMax-1 {
		t.Errorf("tier %d after a window with one failure from the top, want %d", s.Tier, TierMax-1)
	}
	// A failed check drops it to probation and into cooldown.
	s.Observe(cfg, Observation{At: at, Cheat: true, Reason: "step_mismatch", Cost: 1})
	if s.Tier != TierProbation || s.Score(cfg, at.Add(time.Hour), 1) != 0 {
		t.Errorf("after a failed check: tier %d score %g, want probation and 0", s.Tier, s.Score(cfg, at.Add(time.Hour), 1))
	}
}

func TestScoreSybilBurst(t *testing.T) {
	// n hotkeys on one GPU, challenged in one burst, are each timed by the
	// burst's makespan, n times one generation. At a speed power of 2 alone
	// they would earn 1/n of the GPU's score together; beyond the slow knee
	// they earn next to nothing.
	cfg := DefaultScoreConfig()
	one := meanScore(cfg, 0, 1, 200, 1)
	for _, c := range []struct {
		n   int
		max float64 // of one GPU's score
	}{{2, 0.051}, {3, 0.0014}, {8, 1e-6}, {32, 1e-10}} {
		got := float64(c.n) * meanScore(cfg, 0, float64(c.n), 200, 1) / one
		if got > c.max || got <= 0 {
			t.Errorf("%d hotkeys on one GPU earn %.3g of one GPU, want in (0, %g]", c.n, got, c.max)
		}
	}
}

func TestScoreSlowKnee(t *testing.T) {
	// Within the knee only speed² counts; an honest GPU 10% or 40% slower
	// than the median keeps (1/1.1)² and (1/1.4)² of the median's score.
	cfg := DefaultScoreConfig()
	one := meanScore(cfg, 0, 1, 200, 1)
	for _, c := range []struct {
		secsPerCost, want float64
	}{
		{0.5, 4},
		{1.1, 1 / (1.1 * 1.1)},
		{1.4, 1 / (1.4 * 1.4)},
		{1.5, 1 / (1.5 * 1.5)},
		{2, 0.25 * math.Pow(0.75, 8)},
	} {
		got := meanScore(cfg, 0, c.secsPerCost, 200, 1) / one
		if math.Abs(got-c.want) > 1e-9*c.want {
			t.Errorf("%g s per cost earns %.6g of the median's score, want %.6g", c.secsPerCost, got, c.want)
		}
	}
	off := cfg
	off.SlowKnee = 0
	if got, want := meanScore(off, 0, 3, 200, 1)/meanScore(off, 0, 1, 200, 1), 1/9.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("with the knee off, 3× slower earns %.6g, want %.6g", got, want)
	}
}

func TestOperators(t *testing.T) {
	pub := func(s string) fractal.Axon { return fractal.Axon{IP: netip.MustParseAddr(s), Port: 8091, Protocol: 4} }
	ns := []fractal.Neuron{
		{UID: 0, Coldkey: "a", Axon: pub("203.0.113.1")},
		{UID: 1, Coldkey: "b", Axon: pub("203.0.113.2")},
		{UID: 2, Coldkey: "a", Axon: pub("203.0.113.3")},
		{UID: 3, Coldkey: "c", Axon: pub("203.0.113.2")}, // b's IP
		{UID: 4, Coldkey: "d", Axon: pub("10.0.0.1")},
		{UID: 5, Coldkey: "e", Axon: pub("10.0.0.1")}, // a private IP says nothing
	}
	cases := []struct {
		name   string
		sameIP bool
		want   []int
	}{
		{"coldkey and public IP", true, []int{0, 1, 0, 1, 4, 5}},
		{"coldkey only (local grid)", false, []int{0, 1, 0, 3, 4, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := operators(ns, c.sameIP); !slices.Equal(got, c.want) {
				t.Errorf("got groups %v, want %v", got, c.want)
			}
		})
	}
}

func TestPickCompletesOperators(t *testing.T) {
	v := New()
	key, err := sr25519.FromURI("//Alice//pick-test")
	if err != nil {
		t.Fatal(err)
	}
	v.Hotkey = key
	v.Config.AllowPrivateAxons = true
	v.Config.PerRound = 2
	ax := fractal.Axon{IP: netip.MustParseAddr("127.0.0.1"), Port: 8091, Protocol: 4}
	v.graph = &fractal.Metagraph{Tempo: 10, Neurons: []fractal.Neuron{
		{UID: 0, Hotkey: "h0", Coldkey: "sybil", Axon: ax},
		{UID: 1, Hotkey: "h1", Coldkey: "one", Axon: ax},
		{UID: 2, Hotkey: "h2", Coldkey: "sybil", Axon: ax},
		{UID: 3, Hotkey: "h3", Coldkey: "two", Axon: ax},
		{UID: 4, Hotkey: "h4", Coldkey: "sybil", Axon: ax},
	}}
	// Each round starts at the cursor, takes PerRound and then the rest of
	// the last operator picked; the Sybil's hotkeys go out together.
	want := [][]string{{"h0", "h2", "h4"}, {"h1", "h3"}, {"h0", "h2", "h4"}}
	for i, w := range want {
		var got []string
		for _, p := range v.pick(false) {
			got = append(got, p.n.Hotkey)
		}
		if !slices.Equal(got, w) {
			t.Errorf("round %d: got %v, want %v", i, got, w)
		}
	}
}

// A pass adds the spec's profile to the miner's set, once; a failure adds
// nothing. The standing carries the set and the verdict.
func TestObserveProfiles(t *testing.T) {
	cfg := DefaultScoreConfig()
	at := time.Unix(1_700_000_000, 0)
	s := &Stats{Hotkey: "5M"}
	for _, o := range []Observation{
		{At: at, OK: true, Profile: "ref@2", Cost: 1, Total: time.Second},
		{At: at, OK: true, Profile: "ref@1", Cost: 1, Total: time.Second},
		{At: at, OK: true, Profile: "ref@2", Cost: 1, Total: time.Second},
		{At: at, OK: false, Profile: "wan@2.1", Reason: "timeout"},
		{At: at, OK: true, Cost: 1, Total: time.Second},                 // a spec of no profile
		{At: at, OK: true, Profile: "ref", Cost: 1, Total: time.Second}, // nor of a full one
	} {
		s.Observe(cfg, o)
	}
	if want := []string{"ref@1", "ref@2"}; !slices.Equal(s.Profiles, want) {
		t.Fatalf("profiles %q, want %q", s.Profiles, want)
	}
	st := s.Standing()
	if st.Hotkey != "5M" || st.Passed != 5 || st.Success != s.Success || st.Tier != s.Tier || !st.Updated.Equal(at) || !slices.Equal(st.Profiles, s.Profiles) {
		t.Errorf("standing %+v, want the stats' verdict %+v", st, s)
	}
	if err := st.Validate(); err != nil {
		t.Errorf("standing of observed stats: %v", err)
	}
	st.Profiles[0] = "changed"
	if s.Profiles[0] != "ref@1" {
		t.Error("the standing shares its profiles with the stats")
	}
}

// TestOrganicThroughput: among miners equally fast in sweeps, the users'
// work each served and passed scales its weight by (1 − ω) + ω·min(4,
// served ÷ median); it decays with its half-life; a grid with no users'
// work weighs speed alone.
func TestOrganicThroughput(t *testing.T) {
	cfg := DefaultScoreConfig()
	at := time.Unix(1_700_000_000, 0)
	swept := func(uid uint16, served float64) *Stats {
		s := &Stats{Hotkey: fmt.Sprint("hot", uid), UID: uid}
		for range 25 {
			s.Observe(cfg, Observation{At: at, OK: true, Cost: 1, Total: time.Second, Swept: true})
		}
		if served > 0 {
			s.Observe(cfg, Observation{At: at, OK: true, Cost: 0.5, Total: time.Second, Organic: served})
		}
		return s
	}
	t.Run("scales the score", func(t *testing.T) {
		miners := []*Stats{swept(0, 10), swept(1, 10), swept(2, 10), swept(3, 20), swept(4, 0), swept(5, 100)}
		w := Weights(cfg, at, miners)
		for _, tc := range []struct {
			uid  uint16
			want float64 // of the median miner's weight
		}{{3, 1.5}, {4, 0.5}, {5, 2.5}} {
			if got := w[tc.uid] / w[0]; math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("uid %d: %.4f of the median miner's weight, want %.4f", tc.uid, got, tc.want)
			}
		}
	})
	t.Run("decays", func(t *testing.T) {
		s := swept(0, 8)
		if got := s.organicServed(cfg, at.Add(2*cfg.OrganicHalfLife)); math.Abs(got-2) > 1e-9 {
			t.Errorf("two half-lives on, %g served, want 2", got)
		}
		s.Observe(cfg, Observation{At: at.Add(cfg.OrganicHalfLife), OK: true, Cost: 1, Total: time.Second, Organic: 4})
		if got := s.organicServed(cfg, at.Add(cfg.OrganicHalfLife)); math.Abs(got-8) > 1e-9 {
			t.Errorf("half of 8 plus 4 = %g, want 8", got)
		}
	})
	t.Run("no users' work", func(t *testing.T) {
		miners := []*Stats{swept(0, 0), swept(1, 0)}
		if w := Weights(cfg, at, miners); math.Abs(w[0]-0.5) > 1e-9 {
			t.Errorf("weights %v, want an even split on speed alone", w)
		}
	})
}
