package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
)

// UpCommand runs a whole grid on this machine until its context ends.
type UpCommand struct {
	Grid    *localgrid.Grid
	Verbose bool
}

// NewUpCommand returns the command with its defaults.
func NewUpCommand() *UpCommand {
	g := localgrid.New()
	g.Config.DataDir = defaultDataDir("up")
	return &UpCommand{Grid: g}
}

// ParseFlags reads the command line.
func (c *UpCommand) ParseFlags(args []string, stderr io.Writer) error {
	cfg := &c.Grid.Config
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.IntVar(&cfg.Miners, "miners", cfg.Miners, "miners to run")
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "`HOST:PORT` of the web page and the video API")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "`DIR` holding the chain, wallets, jobs, scores and API key; a second run resumes it")
	fs.StringVar(&cfg.Chain, "chain", cfg.Chain, "`dev` for an embedded devchain, or http://HOST:PORT of a running 'fractal devchain'")
	fs.StringVar(&cfg.ChainAddr, "chain-addr", cfg.ChainAddr, "`HOST:PORT` the embedded devchain is served on, for other processes")
	fs.DurationVar(&cfg.BlockTime, "block-time", cfg.BlockTime, "the embedded devchain's block time")
	fs.BoolVar(&cfg.Uneven, "uneven", cfg.Uneven, "give the miners different speeds (1, 1.5, 2.5 and 4 times as slow as the engine) so routing has something to do")
	fs.IntVar(&cfg.MinerConcurrency, "concurrency", cfg.MinerConcurrency, "generations each miner runs at once")
	fs.StringVar(&cfg.Engine, "engine", "", "http://`HOST:PORT` of an engine-protocol server (a GPU engine) that the miners and the validator share, instead of the built-in reference engine; the grid serves its model, with one miner unless --miners says otherwise")
	fs.BoolVar(&cfg.NoCommitReveal, "no-commit-reveal", cfg.NoCommitReveal, "turn the subnet's commit-reveal off: the validator then uses set_weights (on by default, as on a new Bittensor subnet)")
	fs.StringVar(&cfg.ChallengePath, "challenge-path", cfg.ChallengePath, "how the validator's challenges reach the miners: `queue` (as jobs pinned to their miners, sent by the gateway's dispatchers like users' jobs) or direct (sent by the validator itself)")
	fs.BoolVar(&c.Verbose, "v", false, "log every part's activity to stderr (default: warnings only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal up [--miners N] [--addr HOST:PORT] [--data DIR] [--chain dev|URL] [--block-time D] [--uneven] [--engine URL]\n\n"+
			"Runs a whole grid on this machine: a devchain, dev wallets, a subnet with registered and staked\n"+
			"hotkeys, N miners and a validator with the video API and the web page. Prints the page's URL and\n"+
			"a demo API key (saved in DIR/api-key). Ctrl-C stops it; running it again on DIR resumes.\n\n"+
			"With --engine the grid runs on one engine server (fractal-diffusers serve, fractal engine): it\n"+
			"runs one generation at a time, so the miners take turns on it, and one miner is the default.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("up: unexpected arguments %q", fs.Args())
	}
	if cfg.Engine != "" && !flagSet(fs, "miners") {
		cfg.Miners = 1 // one engine slot: more miners would only queue behind each other
	}
	if err := cfg.Validate(); err != nil {
		return usageErrorf("up: %v", err)
	}
	return nil
}

func runUp(ctx context.Context, rio IO, args []string) error {
	c := NewUpCommand()
	if err := c.ParseFlags(args, rio.Stderr); err != nil {
		return err
	}
	level := slog.LevelWarn
	if c.Verbose {
		level = slog.LevelInfo
	}
	g := c.Grid
	g.Logger = slog.New(slog.NewTextHandler(rio.Stderr, &slog.HandlerOptions{Level: level}))
	start := time.Now()
	if err := g.Open(ctx); err != nil {
		return fmt.Errorf("up: %w", err)
	}
	keyFile := filepath.Join(g.Config.DataDir, localgrid.KeyFile)
	fmt.Fprintf(rio.Stdout, `fractal grid up in %.2fs: %d miners, a validator and its gateway
  model    %s
  web      %s
  api key  %s   (saved in %s)
  chain    %s   (netuid %d)
  data     %s

Try it:
  curl -s -H "Authorization: Bearer $(cat %s)" -H "Content-Type: application/json" \
       -d '{"prompt":"a red ball bouncing over the ocean at night","seed":42}' %sv1/videos

Ctrl-C stops the grid; 'fractal up --data %s' resumes it.
`, time.Since(start).Seconds(), len(g.Miners()), upModel(g), g.URL(), g.APIKey(), keyFile, g.ChainURL(), g.Config.NetUID,
		g.Config.DataDir, keyFile, g.URL(), g.Config.DataDir)
	<-ctx.Done()
	fmt.Fprintln(rio.Stderr, "fractal up: stopping (miners finish their jobs for up to 5s)")
	if err := g.Close(); err != nil {
		return fmt.Errorf("up: close: %w", err)
	}
	fmt.Fprintln(rio.Stderr, "fractal up: stopped")
	return nil
}

// flagSet reports whether the command line set flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// upModel names the model the grid serves and the engine running it.
func upModel(g *localgrid.Grid) string {
	if e := g.Engine(); e != nil {
		return fmt.Sprintf("%s   (engine %s, shared by the miners and the validator)", e.Profile(), g.Config.Engine)
	}
	return refengine.New().Profile().String() + "   (the built-in reference engine)"
}
