package routesim

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// smallConfig is a grid small enough for a test yet uneven enough that the
// policies differ.
func smallConfig(seed uint64) Config {
	cfg := DefaultConfig()
	cfg.Miners, cfg.Jobs, cfg.Seed = 24, 3000, seed
	return cfg
}

func mustRun(tb testing.TB, cfg Config, policy string) Report {
	tb.Helper()
	r, err := Run(context.Background(), cfg, policy)
	if err != nil {
		tb.Fatalf("Run(%s): %v", policy, err)
	}
	return r
}

func TestSameSeedSameFigures(t *testing.T) {
	cfg := func(seed uint64) Config {
		c := smallConfig(seed)
		c.Jobs = 1000
		return c
	}
	for _, policy := range PolicyNames() {
		t.Run(policy, func(t *testing.T) {
			a, b := mustRun(t, cfg(7), policy), mustRun(t, cfg(7), policy)
			if a != b {
				t.Errorf("same seed, different figures:\n%+v\n%+v", a, b)
			}
			if c := mustRun(t, cfg(8), policy); c == a {
				t.Errorf("seeds 7 and 8 gave identical figures %+v, want the seed to matter", a)
			}
		})
	}
}

func TestOursBeatsBaselines(t *testing.T) {
	cfg := smallConfig(3)
	results, err := RunAll(context.Background(), cfg)
	if err != nil {
		t.Fatalf("RunAll: %v", err)
	}
	by := map[string]Report{}
	var names []string
	for _, r := range results {
		by[r.Policy] = r
		names = append(names, r.Policy)
		t.Logf("%-17s p50 %6.2f p95 %6.2f p99 %6.2f success %.4f", r.Policy, r.P50, r.P95, r.P99, r.Success)
	}
	if !slices.Equal(names, PolicyNames()) {
		t.Fatalf("RunAll policies = %v, want %v", names, PolicyNames())
	}
	p2c := by["p2c"]
	for _, base := range []string{"random", "round_robin"} {
		if p2c.P99 > 0.5*by[base].P99 {
			t.Errorf("p2c p99 %.2fs, want ≤ half of %s's %.2fs", p2c.P99, base, by[base].P99)
		}
	}
	if p2c.P99 > 1.25*by["oracle"].P99 {
		t.Errorf("p2c p99 %.2fs, want within 25%% of the oracle's %.2fs", p2c.P99, by["oracle"].P99)
	}
	if p2c.Success < 0.999 {
		t.Errorf("p2c success %.4f with %.0f%% of miners failing %.0f%% of jobs, want ≥ 0.999",
			p2c.Success, 100*cfg.FailingFraction, 100*cfg.FailRate)
	}
	for _, r := range results {
		if !(r.P50 > 0 && r.P50 <= r.P95 && r.P95 <= r.P99) {
			t.Errorf("%s: quantiles p50 %g p95 %g p99 %g, want 0 < p50 ≤ p95 ≤ p99", r.Policy, r.P50, r.P95, r.P99)
		}
		if r.Attempts < r.Completed {
			t.Errorf("%s: %d attempts for %d completed jobs, want at least one attempt each", r.Policy, r.Attempts, r.Completed)
		}
		if r.OpenLeases != 0 || r.DoubledLeases != 0 || r.InFlight != 0 || r.Booked != 0 {
			t.Errorf("%s: after the run %d leases open, %d ended twice, %d attempts and %g work still booked; want all 0",
				r.Policy, r.OpenLeases, r.DoubledLeases, r.InFlight, r.Booked)
		}
	}
}

func TestFailuresWithoutRetries(t *testing.T) {
	cfg := smallConfig(5)
	cfg.Jobs = 1000
	cfg.MaxAttempts = 1
	cfg.FailingFraction, cfg.FailRate = 1, 0.5
	r := mustRun(t, cfg, "random")
	// Every miner fails half its jobs and nothing is retried: about half
	// the jobs fail.
	if r.Success < 0.4 || r.Success > 0.6 {
		t.Errorf("success %.3f with one attempt on miners failing half their jobs, want about 0.5", r.Success)
	}
	cfg.MaxAttempts = 4
	if r4 := mustRun(t, cfg, "random"); r4.Success <= r.Success {
		t.Errorf("success with 4 attempts %.3f, want above one attempt's %.3f", r4.Success, r.Success)
	}
}

func TestSeveralGateways(t *testing.T) {
	cfg := smallConfig(2)
	cfg.Jobs, cfg.Gateways = 2000, 4
	p2c, random := mustRun(t, cfg, "p2c"), mustRun(t, cfg, "random")
	if p2c.P99 >= 0.5*random.P99 {
		t.Errorf("with 4 gateways p2c p99 %.2fs, want below half of random's %.2fs", p2c.P99, random.P99)
	}
	if again := mustRun(t, cfg, "p2c"); again != p2c {
		t.Errorf("4 gateways sharing snapshots, same seed, different figures:\n%+v\n%+v", p2c, again)
	}
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*Config)
		policy string
	}{
		{"one miner", func(c *Config) { c.Miners = 1 }, "p2c"},
		{"zero load", func(c *Config) { c.Load = 0 }, "p2c"},
		{"no jobs", func(c *Config) { c.Jobs = 0 }, "p2c"},
		{"fail rate above one", func(c *Config) { c.FailRate = 2 }, "p2c"},
		{"no attempts", func(c *Config) { c.MaxAttempts = 0 }, "p2c"},
		{"no gateways", func(c *Config) { c.Gateways = 0 }, "p2c"},
		{"unknown policy", func(*Config) {}, "fastest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallConfig(1)
			tc.edit(&cfg)
			if _, err := Run(context.Background(), cfg, tc.policy); err == nil {
				t.Error("Run succeeded, want an error")
			}
		})
	}
}

// TestUnknownPolicyNamesTheKnownOnes checks that the policies' old names
// fail with an error that lists the current ones.
func TestUnknownPolicyNamesTheKnownOnes(t *testing.T) {
	for _, name := range []string{"ours", "fractal"} {
		_, err := Run(context.Background(), smallConfig(1), name)
		if err == nil {
			t.Fatalf("Run(%q) succeeded, want an error", name)
		}
		for _, want := range PolicyNames() {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Run(%q) error %q does not name %s", name, err, want)
			}
		}
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, smallConfig(1), "p2c"); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: err = %v, want context.Canceled", err)
	}
}

func TestQuantile(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		q    float64
		want float64
	}{{0.5, 5}, {0.95, 10}, {0.99, 10}, {0.1, 1}, {0.11, 2}} {
		if got := quantile(sorted, tc.q); got != tc.want {
			t.Errorf("quantile(%g) = %g, want %g", tc.q, got, tc.want)
		}
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("quantile of nothing = %g, want 0", got)
	}
}
