package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/jetstream"
)

// GatewayCommand runs a gateway replica that shares jobs, results, keys and
// the grid map with the others through one JetStream store.
type GatewayCommand struct {
	ChainURL string
	DataDir  string
	NATS     string
	Replicas int // of every stream on the NATS cluster
	Addr     string
	PinsFile string
	Wallet   *walletFlags
	Gateway  *gateway.Gateway
	Logger   *slog.Logger

	chain fractal.Chain
	store *jetstream.Store
}

// NewGatewayCommand returns the command with its defaults.
func NewGatewayCommand(logger *slog.Logger) *GatewayCommand {
	g := gateway.New()
	g.Logger = logger
	return &GatewayCommand{ChainURL: chainURLFromEnv(), DataDir: defaultDataDir("gateway"), Addr: "127.0.0.1:8080", Gateway: g, Logger: logger}
}

// addGatewayFlags registers the API settings shared by 'fractal gateway'
// and 'fractal validator --api-addr'.
func addGatewayFlags(fs *flag.FlagSet, cfg *gateway.Config) {
	fs.StringVar(&cfg.Replica, "replica", cfg.Replica, "`NAME` of this gateway replica in the shared grid map")
	fs.IntVar(&cfg.Dispatchers, "dispatchers", cfg.Dispatchers, "jobs dispatched at once by this replica")
	fs.IntVar(&cfg.MaxAttempts, "max-attempts", cfg.MaxAttempts, "miners tried per job before it fails")
	fs.Float64Var(&cfg.DefaultRate, "key-rate", cfg.DefaultRate, "default requests per second of a new API key")
	fs.IntVar(&cfg.DefaultActiveJobs, "key-jobs", cfg.DefaultActiveJobs, "default unfinished jobs of a new API key")
	fs.DurationVar(&cfg.Retention, "retention", cfg.Retention, "how long a video's content is kept after it completed (its record stays; the store's own blob TTL caps it)")
	fs.BoolVar(&cfg.AllowPrivateHooks, "allow-private-webhooks", cfg.AllowPrivateHooks, "deliver webhooks to private or loopback addresses (local grids)")
	fs.BoolVar(&cfg.PublicMetrics, "public-metrics", cfg.PublicMetrics, "serve GET /metrics to public addresses too (default: loopback and private ones only, as its challenge counters would tell a miner which requests are challenges)")
}

// ParseFlags reads the command line.
func (c *GatewayCommand) ParseFlags(args []string, stderr io.Writer) error {
	cfg := &c.Gateway.Config
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.StringVar(&c.ChainURL, "chain", c.ChainURL, "chain `URL` ($FRACTAL_CHAIN)")
	fs.Func("netuid", "subnet `N` (default 1)", uintFlag(16, func(v uint64) { cfg.NetUID = uint16(v) }))
	c.Wallet = addWalletFlags(fs)
	fs.StringVar(&c.Addr, "addr", c.Addr, "`HOST:PORT` of the API")
	fs.StringVar(&c.PinsFile, "pins", "", "`FILE` of the models the subnet serves and their block windows (JSON, the validator's --pins file; default: the reference model)")
	fs.StringVar(&c.NATS, "nats", "", "`URL` of the NATS JetStream server or cluster shared with the validator and other replicas")
	addNATSReplicasFlag(fs, &c.Replicas)
	fs.StringVar(&c.DataDir, "data", c.DataDir, "`DIR` for an embedded store (a single replica without --nats)")
	fs.BoolVar(&cfg.AllowPrivateAxons, "allow-private-axons", cfg.AllowPrivateAxons, "route to miners on private or loopback addresses (local grids)")
	addGatewayFlags(fs, cfg)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal gateway --nats URL --name W --hotkey H [--addr HOST:PORT] [--chain URL] [--netuid N]\n"+
			"       fractal gateway keys create|list|revoke …\n\n"+
			"Serves the video API (docs/api.md) as one replica of a validator's gateway.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("gateway: unexpected arguments %q", fs.Args())
	}
	pins, err := loadPins(c.PinsFile)
	if err != nil {
		return err
	}
	if pins != nil {
		cfg.Pins = pins
	}
	return cfg.Validate()
}

// Open connects the store and chain and starts serving.
func (c *GatewayCommand) Open(ctx context.Context) error {
	hot, err := c.Wallet.hotkey()
	if err != nil {
		return err
	}
	if c.store, err = openSharedStore(ctx, c.DataDir, c.NATS, c.Replicas, c.Logger); err != nil {
		return err
	}
	if c.chain, err = openChain(ctx, c.ChainURL, c.Logger); err != nil {
		c.Close()
		return err
	}
	if err := openGateway(ctx, c.Gateway, c.store, c.chain, hot); err != nil {
		c.Close()
		return err
	}
	return c.Gateway.Serve(c.Addr)
}

// openGateway wires a gateway to its store and chain and opens it.
func openGateway(ctx context.Context, g *gateway.Gateway, st *jetstream.Store, chain fractal.Chain, hot fractal.Signer) error {
	kv, err := st.KV(ctx, jetstream.SharedKV, 0)
	if err != nil {
		return err
	}
	g.Jobs, g.Queue, g.Blobs, g.KV, g.Chain, g.Hotkey = st.Jobs(), st.Queue(), st.Blobs(), kv, chain, hot
	return g.Open(ctx)
}

// Close stops serving and releases the store and chain.
func (c *GatewayCommand) Close() error {
	c.Gateway.Close()
	if c.chain != nil {
		closeChain(c.chain)
	}
	if c.store != nil {
		return c.store.Close()
	}
	return nil
}

func runGateway(ctx context.Context, rio IO, args []string) error {
	if len(args) > 0 && args[0] == "keys" {
		return runGatewayKeys(ctx, rio, args[1:])
	}
	c := NewGatewayCommand(slog.New(slog.NewTextHandler(rio.Stderr, nil)))
	if err := c.ParseFlags(args, rio.Stderr); err != nil {
		return err
	}
	if err := c.Open(ctx); err != nil {
		return err
	}
	fmt.Fprintf(rio.Stdout, "gateway %s serving http://%s\n", c.Gateway.Config.Replica, c.Gateway.Addr())
	<-ctx.Done()
	return c.Close()
}
