package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
)

// runBenchUpgrade rehearses an upgrade on a local grid: jobs in flight while
// every miner moves from the reference model to its next version.
func runBenchUpgrade(ctx context.Context, rio IO, args []string) error {
	cfg := localgrid.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.BlockTime = 500 * time.Millisecond
	fs := flag.NewFlagSet("bench upgrade", flag.ContinueOnError)
	fs.IntVar(&cfg.Miners, "miners", cfg.Miners, "miners in the grid")
	rate := fs.Float64("rate", 2, "jobs submitted per second")
	every := fs.Uint64("every", 4, "blocks between one miner's switch and the next")
	tail := fs.Duration("tail", 10*time.Second, "keep submitting this long after the window closes")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal bench upgrade [--miners N] [--rate R] [--every BLOCKS] [--tail D] [--json]\n\n"+
			"Starts a local grid (blocks of 500ms) in a temporary directory, pins the reference model's next\n"+
			"version 10 blocks in and ends the old pin 10 blocks after the last miner switched; miners add the\n"+
			"new model one after another. Jobs naming no model are submitted at a steady rate throughout;\n"+
			"reports jobs failed and the p99 latency before, during and after the window.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, rio.Stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("bench upgrade: unexpected arguments %v", fs.Args())
	}
	lim := fractal.LegacyLimits()
	lim.Frames = fractal.Range{Min: 1, Max: 33, Step: 4}
	lim.Default.Frames = 5
	from := uint64(10)
	cfg.Upgrade = &localgrid.Upgrade{
		To: refengine.Variant{Version: "5", Limits: lim}, From: from, Every: *every,
		Until: from + uint64(max(cfg.Miners-1, 0))*(*every) + 10,
	}
	dir, err := os.MkdirTemp("", "fractal-bench-upgrade-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.DataDir = dir
	if err := cfg.Validate(); err != nil {
		return usageErrorf("bench upgrade: %v", err)
	}
	r, err := localgrid.Rehearse(ctx, cfg, *rate, *tail)
	if err != nil {
		return fmt.Errorf("bench upgrade: %w", err)
	}
	return printRehearsal(rio.Stdout, r, *asJSON)
}

func printRehearsal(w io.Writer, r *localgrid.Rehearsal, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	_, err := fmt.Fprint(w, r.String())
	return err
}
