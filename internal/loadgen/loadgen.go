// Package loadgen is an open-loop load generator for the video API: it
// sends POST /v1/videos at a fixed rate whatever the answers, counts what
// the gateway answered, then follows every accepted job until it completed
// or failed (with a reason) or the wait ran out. Rate, duration and request
// count are bounded so a typo cannot flood a gateway for hours.
package loadgen

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/fractal-grid/fractal"
)

// Bounds of a run.
const (
	MaxRate     = 5000             // requests per second
	MaxDuration = 10 * time.Minute // of sending
	MaxWait     = 30 * time.Minute // for accepted jobs to finish
	MaxRequests = 1_000_000        // rate × duration
)

// Config sets up one run.
type Config struct {
	Target   string        // base URL of the gateway, e.g. http://127.0.0.1:8080
	Key      string        // API key (Bearer)
	Rate     float64       // requests per second
	Duration time.Duration // of sending
	Body     []byte        // the create request
	// Wait bounds how long accepted jobs are followed after the last request.
	Wait time.Duration
	// PID, when positive, is the gateway's process: its peak resident memory
	// is read from /proc.
	PID int
	// MaxInFlight bounds requests waiting for an answer; a request due while
	// the bound is reached is not sent and counted as dropped.
	MaxInFlight int
	// Timeout bounds each request.
	Timeout time.Duration
	// Client sends the requests; nil: one of its own.
	Client *http.Client
}

// DefaultBody is a small job: a few frames at 64×64.
const DefaultBody = `{"prompt": "a red ball bouncing over the ocean at night", "size": "64x64", "frames": 4, "steps": 6}`

// DefaultConfig returns the defaults for target and key.
func DefaultConfig(target, key string) Config {
	return Config{
		Target: target, Key: key, Rate: 10, Duration: 10 * time.Second, Body: []byte(DefaultBody),
		Wait: 2 * time.Minute, MaxInFlight: 2000, Timeout: 10 * time.Second,
	}
}

// Validate refuses absurd runs.
func (c Config) Validate() error {
	u, err := url.Parse(c.Target)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fractal.Errorf("target", "must be an http(s) URL, got %q", c.Target)
	case c.Key == "":
		return fractal.Errorf("key", "must be set")
	case !(c.Rate > 0 && c.Rate <= MaxRate):
		return fractal.Errorf("rate", "must be in (0, %d] requests/s, got %g", MaxRate, c.Rate)
	case c.Duration <= 0 || c.Duration > MaxDuration:
		return fractal.Errorf("duration", "must be in (0, %s], got %s", MaxDuration, c.Duration)
	case c.Rate*c.Duration.Seconds() > MaxRequests:
		return fractal.Errorf("rate", "rate × duration must be at most %d requests, got %.0f", MaxRequests, c.Rate*c.Duration.Seconds())
	case c.Wait < 0 || c.Wait > MaxWait:
		return fractal.Errorf("wait", "must be in [0, %s], got %s", MaxWait, c.Wait)
	case c.MaxInFlight < 1 || c.MaxInFlight > 100_000:
		return fractal.Errorf("max-in-flight", "must be in [1, 100000], got %d", c.MaxInFlight)
	case c.Timeout <= 0:
		return fractal.Errorf("timeout", "must be positive, got %s", c.Timeout)
	case len(c.Body) == 0:
		return fractal.Errorf("body", "must be set")
	case c.PID < 0:
		return fractal.Errorf("pid", "must not be negative, got %d", c.PID)
	}
	return nil
}

// Report is what one run measured.
type Report struct {
	Rate        float64 `json:"rate"`
	DurationSec float64 `json:"duration_s"`

	Sent              int            `json:"sent"`
	Accepted          int            `json:"accepted"`   // 202 (or 200 for a finished job)
	Overloaded        int            `json:"overloaded"` // 429
	MissingRetryAfter int            `json:"overloaded_without_retry_after"`
	Other             int            `json:"other"` // any other status or a transport error
	OtherByStatus     map[string]int `json:"other_by_status,omitempty"`
	Dropped           int            `json:"dropped"` // not sent: MaxInFlight requests were waiting
	AcceptedPerSec    float64        `json:"accepted_per_s"`

	Latency Percentiles `json:"post_latency_ms"`

	// After the run: how the accepted jobs ended.
	Completed      int      `json:"completed"`
	Failed         int      `json:"failed"`
	FailedNoReason int      `json:"failed_without_reason"`
	Cancelled      int      `json:"cancelled"`
	Unfinished     int      `json:"unfinished"` // still queued or in progress when the wait ran out
	Lost           int      `json:"lost"`       // accepted, then unknown to the gateway (404)
	DrainSec       float64  `json:"drain_s"`    // from the last request until every job ended
	FailReasons    []string `json:"fail_reasons,omitempty"`

	// PeakRSSBytes is the gateway's peak resident memory (0: not measured).
	PeakRSSBytes int64 `json:"peak_rss_bytes,omitempty"`
}

// Percentiles of request latency, in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// OK reports whether the run kept every promise: no request answered with
// anything but 2xx or 429, every 429 with Retry-After, every accepted job
// ended, every failure with a reason, none lost.
func (r *Report) OK() error {
	switch {
	case r.Other > 0:
		return fmt.Errorf("%d requests answered with neither 2xx nor 429: %v", r.Other, r.OtherByStatus)
	case r.MissingRetryAfter > 0:
		return fmt.Errorf("%d 429 answers without Retry-After", r.MissingRetryAfter)
	case r.Lost > 0:
		return fmt.Errorf("%d accepted jobs lost", r.Lost)
	case r.Unfinished > 0:
		return fmt.Errorf("%d accepted jobs unfinished after the wait", r.Unfinished)
	case r.FailedNoReason > 0:
		return fmt.Errorf("%d jobs failed without a reason", r.FailedNoReason)
	}
	return nil
}
