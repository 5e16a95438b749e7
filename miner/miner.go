package miner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/minerapi"
)

// Miner serves its engines to the subnet's permitted validators: Engine, and
// one engine for each further profile in Engines (during an upgrade window a
// miner may serve the old model and the new one).
type Miner struct {
	Config  Config
	Engine  fractal.Engine
	Engines []fractal.Engine
	Hotkey  fractal.Signer
	Chain   fractal.Chain
	Logger  *slog.Logger
	Now     func() time.Time
	// Registry receives the miner's metrics, served at GET /metrics; nil:
	// a registry of its own.
	Registry *prometheus.Registry

	logger    *slog.Logger
	metrics   *metrics
	sched     *scheduler
	retention *retention
	permits   *permits
	auth      *epistula.Authenticator
	served    atomic.Pointer[[]fractal.Engine] // set by SetEngines; nil: Engine and Engines
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
	if err := checkEngines(m.engines()); err != nil {
		return err
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
	auth, err := epistula.NewAuthenticator(acfg)
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
	m.logger.Info("miner serving", slog.String(logKeyAddr, m.Addr()), slog.String("hotkey", m.Hotkey.SS58()), slog.Any("profiles", profileNames(m.engines())))
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

// engines returns every engine the miner serves now, the primary first.
func (m *Miner) engines() []fractal.Engine {
	if es := m.served.Load(); es != nil {
		return *es
	}
	return append([]fractal.Engine{m.Engine}, m.Engines...)
}

// SetEngines changes the engines the miner serves, the primary first: an
// operator moving to a new model adds its engine during the upgrade window and
// drops the old one after. Jobs already admitted finish on the engine they
// started on; openings of retained jobs need their engine still served.
func (m *Miner) SetEngines(engines ...fractal.Engine) error {
	if err := checkEngines(engines); err != nil {
		return err
	}
	es := slices.Clone(engines)
	m.served.Store(&es)
	if m.logger != nil {
		m.logger.Info("miner engines changed", slog.Any("profiles", profileNames(es)))
	}
	return nil
}

// checkEngines refuses no engine, a nil one, and two engines for one profile.
func checkEngines(engines []fractal.Engine) error {
	if len(engines) == 0 {
		return fmt.Errorf("miner: no engine: %w", fractal.ErrInvalid)
	}
	seen := map[string]bool{}
	for _, e := range engines {
		if e == nil {
			return fmt.Errorf("miner: a nil engine: %w", fractal.ErrInvalid)
		}
		p := e.Profile().String()
		if seen[p] {
			return fmt.Errorf("miner: two engines serve %s: %w", p, fractal.ErrInvalid)
		}
		seen[p] = true
	}
	return nil
}

func profileNames(es []fractal.Engine) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Profile().String()
	}
	return out
}

// engineFor returns the engine of the profile a spec names ("" for the primary).
func (m *Miner) engineFor(ref string) (fractal.Engine, error) {
	es := m.engines()
	if ref == "" {
		return es[0], nil
	}
	var served []string
	for _, e := range es {
		if e.Profile().String() == ref {
			return e, nil
		}
		served = append(served, e.Profile().String())
	}
	return nil, fractal.Errorf("profile", "this miner serves %s, got %q", strings.Join(served, ", "), ref)
}

// profiles returns the profiles the miner serves, Engine's first.
func (m *Miner) profiles() []fractal.Profile {
	var out []fractal.Profile
	for _, e := range m.engines() {
		out = append(out, e.Profile())
	}
	return out
}
