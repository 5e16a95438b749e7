package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/fractal-grid/fractal/devchain"
)

// Log keys of the devchain command.
const (
	logDevchainURL       = "url"
	logDevchainData      = "data"
	logDevchainBlockTime = "block_time"
	logDevchainSudo      = "sudo"
)

// DevchainCommand serves an embedded devchain over HTTP until its context
// ends.
type DevchainCommand struct {
	Addr   string
	Config devchain.Config
	Logger *slog.Logger
	ln     net.Listener
}

// NewDevchainCommand returns the command with its defaults.
func NewDevchainCommand(logger *slog.Logger) *DevchainCommand {
	cfg := devchain.DefaultConfig()
	cfg.DataDir = os.Getenv("FRACTAL_DEVCHAIN_DATA")
	return &DevchainCommand{Addr: "127.0.0.1:9945", Config: cfg, Logger: logger}
}

// ParseFlags reads the command line.
func (c *DevchainCommand) ParseFlags(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("devchain", flag.ContinueOnError)
	p := &c.Config.Subnet
	fs.StringVar(&c.Addr, "addr", c.Addr, "`HOST:PORT` to serve the devchain on")
	fs.StringVar(&c.Config.DataDir, "data", c.Config.DataDir, "`DIR` holding the chain state across restarts (empty: memory only; $FRACTAL_DEVCHAIN_DATA)")
	fs.DurationVar(&c.Config.BlockTime, "block-time", c.Config.BlockTime, "interval between blocks (at least 100ms)")
	fs.StringVar(&c.Config.Sudo, "sudo", c.Config.Sudo, "SS58 `address` allowed to stake, set subnet parameters and advance blocks")
	fs.Func("tempo", fmt.Sprintf("blocks between consensus epochs of new subnets (default %d)", p.Tempo), uintFlag(16, func(v uint64) { p.Tempo = uint16(v) }))
	fs.Uint64Var(&p.WeightsRateLimit, "weights-rate-limit", p.WeightsRateLimit, "blocks between two set_weights of one validator")
	fs.Uint64Var(&p.ImmunityPeriod, "immunity-period", p.ImmunityPeriod, "blocks after registration during which a neuron is not pruned")
	noCommitReveal := fs.Bool("no-commit-reveal", !p.CommitReveal, "new subnets take set_weights; by default they have commit-reveal on, as on Bittensor")
	fs.Uint64Var(&p.RevealPeriodEpochs, "reveal-period", p.RevealPeriodEpochs, "epochs between a weights commit and its reveal on new subnets")
	fs.BoolVar(&c.Config.InclusionEpoch, "inclusion-epoch", c.Config.InclusionEpoch, "count a call in the epoch of the block after the head, which a Bittensor runtime includes it in (a commit made just before an epoch reveals an epoch later)")
	fs.Float64Var(&c.Config.TaoWeight, "tao-weight", c.Config.TaoWeight, "part of a hotkey's root TAO counted as stake on its subnets, 0-1 (a fresh chain keeps it)")
	fs.Func("max-validators", fmt.Sprintf("validator permits per subnet: the top-k stake (default %d)", p.MaxValidators), uintFlag(16, func(v uint64) { p.MaxValidators = uint16(v) }))
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal devchain [--addr HOST:PORT] [--data DIR] [--block-time D]\n\n"+
			"Runs a development chain (subnets, registration, stake, permits, axons, weights, Yuma-style\n"+
			"incentive) and serves it over HTTP so miners and validators can use --chain http://HOST:PORT.\n"+
			"Subnet 1 exists from the start; the sudo key (//Alice) stakes with 'fractal chain stake'.\n"+
			"Subnets start with commit-reveal on: validators commit weights timelocked to the devchain's\n"+
			"stand-in beacon (which it reveals itself), or hashed and revealed later; --no-commit-reveal\n"+
			"turns it off.\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("devchain: unexpected arguments %q", fs.Args())
	}
	p.CommitReveal = !*noCommitReveal
	if c.Config.BlockTime == 0 {
		return usageErrorf("devchain: --block-time must be at least %v", devchain.MinBlockTime)
	}
	if err := c.Config.Validate(); err != nil {
		return usageErrorf("devchain: %v", err)
	}
	return nil
}

// uintFlag parses an unsigned flag of the given bit size into set.
func uintFlag(bits int, set func(uint64)) func(string) error {
	return func(s string) error {
		var v uint64
		if _, err := fmt.Sscan(s, &v); err != nil || v >= 1<<bits {
			return fmt.Errorf("%q is not a number within 0-%d", s, uint64(1)<<bits-1)
		}
		set(v)
		return nil
	}
}

// Open starts listening, so Listener().Addr() is known before Run.
func (c *DevchainCommand) Open() error {
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("devchain: listen: %w", err)
	}
	c.ln = ln
	return nil
}

// Listener returns the listener opened by Open.
func (c *DevchainCommand) Listener() net.Listener { return c.ln }

// Run opens the chain and serves it until ctx ends, then saves the state.
func (c *DevchainCommand) Run(ctx context.Context) (err error) {
	if c.ln == nil {
		if err := c.Open(); err != nil {
			return err
		}
	}
	defer c.ln.Close()
	chain := devchain.New(c.Config)
	chain.Logger = c.Logger
	if err := chain.Open(ctx); err != nil {
		return fmt.Errorf("devchain: %w", err)
	}
	defer func() {
		if cerr := chain.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("devchain: save state: %w", cerr)
		}
	}()
	if c.Config.DataDir == "" {
		c.Logger.Warn("devchain state lives in memory only; pass --data DIR to keep it across restarts")
	}
	handler := devchain.NewServer(chain)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(c.Logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(c.ln) }()
	c.Logger.Info("devchain serving", logDevchainURL, "http://"+c.ln.Addr().String(), logDevchainData, c.Config.DataDir,
		logDevchainBlockTime, c.Config.BlockTime, logDevchainSudo, c.Config.Sudo)
	select {
	case err := <-served:
		return fmt.Errorf("devchain: serve: %w", err)
	case <-ctx.Done():
	}
	handler.Close() // release block long-polls so shutdown is quick
	drain, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(drain); err != nil {
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("devchain: serve: %w", err)
	}
	c.Logger.Info("devchain stopped")
	return nil
}

func runDevchain(ctx context.Context, rio IO, args []string) error {
	c := NewDevchainCommand(slog.New(slog.NewTextHandler(rio.Stderr, nil)))
	if err := c.ParseFlags(args, rio.Stderr); err != nil {
		return err
	}
	return c.Run(ctx)
}
