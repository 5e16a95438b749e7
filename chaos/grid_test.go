package chaos_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/devchain"
	"github.com/fractal-grid/fractal/gateway"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// gridOpts shapes a test grid.
type gridOpts struct {
	miners    int
	gateways  int
	stepDelay time.Duration // per generation step on every miner
	ackWait   time.Duration // before a dispatcher's unacknowledged job goes to another
	// attemptTimeout bounds each miner attempt of the gateways (0: 10s).
	attemptTimeout time.Duration
}

// grid is a devchain served over HTTP, a three-node JetStream cluster,
// miners and gateway replicas in processes of their own, and a validator
// in the test process, all sharing the cluster.
type grid struct {
	dev       *gridtest.Grid
	chainURL  string
	stopChain func()
	natsURL   string
	nats      []*child
	miners    map[string]*child // by hotkey
	gateways  []*child
	opts      gridOpts
	store     *jetstream.Store
	kv        fractal.KV
	key       string // an API key
	val       *validator.Validator
}

func newGrid(t *testing.T, opts gridOpts) *grid {
	t.Helper()
	ctx := context.Background()
	g := &grid{dev: gridtest.New(t), miners: map[string]*child{}, opts: opts}
	g.chainURL, g.stopChain = serveChain(t, g.dev.Chain, "127.0.0.1:0")
	g.startCluster(t)
	g.store = openStore(t, g.natsURL, opts.ackWait)
	var err error
	if g.kv, err = g.store.KV(ctx, "validator", 0); err != nil {
		t.Fatal(err)
	}
	for i := range opts.miners {
		uri := fmt.Sprintf("//Alice//chaos-miner%d", i)
		hot := testenv.Key(t, uri)
		if err := g.dev.Chain.BurnedRegister(ctx, g.dev.Sudo, gridtest.NetUID, hot.SS58()); err != nil {
			t.Fatal(err)
		}
		g.miners[hot.SS58()] = startChild(t, "miner"+fmt.Sprint(i), "miner", roleArgs{ChainURL: g.chainURL, Hotkey: uri, StepDelay: opts.stepDelay})
	}
	g.val = newValidator(t, g.dev, g.kv, g.store.Audit(), opts.miners)
	if n := g.val.Round(ctx); n != opts.miners {
		t.Fatalf("validator round sent %d challenges, want %d", n, opts.miners)
	}
	for _, s := range g.val.Stats() {
		if s.Passed != 1 {
			t.Fatalf("miner %s: %+v after the first round, want one passed challenge", s.Hotkey, s)
		}
	}
	_, key, err := (&gateway.Keys{KV: g.kv, Now: time.Now}).Create(ctx, "chaos", 200, 200, 64)
	if err != nil {
		t.Fatal(err)
	}
	g.key = key
	for i := range opts.gateways {
		g.addGateway(t, fmt.Sprintf("gw-%c", 'a'+i))
	}
	return g
}

// addGateway starts one more replica and waits until it routes to every
// miner.
func (g *grid) addGateway(t *testing.T, replica string) *child {
	t.Helper()
	c := startChild(t, replica, "gateway", roleArgs{
		ChainURL: g.chainURL, Hotkey: "//Alice//validator", NATS: g.natsURL, Replica: replica, AckWait: g.opts.ackWait,
		AttemptTimeout: g.opts.attemptTimeout,
	})
	waitFor(t, replica+" to see every miner verified", 30*time.Second, func() bool {
		var h struct {
			Eligible int `json:"eligible_miners"`
		}
		return getJSON(c.info+"/healthz", "", &h) == http.StatusOK && h.Eligible == len(g.miners)
	})
	g.gateways = append(g.gateways, c)
	return c
}

// startCluster starts three JetStream servers routed to each other.
func (g *grid) startCluster(t *testing.T) {
	t.Helper()
	ports := freePorts(t, 6)
	var routes, urls []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[3+i]))
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	for i := range 3 {
		name := fmt.Sprintf("n%d", i+1)
		g.nats = append(g.nats, startChild(t, "nats-"+name, "nats", roleArgs{
			Name: name, Port: ports[i], ClusterPort: ports[3+i], Routes: routes, StoreDir: t.TempDir(),
		}))
	}
	g.natsURL = strings.Join(urls, ",")
}

// openStore connects to the cluster with three replicas and the short
// timeouts a cluster needs to ride out a leader election.
func openStore(t *testing.T, url string, ackWait time.Duration) *jetstream.Store {
	t.Helper()
	st, err := jetstream.Open(context.Background(), jetstream.Config{
		URL: url, Replicas: 3, AckWait: ackWait, CallTimeout: 2 * time.Second, Retries: 5, Logger: gridtest.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newValidator(t *testing.T, dev *gridtest.Grid, kv fractal.KV, audit fractal.AuditLog, perRound int) *validator.Validator {
	t.Helper()
	v := validator.New()
	v.Config.NetUID, v.Config.AllowPrivateAxons = gridtest.NetUID, true
	v.Config.PerRound, v.Config.SharedProb = perRound, 0
	v.Config.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 6}}
	v.Config.Score.TierWindow = 1 // every passed challenge promotes, so restarts have tiers to keep
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), dev.Validator, dev.Chain, kv, audit
	v.Words, v.Logger = refengine.Words(), gridtest.Logger(t)
	if err := v.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// serveChain serves the devchain over HTTP on addr ("127.0.0.1:0": any
// port) and returns its URL and a function that takes it away.
func serveChain(t *testing.T, chain *devchain.Chain, addr string) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	api := devchain.NewServer(chain)
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	var once sync.Once
	stop := func() { once.Do(func() { api.Close(); srv.Close() }) }
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

// freePorts finds n free ports; servers of a cluster must know each
// other's ports before they start.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// spec is the small job every test submits, with its own seed.
func spec(seed uint64) fractal.Spec {
	return fractal.Spec{Prompt: "a red ball bouncing over the ocean at night", Seed: seed, Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 6}
}

// localDigest is the frames digest the reference engine gives for s here.
func localDigest(t *testing.T, s fractal.Spec) string {
	t.Helper()
	res, err := refengine.New().Generate(context.Background(), s, fractal.GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Frames.Digest().String()
}
