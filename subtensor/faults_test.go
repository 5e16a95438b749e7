package subtensor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/testenv"
)

func testLogger(tb testing.TB) *slog.Logger {
	return testenv.Logger(tb, slog.LevelInfo)
}

func mustClient(tb testing.TB, cfg Config) *Client {
	tb.Helper()
	c, err := New(cfg, testLogger(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no URL", func(c *Config) { c.URL = "" }},
		{"no host", func(c *Config) { c.URL = "ws://" }},
		{"bad scheme", func(c *Config) { c.URL = "ftp://127.0.0.1:9944" }},
		{"zero poll interval", func(c *Config) { c.PollInterval = 0 }},
		{"negative retries", func(c *Config) { c.Retries = -1 }},
		{"backoff max below min", func(c *Config) { c.BackoffMax = c.BackoffMin / 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mod(&cfg)
			if _, err := New(cfg, nil); !errors.Is(err, fractal.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BackoffMin, cfg.BackoffMax = 100*time.Millisecond, time.Second
	want := []time.Duration{100, 100, 200, 400, 800, 1000, 1000}
	for n, w := range want {
		if got := cfg.backoff(n); got != w*time.Millisecond {
			t.Errorf("backoff(%d): got %s, want %s", n, got, w*time.Millisecond)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		want error
	}{
		{"HotKeyAlreadyRegisteredInSubNet", fractal.ErrConflict},
		{"HotKeyNotRegisteredInSubNet", fractal.ErrForbidden},
		{"HotKeyNotRegisteredInNetwork", fractal.ErrForbidden},
		{"NeuronNoValidatorPermit", fractal.ErrForbidden},
		{"NotEnoughBalanceToStake", fractal.ErrForbidden},
		{"BadOrigin", fractal.ErrForbidden},
		{"SubNetworkDoesNotExist", fractal.ErrNotFound},
		{"SettingWeightsTooFast", fractal.ErrOverloaded},
		{"ServingRateLimitExceeded", fractal.ErrOverloaded},
		{"TooManyRegistrationsThisBlock", fractal.ErrOverloaded},
		{"InvalidIpAddress", fractal.ErrInvalid},
		{"UidVecContainInvalidOne", fractal.ErrInvalid},
		{"DuplicateUids", fractal.ErrInvalid},
		{"MaxWeightExceeded", fractal.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := error(&DispatchError{Pallet: palletSubtensor, Name: tt.name})
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrDispatch) {
				t.Errorf("got %v, want it to wrap %v and ErrDispatch", err, tt.want)
			}
		})
	}
	rej := []struct {
		msg  string
		data any
		want error
	}{
		{"Invalid Transaction", "Inability to pay some fees (e.g. account balance too low)", fractal.ErrForbidden},
		{"Invalid Transaction", "Transaction has a bad signature", fractal.ErrUnauthorized},
		{"Invalid Transaction", map[string]any{"invalid": map[string]any{"custom": 11}}, fractal.ErrInvalid},
		{"Invalid Transaction", map[string]any{"invalid": map[string]any{"custom": 5}}, fractal.ErrForbidden},
		{"Invalid Transaction", "Custom error: 10", fractal.ErrForbidden},
		{"Priority is too low", nil, fractal.ErrOverloaded},
	}
	for _, r := range rej {
		err := rejected(&RPCError{Method: "author_submitExtrinsic", Code: 1010, Message: r.msg, Data: r.data})
		if !errors.Is(err, r.want) || !errors.Is(err, ErrRejected) {
			t.Errorf("%s %v: got %v, want it to wrap %v and ErrRejected", r.msg, r.data, err, r.want)
		}
	}
	err := rejected(&RPCError{Method: "author_submitExtrinsic", Code: 1010, Message: "Invalid Transaction", Data: map[string]any{"invalid": map[string]any{"custom": 11}}})
	if got := fractal.ChainErrorName(err); got != "InvalidIpAddress" {
		t.Errorf("custom 11: got name %q, want InvalidIpAddress", got)
	}
}

// TestUnreachableNode checks a node that is not there gives a prompt error
// naming the URL, for reads and writes alike.
func TestUnreachableNode(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig("ws://127.0.0.1:" + itoa(port))
	cfg.Retries = 1
	c := mustClient(t, cfg)
	ctx := testCtx(t, 20*time.Second)
	alice := testenv.Key(t, "//Alice")
	calls := map[string]func() error{
		"Block":     func() error { _, err := c.Block(ctx); return err },
		"Metagraph": func() error { _, err := c.Metagraph(ctx, 1); return err },
		"Open":      func() error { return c.Open(ctx) },
		"SetWeights": func() error {
			return c.SetWeights(ctx, alice, 1, []uint16{0}, []uint16{1}, 0)
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := call()
			if !errors.Is(err, fractal.ErrUnavailable) || !strings.Contains(err.Error(), cfg.URL+" is unreachable") {
				t.Errorf("got %v, want ErrUnavailable naming %s", err, cfg.URL)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s to fail", d)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// proxy forwards loopback TCP connections to a target and can cut them all
// and refuse new ones, as a node going away does.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	p.wg.Add(1)
	go p.serve()
	tb.Cleanup(func() {
		l.Close()
		p.setDown(true)
		p.wg.Wait()
	})
	return p
}

func (p *proxy) url() string { return "ws://" + p.l.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			in.Close()
			continue
		}
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(out, in); out.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(in, out); in.Close() }()
	}
}

// setDown cuts every connection and refuses new ones (true), or accepts
// them again (false).
func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// TestChopsticksReconnect cuts the connection to the node: reads fail with
// ErrUnavailable while it is away, a block watcher keeps running, and both
// recover once the node is back.
func TestChopsticksReconnect(t *testing.T) {
	forEachRuntime(t, testReconnect)
}

func testReconnect(t *testing.T, d *devnet) {
	p := startProxy(t, strings.TrimPrefix(d.node.url, "ws://"))
	cfg := testConfig(p.url())
	cfg.Retries = 1
	c := mustClient(t, cfg)
	ctx := testCtx(t, time.Minute)
	before, err := c.Block(ctx)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := c.WatchBlocks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := <-blocks; got < before {
		t.Fatalf("first watched block: got %d, want >= %d", got, before)
	}

	p.setDown(true)
	if _, err := c.Block(ctx); !errors.Is(err, fractal.ErrUnavailable) {
		t.Errorf("block while the node is away: got %v, want ErrUnavailable", err)
	}
	if err := d.newBlocks(ctx, 2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	p.setDown(false)

	after, err := c.Block(ctx)
	if err != nil {
		t.Fatalf("block after the node came back: %v", err)
	}
	if after < before+2 {
		t.Errorf("block after reconnecting: got %d, want >= %d", after, before+2)
	}
	for {
		select {
		case b, ok := <-blocks:
			if !ok {
				t.Fatal("block watcher stopped while the node was away")
			}
			if b >= before+2 {
				return
			}
		case <-ctx.Done():
			t.Fatalf("watcher did not report block %d after reconnecting", before+2)
		}
	}
}

// TestWatchBlocksStopsOnClose checks a watcher's channel closes with the
// client, even while the node is unreachable.
func TestWatchBlocksStopsOnClose(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(testConfig("ws://127.0.0.1:"+itoa(port)), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := c.WatchBlocks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	c.Close()
	select {
	case _, ok := <-blocks:
		if ok {
			t.Error("got a block from an unreachable node")
		}
	case <-time.After(5 * time.Second):
		t.Error("block channel still open 5 s after Close")
	}
}
