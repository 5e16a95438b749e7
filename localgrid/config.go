// Package localgrid runs a whole Fractal grid in one process, for a
// newcomer's first look and for end-to-end tests: a devchain served on
// loopback, dev wallets, a subnet with registered and staked hotkeys, N
// miners, and a validator whose gateway serves the video API and the web
// page. State lives under one data directory, so a second run resumes the
// first one's chain, jobs, scores and API key.
package localgrid

import (
	"net/url"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/validator"
)

// Config holds a local grid's settings.
type Config struct {
	DataDir   string        // chain, wallets, store and the API key live here
	Addr      string        // HOST:PORT of the API and web page (port 0 picks one)
	Chain     string        // "dev" (an embedded devchain) or http://HOST:PORT of a devchain
	ChainAddr string        // HOST:PORT the embedded devchain is served on
	BlockTime time.Duration // the embedded devchain's block time
	Miners    int
	Uneven    bool // give the miners different speeds so routing has something to do
	NetUID    uint16
	// Tempo and WeightsRateLimit are set on the subnet, short enough to
	// watch incentive move within a minute.
	Tempo            uint16
	WeightsRateLimit uint64
	// NoCommitReveal turns the subnet's commit-reveal off (it is on, as on
	// a new Bittensor subnet).
	NoCommitReveal bool
	// Round is the validator's time between challenge rounds; Shapes are
	// its challenges, small so that users' jobs keep the CPU.
	Round  time.Duration
	Shapes []validator.Shape
	// MinerConcurrency is the generations each miner runs at once.
	MinerConcurrency int
	// ServeKey lets loopback clients read the demo API key at
	// GET /v1/local/key, so the web page on this machine is ready to use.
	ServeKey bool
	// Upgrade, when set, rehearses a move to another model version.
	Upgrade *Upgrade
	// Engine, when set, is http://HOST:PORT of an engine-protocol server
	// (a GPU engine such as engines/diffusers) that every miner and the
	// validator use instead of the reference engine; the grid pins its
	// profile. Such a server runs one generation at a time, so the miners
	// share its one slot and take turns (SharedEngine): with one GPU, one
	// miner is what a grid needs, and more miners only queue behind each
	// other. EngineWait bounds the wait for it to load its weights.
	Engine     string
	EngineWait time.Duration
	// ChallengePath is how the validator's challenges reach the miners:
	// validator.ChallengeQueue (the default), as jobs pinned to their
	// miners in the gateway's queue, sent by its dispatchers like users'
	// jobs; or validator.ChallengeDirect, sent by the validator itself.
	ChallengePath string
}

// DefaultConfig returns the settings of 'fractal up'.
func DefaultConfig() Config {
	return Config{
		Addr:             "127.0.0.1:8080",
		Chain:            "dev",
		ChainAddr:        "127.0.0.1:0",
		BlockTime:        time.Second,
		Miners:           4,
		NetUID:           1,
		Tempo:            20,
		WeightsRateLimit: 1,
		Round:            4 * time.Second,
		Shapes:           []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 8}, {Width: 96, Height: 64, Frames: 6, FPS: 8, Steps: 6}},
		MinerConcurrency: 1,
		ServeKey:         true,
		EngineWait:       10 * time.Minute,
		ChallengePath:    validator.ChallengeQueue,
	}
}

// MaxMiners bounds the miners of one local grid.
const MaxMiners = 64

// Validate checks the settings.
func (c Config) Validate() error {
	switch {
	case c.DataDir == "":
		return fractal.Errorf("data", "must name a directory")
	case c.Addr == "":
		return fractal.Errorf("addr", "must be HOST:PORT")
	case c.Miners < 1 || c.Miners > MaxMiners:
		return fractal.Errorf("miners", "must be between 1 and %d, got %d", MaxMiners, c.Miners)
	case c.BlockTime < 100*time.Millisecond:
		return fractal.Errorf("block-time", "must be at least 100ms, got %s", c.BlockTime)
	case c.Tempo == 0:
		return fractal.Errorf("tempo", "must be at least 1 block")
	case c.Round < 10*time.Millisecond:
		return fractal.Errorf("round", "must be at least 10ms, got %s", c.Round)
	case c.MinerConcurrency < 1:
		return fractal.Errorf("concurrency", "must be at least 1, got %d", c.MinerConcurrency)
	case len(c.Shapes) == 0:
		return fractal.Errorf("shapes", "need at least one challenge shape")
	case c.ChallengePath != validator.ChallengeQueue && c.ChallengePath != validator.ChallengeDirect:
		return fractal.Errorf("challenge-path", "must be %s or %s, got %q", validator.ChallengeQueue, validator.ChallengeDirect, c.ChallengePath)
	}
	if c.Upgrade != nil {
		if err := c.Upgrade.Validate(c.Miners); err != nil {
			return err
		}
	}
	if c.Engine != "" {
		if err := c.validateEngine(); err != nil {
			return err
		}
	}
	if c.Chain != "dev" {
		u, err := url.Parse(c.Chain)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fractal.Errorf("chain", "must be dev or http://HOST:PORT of a devchain, got %q", c.Chain)
		}
	}
	return nil
}

// validateEngine checks the settings of a grid on an engine server: the
// rehearsal and the uneven speeds are the reference engine's.
func (c Config) validateEngine() error {
	u, err := url.Parse(c.Engine)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fractal.Errorf("engine", "must be http://HOST:PORT of an engine-protocol server, got %q", c.Engine)
	case c.EngineWait <= 0:
		return fractal.Errorf("engine-wait", "must be positive, got %s", c.EngineWait)
	case c.Upgrade != nil:
		return fractal.Errorf("engine", "an upgrade rehearsal runs on the reference engine only")
	case c.Uneven:
		return fractal.Errorf("uneven", "slows the reference engine only; an engine server runs at its own speed")
	}
	return nil
}
