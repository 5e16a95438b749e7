package routesim

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/fractal-grid/fractal/router"
)

// PolicyNames lists the policies in the order they are reported.
func PolicyNames() []string {
	return []string{"random", "round_robin", "sn29-best-of-three", "least_outstanding", "p2c", "oracle"}
}

// Report is one policy's figures.
type Report struct {
	Policy  string  `json:"-"`
	P50     float64 `json:"p50"` // seconds, end to end, completed jobs
	P95     float64 `json:"p95"`
	P99     float64 `json:"p99"`
	Success float64 `json:"success"` // fraction of jobs that completed

	Jobs      int `json:"-"`
	Completed int `json:"-"`
	Attempts  int `json:"-"` // attempts over all jobs, retries included

	// Accounting at the end of the run, over every gateway: leases picked
	// and never ended, leases ended more than once, and the attempts and
	// work the grid maps still hold as in flight. All are 0 in a correct run.
	OpenLeases, DoubledLeases int64   `json:"-"`
	InFlight                  int     `json:"-"`
	Booked                    float64 `json:"-"`
}

// policy returns the named policy. "p2c" is the production router's
// default policy.
func (s *sim) policy(name string) (router.Policy, error) {
	switch name {
	case "random":
		return router.Random{}, nil
	case "round_robin":
		return &router.RoundRobin{}, nil
	case "sn29-best-of-three":
		return router.BestTierOfThree{}, nil
	case "least_outstanding":
		return router.LeastOutstanding{}, nil
	case "p2c":
		return router.NewP2C(), nil
	case "oracle":
		return &oracle{s: s}, nil
	}
	return nil, fmt.Errorf("routesim: unknown policy %q (want one of %v)", name, PolicyNames())
}

// Run simulates the workload under one policy.
func Run(ctx context.Context, cfg Config, policy string) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	s, err := newSim(cfg, policy)
	if err != nil {
		return Report{}, err
	}
	r, err := s.run(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("routesim: %s: %w", policy, err)
	}
	r.Policy = policy
	return r, nil
}

// RunAll simulates the same workload under every policy, in parallel, and
// returns the results in PolicyNames order.
func RunAll(ctx context.Context, cfg Config) ([]Report, error) {
	return RunPolicies(ctx, cfg, PolicyNames())
}

// RunPolicies simulates the same workload under the named policies, in
// parallel, and returns the results in the order named.
func RunPolicies(ctx context.Context, cfg Config, names []string) ([]Report, error) {
	out := make([]Report, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { out[i], errs[i] = Run(ctx, cfg, name) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// result summarises a finished run.
func (s *sim) result() Report {
	lat := slices.Clone(s.latencies)
	slices.Sort(lat)
	r := Report{
		P50: quantile(lat, 0.50), P95: quantile(lat, 0.95), P99: quantile(lat, 0.99),
		Success: float64(len(lat)) / float64(s.cfg.Jobs),
		Jobs:    s.cfg.Jobs, Completed: len(lat), Attempts: s.attempts,
	}
	for _, gw := range s.gateways {
		open, doubled := gw.router.Leases()
		r.OpenLeases += open
		r.DoubledLeases += doubled
		for _, v := range gw.grid.Views(nil) {
			r.InFlight += v.Outstanding
			r.Booked += v.Booked
		}
	}
	return r
}

// quantile returns the q-quantile of sorted values (nearest rank); 0 for none.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
