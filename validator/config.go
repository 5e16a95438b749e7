// Package validator is the verifier: each round it challenges miners with
// fresh, unique generation requests, verifies the results cheaply (package
// verify), scores success, latency and throughput, and sets weights on chain
// once per tempo. Its state lives in a KV store and an audit log, so a
// restart keeps every score.
package validator

import (
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/verify"
)

// Config holds a validator's settings.
type Config struct {
	NetUID           uint16
	Round            time.Duration // between challenge rounds (12 s)
	BlockTime        time.Duration // the chain's block time, to spread challenges over a tempo
	PerRound         int           // miners challenged per round; 0 covers every miner once per tempo
	Parallel         int           // challenges in flight at once
	SharedProb       float64       // chance a challenge is also sent to a second miner (cross-check)
	ChallengeTimeout time.Duration // fixed part of a challenge's deadline
	SecsPerCost      time.Duration // deadline per unit of spec cost on top of ChallengeTimeout
	Shapes           []Shape
	CorpusSize       int
	Policy           verify.Policy
	Score            ScoreConfig
	OrganicSample    float64 // share of organic jobs handed over that are verified
	// OpenRetries (3): a late opening is asked again this many times, after
	// OpenRetryDelay (30 s) and then twice the last delay each time, within
	// the miners' retention window; still late, it is open_refused.
	OpenRetries    int
	OpenRetryDelay time.Duration
	// SweepsPerTempo: rounds, drawn at random, that challenge every
	// serving miner at once and set the miners' speed (sweep.go); 0 (the
	// library's default; fractal validator --sweeps 2): none.
	SweepsPerTempo    float64
	WeightsVersionKey uint64 // 0: the subnet's WeightsVersionKey
	// CommitReveal is how weights go to a subnet with commit-reveal on:
	// fractal.WeightsPathTimelock (a drand-timelocked commit the chain
	// reveals) or fractal.WeightsPathHash (commit, then reveal in the reveal
	// epoch). A subnet with it off takes set_weights.
	CommitReveal      string
	AllowPrivateAxons bool // challenge miners on loopback/private addresses (local grids)
	// Pins are the models the subnet serves over time (blocks); empty pins
	// the validator's engines for good. Each pinned profile needs an engine.
	Pins fractal.Pins
	// ChallengePath is how challenges reach miners: ChallengeDirect (""
	// too), the validator sends each itself; or ChallengeQueue, each is a
	// job pinned to its miner in the gateways' queue, dispatched by
	// whichever gateway replica takes it, like a user's job (queue.go).
	ChallengePath string
	// QueueWait bounds how long a queued challenge waits for a replica to
	// dispatch it (30 s, at most fractal.ChallengeQueueLimit); past it, it
	// is cancelled with no verdict.
	QueueWait time.Duration
}

// Challenge paths.
const (
	ChallengeDirect = "direct"
	ChallengeQueue  = "queue"
)

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		NetUID:           1,
		Round:            12 * time.Second,
		BlockTime:        12 * time.Second,
		Parallel:         4,
		SharedProb:       0.05,
		ChallengeTimeout: 20 * time.Second,
		SecsPerCost:      30 * time.Second,
		Shapes:           DefaultShapes(),
		CorpusSize:       600,
		Policy:           verify.DefaultPolicy(),
		Score:            DefaultScoreConfig(),
		OrganicSample:    0.1,
		OpenRetries:      3,
		OpenRetryDelay:   30 * time.Second,
		SweepsPerTempo:   0,
		CommitReveal:     fractal.WeightsPathTimelock,
		ChallengePath:    ChallengeDirect,
		QueueWait:        30 * time.Second,
	}
}

// Validate checks the settings.
func (c Config) Validate() error {
	switch {
	case c.Round < 10*time.Millisecond:
		return fractal.Errorf("round", "must be at least 10ms, got %s", c.Round)
	case c.BlockTime <= 0:
		return fractal.Errorf("block-time", "must be positive, got %s", c.BlockTime)
	case c.PerRound < 0:
		return fractal.Errorf("per-round", "must not be negative, got %d", c.PerRound)
	case c.Parallel < 1 || c.Parallel > 256:
		return fractal.Errorf("parallel", "must be between 1 and 256, got %d", c.Parallel)
	case c.SharedProb < 0 || c.SharedProb > 1:
		return fractal.Errorf("shared-prob", "must be in [0, 1], got %g", c.SharedProb)
	case c.ChallengeTimeout <= 0 || c.SecsPerCost < 0:
		return fractal.Errorf("challenge-timeout", "must be positive, got %s", c.ChallengeTimeout)
	case c.CorpusSize < 1:
		return fractal.Errorf("corpus", "must hold at least one prompt, got %d", c.CorpusSize)
	case c.CommitReveal != "" && c.CommitReveal != fractal.WeightsPathTimelock && c.CommitReveal != fractal.WeightsPathHash:
		return fractal.Errorf("commit-reveal", "must be %s or %s, got %q", fractal.WeightsPathTimelock, fractal.WeightsPathHash, c.CommitReveal)
	case c.OpenRetries < 0 || c.OpenRetries > 8 || c.OpenRetryDelay < 0:
		return fractal.Errorf("open-retries", "must be 0–8 with a delay not negative, got %d and %s", c.OpenRetries, c.OpenRetryDelay)
	case retriesSpan(c.OpenRetryDelay, c.OpenRetries) > MinerRetention:
		return fractal.Errorf("open-retries", "%d retries from %s take %s, past the miners' %s retention", c.OpenRetries, c.OpenRetryDelay, retriesSpan(c.OpenRetryDelay, c.OpenRetries), MinerRetention)
	case c.ChallengePath != "" && c.ChallengePath != ChallengeDirect && c.ChallengePath != ChallengeQueue:
		return fractal.Errorf("challenge-path", "must be %s or %s, got %q", ChallengeDirect, ChallengeQueue, c.ChallengePath)
	case c.ChallengePath == ChallengeQueue && (c.QueueWait <= 0 || c.QueueWait > fractal.ChallengeQueueLimit):
		return fractal.Errorf("queue-wait", "must be positive and at most %s, got %s", fractal.ChallengeQueueLimit, c.QueueWait)
	case c.SweepsPerTempo < 0:
		return fractal.Errorf("sweeps", "must not be negative, got %g", c.SweepsPerTempo)
	case c.OrganicSample < 0 || c.OrganicSample > 1:
		return fractal.Errorf("organic-sample", "must be in [0, 1], got %g", c.OrganicSample)
	case c.Score.Alpha <= 0 || c.Score.Alpha > 1 || c.Score.TierWindow < 1:
		return fractal.Errorf("score", "alpha must be in (0, 1] and the tier window positive")
	case c.Score.SuccessPower < 0 || c.Score.SpeedPower < 0:
		return fractal.Errorf("score", "success and speed powers must not be negative")
	case c.Score.SweepWindow < 0 || c.Score.SweepQuantile < 0 || c.Score.SweepQuantile > 1:
		return fractal.Errorf("score", "the sweep window must not be negative and its quantile must be in [0, 1]; got %d and %g", c.Score.SweepWindow, c.Score.SweepQuantile)
	case c.Score.OrganicWeight < 0 || c.Score.OrganicWeight > 1 || c.Score.OrganicHalfLife < 0:
		return fractal.Errorf("score", "the organic weight must be in [0, 1] and its half-life not negative; got %g and %s", c.Score.OrganicWeight, c.Score.OrganicHalfLife)
	case c.Score.SlowPower < 0 || (c.Score.SlowKnee != 0 && c.Score.SlowKnee < 1):
		return fractal.Errorf("score", "the slow knee must be 0 (off) or at least 1, and its power not negative; got %g and %g", c.Score.SlowKnee, c.Score.SlowPower)
	}
	if err := validateShapes(c.Shapes); err != nil {
		return err
	}
	return c.Policy.Validate()
}
