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
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
	"github.com/fractal-grid/fractal/refengine"
)

// Log keys of the engine command.
const (
	logAddr        = "addr"
	logProfile     = "profile"
	logConcurrency = "concurrency"
	logError       = "err"
)

// EngineCommand serves the built-in reference engine over the engine
// protocol until its context ends, then shuts down gracefully.
type EngineCommand struct {
	Addr        string
	Config      engineapi.Config
	DrainTime   time.Duration // how long in-flight calls may finish at shutdown
	Engine      fractal.Engine
	Logger      *slog.Logger
	ln          net.Listener
	readTimeout time.Duration
}

// NewEngineCommand returns the command with its defaults.
func NewEngineCommand(logger *slog.Logger) *EngineCommand {
	return &EngineCommand{
		Addr:        "127.0.0.1:7070",
		Config:      engineapi.DefaultConfig(),
		DrainTime:   10 * time.Second,
		Engine:      refengine.New(),
		Logger:      logger,
		readTimeout: time.Minute,
	}
}

// ParseFlags reads the command line.
func (c *EngineCommand) ParseFlags(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("engine", flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", c.Addr, "`HOST:PORT` to listen on")
	fs.IntVar(&c.Config.Concurrency, "concurrency", c.Config.Concurrency, "engine calls run at once; more get 503 with Retry-After")
	fs.Int64Var(&c.Config.MaxBodyBytes, "max-body", c.Config.MaxBodyBytes, "largest request body in `bytes`")
	fs.DurationVar(&c.DrainTime, "drain", c.DrainTime, "how long in-flight calls may finish at shutdown")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal engine --addr HOST:PORT [--concurrency N]\n\n"+
			"Serves the built-in reference engine over the engine protocol (docs/engine-protocol.md).\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("engine: unexpected arguments %q", fs.Args())
	}
	if err := c.Config.Validate(); err != nil {
		return usageErrorf("engine: %v", err)
	}
	return nil
}

// Open starts listening, so Listener().Addr() is known before Run.
func (c *EngineCommand) Open() error {
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("engine: listen: %w", err)
	}
	c.ln = ln
	return nil
}

// Listener returns the listener opened by Open.
func (c *EngineCommand) Listener() net.Listener { return c.ln }

// Run serves until ctx ends, then lets in-flight calls finish for up to
// DrainTime before cancelling them.
func (c *EngineCommand) Run(ctx context.Context) error {
	if c.ln == nil {
		if err := c.Open(); err != nil {
			return err
		}
	}
	handler, err := engineapi.NewServer(c.Engine, c.Config, c.Logger)
	if err != nil {
		return err
	}
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       c.readTimeout,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return work },
		ErrorLog:          slog.NewLogLogger(c.Logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(c.ln) }()
	c.Logger.Info("engine serving", logAddr, c.ln.Addr().String(), logProfile, c.Engine.Profile().String(),
		logConcurrency, c.Config.Concurrency)

	select {
	case err := <-served:
		return fmt.Errorf("engine: serve: %w", err)
	case <-ctx.Done():
	}
	c.Logger.Info("engine shutting down", "drain", c.DrainTime)
	drain, cancel := context.WithTimeout(context.Background(), c.DrainTime)
	defer cancel()
	if err := srv.Shutdown(drain); err != nil {
		c.Logger.Warn("engine calls cancelled at shutdown", logError, err)
		stopWork()
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("engine: serve: %w", err)
	}
	c.Logger.Info("engine stopped")
	return nil
}

func runEngine(ctx context.Context, rio IO, args []string) error {
	c := NewEngineCommand(slog.New(slog.NewTextHandler(rio.Stderr, nil)))
	if err := c.ParseFlags(args, rio.Stderr); err != nil {
		return err
	}
	return c.Run(ctx)
}
