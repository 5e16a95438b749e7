// Package gateway is the public video API: apps submit prompts, the gateway
// persists each job before answering, routes it to the miner predicted to
// finish it first (package router over the grid map), retries on another
// miner when one fails, stores the result and serves it as MP4, WebM, GIF
// or canonical frames. Several replicas share jobs, results, keys and the
// grid map through one JetStream store.
package gateway

import (
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// Config holds a gateway's settings.
type Config struct {
	NetUID            uint16
	Replica           string        // names this replica in the shared grid map
	MaxBodyBytes      int64         // request body limit
	Dispatchers       int           // jobs dispatched at once by this replica
	MaxAttempts       int           // miners tried per job before it fails
	MaxQueueTime      time.Duration // a job nobody can serve fails after this long
	MaxDeliveries     int           // deliveries of one job before it fails; below the queue's own bound
	AttemptTimeout    time.Duration // fixed part of one attempt's deadline
	StoreOutage       time.Duration // a dispatcher waits this long for an unreachable store before it leaves the job to a later delivery
	SecsPerCost       time.Duration // attempt deadline per unit of spec cost
	ProbeInterval     time.Duration // health probes of every miner
	MaxWait           time.Duration // longest Prefer: wait
	DefaultRate       float64       // requests per second per API key
	DefaultBurst      int
	DefaultActiveJobs int // unfinished jobs per API key
	AuthFailuresPerIP int // failed authentications per minute per client address
	WebhookAttempts   int
	AllowPrivateAxons bool // route to miners on private/loopback addresses (local grids)
	AllowPrivateHooks bool // deliver webhooks to private/loopback addresses (local grids)
	// PublicMetrics serves GET /metrics to callers on public addresses too.
	// Off, only loopback, private and link-local callers (a Prometheus
	// beside the gateway) get it: the counters of challenges and verdicts,
	// read as a request arrives, would tell a miner which requests are
	// challenges.
	PublicMetrics bool
	// Retention is how long a video's content (frames, encodings) is kept
	// after it completed; its record stays. Every SweepInterval each
	// replica removes expired blobs, SweepBatch at a time.
	Retention     time.Duration
	SweepInterval time.Duration
	SweepBatch    int
	// Pins are the models the grid serves over time; a create names one of
	// the pins active at the current block (the newest by default).
	Pins fractal.Pins
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		NetUID:            1,
		Replica:           "gw",
		MaxBodyBytes:      16 << 10,
		Dispatchers:       16,
		MaxAttempts:       3,
		MaxQueueTime:      10 * time.Minute,
		MaxDeliveries:     18,
		AttemptTimeout:    20 * time.Second,
		StoreOutage:       2 * time.Minute,
		SecsPerCost:       60 * time.Second,
		ProbeInterval:     2 * time.Second,
		MaxWait:           60 * time.Second,
		DefaultRate:       5,
		DefaultBurst:      20,
		DefaultActiveJobs: 16,
		AuthFailuresPerIP: 30,
		WebhookAttempts:   5,
		Retention:         7 * 24 * time.Hour,
		SweepInterval:     10 * time.Minute,
		SweepBatch:        100,
		Pins:              fractal.PinsOf(refengine.New().Profile()),
	}
}

// Validate checks the settings.
func (c Config) Validate() error {
	switch {
	case fractal.ValidateToken("replica", c.Replica) != nil:
		return fractal.ValidateToken("replica", c.Replica)
	case c.MaxBodyBytes < 1<<10:
		return fractal.Errorf("max-body", "must be at least 1 KiB, got %d", c.MaxBodyBytes)
	case c.Dispatchers < 1 || c.Dispatchers > 1024:
		return fractal.Errorf("dispatchers", "must be between 1 and 1024, got %d", c.Dispatchers)
	case c.MaxAttempts < 1 || c.MaxAttempts > 16:
		return fractal.Errorf("max-attempts", "must be between 1 and 16, got %d", c.MaxAttempts)
	case c.MaxDeliveries < 1:
		return fractal.Errorf("max-deliveries", "must be positive, got %d", c.MaxDeliveries)
	case c.AttemptTimeout <= 0 || c.MaxQueueTime <= 0 || c.ProbeInterval <= 0 || c.StoreOutage <= 0:
		return fractal.Errorf("timeouts", "attempt timeout, queue time, store outage and probe interval must be positive")
	case c.DefaultRate <= 0 || c.DefaultBurst < 1 || c.DefaultActiveJobs < 1:
		return fractal.Errorf("rate", "rate, burst and active jobs must be positive")
	case c.Retention < time.Second:
		return fractal.Errorf("retention", "must be at least 1s, got %v", c.Retention)
	case c.SweepInterval <= 0 || c.SweepBatch < 1:
		return fractal.Errorf("sweep", "interval and batch must be positive, got %v and %d", c.SweepInterval, c.SweepBatch)
	}
	return c.Pins.Validate()
}
