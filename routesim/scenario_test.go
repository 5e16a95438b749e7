package routesim

import (
	"context"
	"os"
	"testing"
)

func TestScenarios(t *testing.T) {
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			cfg := sc.Apply(smallConfig(1))
			cfg.Miners, cfg.Jobs = 24, 600
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			r := mustRun(t, cfg, "ours")
			if r.OpenLeases != 0 || r.DoubledLeases != 0 || r.InFlight != 0 || r.Booked != 0 {
				t.Errorf("after the run %d leases open, %d ended twice, %d attempts and %g work still booked; want all 0",
					r.OpenLeases, r.DoubledLeases, r.InFlight, r.Booked)
			}
			if r.Completed == 0 {
				t.Error("no job completed")
			}
		})
	}
	if _, err := ScenarioNamed("nope"); err == nil {
		t.Error("ScenarioNamed(nope) succeeded, want an error")
	}
}

// TestScenarioFigures prints p99 ÷ oracle per scenario; it is a benchmark
// run as a test, skipped unless ROUTESIM_SCENARIOS is set.
func TestScenarioFigures(t *testing.T) {
	if os.Getenv("ROUTESIM_SCENARIOS") == "" {
		t.Skip("set ROUTESIM_SCENARIOS=1 to run")
	}
	for _, sc := range Scenarios() {
		cfg := sc.Apply(DefaultConfig())
		rs, err := RunPolicies(context.Background(), cfg, []string{"random", "ours", "oracle"})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-16s ours p99 %6.2f oracle %6.2f ratio %.3f vs random %.3f success %.4f", sc.Name, rs[1].P99, rs[2].P99, rs[1].P99/rs[2].P99, rs[1].P99/rs[0].P99, rs[1].Success)
	}
}
