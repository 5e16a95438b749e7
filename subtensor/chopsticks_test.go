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
	"path/filepath"
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

// chainRuntime is one real Bittensor runtime the tests run on, from a
// shared chain spec.
type chainRuntime struct {
	Name string // its spec_version, which names the subtests
	Spec string // the chain spec under ../shared/chain
	// Aura marks a runtime with Aura slots that imports host functions
	// chopsticks lacks: it starts with --allow-unresolved-imports through
	// testdata/chopsticks-aura.cjs, which reads the slot duration the same
	// way.
	Aura bool
}

// The runtimes every chain test runs on: spec 218 (early 2025, metadata
// V14, runtime-API results wrapped in Vec<u8>) and spec 293 (metadata
// V14/V15, commit-reveal v3, Aura with 1 s slots).
var (
	runtime218Spec = chainRuntime{Name: "218", Spec: "raonet.json"}
	runtime293Spec = chainRuntime{Name: "293", Spec: "aura-dev-293.json", Aura: true}
	chainRuntimes  = []chainRuntime{runtime218Spec, runtime293Spec}
)

// nodeState is one runtime's chopsticks node and prepared devnet. One node
// per runtime serves every test of the package: it starts on first use and
// stops in TestMain.
type nodeState struct {
	once    sync.Once
	node    *chopsticks
	err     error
	devOnce sync.Once
	dev     *devnet
	devErr  error
}

var nodes = map[string]*nodeState{runtime218Spec.Name: {}, runtime293Spec.Name: {}}

// forEachRuntime runs f as a subtest per runtime, each with its devnet.
func forEachRuntime(t *testing.T, f func(t *testing.T, d *devnet)) {
	for _, r := range chainRuntimes {
		t.Run("spec"+r.Name, func(t *testing.T) { f(t, getDevnet(t, r)) })
	}
}

const chopsticksStartup = 3 * time.Minute

// listeningRE finds the websocket URL in chopsticks' "RPC listening on
// http://127.0.0.1:N and ws://127.0.0.1:N" line.
var listeningRE = regexp.MustCompile(`RPC listening on .*(ws://127\.0\.0\.1:\d+)`)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, n := range nodes {
		if n.node != nil {
			n.node.stop()
		}
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

func launchChopsticks(bin, spec string, aura bool) (*chopsticks, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"--genesis", spec, "--host", "127.0.0.1", "--port", strconv.Itoa(port)}
	cmd := exec.Command(bin, args...)
	if aura {
		wrapper, err := filepath.Abs(filepath.Join("testdata", "chopsticks-aura.cjs"))
		if err != nil {
			return nil, err
		}
		// bin is node_modules/.bin/chopsticks; the wrapper loads chopsticks
		// from that node_modules.
		cmd = exec.Command("node", append([]string{wrapper, "--allow-unresolved-imports"}, args...)...)
		cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Dir(filepath.Dir(bin)))
	}
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

// startChopsticks returns runtime r's chopsticks node, starting it on
// first use. A missing chopsticks or chain spec fails the test.
func startChopsticks(tb testing.TB, r chainRuntime) *chopsticks {
	tb.Helper()
	bin := testenv.Chopsticks(tb)
	spec := testenv.Shared(tb, "chain", r.Spec)
	st := nodes[r.Name]
	st.once.Do(func() { st.node, st.err = launchChopsticks(bin, spec, r.Aura) })
	if st.err != nil {
		tb.Fatal(st.err)
	}
	return st.node
}

// devnet is the chopsticks node prepared for tests: dev accounts funded,
// //Alice is sudo, the network rate limit is off.
type devnet struct {
	runtime chainRuntime
	node    *chopsticks
	client  *Client
	alice   *sr25519.Keypair
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

func getDevnet(tb testing.TB, r chainRuntime) *devnet {
	tb.Helper()
	n := startChopsticks(tb, r)
	st := nodes[r.Name]
	st.devOnce.Do(func() { st.dev, st.devErr = setupDevnet(r, n, testenv.Key(tb, "//Alice")) })
	if st.devErr != nil {
		tb.Fatalf("%v\nchopsticks output:\n%s", st.devErr, n.output())
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("last chopsticks output:\n%s", n.output())
		}
	})
	return st.dev
}

func setupDevnet(r chainRuntime, n *chopsticks, alice *sr25519.Keypair) (*devnet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := New(testConfig(n.url), log)
	if err != nil {
		return nil, err
	}
	d := &devnet{runtime: r, node: n, client: c, alice: alice}
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
	// Spec 218 takes (hotkey, mechid), spec 293 (hotkey) alone.
	args := map[string]any{"hotkey": owner.PublicKey()}
	rt, err := d.client.cachedRuntime(ctx)
	if err != nil {
		return 0, err
	}
	if _, fields, err := rt.call(palletSubtensor, "register_network"); err == nil && len(fields) > 1 {
		args["mechid"] = uint16(1)
	}
	inc, err := d.client.Submit(ctx, d.alice, palletSubtensor, "register_network", args)
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
