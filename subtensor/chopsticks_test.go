package subtensor

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/sr25519"
)

// The chopsticks node runs the real Bittensor runtime (spec 218) from the
// shared chain spec. One node serves every test of the package: it starts on
// first use and stops in TestMain.
var (
	nodeOnce sync.Once
	node     *chopsticks
	nodeErr  error
)

const chopsticksStartup = 3 * time.Minute

// listeningRE finds the websocket URL in chopsticks' "RPC listening on
// http://127.0.0.1:N and ws://127.0.0.1:N" line.
var listeningRE = regexp.MustCompile(`RPC listening on .*(ws://127\.0\.0\.1:\d+)`)

func TestMain(m *testing.M) {
	code := m.Run()
	if node != nil {
		node.stop()
	}
	os.Exit(code)
}

// chopsticks is a running chopsticks process.
type chopsticks struct {
	url  string
	cmd  *exec.Cmd
	mu   sync.Mutex
	tail []string // last lines of its output, for failure messages
	done chan struct{}
}

func (c *chopsticks) log(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tail = append(c.tail, line)
	if len(c.tail) > 100 {
		c.tail = c.tail[len(c.tail)-100:]
	}
}

func (c *chopsticks) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

// stop kills chopsticks and the node process it runs (its process group).
func (c *chopsticks) stop() {
	if c.cmd.Process != nil {
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-c.done
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func launchChopsticks(bin, spec string) (*chopsticks, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--genesis", spec, "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start chopsticks: %w", err)
	}
	c := &chopsticks{cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		pw.CloseWithError(fmt.Errorf("chopsticks exited: %v", err))
		close(c.done)
	}()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			c.log(line)
			// chopsticks moves to the next port when the one asked for is
			// taken, so the URL comes from its announcement.
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				once.Do(func() { c.url = m[1]; close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case <-ready:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("chopsticks exited before it was ready:\n%s", c.output())
	case <-time.After(chopsticksStartup):
		c.stop()
		return nil, fmt.Errorf("chopsticks not ready within %s:\n%s", chopsticksStartup, c.output())
	}
}

// startChopsticks returns the package's chopsticks node, starting it on
// first use. A missing chopsticks or chain spec fails the test.
func startChopsticks(tb testing.TB) *chopsticks {
	tb.Helper()
	bin := testenv.Chopsticks(tb)
	spec := testenv.Shared(tb, "chain", "raonet.json")
	nodeOnce.Do(func() { node, nodeErr = launchChopsticks(bin, spec) })
	if nodeErr != nil {
		tb.Fatal(nodeErr)
	}
	return node
}

// devnet is the chopsticks node prepared for tests: dev accounts funded,
// //Alice is sudo, the network rate limit is off.
type devnet struct {
	node   *chopsticks
	client *Client
	alice  *sr25519.Keypair
}

var (
	devnetOnce sync.Once
	theDevnet  *devnet
	devnetErr  error
)

func mustKey(tb testing.TB, uri string) *sr25519.Keypair {
	tb.Helper()
	k, err := sr25519.FromURI(uri)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// devKeys are funded at setup; the contract suite's hotkeys are among them.
var devKeys = []string{"//Alice", "//Bob", "//Charlie", "//Dave", "//Eve", "//Ferdie",
	"//Alice//hot0", "//Alice//hot1", "//Alice//hot2", "//Alice//hot3", "//Alice//owner1", "//Alice//owner2", "//Alice//owner3"}

// testConfig is a client configuration for a local node that builds blocks
// on demand.
func testConfig(url string) Config {
	cfg := DefaultConfig()
	cfg.URL = url
	cfg.PollInterval = 50 * time.Millisecond
	cfg.InclusionTimeout = time.Minute
	cfg.BackoffMin = 50 * time.Millisecond
	cfg.BackoffMax = time.Second
	cfg.Retries = 2
	return cfg
}

func getDevnet(tb testing.TB) *devnet {
	tb.Helper()
	n := startChopsticks(tb)
	devnetOnce.Do(func() { theDevnet, devnetErr = setupDevnet(n, mustKey(tb, "//Alice")) })
	if devnetErr != nil {
		tb.Fatalf("%v\nchopsticks output:\n%s", devnetErr, n.output())
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("last chopsticks output:\n%s", n.output())
		}
	})
	return theDevnet
}

func setupDevnet(n *chopsticks, alice *sr25519.Keypair) (*devnet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := New(testConfig(n.url), log)
	if err != nil {
		return nil, err
	}
	d := &devnet{node: n, client: c, alice: alice}
	var accounts [][]any
	for _, uri := range devKeys {
		k, err := sr25519.FromURI(uri)
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, []any{[]string{k.SS58()},
			map[string]any{"providers": 1, "data": map[string]any{"free": 1_000_000 * fractal.RaoPerTAO}}})
	}
	if err := d.setStorage(ctx, map[string]any{"System": map[string]any{"Account": accounts},
		"Sudo": map[string]any{"Key": alice.SS58()}}); err != nil {
		return nil, err
	}
	if err := d.setRaw(ctx, "NetworkRateLimit", nil, appendU64(nil, 0)); err != nil {
		return nil, err
	}
	if err := d.firstBlock(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// firstBlock makes sure the node has built a block after genesis. Started
// from a chain spec, chopsticks sometimes fails to build block #1 (Aura
// panics in the block's inherents, a slot problem) and drops the extrinsics
// waiting for it; it succeeds once the wall clock enters the next slot.
func (d *devnet) firstBlock(ctx context.Context) error {
	var last error
	for range 20 {
		n, err := d.client.Block(ctx)
		if err == nil && n > 0 {
			return nil
		}
		last = err
		if err == nil {
			last = d.newBlocks(ctx, 1)
		}
		if err := sleep(ctx, 2*time.Second); err != nil {
			break
		}
	}
	return fmt.Errorf("chopsticks built no block after genesis: %v", last)
}

// setStorage writes storage through chopsticks in its JSON form.
func (d *devnet) setStorage(ctx context.Context, v any) error {
	var res any
	if err := d.client.Call(ctx, &res, "dev_setStorage", v); err != nil {
		return fmt.Errorf("dev_setStorage: %w", err)
	}
	return nil
}

// setRaw writes SubtensorModule.item(keys...) = value as raw bytes (a JSON
// zero is not stored by chopsticks; raw bytes are).
func (d *devnet) setRaw(ctx context.Context, item string, keys [][]byte, value []byte) error {
	rt, err := d.client.cachedRuntime(ctx)
	if err != nil {
		return err
	}
	key, err := rt.StorageKey(palletSubtensor, item, keys...)
	if err != nil {
		return err
	}
	return d.setStorage(ctx, [][]string{{encodeHex(key), encodeHex(value)}})
}

// newBlocks builds n blocks.
func (d *devnet) newBlocks(ctx context.Context, n int) error {
	var res any
	if err := d.client.Call(ctx, &res, "dev_newBlock", map[string]int{"count": n}); err != nil {
		return fmt.Errorf("dev_newBlock: %w", err)
	}
	return nil
}

// registerNetwork creates a subnet owned by //Alice with owner as its first
// hotkey and returns its netuid, read from the NetworkAdded event.
func (d *devnet) registerNetwork(ctx context.Context, owner fractal.Signer) (uint16, error) {
	inc, err := d.client.Submit(ctx, d.alice, palletSubtensor, "register_network", map[string]any{
		"hotkey": owner.PublicKey(), "mechid": uint16(1),
	})
	if err != nil {
		return 0, fmt.Errorf("register_network: %w", err)
	}
	for _, e := range inc.Events {
		if e.Pallet == palletSubtensor && e.Name == "NetworkAdded" && len(e.Fields) > 0 {
			if id, ok := e.Fields[0].(uint64); ok {
				return uint16(id), nil
			}
		}
	}
	return 0, fmt.Errorf("register_network: no NetworkAdded event in %+v", inc.Events)
}

// uidOf reads SubtensorModule.Uids(netuid, hotkey).
func (d *devnet) uidOf(ctx context.Context, netuid uint16, hotkey [32]byte) (uint16, error) {
	rt, err := d.client.cachedRuntime(ctx)
	if err != nil {
		return 0, err
	}
	v, err := d.client.storage(ctx, rt, "", palletSubtensor, "Uids", appendU16(nil, netuid), hotkey[:])
	if err != nil {
		return 0, err
	}
	r := newReader(v)
	uid := r.u16()
	if v == nil || r.err != nil {
		return 0, fmt.Errorf("hotkey %x has no uid on subnet %d", hotkey, netuid)
	}
	return uid, nil
}

func fmtErr(format string, args ...any) error { return fmt.Errorf(format, args...) }
