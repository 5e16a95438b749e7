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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
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

	mu     sync.Mutex
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup
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

// do sends one request and decodes a JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, body []byte, sig string, timeout time.Duration, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return fmt.Errorf("devchain URL %q: %v: %w", c.BaseURL, err, fractal.ErrInvalid)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(signatureHeader, sig)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("devchain at %s is unreachable (is 'fractal devchain' running there?): %w: %w",
			c.BaseURL, fractal.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("devchain at %s: read answer: %w: %w", c.BaseURL, fractal.ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(b[:min(len(b), 200)]))
		}
		if s := sentinelOf(eb.Code, resp.StatusCode); s != nil {
			return fmt.Errorf("%s: %w", strings.TrimSuffix(eb.Error, ": "+s.Error()), s)
		}
		return fmt.Errorf("devchain: %s (HTTP %d)", eb.Error, resp.StatusCode)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("devchain at %s: malformed answer to %s (is it a devchain?): %v: %w", c.BaseURL, path, err, fractal.ErrUnavailable)
	}
	return nil
}

// call signs and sends a write as key.
func (c *Client) call(ctx context.Context, key fractal.Signer, call string, args any) (*callResult, error) {
	body, sig, err := signEnvelope(key, call, args, c.Now())
	if err != nil {
		return nil, err
	}
	var res callResult
	if err := c.do(ctx, http.MethodPost, "/v1/calls/"+call, body, sig, c.Timeout, &res); err != nil {
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
	err := c.do(ctx, http.MethodGet, "/v1/block", nil, "", c.Timeout, &r)
	return r.Block, err
}

// Metagraph returns a snapshot of subnet netuid.
func (c *Client) Metagraph(ctx context.Context, netuid uint16) (*fractal.Metagraph, error) {
	var m fractal.Metagraph
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/subnets/%d/metagraph", netuid), nil, "", c.Timeout, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Subnets lists the subnets.
func (c *Client) Subnets(ctx context.Context) ([]SubnetInfo, error) {
	var out []SubnetInfo
	err := c.do(ctx, http.MethodGet, "/v1/subnets", nil, "", c.Timeout, &out)
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
	err := c.do(ctx, http.MethodGet, "/v1/blocks?"+q.Encode(), nil, "", c.PollWait+c.Timeout, &r)
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
