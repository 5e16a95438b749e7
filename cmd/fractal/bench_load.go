package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/fractal-grid/fractal/internal/loadgen"
)

// runBenchLoad runs `fractal bench load`: an open-loop flood of create
// requests at a bounded rate, then a follow-up of every accepted job.
func runBenchLoad(ctx context.Context, rio IO, args []string) error {
	cfg := loadgen.DefaultConfig("", os.Getenv("FRACTAL_API_KEY"))
	fs := flag.NewFlagSet("bench load", flag.ContinueOnError)
	fs.StringVar(&cfg.Target, "target", cfg.Target, "base `URL` of the gateway, e.g. http://127.0.0.1:8080")
	fs.StringVar(&cfg.Key, "key", cfg.Key, "API `KEY` to send ($FRACTAL_API_KEY)")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, fmt.Sprintf("requests per second, sent whatever the answers (at most %d)", loadgen.MaxRate))
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, fmt.Sprintf("how long to send (at most %s)", loadgen.MaxDuration))
	fs.DurationVar(&cfg.Wait, "wait", cfg.Wait, fmt.Sprintf("how long to follow accepted jobs after the last request (at most %s)", loadgen.MaxWait))
	body := fs.String("body", string(cfg.Body), "the create request `JSON`")
	fs.IntVar(&cfg.PID, "pid", 0, "`PID` of the gateway process, to report its peak resident memory")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", cfg.MaxInFlight, "requests waiting for an answer at once; more are dropped and counted")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "limit of each request")
	asJSON := fs.Bool("json", false, "print one JSON object")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal bench load --target URL --key KEY --rate R --duration D [--json]\n\n"+
			"Sends POST /v1/videos at R per second for D (open loop), then follows every\n"+
			"accepted job until it completed or failed. Exits 1 if any request got an answer\n"+
			"other than 2xx or 429, a 429 came without Retry-After, or an accepted job was\n"+
			"lost, left unfinished or failed without a reason.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, rio.Stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("bench load: unexpected arguments %v", fs.Args())
	}
	cfg.Body = []byte(*body)
	if err := cfg.Validate(); err != nil {
		return usageErrorf("bench load: %v", err)
	}
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench load: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(rio.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(rio.Stdout, rep)
	}
	if err := rep.OK(); err != nil {
		return fmt.Errorf("bench load: %w", err)
	}
	return nil
}
