package miner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/minerapi"
)

// Miner serves one engine to the subnet's permitted validators.
type Miner struct {
	Config Config
	Engine fractal.Engine
	Hotkey fractal.Signer
	Chain  fractal.Chain
	Logger *slog.Logger
	Now    func() time.Time
	// Registry receives the miner's metrics, served at GET /metrics; nil:
	// a registry of its own.
	Registry *prometheus.Registry

	logger    *slog.Logger
	metrics   *metrics
	sched     *scheduler
	retention *retention
	permits   *permits
	auth      *epistula.Verifier
	server    *http.Server
	listener  net.Listener
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New returns a miner with the default configuration; set the exported
// fields, then call Open.
func New() *Miner {
	return &Miner{Config: DefaultConfig(), Now: time.Now}
}

func (m *Miner) now() time.Time { return m.Now() }

// Open checks the configuration, loads the metagraph, starts listening,
// publishes the axon and serves until Close.
func (m *Miner) Open(ctx context.Context) error {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	if m.Engine == nil || m.Hotkey == nil || m.Chain == nil {
		return fmt.Errorf("miner: Engine, Hotkey and Chain must be set: %w", fractal.ErrInvalid)
	}
	m.logger = m.Logger
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	m.sched = newScheduler(m.Config.Concurrency, m.Config.QueueLimit, 1)
	m.metrics = newMetrics(m.Registry, m.sched)
	m.retention = newRetention(m.Config.Retention, m.Config.RetainBytes, m.Config.Checkpoint, m.now)
	m.permits = &permits{chain: m.Chain, netuid: m.Config.NetUID, minStake: m.Config.MinStake, logger: m.logger}
	acfg := epistula.DefaultConfig(m.Hotkey.SS58())
	acfg.Window, acfg.MaxBody = m.Config.SignatureAge, m.Config.MaxBodyBytes
	auth, err := epistula.NewVerifier(acfg)
	if err != nil {
		return err
	}
	auth.Now, auth.Logger = m.now, m.logger
	auth.Admit = func(_ context.Context, signer string) error { return m.permits.check(signer) }
	m.auth = auth
	if err := m.permits.refresh(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("miner: listen on %s: %w", m.Config.Addr, err)
	}
	m.listener = ln
	if err := m.serveAxon(ctx); err != nil {
		ln.Close()
		return err
	}
	m.server = &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.wg.Add(2)
	go func() { defer m.wg.Done(); m.permits.follow(bg) }()
	go func() {
		defer m.wg.Done()
		if err := m.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.logger.Error("miner server stopped", slog.Any(logKeyError, err))
		}
	}()
	m.logger.Info("miner serving", slog.String(logKeyAddr, m.Addr()), slog.String("hotkey", m.Hotkey.SS58()), slog.String("profile", m.Engine.Profile().String()))
	return nil
}

// Addr returns the address the miner listens on.
func (m *Miner) Addr() string { return m.listener.Addr().String() }

// serveAxon publishes the external address (or the listen address) on chain.
func (m *Miner) serveAxon(ctx context.Context) error {
	addr := m.Config.ExternalAddr
	if addr == "" {
		addr = m.Addr()
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return fractal.Errorf("external-addr", "must be IP:PORT, got %q", addr)
	}
	if ap.Addr().IsUnspecified() {
		return fractal.Errorf("external-addr", "%s is not reachable by others; set --external-addr IP:PORT", addr)
	}
	axon := fractal.Axon{IP: ap.Addr().Unmap(), Port: ap.Port(), Protocol: 4, Version: m.Config.AxonVersion}
	if err := m.Chain.ServeAxon(ctx, m.Hotkey, m.Config.NetUID, axon); err != nil {
		return fmt.Errorf("miner: serve_axon %s: %w", addr, err)
	}
	return nil
}

// Handler returns the miner's HTTP API.
func (m *Miner) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+minerapi.PathGenerate, m.auth.Middleware(http.HandlerFunc(m.handleGenerate)))
	mux.Handle("POST "+minerapi.PathOpen, m.auth.Middleware(http.HandlerFunc(m.handleOpen)))
	mux.HandleFunc("GET "+minerapi.PathHealth, m.handleHealth)
	mux.Handle("GET /metrics", m.metrics.handler())
	return apierr.Middleware(m.logger, mux)
}

// caller is the verified signer of a request.
func (m *Miner) caller(r *http.Request) string {
	s, _ := epistula.SignerFrom(r.Context())
	return s
}

// Retained reports the jobs whose steps can be opened and the bytes their
// states hold.
func (m *Miner) Retained() (jobs int, bytes int64) { return m.retention.usage() }

// Close stops accepting requests, lets in-flight jobs finish for up to
// DrainTimeout, then stops everything.
func (m *Miner) Close() error {
	var err error
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.DrainTimeout)
		err = m.server.Shutdown(ctx)
		cancel()
		if err != nil {
			m.server.Close()
		}
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	return err
}
