package main

import (
	"context"
	"fmt"
	"io"
)

// runBench dispatches `fractal bench <benchmark>`; each benchmark lives in
// its own bench_<name>.go file.
func runBench(ctx context.Context, rio IO, args []string) error {
	if len(args) == 0 {
		printBenchUsage(rio.Stderr)
		return usageErrorf("bench: name a benchmark")
	}
	switch name, rest := args[0], args[1:]; name {
	case "routing":
		return runBenchRouting(ctx, rio, rest)
	case "load":
		return runBenchLoad(ctx, rio, rest)
	case "verify":
		return runBenchVerify(ctx, rio, rest)
	case "up":
		return runBenchUp(ctx, rio, rest)
	case "upgrade":
		return runBenchUpgrade(ctx, rio, rest)
	case "help", "-h", "--help":
		printBenchUsage(rio.Stdout)
		return nil
	default:
		return usageErrorf("bench: unknown benchmark %q (see 'fractal bench help')", name)
	}
}

func printBenchUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: fractal bench <benchmark> [flags]

Benchmarks:
  routing     simulate routing policies over a grid of uneven miners
  load        flood a gateway with create requests at a bounded rate (open loop)
  verify      run the adversarial suite: cheats against a real validator, false positives, cost
  up          time 'fractal up' to ready, and a default job through the API against the engine alone
  upgrade     rehearse a model upgrade on a local grid: jobs failed, p99 before/during/after the window

Run 'fractal bench <benchmark> -h' for a benchmark's flags.
`)
}
