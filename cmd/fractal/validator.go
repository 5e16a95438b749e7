package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/remote"
	"github.com/fractal-grid/fractal/validator"
)

// ValidatorCommand runs a validator (verifier) until its context ends.
type ValidatorCommand struct {
	ChainURL  string
	Engines   engineList
	PinsFile  string
	DataDir   string
	NATS      string
	Replicas  int // of every stream on the NATS cluster
	APIAddr   string
	Wallet    *walletFlags
	Validator *validator.Validator
	Gateway   *gateway.Gateway
	Logger    *slog.Logger

	chain fractal.Chain
	store *jetstream.Store
}

// NewValidatorCommand returns the command with its defaults.
func NewValidatorCommand(logger *slog.Logger) *ValidatorCommand {
	v := validator.New()
	v.Logger = logger
	g := gateway.New()
	g.Logger = logger
	return &ValidatorCommand{ChainURL: chainURLFromEnv(), DataDir: defaultDataDir("validator"), Validator: v, Gateway: g, Logger: logger}
}

// defaultDataDir is ~/.fractal/NAME (or ./.fractal/NAME without a home).
func defaultDataDir(name string) string {
	if v := os.Getenv("FRACTAL_DATA"); v != "" {
		return filepath.Join(v, name)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".fractal", name)
	}
	return filepath.Join(home, ".fractal", name)
}

// ParseFlags reads the command line.
func (c *ValidatorCommand) ParseFlags(args []string, stderr io.Writer) error {
	cfg := &c.Validator.Config
	fs := flag.NewFlagSet("validator", flag.ContinueOnError)
	fs.StringVar(&c.ChainURL, "chain", c.ChainURL, "chain `URL`: http://HOST:PORT for a devchain, ws://HOST:PORT for subtensor ($FRACTAL_CHAIN)")
	fs.Func("netuid", "subnet `N` (default 1)", uintFlag(16, func(v uint64) { cfg.NetUID = uint16(v) }))
	c.Wallet = addWalletFlags(fs)
	fs.StringVar(&c.DataDir, "data", c.DataDir, "`DIR` for the embedded NATS JetStream store (scores, audit log)")
	fs.StringVar(&c.NATS, "nats", "", "`URL` of an external NATS JetStream server or cluster (instead of the embedded one)")
	addNATSReplicasFlag(fs, &c.Replicas)
	addEngineFlag(fs, &c.Engines, "the model to verify with")
	fs.StringVar(&c.PinsFile, "pins", "", "`FILE` of the models the subnet serves and their block windows (JSON; default: each engine's model for good); each pinned model needs an --engine")
	fs.DurationVar(&cfg.Round, "round", cfg.Round, "time between challenge rounds")
	fs.DurationVar(&cfg.BlockTime, "block-time", cfg.BlockTime, "the chain's block time (spreads challenges over a tempo)")
	fs.IntVar(&cfg.Parallel, "parallel", cfg.Parallel, "challenges in flight at once")
	fs.IntVar(&cfg.Policy.OpenSteps, "open-steps", cfg.Policy.OpenSteps, "committed steps recomputed per check (c)")
	fs.Float64Var(&cfg.Policy.RegenProb, "regen-prob", cfg.Policy.RegenProb, "chance of a full regeneration per check (p)")
	fs.Float64Var(&cfg.OrganicSample, "organic-sample", cfg.OrganicSample, "share of users' jobs verified like challenges")
	fs.IntVar(&cfg.OpenRetries, "open-retries", cfg.OpenRetries, "times a late opening (open_late) is asked again, after 30s and then twice the last wait, before it counts as open_refused")
	fs.Float64Var(&cfg.SweepsPerTempo, "sweeps", 2, "rounds per tempo, at random, that challenge every miner at once and set their speed (0: none)")
	fs.Uint64Var(&cfg.WeightsVersionKey, "version-key", cfg.WeightsVersionKey, "weights version key (0: the subnet's WeightsVersionKey)")
	fs.StringVar(&cfg.CommitReveal, "commit-reveal", cfg.CommitReveal, "how weights reach a subnet with commit-reveal on: `timelock` (a drand-timelocked commit the chain reveals) or hash (commit, then reveal in the reveal epoch; the salt is kept in the store)")
	fs.BoolVar(&cfg.AllowPrivateAxons, "allow-private-axons", cfg.AllowPrivateAxons, "challenge and route to miners on private, loopback or link-local addresses (local grids)")
	path := fs.String("challenge-path", "", "how challenges reach miners: `queue` (as jobs pinned to their miners in the gateways' queue, sent by whichever gateway replica takes them, like users' jobs; needs a gateway: --api-addr or replicas on the same NATS) or direct (sent by the validator itself); default: queue with --api-addr, else direct")
	fs.DurationVar(&cfg.QueueWait, "queue-wait", cfg.QueueWait, "with --challenge-path queue, how long a challenge waits for a gateway replica to send it before it is cancelled with no verdict")
	fs.StringVar(&c.APIAddr, "api-addr", "", "`HOST:PORT` to serve the video API on (the gateway, in this process); empty: no API")
	addGatewayFlags(fs, &c.Gateway.Config)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal validator --chain URL --netuid N --name W --hotkey H [--data DIR] [--nats URL]\n\n"+
			"Challenges miners, verifies their work, scores them and sets weights (docs/validator.md).\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("validator: unexpected arguments %q", fs.Args())
	}
	if most := maxOpenRetries(cfg.OpenRetryDelay); cfg.OpenRetries < 0 || cfg.OpenRetries > most {
		return usageErrorf("validator: --open-retries must be between 0 and %d (retries from %s, each waiting twice as long as the last, must end within the miners' %s retention of states), got %d",
			most, cfg.OpenRetryDelay, validator.MinerRetention, cfg.OpenRetries)
	}
	switch {
	case *path != "":
		cfg.ChallengePath = *path
	case c.APIAddr != "":
		cfg.ChallengePath = validator.ChallengeQueue // this process's gateway sends them, so a miner cannot tell them from users' jobs
	default:
		cfg.ChallengePath = validator.ChallengeDirect
	}
	if cfg.ChallengePath == validator.ChallengeQueue && c.APIAddr == "" && c.NATS == "" {
		return usageErrorf("validator: --challenge-path queue needs a gateway to send the challenges: --api-addr (in this process), or --nats shared with gateway replicas")
	}
	pins, err := loadPins(c.PinsFile)
	if err != nil {
		return err
	}
	cfg.Pins = pins
	if err := cfg.Validate(); err != nil {
		return usageErrorf("validator: %v", err)
	}
	c.Gateway.Config.NetUID, c.Gateway.Config.AllowPrivateAxons = cfg.NetUID, cfg.AllowPrivateAxons
	return c.Gateway.Config.Validate()
}

// maxOpenRetries is the most retries of a late opening, from delay and
// doubling, that end within the miners' retention (and the validator's
// limit of 8).
func maxOpenRetries(delay time.Duration) int {
	n := 0
	for n < 8 && delay*time.Duration(1<<(n+1)-1) <= validator.MinerRetention {
		n++
	}
	return n
}

// openStore opens the embedded store under dir, or the external one at url
// with one replica of everything.
func openStore(ctx context.Context, dir, url string, logger *slog.Logger) (*jetstream.Store, error) {
	return openSharedStore(ctx, dir, url, 1, logger)
}

// Open loads keys and state and starts the rounds.
func (c *ValidatorCommand) Open(ctx context.Context) error {
	hot, err := c.Wallet.hotkey()
	if err != nil {
		return err
	}
	engines, err := openEngines(ctx, c.Engines.names())
	if err != nil {
		return err
	}

	if c.store, err = openSharedStore(ctx, c.DataDir, c.NATS, c.Replicas, c.Logger); err != nil {
		return err
	}
	kv, err := c.store.KV(ctx, jetstream.SharedKV, 0)
	if err != nil {
		c.Close()
		return err
	}
	if c.chain, err = openChain(ctx, c.ChainURL, c.Logger); err != nil {
		c.Close()
		return err
	}
	v := c.Validator
	for i, e := range engines {
		if _, ok := e.(*remote.Engine); ok {
			// An engine server runs one call at a time (one GPU): the
			// validator's parallel checks take turns instead of being refused.
			engines[i] = localgrid.NewSharedEngine(e)
		}
	}
	v.Engine, v.Engines = engines[0], engines[1:]
	v.Hotkey, v.Chain, v.KV, v.Audit, v.Words = hot, c.chain, kv, c.store.Audit(), refengine.Words()
	v.Samples, v.Blobs = c.store.Queue(), c.store.Blobs() // users' jobs shared by gateway replicas
	v.Jobs, v.Queue = c.store.Jobs(), c.store.Queue()     // challenges on the queue path
	// The validator's metrics are served with the gateway's at --api-addr/metrics.
	reg := prometheus.NewRegistry()
	v.Registry, c.Gateway.Registry = reg, reg
	if err := v.Open(ctx); err != nil {
		c.Close()
		return err
	}
	if v.Config.ChallengePath == validator.ChallengeQueue && c.APIAddr == "" {
		c.Logger.Warn("challenges go through the gateways' queue and this process runs no gateway: only replicas on the same NATS send them")
	}
	if c.APIAddr == "" {
		v.Start()
		return nil
	}
	// The gateway in this process routes by the validator's standings and
	// hands it users' jobs to sample; replicas elsewhere read the standings
	// it publishes to the shared KV.
	g := c.Gateway
	g.Standings, g.Sampler = v, v
	g.Config.Pins = v.Config.Pins
	if len(g.Config.Pins) == 0 {
		var ps []fractal.Profile
		for _, e := range engines {
			ps = append(ps, e.Profile())
		}
		g.Config.Pins = fractal.PinsOf(ps...)
	}
	if err := openGateway(ctx, g, c.store, c.chain, hot); err != nil {
		c.Close()
		return err
	}
	if err := g.Serve(c.APIAddr); err != nil {
		c.Close()
		return err
	}
	v.Start() // after the gateway: its dispatchers send the first round's queued challenges
	return nil
}

// Close stops the rounds and releases the store and chain.
func (c *ValidatorCommand) Close() error {
	c.Gateway.Close()
	c.Validator.Close()
	if c.chain != nil {
		closeChain(c.chain)
	}
	if c.store != nil {
		return c.store.Close()
	}
	return nil
}

func runValidator(ctx context.Context, rio IO, args []string) error {
	c := NewValidatorCommand(slog.New(slog.NewTextHandler(rio.Stderr, nil)))
	if err := c.ParseFlags(args, rio.Stderr); err != nil {
		return err
	}
	if err := c.Open(ctx); err != nil {
		return err
	}
	fmt.Fprintf(rio.Stdout, "validator %s on netuid %d\n", c.Validator.Hotkey.SS58(), c.Validator.Config.NetUID)
	if c.APIAddr != "" {
		fmt.Fprintf(rio.Stdout, "video API on http://%s\n", c.Gateway.Addr())
	}
	<-ctx.Done()
	return c.Close()
}
