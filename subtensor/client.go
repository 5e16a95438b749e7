// Package subtensor is a fractal.Chain over the Substrate JSON-RPC of a
// Bittensor node (subtensor). It reads the metagraph through the
// NeuronInfoRuntimeApi, signs extrinsics with sr25519 keys from the signed
// extensions the runtime's metadata lists, waits for their inclusion by
// polling blocks, and turns dispatch errors into errors named as the runtime
// names them. It reconnects with backoff when the node goes away.
package subtensor

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
)

// Config configures a Client.
type Config struct {
	URL              string        // ws:// or wss:// endpoint of a node
	DialTimeout      time.Duration // one connection attempt
	CallTimeout      time.Duration // one JSON-RPC request
	Retries          int           // retries of a read after a transport failure
	BackoffMin       time.Duration // first wait before reconnecting
	BackoffMax       time.Duration // longest wait before reconnecting
	PollInterval     time.Duration // how often new blocks are looked for
	InclusionTimeout time.Duration // how long a submitted extrinsic may take to land
	// Now is the clock that picks a timelocked commit's drand round; nil is
	// time.Now.
	Now func() time.Time
	// MaxMetadata is the newest metadata version to read: 0 or 15 reads V15
	// where the runtime offers it and V14 otherwise; 14 reads V14 always.
	MaxMetadata int
}

// DefaultConfig returns settings for a public node with 12 s blocks.
func DefaultConfig() Config {
	return Config{
		URL:              "ws://127.0.0.1:9944",
		DialTimeout:      10 * time.Second,
		CallTimeout:      30 * time.Second,
		Retries:          3,
		BackoffMin:       250 * time.Millisecond,
		BackoffMax:       30 * time.Second,
		PollInterval:     time.Second,
		InclusionTimeout: 2 * time.Minute,
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return fractal.Errorf("url", "%q is not a node URL such as ws://127.0.0.1:9944", c.URL)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return fractal.Errorf("url", "scheme %q is not supported (use ws:// or wss://)", u.Scheme)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"dial_timeout", c.DialTimeout}, {"call_timeout", c.CallTimeout}, {"backoff_min", c.BackoffMin},
		{"backoff_max", c.BackoffMax}, {"poll_interval", c.PollInterval}, {"inclusion_timeout", c.InclusionTimeout}} {
		if d.v <= 0 {
			return fractal.Errorf(d.name, "must be positive, got %s", d.v)
		}
	}
	if c.BackoffMax < c.BackoffMin {
		return fractal.Errorf("backoff_max", "%s is below backoff_min %s", c.BackoffMax, c.BackoffMin)
	}
	if c.MaxMetadata != 0 && c.MaxMetadata != 14 && c.MaxMetadata != 15 {
		return fractal.Errorf("max_metadata", "must be 14 or 15, got %d", c.MaxMetadata)
	}
	if c.Retries < 0 {
		return fractal.Errorf("retries", "must not be negative, got %d", c.Retries)
	}
	return nil
}

// backoff returns the wait after n consecutive failures.
func (c *Config) backoff(n int) time.Duration {
	d := c.BackoffMin
	for i := 1; i < n && d < c.BackoffMax; i++ {
		d *= 2
	}
	return min(d, c.BackoffMax)
}

// Client is a subtensor chain client. It is safe for concurrent use.
type Client struct {
	cfg Config
	log *slog.Logger
	rpc *rpcConn

	mu sync.Mutex
	rt *Runtime

	submitMu sync.Mutex // orders nonce reads and submissions

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ fractal.Chain = (*Client)(nil)

// New returns a client for cfg. It connects on first use; call Open to
// connect at once and fail early when the node is unreachable.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("subtensor config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("chain", cfg.URL)
	c := &Client{cfg: cfg, log: log}
	c.rpc = &rpcConn{cfg: &c.cfg, log: log}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Open connects and loads the runtime's metadata.
func (c *Client) Open(ctx context.Context) error {
	_, err := c.Runtime(ctx)
	return err
}

// Close stops block watchers and closes the connection.
func (c *Client) Close() error {
	c.cancel()
	c.wg.Wait()
	c.rpc.close()
	return nil
}

// Call runs a raw JSON-RPC method (for tools and tests).
func (c *Client) Call(ctx context.Context, result any, method string, args ...any) error {
	return c.rpc.call(ctx, result, method, args...)
}

type runtimeVersion struct {
	SpecVersion        uint32 `json:"specVersion"`
	TransactionVersion uint32 `json:"transactionVersion"`
}

// Runtime returns the node's runtime, loading its metadata on first use and
// again whenever the spec version changes.
func (c *Client) Runtime(ctx context.Context) (*Runtime, error) {
	var v runtimeVersion
	if err := c.rpc.call(ctx, &v, "state_getRuntimeVersion"); err != nil {
		return nil, fmt.Errorf("read runtime version: %w", err)
	}
	c.mu.Lock()
	rt := c.rt
	c.mu.Unlock()
	if rt != nil && rt.SpecVersion == v.SpecVersion && rt.TransactionVersion == v.TransactionVersion {
		return rt, nil
	}
	rt, err := c.loadRuntime(ctx, v)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.rt = rt
	c.mu.Unlock()
	c.log.Info("loaded runtime metadata", "spec_version", v.SpecVersion, "metadata_version", rt.MetadataVersion(),
		"extensions", strings.Join(rt.SignedExtensions(), ","))
	return rt, nil
}

// cachedRuntime returns the loaded runtime, loading it when there is none.
func (c *Client) cachedRuntime(ctx context.Context) (*Runtime, error) {
	c.mu.Lock()
	rt := c.rt
	c.mu.Unlock()
	if rt != nil {
		return rt, nil
	}
	return c.Runtime(ctx)
}

func (c *Client) loadRuntime(ctx context.Context, v runtimeVersion) (*Runtime, error) {
	raw, err := c.readMetadata(ctx)
	if err != nil {
		return nil, err
	}
	meta, v15, err := ParseMetadata(raw)
	if err != nil {
		return nil, err
	}
	var genesisHex string
	if err := c.rpc.call(ctx, &genesisHex, "chain_getBlockHash", 0); err != nil {
		return nil, fmt.Errorf("read genesis hash: %w", err)
	}
	genesis, err := decodeHex(genesisHex)
	if err != nil || len(genesis) != 32 {
		return nil, fmt.Errorf("genesis hash %q is not 32 bytes of hex", genesisHex)
	}
	rt := &Runtime{Meta: meta, V15: v15, SpecVersion: v.SpecVersion, TransactionVersion: v.TransactionVersion}
	copy(rt.Genesis[:], genesis)
	return rt, nil
}

func decodeHex(s string) ([]byte, error) {
	if !strings.HasPrefix(s, "0x") {
		return nil, fmt.Errorf("hex %.20q lacks the 0x prefix", s)
	}
	return hex.DecodeString(s[2:])
}

func encodeHex(b []byte) string { return "0x" + hex.EncodeToString(b) }

type header struct {
	Number string `json:"number"`
}

func (h header) number() (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(h.Number, "0x"), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("block number %q: %w", h.Number, err)
	}
	return n, nil
}

// Block returns the best block number.
func (c *Client) Block(ctx context.Context) (uint64, error) {
	var h header
	if err := c.rpc.call(ctx, &h, "chain_getHeader"); err != nil {
		return 0, fmt.Errorf("read best block: %w", err)
	}
	return h.number()
}

// best returns the best block's hash and number.
func (c *Client) best(ctx context.Context) (string, uint64, error) {
	var hash string
	if err := c.rpc.call(ctx, &hash, "chain_getBlockHash"); err != nil {
		return "", 0, fmt.Errorf("read best block hash: %w", err)
	}
	var h header
	if err := c.rpc.call(ctx, &h, "chain_getHeader", hash); err != nil {
		return "", 0, fmt.Errorf("read block header: %w", err)
	}
	n, err := h.number()
	return hash, n, err
}

// storage reads pallet.item at block hash at ("" for the best block); nil
// when the key holds nothing.
func (c *Client) storage(ctx context.Context, rt *Runtime, at, pallet, item string, args ...[]byte) ([]byte, error) {
	key, err := rt.StorageKey(pallet, item, args...)
	if err != nil {
		return nil, err
	}
	params := []any{encodeHex(key)}
	if at != "" {
		params = append(params, at)
	}
	var res *string
	if err := c.rpc.call(ctx, &res, "state_getStorage", params...); err != nil {
		return nil, fmt.Errorf("read %s.%s: %w", pallet, item, err)
	}
	if res == nil {
		return nil, nil
	}
	return decodeHex(*res)
}

// storageOrDefault reads pallet.item, falling back to the metadata default.
func (c *Client) storageOrDefault(ctx context.Context, rt *Runtime, at, pallet, item string, args ...[]byte) ([]byte, error) {
	v, err := c.storage(ctx, rt, at, pallet, item, args...)
	if err != nil || v != nil {
		return v, err
	}
	e, err := rt.storageEntry(pallet, item)
	if err != nil {
		return nil, err
	}
	return e.Fallback, nil
}
