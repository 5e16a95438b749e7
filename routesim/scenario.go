package routesim

import (
	"fmt"
	"time"
)

// Scenario is a named grid and workload the router was not tuned on.
type Scenario struct {
	Name     string
	Describe string
	apply    func(*Config)
}

// Apply returns cfg changed as the scenario says; what it leaves alone
// (jobs, seed, load) is kept.
func (s Scenario) Apply(cfg Config) Config {
	s.apply(&cfg)
	return cfg
}

func unevenGrid(gateways int) func(*Config) {
	return func(c *Config) { c.Miners, c.Gateways = 200, gateways }
}

func lateProbes(c *Config) { c.ProbeDelayMin, c.ProbeDelayMax = 10*time.Second, 30*time.Second }

func throttling(c *Config) {
	c.ThrottleFraction, c.ThrottleFactor = 0.25, 4
	c.ThrottleMin, c.ThrottleMax = 30*time.Second, 90*time.Second
}

func both(fs ...func(*Config)) func(*Config) {
	return func(c *Config) {
		for _, f := range fs {
			f(c)
		}
	}
}

// Scenarios lists the scenarios in the order they are reported.
func Scenarios() []Scenario {
	return []Scenario{
		{"uneven-1", "200 uneven miners, 1 gateway", unevenGrid(1)},
		{"uneven-4", "200 uneven miners, 4 gateways", unevenGrid(4)},
		{"late-probes-1", "probes answered 10–30 s late, 1 gateway", both(unevenGrid(1), lateProbes)},
		{"late-probes-4", "probes answered 10–30 s late, 4 gateways", both(unevenGrid(4), lateProbes)},
		{"throttle-1", "a quarter of miners 4× slower for 30–90 s at a time, 1 gateway", both(unevenGrid(1), throttling)},
		{"throttle-4", "a quarter of miners 4× slower for 30–90 s at a time, 4 gateways", both(unevenGrid(4), throttling)},
		{"late-throttle-4", "late probes and throttling, 4 gateways", both(unevenGrid(4), lateProbes, throttling)},
		{"heavy-tail-4", "heavy-tailed job costs, probes without queued work, 4 gateways", both(unevenGrid(4), func(c *Config) {
			c.HeavyTail, c.ProbeWithoutWork = true, true
		})},
		{"far-region-4", "the fastest 30% of miners 150 ms further away, 4 gateways in two regions", both(unevenGrid(4), func(c *Config) {
			c.FarFraction, c.FarRTT = 0.3, 150*time.Millisecond
		})},
		{"large-16", "2,000 uneven miners, 16 gateways", func(c *Config) { c.Miners, c.Gateways = 2000, 16 }},
	}
}

// ScenarioNamed returns the named scenario.
func ScenarioNamed(name string) (Scenario, error) {
	var names []string
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return Scenario{}, fmt.Errorf("routesim: unknown scenario %q (want one of %v)", name, names)
}
