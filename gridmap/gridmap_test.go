package gridmap

import (
	"math"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// MustNew returns a map on a test clock starting at a fixed instant.
func MustNew(tb testing.TB, origin string) (*Map, *clock) {
	tb.Helper()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cfg := DefaultConfig()
	cfg.Origin, cfg.Now = origin, c.Now
	m, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return m, c
}

func mustView(tb testing.TB, m *Map, id string) View {
	tb.Helper()
	v, ok := m.View(id)
	if !ok {
		tb.Fatalf("View(%q): miner unknown", id)
	}
	return v
}

func near(a, b time.Duration) bool { return math.Abs(float64(a-b)) <= float64(time.Millisecond) }

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		valid bool
	}{
		{"default", func(*Config) {}, true},
		{"no origin", func(c *Config) { c.Origin = "" }, false},
		{"no clock", func(c *Config) { c.Now = nil }, false},
		{"zero decay", func(c *Config) { c.ServiceDecay = 0 }, false},
		{"alpha above one", func(c *Config) { c.SuccessAlpha = 1.5 }, false},
		{"no breaker threshold", func(c *Config) { c.BreakerFailures = 0 }, false},
		{"max cooldown below cooldown", func(c *Config) { c.BreakerMaxCooldown = time.Second }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			if err := cfg.Validate(); (err == nil) != tc.valid {
				t.Errorf("Validate() = %v, want valid %v", err, tc.valid)
			}
		})
	}
}

func TestPeakEWMA(t *testing.T) {
	m, c := MustNew(t, "a")
	tau := DefaultConfig().ServiceDecay
	finish := func(service time.Duration, cost float64) {
		m.Dispatched("m1", cost)
		m.Finished("m1", Outcome{Result: Succeeded, Service: service, Cost: cost})
	}
	steps := []struct {
		name    string
		advance time.Duration
		service time.Duration
		cost    float64
		want    time.Duration
	}{
		{"first sample is taken as is", 0, 4 * time.Second, 1, 4 * time.Second},
		{"normalised by spec cost", time.Second, 16 * time.Second, 2, 8 * time.Second},
		{"a slower sample rises at once", time.Second, 10 * time.Second, 1, 10 * time.Second},
		{"a faster sample decays with time", tau, 4 * time.Second, 1,
			time.Duration(float64(10*time.Second)*math.Exp(-1) + float64(4*time.Second)*(1-math.Exp(-1)))},
		{"cost zero counts as one", 0, 20 * time.Second, 0, 20 * time.Second},
		{"a faster sample at the same instant does not decay", 0, time.Second, 1, 20 * time.Second},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			c.Advance(s.advance)
			finish(s.service, s.cost)
			if got := mustView(t, m, "m1").Service; !near(got, s.want) {
				t.Errorf("service = %v, want %v", got, s.want)
			}
		})
	}
}

func TestServiceFallbacks(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Add("m1", Info{UID: 1})
	if got, want := mustView(t, m, "m1").Service, DefaultConfig().DefaultService; got != want {
		t.Errorf("unprobed service = %v, want the default %v", got, want)
	}
	// ETA 12 s with 4 units of work on 2 slots: (4/2 + 1) × 4 s.
	m.Probed("m1", Probe{RTT: 50 * time.Millisecond, Queue: 2, Work: 4, Slots: 2, ETA: 12 * time.Second})
	if got, want := mustView(t, m, "m1").Service, 4*time.Second; !near(got, want) {
		t.Errorf("service from ETA = %v, want %v", got, want)
	}
	// A faster sample does not undercut the miner's own ETA: the slower
	// of the two counts, so that throttling shows at the next probe.
	m.Dispatched("m1", 1)
	m.Finished("m1", Outcome{Result: Succeeded, Service: 3 * time.Second, Cost: 1})
	if got, want := mustView(t, m, "m1").Service, 4*time.Second; !near(got, want) {
		t.Errorf("service after a faster sample = %v, want the ETA's %v", got, want)
	}
	m.Dispatched("m1", 1)
	m.Finished("m1", Outcome{Result: Succeeded, Service: 6 * time.Second, Cost: 1})
	if got, want := mustView(t, m, "m1").Service, 6*time.Second; !near(got, want) {
		t.Errorf("service after a slower sample = %v, want %v", got, want)
	}
	// Idle for three time constants: it decays most of the way back.
	c.Advance(3 * DefaultConfig().ServiceDecay)
	if got, want := mustView(t, m, "m1").Service, 4*time.Second+time.Duration(2*math.Exp(-3)*float64(time.Second)); !near(got, want) {
		t.Errorf("service after idling = %v, want %v (decayed towards the ETA)", got, want)
	}
}

func TestLateProbe(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Dispatched("m1", 2) // counted by the miner when it answers
	c.Advance(time.Second)
	sent := c.Now()
	c.Advance(time.Second)
	m.Dispatched("m1", 4) // sent after the probe: not in its answer
	c.Advance(20 * time.Second)
	m.Probed("m1", Probe{RTT: time.Millisecond, Queue: 2, Work: 5, Sent: sent})
	if got, want := mustView(t, m, "m1").Backlog, 6+3.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("backlog = %g, want ours 6 + others' 3", got)
	}
	m.Dispatched("m1", 1)
	m.Finished("m1", Outcome{Result: Rejected, Cost: 1, RetryAfter: time.Minute})
	// An answer sent before the newest applied one changes nothing.
	m.Probed("m1", Probe{RTT: time.Millisecond, Queue: 9, Work: 30, Sent: sent.Add(-time.Second)})
	v := mustView(t, m, "m1")
	if math.Abs(v.Backlog-9) > 1e-9 || v.Eligible {
		t.Errorf("after a stale answer backlog %g eligible %v, want 9 and still turned away", v.Backlog, v.Eligible)
	}
}

func TestBacklog(t *testing.T) {
	m, _ := MustNew(t, "a")
	steps := []struct {
		name            string
		do              func()
		wantOutstanding int
		wantBacklog     float64
	}{
		{"two of ours dispatched", func() { m.Dispatched("m1", 1); m.Dispatched("m1", 4) }, 2, 5},
		{"a probe counting ours and 3 units of others'", func() {
			m.Probed("m1", Probe{RTT: time.Millisecond, Queue: 4, Work: 8, Slots: 1})
		}, 2, 8},
		{"one of ours finishes", func() { m.Finished("m1", Outcome{Result: Succeeded, Service: time.Second, Cost: 4}) }, 1, 4},
		{"a probe without work counts jobs", func() { m.Probed("m1", Probe{RTT: time.Millisecond, Queue: 3}) }, 1, 3},
		{"the last one fails", func() { m.Finished("m1", Outcome{Result: Failed, Cost: 1}) }, 0, 2},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do()
			v := mustView(t, m, "m1")
			if v.Outstanding != s.wantOutstanding || math.Abs(v.Backlog-s.wantBacklog) > 1e-9 {
				t.Errorf("outstanding, backlog = %d, %g, want %d, %g", v.Outstanding, v.Backlog, s.wantOutstanding, s.wantBacklog)
			}
		})
	}
}

func TestSuccessRate(t *testing.T) {
	m, _ := MustNew(t, "a")
	alpha := DefaultConfig().SuccessAlpha
	want := 1.0
	for i, r := range []AttemptResult{Failed, Failed, Succeeded, Failed} {
		m.Dispatched("m1", 1)
		m.Finished("m1", Outcome{Result: r, Service: time.Second, Cost: 1})
		x := 0.0
		if r == Succeeded {
			x = 1
		}
		want += alpha * (x - want)
		if got := mustView(t, m, "m1").Success; math.Abs(got-want) > 1e-12 {
			t.Errorf("after outcome %d: success = %g, want %g", i, got, want)
		}
	}
	m.Dispatched("m1", 1)
	m.Finished("m1", Outcome{Result: Rejected})
	if got := mustView(t, m, "m1").Success; math.Abs(got-want) > 1e-12 {
		t.Errorf("after a rejection: success = %g, want it unchanged at %g", got, want)
	}
}

func TestEligibility(t *testing.T) {
	m, c := MustNew(t, "a")
	m.Add("m1", Info{})
	if mustView(t, m, "m1").Eligible {
		t.Fatal("an unverified miner is eligible, want not")
	}
	m.SetStanding("m1", Standing{Verified: true, Tier: 3})
	if v := mustView(t, m, "m1"); !v.Eligible || v.Tier != 3 {
		t.Fatalf("verified miner: eligible %v tier %d, want true 3", v.Eligible, v.Tier)
	}
	m.Dispatched("m1", 1)
	m.Finished("m1", Outcome{Result: Rejected, RetryAfter: 5 * time.Second})
	if mustView(t, m, "m1").Eligible {
		t.Error("a miner that just turned a job away is eligible, want not until Retry-After")
	}
	c.Advance(5 * time.Second)
	if !mustView(t, m, "m1").Eligible {
		t.Error("still ineligible after Retry-After, want eligible")
	}
	m.Dispatched("m1", 1)
	m.Finished("m1", Outcome{Result: Rejected, RetryAfter: time.Minute})
	m.Probed("m1", Probe{RTT: time.Millisecond, Queue: 1})
	if !mustView(t, m, "m1").Eligible {
		t.Error("ineligible after a probe showed room, want eligible")
	}
	m.Remove("m1")
	if _, ok := m.View("m1"); ok {
		t.Error("removed miner still in the map")
	}
}

func TestViewsSortedAndRTT(t *testing.T) {
	m, _ := MustNew(t, "a")
	for _, id := range []string{"c", "a", "b"} {
		m.Add(id, Info{})
	}
	m.Probed("b", Probe{RTT: 100 * time.Millisecond})
	m.Probed("b", Probe{RTT: 200 * time.Millisecond})
	vs := m.Views(nil)
	if len(vs) != 3 || vs[0].ID != "a" || vs[1].ID != "b" || vs[2].ID != "c" {
		t.Fatalf("views = %v, want a, b, c in order", vs)
	}
	alpha := DefaultConfig().RTTAlpha
	if got, want := vs[1].RTT, time.Duration(float64(100*time.Millisecond)+alpha*float64(100*time.Millisecond)); !near(got, want) {
		t.Errorf("probed RTT = %v, want the EWMA %v", got, want)
	}
	if got, want := vs[0].RTT, DefaultConfig().DefaultRTT; got != want {
		t.Errorf("unprobed RTT = %v, want the default %v", got, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	m, c := MustNew(t, "a")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			id := []string{"m1", "m2"}[g%2]
			for range 200 {
				m.Dispatched(id, 1)
				m.Probed(id, Probe{RTT: 20 * time.Millisecond, Queue: 1})
				_ = m.Views(nil)
				_ = m.Snapshot()
				m.Finished(id, Outcome{Result: Succeeded, Service: time.Second, Cost: 1})
				c.Advance(time.Millisecond)
			}
		})
	}
	wg.Wait()
	for _, v := range m.Views(nil) {
		if v.Outstanding != 0 {
			t.Errorf("%s: outstanding = %d after every attempt finished, want 0", v.ID, v.Outstanding)
		}
	}
}
