package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/gridmap"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/router"
	"github.com/fractal-grid/fractal/video"
)

// Gateway serves the video API and dispatches jobs to miners.
type Gateway struct {
	Config Config
	Jobs   fractal.JobStore
	Queue  fractal.JobQueue
	Blobs  fractal.BlobStore
	KV     fractal.KV // API keys, idempotency keys, the shared grid map, the validator's standings
	Chain  fractal.ChainReader
	Hotkey fractal.Signer // signs requests to miners (a validator's hotkey)
	// Sampler, when set, gets every completed job: the validator in this
	// process verifies a sample of them.
	Sampler fractal.Sampler
	// Standings gives the validator's verdict on each miner, which routing
	// follows: the validator itself when it runs in this process. Nil: what
	// the validator published to KV (fractal.KVStandings over KV).
	Standings fractal.StandingSource
	Logger    *slog.Logger
	Now       func() time.Time
	// Transport carries signed requests to miners; nil: the default.
	Transport http.RoundTripper
	// Registry receives the gateway's metrics; nil: a registry of its own.
	Registry *prometheus.Registry

	logger   *slog.Logger
	keys     *Keys
	grid     *gridmap.Map
	router   *router.Router
	client   *minerapi.Client
	rate     *limiter
	authFail *limiter
	active   *active
	feed     feed
	metrics  *metrics

	standings fractal.StandingSource // Standings, or the one over KV
	retention time.Duration          // Config.Retention, or the blob store's TTL when shorter

	encOnce sync.Once
	enc     *video.Encoder
	encErr  error

	mu     sync.Mutex
	graph  *fractal.Metagraph
	block  uint64 // the newest block watchBlocks saw
	bg     context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	server *http.Server
	ln     net.Listener

	challengeSlots chan struct{} // one per challenge being sent off the dispatchers
}

// New returns a gateway with the default configuration.
func New() *Gateway { return &Gateway{Config: DefaultConfig(), Now: time.Now} }

func (g *Gateway) now() time.Time { return g.Now() }

// Keys returns the API key manager (valid after Open).
func (g *Gateway) Keys() *Keys { return g.keys }

// Grid returns the grid map (valid after Open).
func (g *Gateway) Grid() *gridmap.Map { return g.grid }

// Open prepares the gateway and starts its dispatchers and probes. Serve or
// Handler then expose the API.
func (g *Gateway) Open(ctx context.Context) error {
	if err := g.Config.Validate(); err != nil {
		return err
	}
	if g.Jobs == nil || g.Queue == nil || g.Blobs == nil || g.KV == nil || g.Chain == nil || g.Hotkey == nil {
		return fmt.Errorf("gateway: Jobs, Queue, Blobs, KV, Chain and Hotkey must be set: %w", fractal.ErrInvalid)
	}
	g.logger = g.Logger
	if g.logger == nil {
		g.logger = slog.New(slog.DiscardHandler)
	}
	gcfg := gridmap.DefaultConfig()
	gcfg.Origin, gcfg.Now = g.Config.Replica, g.Now
	grid, err := gridmap.New(gcfg)
	if err != nil {
		return err
	}
	g.grid = grid
	g.standings = g.Standings
	if g.standings == nil {
		g.standings = &fractal.KVStandings{KV: g.KV, NetUID: g.Config.NetUID}
	}
	seed := uint64(g.now().UnixNano())
	g.router = router.New(grid, nil, rand.New(rand.NewPCG(seed, seed>>1|1)))
	g.keys = &Keys{KV: g.KV, Now: g.Now}
	g.client = &minerapi.Client{HTTP: &http.Client{Transport: &epistula.Transport{Base: g.Transport, Signer: g.Hotkey, Now: g.Now}}, Now: g.Now}
	g.rate, g.authFail, g.active = newLimiter(100_000), newLimiter(100_000), newActive()
	g.metrics = newMetrics(g.Registry)
	g.openRetention(ctx)
	bg, cancel := context.WithCancel(context.Background())
	g.bg, g.cancel = bg, cancel
	g.syncGrid(ctx)
	g.shareAttempts(bg, &g.wg) // before the first dispatch, and before Open returns
	g.challengeSlots = make(chan struct{}, maxChallengesInFlight)
	if q, ok := g.Queue.(fractal.ChallengeQueues); ok {
		g.wg.Add(1)
		go func() { defer g.wg.Done(); g.challengeLoop(bg, q.Challenges()) }()
	}
	for range g.Config.Dispatchers {
		g.wg.Add(1)
		go func() { defer g.wg.Done(); g.dispatchLoop(bg) }()
	}
	g.wg.Add(5)
	go func() { defer g.wg.Done(); g.sweepLoop(bg) }()
	go func() { defer g.wg.Done(); g.feedLoop(bg) }()
	go func() { defer g.wg.Done(); g.gridLoop(bg) }()
	go func() { defer g.wg.Done(); g.activeLoop(bg) }()
	go func() { defer g.wg.Done(); g.watchBlocks(bg) }()
	return nil
}

// Serve listens on addr and serves the API until Close.
func (g *Gateway) Serve(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("gateway: listen on %s: %w", addr, err)
	}
	g.ln = ln
	g.server = &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := g.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.logger.Error("gateway server stopped", slog.Any(logKeyError, err))
		}
	}()
	return nil
}

// Addr returns the address Serve listens on.
func (g *Gateway) Addr() string { return g.ln.Addr().String() }

// Close stops serving and dispatching. Jobs being dispatched go back to the
// queue (unacknowledged) and another replica, or this one restarted, takes
// them over.
func (g *Gateway) Close() error {
	if g.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		g.server.Shutdown(ctx)
		cancel()
	}
	if g.cancel != nil {
		g.cancel()
	}
	g.wg.Wait()
	return nil
}

// sample hands a user's job that miner n finished to the Sampler, if any,
// in the background: the validator may take a while to verify it, and
// Close waits for it.
func (g *Gateway) sample(ctx context.Context, n fractal.Neuron, req minerapi.GenerateRequest, out *minerapi.Outcome) {
	if g.Sampler == nil {
		return
	}
	claim := out.Claim(n.Hotkey, req)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		g.Sampler.Sample(context.WithoutCancel(ctx), n, claim)
	}()
}

// Log keys.
const (
	logKeyError   = "err"
	logKeyJob     = "job"
	logKeyMiner   = "miner"
	logKeyRequest = "request" // the id of one attempt, as the miner saw it
)
