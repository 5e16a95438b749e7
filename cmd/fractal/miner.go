package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/remote"
)

// MinerCommand runs a miner (prover) until its context ends.
type MinerCommand struct {
	ChainURL string
	Engines  engineList // "builtin" or URLs of engine-protocol servers, one per profile
	MinStake string     // TAO
	Wallet   *walletFlags
	Miner    *miner.Miner
	Logger   *slog.Logger

	chain fractal.Chain
}

// NewMinerCommand returns the command with its defaults.
func NewMinerCommand(logger *slog.Logger) *MinerCommand {
	m := miner.New()
	m.Config.NetUID = 1
	m.Logger = logger
	return &MinerCommand{ChainURL: chainURLFromEnv(), MinStake: "0", Miner: m, Logger: logger}
}

// ParseFlags reads the command line.
func (c *MinerCommand) ParseFlags(args []string, stderr io.Writer) error {
	cfg := &c.Miner.Config
	fs := flag.NewFlagSet("miner", flag.ContinueOnError)
	fs.StringVar(&c.ChainURL, "chain", c.ChainURL, "chain `URL`: http://HOST:PORT for a devchain, ws://HOST:PORT for subtensor ($FRACTAL_CHAIN)")
	fs.Func("netuid", "subnet `N` (default 1)", uintFlag(16, func(v uint64) { cfg.NetUID = uint16(v) }))
	c.Wallet = addWalletFlags(fs)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "`HOST:PORT` to listen on")
	fs.StringVar(&cfg.ExternalAddr, "external-addr", "", "`IP:PORT` to publish with serve_axon (default: the listen address)")
	addEngineFlag(fs, &c.Engines, "the model to serve")
	fs.StringVar(&c.MinStake, "min-stake", c.MinStake, "`TAO` a validator must stake to be served")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "generations run at once")
	fs.IntVar(&cfg.QueueLimit, "queue", cfg.QueueLimit, "accepted jobs that may wait for a slot; more get 429")
	fs.DurationVar(&cfg.Retention, "retention", cfg.Retention, "how long committed steps can be opened")
	fs.Int64Var(&cfg.RetainBytes, "retain-bytes", cfg.RetainBytes, "memory `bytes` for retained states")
	fs.DurationVar(&cfg.DrainTimeout, "drain", cfg.DrainTimeout, "how long in-flight jobs may finish at shutdown")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal miner --chain URL --netuid N --name W --hotkey H --addr HOST:PORT [--external-addr IP:PORT]\n"+
			"                    [--engine builtin|http://HOST:PORT] [--min-stake TAO] [--concurrency N] [--queue N]\n\n"+
			"Serves the subnet's engine to permitted validators (docs/protocol.md, docs/miner.md).\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("miner: unexpected arguments %q", fs.Args())
	}
	stake, err := parseTAO(c.MinStake)
	if err != nil {
		return usageErrorf("miner: --min-stake: %v", err)
	}
	cfg.MinStake = stake
	if err := cfg.Validate(); err != nil {
		return usageErrorf("miner: %v", err)
	}
	return nil
}

// Open loads the hotkey, connects the chain and engine, and starts serving.
func (c *MinerCommand) Open(ctx context.Context) error {
	hot, err := c.Wallet.hotkey()
	if err != nil {
		return err
	}
	engines, err := openEngines(ctx, c.Engines.names())
	if err != nil {
		return err
	}
	chain, err := openChain(ctx, c.ChainURL, c.Logger)
	if err != nil {
		return err
	}
	c.chain = chain
	c.Miner.Engine, c.Miner.Engines = engines[0], engines[1:]
	c.Miner.Hotkey, c.Miner.Chain = hot, chain
	if err := c.Miner.Open(ctx); err != nil {
		closeChain(chain)
		return err
	}
	return nil
}

// Close drains in-flight jobs and releases the chain.
func (c *MinerCommand) Close() error {
	err := c.Miner.Close()
	if c.chain != nil {
		closeChain(c.chain)
	}
	return err
}

// openEngine returns the engine named by --engine.
func openEngine(ctx context.Context, name string) (fractal.Engine, error) {
	if name == "builtin" {
		return refengine.New(), nil
	}
	if !strings.HasPrefix(name, "http://") && !strings.HasPrefix(name, "https://") {
		return nil, usageErrorf("--engine %q: use builtin or http://HOST:PORT of an engine server", name)
	}
	e, err := remote.New(name, nil)
	if err != nil {
		return nil, err
	}
	if err := e.Open(ctx); err != nil {
		return nil, fmt.Errorf("engine %s: %w", name, err)
	}
	return e, nil
}

func runMiner(ctx context.Context, rio IO, args []string) error {
	c := NewMinerCommand(slog.New(slog.NewTextHandler(rio.Stderr, nil)))
	if err := c.ParseFlags(args, rio.Stderr); err != nil {
		return err
	}
	if err := c.Open(ctx); err != nil {
		return err
	}
	fmt.Fprintf(rio.Stdout, "miner %s serving on %s\n", c.Miner.Hotkey.SS58(), c.Miner.Addr())
	<-ctx.Done()
	c.Logger.Info("miner shutting down; draining in-flight jobs")
	return c.Close()
}
