// Package miner is the prover: it serves one pinned engine to permitted
// validators over signed HTTP, streams progress, commits to its sampling
// trajectory, signs receipts and opens committed steps on demand.
package miner

import (
	"fmt"
	"time"

	"github.com/fractal-grid/fractal"
)

// Config holds a miner's settings.
type Config struct {
	NetUID        uint16
	Addr          string        // listen address, HOST:PORT (port 0 picks one)
	ExternalAddr  string        // IP:PORT published with serve_axon; empty: the listen address
	MinStake      uint64        // rao a caller needs besides a validator permit
	Concurrency   int           // generations run at once
	QueueLimit    int           // accepted jobs waiting for a slot
	Retention     time.Duration // how long committed states can be opened
	RetainBytes   int64         // memory budget for retained states
	Checkpoint    int           // keep every Checkpoint-th state; others are recomputed on open
	MaxBodyBytes  int64         // request body limit
	MaxFrameBytes int64         // canonical frames larger than this are refused
	DrainTimeout  time.Duration // how long Close waits for in-flight jobs
	SignatureAge  time.Duration // Epistula staleness window
	AxonVersion   uint32
}

// DefaultConfig returns the defaults: one generation at a time, eight
// waiting, ten minutes of retention in 512 MiB.
func DefaultConfig() Config {
	return Config{
		Addr:          "127.0.0.1:8091",
		Concurrency:   1,
		QueueLimit:    8,
		Retention:     10 * time.Minute,
		RetainBytes:   512 << 20,
		Checkpoint:    5,
		MaxBodyBytes:  64 << 10,
		MaxFrameBytes: 256 << 20,
		DrainTimeout:  30 * time.Second,
		SignatureAge:  8 * time.Second,
		AxonVersion:   1,
	}
}

// Validate checks the settings.
func (c Config) Validate() error {
	switch {
	case c.Addr == "":
		return fractal.Errorf("addr", "must be HOST:PORT")
	case c.Concurrency < 1 || c.Concurrency > 256:
		return fractal.Errorf("concurrency", "must be between 1 and 256, got %d", c.Concurrency)
	case c.QueueLimit < 0 || c.QueueLimit > 10000:
		return fractal.Errorf("queue", "must be between 0 and 10000, got %d", c.QueueLimit)
	case c.Retention <= 0:
		return fractal.Errorf("retention", "must be positive, got %s", c.Retention)
	case c.RetainBytes < 1<<20:
		return fractal.Errorf("retain-bytes", "must be at least 1 MiB, got %d", c.RetainBytes)
	case c.Checkpoint < 1 || c.Checkpoint > fractal.MaxSteps:
		return fractal.Errorf("checkpoint", "must be between 1 and %d, got %d", fractal.MaxSteps, c.Checkpoint)
	case c.MaxBodyBytes < 1<<10:
		return fractal.Errorf("max-body", "must be at least 1 KiB, got %d", c.MaxBodyBytes)
	case c.SignatureAge <= 0:
		return fractal.Errorf("signature-age", "must be positive, got %s", c.SignatureAge)
	case c.DrainTimeout < 0:
		return fmt.Errorf("drain timeout %s is negative: %w", c.DrainTimeout, fractal.ErrInvalid)
	}
	return nil
}
