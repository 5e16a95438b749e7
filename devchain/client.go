package devchain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// Client is a fractal.Chain (and Admin) talking to a devchain Server. Each
// write is signed by the Signer passed to it.
type Client struct {
	// BaseURL is the server, e.g. http://127.0.0.1:9944.
	BaseURL string
	HTTP    *http.Client
	Logger  *slog.Logger
	Now     func() time.Time
	// Timeout bounds each request other than the block long-poll.
	Timeout time.Duration
	// PollWait is how long one block long-poll waits on the server.
	PollWait time.Duration
	// MinBackoff and MaxBackoff bound the pause before WatchBlocks retries
	// an unreachable server; it doubles after each failure.
	MinBackoff, MaxBackoff time.Duration

	mu         sync.Mutex
	closed     bool
	metagraphs map[uint16]cachedMetagraph
	done       chan struct{}
	wg         sync.WaitGroup
}

var (
	_ fractal.Chain = (*Client)(nil)
	_ Admin         = (*Client)(nil)
)

// NewClient returns a client for the devchain at baseURL.
func NewClient(baseURL string) *Client {
	return &Client{
		BaseURL:    strings.TrimRight(baseURL, "/"),
		HTTP:       &http.Client{},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:        time.Now,
		Timeout:    30 * time.Second,
		PollWait:   DefaultPollWait,
		MinBackoff: 100 * time.Millisecond,
		MaxBackoff: 5 * time.Second,
		done:       make(chan struct{}),
	}
}

// Close stops the WatchBlocks goroutines and waits for them.
func (c *Client) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.done)
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// request is one HTTP exchange with the server.
type request struct {
	method, path string
	body         []byte // a signed envelope, for POST
	sig          string
	timeout      time.Duration
	ifNoneMatch  string // an ETag of a cached answer
}

// do sends r and decodes a JSON answer into out. It returns the answer's
// ETag, and notModified without touching out when the server answered
// 304 to r.ifNoneMatch.
func (c *Client) do(ctx context.Context, r request, out any) (etag string, notModified bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var rd io.Reader
	if r.body != nil {
		rd = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.BaseURL+r.path, rd)
	if err != nil {
		return "", false, fmt.Errorf("devchain URL %q: %v: %w", c.BaseURL, err, fractal.ErrInvalid)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(signatureHeader, r.sig)
	}
	if r.ifNoneMatch != "" {
		req.Header.Set("If-None-Match", r.ifNoneMatch)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", false, fmt.Errorf("devchain at %s is unreachable (is 'fractal devchain' running there?): %w: %w",
			c.BaseURL, fractal.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return "", false, fmt.Errorf("devchain at %s: read answer: %w: %w", c.BaseURL, fractal.ErrUnavailable, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && r.ifNoneMatch != "":
		return r.ifNoneMatch, true, nil
	case resp.StatusCode != http.StatusOK:
		return "", false, apierr.Devchain.Parse(resp.StatusCode, apierr.ParseRetryAfter(resp.Header.Get("Retry-After")), b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return "", false, fmt.Errorf("devchain at %s: malformed answer to %s (is it a devchain?): %v: %w", c.BaseURL, r.path, err, fractal.ErrUnavailable)
	}
	return resp.Header.Get("ETag"), false, nil
}

// get reads path into out.
func (c *Client) get(ctx context.Context, path string, out any) error {
	_, _, err := c.do(ctx, request{method: http.MethodGet, path: path, timeout: c.Timeout}, out)
	return err
}

// call signs and sends a write as key.
func (c *Client) call(ctx context.Context, key fractal.Signer, call string, args any) (*callResult, error) {
	body, sig, err := signEnvelope(key, call, args, c.Now())
	if err != nil {
		return nil, err
	}
	var res callResult
	r := request{method: http.MethodPost, path: "/v1/calls/" + call, body: body, sig: sig, timeout: c.Timeout}
	if _, _, err := c.do(ctx, r, &res); err != nil {
		if strings.HasPrefix(err.Error(), call+":") {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", call, err)
	}
	return &res, nil
}

// Block returns the current block number.
func (c *Client) Block(ctx context.Context) (uint64, error) {
	var r struct{ Block uint64 }
	err := c.get(ctx, "/v1/block", &r)
	return r.Block, err
}

// Metagraph returns a snapshot of subnet netuid. The last snapshot of each
// subnet is cached with its ETag, so an unchanged metagraph costs the
// server and the client almost nothing.
func (c *Client) Metagraph(ctx context.Context, netuid uint16) (*fractal.Metagraph, error) {
	c.mu.Lock()
	cached := c.metagraphs[netuid]
	c.mu.Unlock()
	m := new(fractal.Metagraph)
	r := request{method: http.MethodGet, path: fmt.Sprintf("/v1/subnets/%d/metagraph", netuid), timeout: c.Timeout, ifNoneMatch: cached.etag}
	etag, notModified, err := c.do(ctx, r, m)
	switch {
	case err != nil:
		return nil, err
	case notModified:
		out := *cached.m
		out.Neurons = slices.Clone(cached.m.Neurons)
		return &out, nil
	}
	if etag != "" {
		keep := *m
		keep.Neurons = slices.Clone(m.Neurons)
		c.mu.Lock()
		if c.metagraphs == nil {
			c.metagraphs = map[uint16]cachedMetagraph{}
		}
		c.metagraphs[netuid] = cachedMetagraph{etag: etag, m: &keep}
		c.mu.Unlock()
	}
	return m, nil
}

// cachedMetagraph is the last metagraph of a subnet and its ETag.
type cachedMetagraph struct {
	etag string
	m    *fractal.Metagraph
}

// Subnets lists the subnets.
func (c *Client) Subnets(ctx context.Context) ([]SubnetInfo, error) {
	var out []SubnetInfo
	err := c.get(ctx, "/v1/subnets", &out)
	return out, err
}

// ServeAxon publishes hotkey's axon.
func (c *Client) ServeAxon(ctx context.Context, hotkey fractal.Signer, netuid uint16, axon fractal.Axon) error {
	if err := axon.Validate(); err != nil {
		return fmt.Errorf("serve_axon: %w", err)
	}
	_, err := c.call(ctx, hotkey, callServeAxon, serveAxonArgs{NetUID: netuid, Axon: axon})
	return err
}

// SetWeights sets hotkey's weights.
func (c *Client) SetWeights(ctx context.Context, hotkey fractal.Signer, netuid uint16, uids, weights []uint16, versionKey uint64) error {
	if err := fractal.CheckWeights(uids, weights); err != nil {
		return fmt.Errorf("set_weights: %w", err)
	}
	_, err := c.call(ctx, hotkey, callSetWeights, setWeightsArgs{NetUID: netuid, UIDs: uids, Weights: weights, VersionKey: versionKey})
	return err
}

// BurnedRegister registers hotkey for coldkey.
func (c *Client) BurnedRegister(ctx context.Context, coldkey fractal.Signer, netuid uint16, hotkey string) error {
	_, err := c.call(ctx, coldkey, callBurnedRegister, registerArgs{NetUID: netuid, Hotkey: hotkey})
	return err
}

// CreateSubnet creates a subnet owned by owner.
func (c *Client) CreateSubnet(ctx context.Context, owner fractal.Signer) (uint16, error) {
	res, err := c.call(ctx, owner, callCreateSubnet, struct{}{})
	if err != nil {
		return 0, err
	}
	if res.NetUID == nil {
		return 0, fmt.Errorf("create_subnet: answer lacks the netuid: %w", fractal.ErrUnavailable)
	}
	return *res.NetUID, nil
}

// AddStake adds rao to hotkey's stake; sudo signs.
func (c *Client) AddStake(ctx context.Context, sudo fractal.Signer, netuid uint16, hotkey string, rao uint64) error {
	_, err := c.call(ctx, sudo, callAddStake, addStakeArgs{NetUID: netuid, Hotkey: hotkey, Rao: rao})
	return err
}

// SetSubnetParams replaces netuid's parameters; sudo signs.
func (c *Client) SetSubnetParams(ctx context.Context, sudo fractal.Signer, netuid uint16, p SubnetParams) error {
	_, err := c.call(ctx, sudo, callSetParams, setParamsArgs{NetUID: netuid, Params: p})
	return err
}

// AdvanceBlocks produces n blocks; sudo signs.
func (c *Client) AdvanceBlocks(ctx context.Context, sudo fractal.Signer, n int) (uint64, error) {
	res, err := c.call(ctx, sudo, callAdvance, advanceArgs{Blocks: n})
	if err != nil {
		return 0, err
	}
	if res.Block == nil {
		return 0, fmt.Errorf("advance: answer lacks the block: %w", fractal.ErrUnavailable)
	}
	return *res.Block, nil
}

// waitBlock long-polls for a block above after (after < 0: the current one).
func (c *Client) waitBlock(ctx context.Context, after int64) (uint64, error) {
	q := url.Values{"wait": {c.PollWait.String()}}
	if after >= 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	var r struct{ Block uint64 }
	_, _, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/blocks?" + q.Encode(), timeout: c.PollWait + c.Timeout}, &r)
	return r.Block, err
}

// WatchBlocks sends the current block and then each new one until ctx is
// done or the client closes. When the server goes away it keeps retrying
// with backoff and resumes where it left off; it never closes the channel
// for a connection error.
func (c *Client) WatchBlocks(ctx context.Context) (<-chan uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("devchain client is closed: %w", fractal.ErrUnavailable)
	}
	ch := make(chan uint64, 1)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(ch)
		c.watch(ctx, ch)
	}()
	return ch, nil
}

func (c *Client) watch(ctx context.Context, ch chan<- uint64) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	send := func(b uint64) bool {
		select {
		case ch <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	last, backoff, failing := int64(-1), c.MinBackoff, false
	for ctx.Err() == nil {
		b, err := c.waitBlock(ctx, last)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failing {
				c.Logger.Warn("devchain block watch lost; retrying", logURL, c.BaseURL, logErr, err)
				failing = true
			}
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, c.MaxBackoff)
			continue
		}
		if failing {
			c.Logger.Info("devchain block watch resumed", logURL, c.BaseURL, logBlock, b)
			failing, backoff = false, c.MinBackoff
		}
		switch {
		case last < 0:
			if !send(b) {
				return
			}
		case int64(b) < last:
			c.Logger.Warn("devchain block went backwards (was the chain reset?)", logBlock, b, logPrevious, last)
		default:
			from := uint64(last) + 1
			if b > uint64(last)+maxCatchUp {
				from = b - maxCatchUp + 1
			}
			for x := from; x <= b; x++ {
				if !send(x) {
					return
				}
			}
		}
		last = int64(b)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
