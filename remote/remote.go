// Package remote is a fractal.Engine that runs on another process over the
// engine protocol (docs/engine-protocol.md): a GPU engine written in any
// language, or `fractal engine`. Everything it receives is checked (shapes,
// sizes, digests) before a caller sees it.
package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
)

// ErrProtocol is wrapped by errors for replies that break the engine protocol.
var ErrProtocol = errors.New("engine protocol violation")

// Config bounds what the client accepts.
type Config struct {
	// MaxStateBytes bounds one state payload.
	MaxStateBytes int64
	// MaxErrorBytes bounds an error reply body.
	MaxErrorBytes int64
}

// DefaultConfig returns 256 MiB states and 64 KiB error bodies.
func DefaultConfig() Config {
	return Config{MaxStateBytes: 256 << 20, MaxErrorBytes: 64 << 10}
}

// Validate checks the config.
func (c Config) Validate() error {
	switch {
	case c.MaxStateBytes < 4:
		return fractal.Errorf("max_state_bytes", "must be at least 4, got %d", c.MaxStateBytes)
	case c.MaxErrorBytes < 1:
		return fractal.Errorf("max_error_bytes", "must be positive, got %d", c.MaxErrorBytes)
	}
	return nil
}

// Engine is a remote engine. Open fetches its profile; the first engine call
// opens it when Open was not called.
type Engine struct {
	// Config bounds replies; set before first use.
	Config Config

	base   *url.URL
	client *http.Client

	mu          sync.Mutex
	opened      bool
	profile     fractal.Profile
	decodeFrame bool
	class       string
}

var (
	_ fractal.Engine           = (*Engine)(nil)
	_ fractal.FrameDecoder     = (*Engine)(nil)
	_ fractal.ExecutionClasser = (*Engine)(nil)
)

// New returns a client for the engine at baseURL (http or https). A nil
// httpClient gets a client of its own.
func New(baseURL string, httpClient *http.Client) (*Engine, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fractal.Errorf("engine", "must be an http(s) URL, got %q", baseURL)
	}
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	return &Engine{Config: DefaultConfig(), base: u, client: httpClient}, nil
}

// Open fetches and checks the engine's profile, once.
func (e *Engine) Open(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.opened {
		return nil
	}
	if err := e.Config.Validate(); err != nil {
		return fmt.Errorf("remote engine config: %w", err)
	}
	reply, err := e.fetchProfile(ctx)
	if err != nil {
		return err
	}
	e.profile, e.opened = reply.Profile, true
	e.decodeFrame = slices.Contains(reply.Capabilities, engineapi.CapDecodeFrame)
	e.class = reply.ExecutionClassID
	return nil
}

// ExecutionClass returns the execution class the engine reported with its
// profile ("" before Open, or for an engine without one).
func (e *Engine) ExecutionClass() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.class
}

func (e *Engine) fetchProfile(ctx context.Context) (engineapi.ProfileReply, error) {
	var reply engineapi.ProfileReply
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url("/v1/profile"), nil)
	if err != nil {
		return reply, fmt.Errorf("engine profile: %w", err)
	}
	resp, err := e.do(req)
	if err != nil {
		return reply, fmt.Errorf("engine profile: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, engineapi.MaxLineBytes+1))
	if err != nil {
		return reply, fmt.Errorf("engine profile: %w", e.transportErr(ctx, err))
	}
	if len(body) > engineapi.MaxLineBytes {
		return reply, fmt.Errorf("engine profile over %d bytes: %w", engineapi.MaxLineBytes, ErrProtocol)
	}
	if err := json.Unmarshal(body, &reply); err != nil {
		return reply, fmt.Errorf("engine profile: %v: %w", err, ErrProtocol)
	}
	switch reply.Protocol {
	case engineapi.Protocol:
		if reply.Profile.Limits.Zero() || reply.Profile.Cost.Zero() {
			return reply, fmt.Errorf("engine speaks %s but its profile has no limits or cost model: %w", reply.Protocol, ErrProtocol)
		}
	case engineapi.ProtocolV1:
		reply.Profile = reply.Profile.WithDefaults()
	default:
		return reply, fmt.Errorf("engine speaks %q, want %q or %q: %w", reply.Protocol, engineapi.Protocol, engineapi.ProtocolV1, ErrProtocol)
	}
	if err := reply.Profile.Validate(); err != nil {
		return reply, fmt.Errorf("engine profile %s: %v: %w", reply.Profile, err, ErrProtocol)
	}
	if err := fractal.ValidateClass(reply.ExecutionClassID); err != nil {
		return reply, fmt.Errorf("engine profile %s: execution_class_id: %v: %w", reply.Profile, err, ErrProtocol)
	}
	return reply, nil
}

// Profile returns the profile fetched by Open (the zero Profile before).
func (e *Engine) Profile() fractal.Profile {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.profile
}

func (e *Engine) url(path string) string { return e.base.String() + path }

// do sends req and turns every non-200 reply into its mapped error.
func (e *Engine) do(req *http.Request) (*http.Response, error) {
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, e.transportErr(req.Context(), err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, e.Config.MaxErrorBytes))
	var reply engineapi.ErrorReply
	if json.Unmarshal(body, &reply) != nil {
		reply.Error = engineapi.ErrorBody{Message: strings.TrimSpace(string(body))}
	}
	return nil, engineapi.Err(reply.Error, resp.StatusCode, engineapi.ParseRetryAfter(resp.Header.Get("Retry-After")))
}

// transportErr keeps the caller's context error and marks anything else as
// the engine being unavailable.
func (e *Engine) transportErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w (%v)", ctxErr, err)
	}
	if errors.Is(err, fractal.ErrInvalid) || errors.Is(err, fractal.ErrTooLarge) || errors.Is(err, fractal.ErrMismatch) || errors.Is(err, ErrProtocol) {
		return err
	}
	return fmt.Errorf("%v: %w", err, fractal.ErrUnavailable)
}

// post sends one request record.
func (e *Engine) post(ctx context.Context, path string, v any, payload []byte) (*http.Response, error) {
	if err := e.Open(ctx); err != nil {
		return nil, err
	}
	n, err := engineapi.RecordSize(v, len(payload))
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	body.Grow(n)
	if err := engineapi.WriteRecord(&body, v, payload); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url(path), &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", engineapi.ContentType)
	return e.do(req)
}

// single reads the one record of a non-streamed reply.
func (e *Engine) single(ctx context.Context, resp *http.Response, typ string, maxPayload int64, v any) (*engineapi.Record, error) {
	defer resp.Body.Close()
	rd := engineapi.NewReader(resp.Body, maxPayload)
	rec, err := rd.Next()
	if errors.Is(err, engineapi.ErrNoRecord) {
		return nil, fmt.Errorf("empty reply, want a %s record: %w", typ, ErrProtocol)
	}
	if err != nil {
		return nil, protocolErr(ctx, err)
	}
	if rec.Type != typ {
		return nil, fmt.Errorf("reply record %q, want %q: %w", rec.Type, typ, ErrProtocol)
	}
	if err := rec.Decode(v); err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrProtocol)
	}
	return rec, nil
}

// protocolErr classifies an error met while reading a reply: a malformed
// or oversized reply is the engine's fault, not the caller's.
func protocolErr(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	case errors.Is(err, ErrProtocol), errors.Is(err, fractal.ErrMismatch):
		return err
	case errors.Is(err, fractal.ErrInvalid), errors.Is(err, fractal.ErrTooLarge):
		return fmt.Errorf("%v: %w", err, ErrProtocol)
	}
	return fmt.Errorf("read reply: %v: %w", err, fractal.ErrUnavailable)
}
