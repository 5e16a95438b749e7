package localgrid

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/validator"
)

// Grid is a whole grid in one process.
type Grid struct {
	Config Config
	Logger *slog.Logger

	logger       *slog.Logger
	chain        DevChain
	subnet       *Subnet
	chainURL     string
	store        *jetstream.Store
	validatorKey *sr25519.Keypair
	minerKeys    []*sr25519.Keypair
	miners       []*miner.Miner
	validator    *validator.Validator
	gateway      *gateway.Gateway
	registry     *prometheus.Registry
	apiKey       string
	ln           net.Listener
	upgrade      *upgrade
	engine       *SharedEngine  // nil: the reference engine
	closers      []func() error // run in reverse order by Close
}

// New returns a grid with the default configuration.
func New() *Grid { return &Grid{Config: DefaultConfig()} }

// Open starts every part, in the order each needs the others, and returns
// once the API answers and every miner has been challenged once. On error
// what was started is stopped again.
func (g *Grid) Open(ctx context.Context) (err error) {
	if err := g.Config.Validate(); err != nil {
		return err
	}
	g.logger = g.Logger
	if g.logger == nil {
		g.logger = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	unlock, err := lockData(g.Config.DataDir)
	if err != nil {
		return err
	}
	g.closers = append(g.closers, unlock)
	if err := g.openEngine(ctx); err != nil {
		return err
	}
	if g.store, err = g.openStore(ctx); err != nil {
		return err
	}
	if err := g.openChain(ctx); err != nil {
		return err
	}
	if err := g.setupSubnet(ctx); err != nil {
		return err
	}
	if err := g.planUpgrade(ctx); err != nil {
		return err
	}
	g.closers = append(g.closers, g.subnet.Close) // the miners
	for i := range g.Config.Miners {
		if err := g.startMiner(ctx, i); err != nil {
			return err
		}
	}
	if err := g.openValidator(ctx); err != nil {
		return err
	}
	if err := g.startGateway(ctx); err != nil {
		return err
	}
	g.startRounds(ctx)
	if g.apiKey, err = g.demoKey(ctx); err != nil {
		return err
	}
	if err := g.listen(); err != nil {
		return err
	}
	if g.upgrade != nil {
		uctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); g.followUpgrade(uctx) }()
		g.closers = append(g.closers, func() error { cancel(); <-done; return nil })
	}
	return nil
}

func (g *Grid) openStore(ctx context.Context) (*jetstream.Store, error) {
	cfg := jetstream.DefaultConfig(filepath.Join(g.Config.DataDir, "nats"))
	cfg.Logger = g.logger.With(slog.String(logKeyPart, "store"))
	st, err := jetstream.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	g.closers = append(g.closers, st.Close)
	return st, nil
}

// startMiner serves miner i on a free loopback port; it publishes the port
// with serve_axon.
func (g *Grid) startMiner(ctx context.Context, i int) error {
	var eng fractal.Engine = &PacedEngine{Engine: refengine.New(), Factor: speedFactor(i, g.Config.Uneven)}
	if g.engine != nil {
		eng = g.engine
	}
	g.subnet.Logger = g.logger.With(slog.String(logKeyPart, MinerHotkey(i)))
	m, err := g.subnet.AddMiner(ctx, g.minerKeys[i], eng, func(c *miner.Config) {
		c.Concurrency = g.Config.MinerConcurrency
		c.DrainTimeout = 5 * time.Second
	})
	if err != nil {
		return fmt.Errorf("miner %d: %w", i, err)
	}
	g.miners = append(g.miners, m)
	return nil
}

// openValidator opens the validator; startRounds starts its rounds once
// the gateway that dispatches its challenges is open.
func (g *Grid) openValidator(ctx context.Context) error {
	kv, err := g.store.KV(ctx, jetstream.SharedKV, 0)
	if err != nil {
		return err
	}
	v := validator.New()
	v.Config.NetUID = g.Config.NetUID
	v.Config.AllowPrivateAxons = true
	v.Config.Round = g.Config.Round
	v.Config.BlockTime = g.Config.BlockTime
	v.Config.Shapes = slices.Clone(g.Config.Shapes)
	v.Config.Parallel = 2
	v.Config.ChallengeTimeout = 10 * time.Second
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), g.validatorKey, g.chain, kv, g.store.Audit()
	v.Engines, v.Config.Pins = g.extraEngines(), g.gridPins()
	if g.engine != nil {
		v.Engine, v.Config.ChallengeTimeout = g.engine, g.challengeTimeout()
	}
	v.Words = refengine.Words()
	v.Logger = g.logger.With(slog.String(logKeyPart, "validator"))
	g.registry = prometheus.NewRegistry()
	v.Registry = g.registry // served with the gateway's at /metrics
	if g.Config.ChallengePath == validator.ChallengeQueue {
		QueueChallenges(v, g.store)
	}
	if err := v.Open(ctx); err != nil {
		return fmt.Errorf("validator: %w", err)
	}
	g.validator = v
	g.closers = append(g.closers, v.Close)
	return nil
}

// startRounds challenges every miner once, so the gateway can route to
// verified miners from the start, then starts the validator's rounds.
func (g *Grid) startRounds(ctx context.Context) {
	v := g.validator
	v.Config.PerRound = len(g.miners)
	v.Round(ctx)
	v.Config.PerRound = 0
	v.Start()
}

// startGateway opens the gateway inside the validator: it signs with the
// validator's hotkey, takes its standings and hands it users' jobs to
// sample for verification.
func (g *Grid) startGateway(ctx context.Context) error {
	kv, err := g.store.KV(ctx, jetstream.SharedKV, 0)
	if err != nil {
		return err
	}
	gw := gateway.New()
	gw.Config.NetUID = g.Config.NetUID
	gw.Config.AllowPrivateAxons = true
	gw.Config.AllowPrivateHooks = true
	if pins := g.gridPins(); pins != nil {
		gw.Config.Pins = pins
	}
	gw.Jobs, gw.Queue, gw.Blobs, gw.KV = g.store.Jobs(), g.store.Queue(), g.store.Blobs(), kv
	gw.Chain, gw.Hotkey = g.chain, g.validatorKey
	gw.Logger = g.logger.With(slog.String(logKeyPart, "gateway"))
	gw.Registry = g.registry
	gw.Standings, gw.Sampler = g.validator, g.validator
	if err := gw.Open(ctx); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	g.gateway = gw
	g.closers = append(g.closers, gw.Close)
	return nil
}

// listen serves the API and the web page on Config.Addr.
func (g *Grid) listen() error {
	ln, err := net.Listen("tcp", g.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", g.Config.Addr, err)
	}
	g.ln = ln
	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
	}
	g.serve(srv, ln, "api")
	g.closers = append(g.closers, func() error { return shutdown(srv) })
	return nil
}

// serve runs srv on ln in the background; Close stops it.
func (g *Grid) serve(srv *http.Server, ln net.Listener, name string) {
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.logger.Error("server stopped", slog.String(logKeyPart, name), slog.Any(logKeyError, err))
		}
	}()
}

func shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return srv.Close()
	}
	return nil
}

// URL returns the web page's address.
func (g *Grid) URL() string { return "http://" + g.ln.Addr().String() + "/" }

// ChainURL returns the devchain's address, for other processes.
func (g *Grid) ChainURL() string { return g.chainURL }

// APIKey returns the demo API key (also in DataDir/api-key).
func (g *Grid) APIKey() string { return g.apiKey }

// Miners returns the running miners.
func (g *Grid) Miners() []*miner.Miner { return g.miners }

// Validator returns the validator.
func (g *Grid) Validator() *validator.Validator { return g.validator }

// Gateway returns the gateway.
func (g *Grid) Gateway() *gateway.Gateway { return g.gateway }

// Close stops every part in the reverse order of starting: the API first,
// then the gateway, validator and miners (which finish in-flight jobs for a
// few seconds), the chain and the store last, so all state is saved.
func (g *Grid) Close() error {
	var errs []error
	for i := len(g.closers) - 1; i >= 0; i-- {
		if err := g.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	g.closers = nil
	return errors.Join(errs...)
}

// Log keys.
const (
	logKeyPart  = "part" // which part of the grid logged
	logKeyError = "err"
)
