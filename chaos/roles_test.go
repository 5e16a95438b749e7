package chaos_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
)

// childLogger writes warnings and errors to stderr, which the parent keeps.
func childLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// runNATS serves one node of the JetStream cluster.
func runNATS(ctx context.Context, a roleArgs) error {
	opts := &server.Options{
		ServerName: a.Name, Host: "127.0.0.1", Port: a.Port,
		JetStream: true, StoreDir: a.StoreDir, MaxPayload: 8 << 20, NoSigs: true, NoLog: true,
		Cluster: server.ClusterOpts{Name: "fractal", Host: "127.0.0.1", Port: a.ClusterPort},
		Routes:  server.RoutesFromStr(strings.Join(a.Routes, ",")),
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return err
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		return fmt.Errorf("nats %s not ready", a.Name)
	}
	ready(ns.ClientURL())
	<-ctx.Done()
	ns.Shutdown()
	return nil
}

// slowEngine is the reference engine taking at least delay per step, so a
// generation lasts long enough to be killed in the middle.
type slowEngine struct {
	*refengine.Engine
	delay time.Duration
}

func (e slowEngine) Generate(ctx context.Context, spec fractal.Spec, opts fractal.GenerateOptions) (*fractal.Result, error) {
	progress := opts.Progress
	opts.Progress = func(p fractal.Progress) {
		time.Sleep(e.delay)
		if progress != nil {
			progress(p)
		}
	}
	return e.Engine.Generate(ctx, spec, opts)
}

func chainClient(url string) *devchain.Client {
	c := devchain.NewClient(url)
	c.Timeout, c.PollWait = 3*time.Second, time.Second
	return c
}

// runMiner serves a miner on loopback with the slow reference engine.
func runMiner(ctx context.Context, a roleArgs) error {
	hot, err := sr25519.FromURI(a.Hotkey)
	if err != nil {
		return err
	}
	chain := chainClient(a.ChainURL)
	defer chain.Close()
	m := miner.New()
	m.Config.NetUID, m.Config.Addr, m.Config.DrainTimeout = 1, "127.0.0.1:0", time.Second
	m.Engine, m.Hotkey, m.Chain, m.Logger = slowEngine{refengine.New(), a.StepDelay}, hot, chain, childLogger()
	if err := m.Open(ctx); err != nil {
		return err
	}
	ready(m.Addr())
	<-ctx.Done()
	return m.Close()
}

// runGateway serves a gateway replica on the cluster at a.NATS, reading
// the validator's standings from the shared KV.
func runGateway(ctx context.Context, a roleArgs) error {
	hot, err := sr25519.FromURI(a.Hotkey)
	if err != nil {
		return err
	}
	logger := childLogger()
	cfg := jetstream.Config{URL: a.NATS, Replicas: 3, AckWait: a.AckWait, CallTimeout: 2 * time.Second, Retries: 5, Logger: logger}
	st, err := jetstream.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	kv, err := st.KV(ctx, "validator", 0)
	if err != nil {
		return err
	}
	chain := chainClient(a.ChainURL)
	defer chain.Close()
	gw := gateway.New()
	gw.Config.Replica, gw.Config.AllowPrivateAxons = a.Replica, true
	gw.Config.ProbeInterval, gw.Config.Dispatchers, gw.Config.AttemptTimeout = 200*time.Millisecond, 4, 10*time.Second
	if a.AttemptTimeout > 0 {
		gw.Config.AttemptTimeout, gw.Config.SecsPerCost = a.AttemptTimeout, 0
	}
	gw.Jobs, gw.Queue, gw.Blobs, gw.KV, gw.Chain, gw.Hotkey, gw.Logger = st.Jobs(), st.Queue(), st.Blobs(), kv, chain, hot, logger
	if err := gw.Open(ctx); err != nil {
		return err
	}
	if err := gw.Serve("127.0.0.1:0"); err != nil {
		return err
	}
	ready("http://" + gw.Addr())
	<-ctx.Done()
	return gw.Close()
}
