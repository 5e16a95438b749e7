package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/fractal-grid/fractal/routesim"
)

// benchRoutingReport is the --json output of `fractal bench routing`.
type benchRoutingReport struct {
	Scenario string                     `json:"scenario,omitempty"`
	Policies map[string]routesim.Report `json:"policies"`
	Ratios   map[string]float64         `json:"ratios"` // p99 ratios
	Params   benchRoutingParams         `json:"params"`
	Seconds  float64                    `json:"wall_s"`
}

type benchRoutingParams struct {
	Miners          int     `json:"miners"`
	Load            float64 `json:"load"`
	Jobs            int     `json:"jobs"`
	Seed            uint64  `json:"seed"`
	Gateways        int     `json:"gateways"`
	FailingFraction float64 `json:"failing_fraction"`
	FailRate        float64 `json:"fail_rate"`
	MaxAttempts     int     `json:"max_attempts"`
	ShareDispatches bool    `json:"share_dispatches"`
	CallerWork      bool    `json:"caller_work"`
	ProgressSteps   int     `json:"progress_steps"`
}

// benchRoutingFlags binds the command's flags to cfg.
func benchRoutingFlags(cfg *routesim.Config, scenario *string, asJSON *bool) *flag.FlagSet {
	fs := flag.NewFlagSet("bench routing", flag.ContinueOnError)
	fs.IntVar(&cfg.Miners, "miners", cfg.Miners, "miners in the simulated grid")
	fs.Float64Var(&cfg.Load, "load", cfg.Load, "arrival rate as a fraction of the grid's capacity")
	fs.IntVar(&cfg.Jobs, "jobs", cfg.Jobs, "jobs to simulate per policy")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed; the same seed gives the same figures")
	fs.IntVar(&cfg.Gateways, "gateways", cfg.Gateways, "gateway replicas, each routing its share with its own map")
	fs.Float64Var(&cfg.FailingFraction, "failing", cfg.FailingFraction, "fraction of miners that fail jobs")
	fs.Float64Var(&cfg.FailRate, "fail-rate", cfg.FailRate, "fraction of their jobs the failing miners fail")
	fs.IntVar(&cfg.MaxAttempts, "attempts", cfg.MaxAttempts, "attempts per job, retries included")
	fs.BoolVar(&cfg.ShareDispatches, "share-dispatches", cfg.ShareDispatches, "replicas tell each other of every dispatch and finish")
	fs.BoolVar(&cfg.CallerWork, "caller-work", cfg.CallerWork, "probes report the gateway's part of a miner's queued work")
	fs.IntVar(&cfg.ProgressSteps, "progress-steps", cfg.ProgressSteps, "progress events a miner sends per attempt, one per step; 0 sends none")
	fs.DurationVar(&cfg.WarmUp, "warm-up", cfg.WarmUp, "how long the replicas probe before the first job arrives")
	fs.StringVar(scenario, "scenario", "", "a named scenario (other flags given override it), or all to compare p2c with the oracle in each")
	fs.BoolVar(asJSON, "json", false, "print one JSON object instead of a table")
	return fs
}

func runBenchRouting(ctx context.Context, rio IO, args []string) error {
	cfg := routesim.DefaultConfig()
	var scenario string
	var asJSON bool
	fs := benchRoutingFlags(&cfg, &scenario, &asJSON)
	if err := parseFlags(fs, args, rio.Stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("bench routing: unexpected arguments %v", fs.Args())
	}
	if scenario != "" && scenario != "all" {
		sc, err := routesim.ScenarioNamed(scenario)
		if err != nil {
			return usageErrorf("bench routing: %v", err)
		}
		cfg = sc.Apply(routesim.DefaultConfig())
		if err := benchRoutingFlags(&cfg, &scenario, &asJSON).Parse(args); err != nil {
			return usageErrorf("bench routing: %v", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return usageErrorf("bench routing: %v", err)
	}
	if scenario == "all" {
		return runBenchScenarios(ctx, rio, cfg, args, asJSON)
	}
	start := time.Now()
	results, err := routesim.RunAll(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench routing: %w", err)
	}
	rep := newBenchRoutingReport(cfg, results)
	rep.Scenario, rep.Seconds = scenario, time.Since(start).Seconds()
	if asJSON {
		enc := json.NewEncoder(rio.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printBenchRouting(rio.Stdout, rep, results)
}

func newBenchRoutingReport(cfg routesim.Config, results []routesim.Report) benchRoutingReport {
	rep := benchRoutingReport{
		Policies: map[string]routesim.Report{},
		Params: benchRoutingParams{
			Miners: cfg.Miners, Load: cfg.Load, Jobs: cfg.Jobs, Seed: cfg.Seed, Gateways: cfg.Gateways,
			FailingFraction: cfg.FailingFraction, FailRate: cfg.FailRate, MaxAttempts: cfg.MaxAttempts,
			ShareDispatches: cfg.ShareDispatches, CallerWork: cfg.CallerWork, ProgressSteps: cfg.ProgressSteps,
		},
	}
	for _, r := range results {
		rep.Policies[r.Policy] = r
	}
	p2c := rep.Policies["p2c"].P99
	rep.Ratios = map[string]float64{
		"p2c_random_p99": ratio(p2c, rep.Policies["random"].P99),
		"p2c_oracle_p99": ratio(p2c, rep.Policies["oracle"].P99),
	}
	if rr, ok := rep.Policies["round_robin"]; ok {
		rep.Ratios["p2c_round_robin_p99"] = ratio(p2c, rr.P99)
	}
	return rep
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func printBenchRouting(w io.Writer, rep benchRoutingReport, results []routesim.Report) error {
	p := rep.Params
	if rep.Scenario != "" {
		fmt.Fprintf(w, "scenario %s\n", rep.Scenario)
	}
	fmt.Fprintf(w, "routing: %d miners, load %.2f, %d jobs, seed %d, %d gateway(s), %.0f%% of miners failing %.0f%% of jobs, %d attempts\n\n",
		p.Miners, p.Load, p.Jobs, p.Seed, p.Gateways, 100*p.FailingFraction, 100*p.FailRate, p.MaxAttempts)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tp50 s\tp95 s\tp99 s\tsuccess\tattempts/job\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.4f%%\t%.3f\t\n",
			r.Policy, r.P50, r.P95, r.P99, 100*r.Success, float64(r.Attempts)/float64(r.Jobs))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\np99 p2c ÷ random %.3f, p2c ÷ round_robin %.3f, p2c ÷ oracle %.3f (simulated in %.1fs)\n",
		rep.Ratios["p2c_random_p99"], rep.Ratios["p2c_round_robin_p99"], rep.Ratios["p2c_oracle_p99"], rep.Seconds)
	return err
}

// scenarioPolicies are the policies `bench routing --scenario all` runs.
var scenarioPolicies = []string{"random", "p2c", "oracle"}

// runBenchScenarios runs every scenario, with the flags given overriding
// it as for one scenario, and reports p2c against the oracle and random in
// each.
func runBenchScenarios(ctx context.Context, rio IO, base routesim.Config, args []string, asJSON bool) error {
	start := time.Now()
	var reps []benchRoutingReport
	for _, sc := range routesim.Scenarios() {
		cfg := sc.Apply(routesim.DefaultConfig())
		var scenario string
		if err := benchRoutingFlags(&cfg, &scenario, &asJSON).Parse(args); err != nil {
			return usageErrorf("bench routing: %v", err)
		}
		if err := cfg.Validate(); err != nil {
			return usageErrorf("bench routing: scenario %s: %v", sc.Name, err)
		}
		results, err := routesim.RunPolicies(ctx, cfg, scenarioPolicies)
		if err != nil {
			return fmt.Errorf("bench routing: scenario %s: %w", sc.Name, err)
		}
		rep := newBenchRoutingReport(cfg, results)
		rep.Scenario = sc.Name
		reps = append(reps, rep)
	}
	if asJSON {
		enc := json.NewEncoder(rio.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"scenarios": reps, "wall_s": time.Since(start).Seconds()})
	}
	fmt.Fprintf(rio.Stdout, "routing scenarios: load %.2f, %d jobs, seed %d\n\n", base.Load, base.Jobs, base.Seed)
	tw := tabwriter.NewWriter(rio.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tp2c p99 s\toracle p99 s\tp2c ÷ oracle\tp2c ÷ random\tp2c success\t")
	for _, rep := range reps {
		p2c := rep.Policies["p2c"]
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.3f\t%.3f\t%.2f%%\t\n", rep.Scenario, p2c.P99, rep.Policies["oracle"].P99,
			rep.Ratios["p2c_oracle_p99"], rep.Ratios["p2c_random_p99"], 100*p2c.Success)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(rio.Stdout, "\n(simulated in %.1fs)\n", time.Since(start).Seconds())
	return err
}
