package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
)

// runBenchUp measures 'fractal up': the time to ready, and a default job's
// user-visible latency over the engine's own generation time.
func runBenchUp(ctx context.Context, rio IO, args []string) error {
	cfg := localgrid.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	spec := refengine.New().Profile().DefaultSpec("a red ball bouncing over the ocean at night", 1000)
	fs := flag.NewFlagSet("bench up", flag.ContinueOnError)
	fs.IntVar(&cfg.Miners, "miners", cfg.Miners, "miners in the grid")
	jobs := fs.Int("jobs", 5, "jobs run one after another")
	fs.IntVar(&spec.Frames, "frames", spec.Frames, "frames per job")
	fs.IntVar(&spec.Steps, "steps", spec.Steps, "sampling steps per job")
	fs.Func("size", fmt.Sprintf("`WxH` of each job (default %dx%d)", spec.Width, spec.Height), func(v string) error {
		_, err := fmt.Sscanf(v, "%dx%d", &spec.Width, &spec.Height)
		return err
	})
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal bench up [--miners N] [--jobs N] [--size WxH] [--frames N] [--steps N] [--json]\n\n"+
			"Starts a local grid in a temporary directory and reports the time until its API answers, then\n"+
			"runs default jobs one at a time, each on the engine directly and through the API, and reports\n"+
			"the medians and the ratio a user pays over the engine alone.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, rio.Stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("bench up: unexpected arguments %v", fs.Args())
	}
	dir, err := os.MkdirTemp("", "fractal-bench-up-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg.DataDir = dir
	if err := refengine.New().Profile().Check(spec); err != nil {
		return usageErrorf("bench up: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		return usageErrorf("bench up: %v", err)
	}
	res, err := localgrid.Bench(ctx, cfg, spec, *jobs)
	if err != nil {
		return fmt.Errorf("bench up: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(rio.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	ms := func(s float64) string {
		return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
	}
	_, err = fmt.Fprintf(rio.Stdout, `fractal up: ready in %s with %d miners
job of %dx%d, %d frames, %d steps, median of %d:
  engine alone        %8s
  through the API     %8s   ×%.2f
  with the MP4        %8s   ×%.2f
`, ms(res.ReadyS), res.Miners, spec.Width, spec.Height, spec.Frames, spec.Steps, res.Jobs,
		ms(res.EngineS), ms(res.JobS), res.Ratio, ms(res.MP4S), res.MP4)
	return err
}
