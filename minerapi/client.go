package minerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/framesfile"
)

// Target is one miner: its base URL (http://IP:PORT from its axon) and
// hotkey, which signed requests name as their receiver.
type Target struct {
	URL    string
	Hotkey string
}

// Client calls miners. Its HTTP client's transport must sign requests
// (epistula.Transport); each request names the miner's hotkey as receiver.
type Client struct {
	HTTP          *http.Client
	MaxFrameBytes int64            // largest frames payload accepted; 0: 256 MiB
	Now           func() time.Time // clock for latency figures; nil: time.Now
}

// Outcome is a finished generation as the caller saw it.
type Outcome struct {
	Result *ResultEvent
	Frames *fractal.Frames
	// FramesFile is the canonical frames file as received (checked against
	// the receipt), so a caller can store it without compressing again.
	FramesFile    []byte
	QueuePosition int
	// Latency measured by the caller from sending the request.
	Accepted      time.Duration // to the accepted event
	Started       time.Duration // to the started event: the engine began; 0 if the miner sent none
	FirstProgress time.Duration // to the first progress event
	Total         time.Duration // to the last frames byte
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) post(ctx context.Context, t Target, path string, body any) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	ctx = epistula.WithReceiver(ctx, t.Hotkey)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(t.URL, "/")+path, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("miner %s: %w", t.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("miner %s: %w: %w", t.URL, fractal.ErrUnavailable, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, fmt.Errorf("miner %s: %w", t.URL, apierr.Miner.Read(resp))
	}
	return resp, nil
}

// Generate asks t for req, calling onEvent (if set) for every event, and
// returns the result with frames whose digest and shape were checked
// against the miner's commitment and the spec. A miner that breaks the
// protocol gives an error wrapping ErrStream or fractal.ErrMismatch.
func (c *Client) Generate(ctx context.Context, t Target, req GenerateRequest, onEvent func(Event)) (*Outcome, error) {
	start := c.now()
	resp, err := c.post(ctx, t, PathGenerate, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := c.MaxFrameBytes
	if limit <= 0 {
		limit = 256 << 20
	}
	out := &Outcome{}
	sr := NewStreamReader(resp.Body, limit)
	for {
		e, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("miner %s: %w: stream ended before the frames", t.URL, ErrStream)
		}
		if err != nil {
			return nil, fmt.Errorf("miner %s: %w", t.URL, err)
		}
		if onEvent != nil {
			onEvent(e)
		}
		switch e.Type {
		case EventAccepted:
			out.Accepted, out.QueuePosition = c.now().Sub(start), e.QueuePosition
		case EventStarted:
			out.Started = c.now().Sub(start)
		case EventProgress:
			if out.FirstProgress == 0 {
				out.FirstProgress = c.now().Sub(start)
			}
		case EventResult:
			out.Result = e.Result
		case EventError:
			var body apierr.Body
			if e.Error != nil {
				body = *e.Error
			}
			return nil, fmt.Errorf("miner %s: job failed: %w", t.URL, apierr.Miner.Err(body, 0, 0))
		case EventFrames:
			if out.Result == nil {
				return nil, fmt.Errorf("miner %s: %w: frames before the result", t.URL, ErrStream)
			}
			payload, err := sr.Payload()
			if err != nil {
				return nil, fmt.Errorf("miner %s: %w", t.URL, err)
			}
			out.Total = c.now().Sub(start)
			frames, err := decodeFrames(req.Spec, out.Result, payload, limit)
			if err != nil {
				return nil, fmt.Errorf("miner %s: %w", t.URL, err)
			}
			out.Frames, out.FramesFile = frames, payload
			return out, nil
		}
	}
}

// decodeFrames reads a frames payload, checking its shape against the spec
// and its digest against the receipt: the header must name the committed
// digest, and UnmarshalFrames checks that the pixels hash to it.
func decodeFrames(spec fractal.Spec, res *ResultEvent, payload []byte, limit int64) (*fractal.Frames, error) {
	h, err := framesfile.ReadHeader(bytes.NewReader(payload), limit)
	if err != nil {
		return nil, fmt.Errorf("frames: %w: %w", ErrStream, err)
	}
	if h.Count != spec.Frames || h.Width != spec.Width || h.Height != spec.Height || h.FPS != spec.FPS {
		return nil, fmt.Errorf("frames shape %d×%dx%d@%d, spec asks %d×%dx%d@%d: %w",
			h.Count, h.Width, h.Height, h.FPS, spec.Frames, spec.Width, spec.Height, spec.FPS, fractal.ErrMismatch)
	}
	if want := res.Receipt.Commitment.FramesDigest; h.Digest != want {
		return nil, fmt.Errorf("frames digest %s, receipt commits to %s: %w", h.Digest, want, fractal.ErrMismatch)
	}
	f, err := framesfile.Unmarshal(bytes.NewReader(payload), limit)
	if errors.Is(err, fractal.ErrMismatch) {
		return nil, fmt.Errorf("frames do not hash to the committed digest: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("frames: %w: %w", ErrStream, err)
	}
	return f, nil
}

// Open asks t to open committed steps of a job, reading states up to the
// hard caps' size. A verifier opens through an Opener, bounded by its
// profile's limits.
func (c *Client) Open(ctx context.Context, t Target, req OpenRequest) (*OpenResponse, error) {
	return c.open(ctx, t, req, fractal.HardLimits().MaxStateElems())
}

// open asks t to open committed steps, reading at most what states of
// maxElems elements take on the wire.
func (c *Client) open(ctx context.Context, t Target, req OpenRequest, maxElems int) (*OpenResponse, error) {
	resp, err := c.post(ctx, t, PathOpen, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out OpenResponse
	// Each opening holds two states of 4-byte elements, base64 in JSON.
	limit := int64(len(req.Steps))*2*4*int64(maxElems)*2 + 1<<20
	if err := json.NewDecoder(io.LimitReader(resp.Body, limit)).Decode(&out); err != nil {
		return nil, fmt.Errorf("miner %s: open: %w: %v", t.URL, ErrStream, err)
	}
	return &out, nil
}

// Health reads t's public status.
func (c *Client) Health(ctx context.Context, t Target) (*Health, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(t.URL, "/")+PathHealth, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("miner %s: %w: %w", t.URL, fractal.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("miner %s: %w", t.URL, apierr.Miner.Read(resp))
	}
	var h Health
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h); err != nil {
		return nil, fmt.Errorf("miner %s: health: %w: %v", t.URL, ErrStream, err)
	}
	return &h, nil
}
