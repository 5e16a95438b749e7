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
	fs.BoolVar(&c.Verbose, "v", false, "log every part's activity to stderr (default: warnings only)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal up [--miners N] [--addr HOST:PORT] [--data DIR] [--chain dev|URL] [--block-time D] [--uneven]\n\n"+
			"Runs a whole grid on this machine: a devchain, dev wallets, a subnet with registered and staked\n"+
			"hotkeys, N miners and a validator with the video API and the web page. Prints the page's URL and\n"+
			"a demo API key (saved in DIR/api-key). Ctrl-C stops it; running it again on DIR resumes.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("up: unexpected arguments %q", fs.Args())
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
  web      %s
  api key  %s   (saved in %s)
  chain    %s   (netuid %d)
  data     %s

Try it:
  curl -s -H "Authorization: Bearer $(cat %s)" -H "Content-Type: application/json" \
       -d '{"prompt":"a red ball bouncing over the ocean at night","seed":42}' %sv1/videos

Ctrl-C stops the grid; 'fractal up --data %s' resumes it.
`, time.Since(start).Seconds(), len(g.Miners()), g.URL(), g.APIKey(), keyFile, g.ChainURL(), g.Config.NetUID,
		g.Config.DataDir, keyFile, g.URL(), g.Config.DataDir)
	<-ctx.Done()
	fmt.Fprintln(rio.Stderr, "fractal up: stopping (miners finish their jobs for up to 5s)")
	if err := g.Close(); err != nil {
		return fmt.Errorf("up: close: %w", err)
	}
	fmt.Fprintln(rio.Stderr, "fractal up: stopped")
	return nil
}
