package routesim

import "testing"

func TestScenarios(t *testing.T) {
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			cfg := sc.Apply(smallConfig(1))
			cfg.Miners, cfg.Jobs = 24, 600
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			r := mustRun(t, cfg, "p2c")
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
