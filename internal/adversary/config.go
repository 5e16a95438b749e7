package adversary

import (
	"log/slog"
	"slices"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/validator"
	"github.com/fractal-grid/fractal/verify"
)

// Config sets up one run of the suite.
type Config struct {
	Challenges       int             // rounds; every miner is challenged once a round
	Honest           int             // honest miners
	Sybils           int             // hotkeys of the one Sybil operator
	Tolerant         bool            // jittered engines checked by a tolerant verifier
	Strategies       []string        // the cheats to field; nil: every one
	Shape            validator.Shape // the challenges' spec shape
	Policy           verify.Policy   // the validator's verification policy
	StepShare        float64         // σ: share of a generation spent in sampling steps
	DevicePerCost    time.Duration   // device time of an honest generation per unit of spec cost
	ChallengeTimeout time.Duration
	SharedProb       float64 // chance a challenge is also sent to the next miner
	FlakyRate        float64
	CorpusSize       int    // the validator's prompts, all of them in the replay cheat's cache
	Dir              string // for the validator's JetStream store
	Logger           *slog.Logger

	// HonestPerOperator (1) puts that many honest miners, each on its own
	// GPU, under one coldkey: an operator with several GPUs, challenged in
	// one burst like a Sybil's hotkeys.
	HonestPerOperator int
	// UnlinkedSizes (3) are the hotkeys of each unlinkable Sybil: one
	// modelled GPU each, a coldkey (and address) per hotkey.
	UnlinkedSizes []int
	// UsersLoad (0.5) is users' load beside the challenges, as a share of
	// the grid's capacity (every modelled GPU): jobs submitted in turn to
	// the validator's own gateway and to a replica that shares them
	// through the store; 0: none.
	UsersLoad float64
	// OrganicSample is the share of users' jobs the validator verifies
	// (its default, 0.1).
	OrganicSample float64
	// OpenRetryDelay (250 ms) is the validator's wait before asking a
	// late opening again, doubled at each retry: short, so that the
	// retries end within the suite (the validator waits 30 s).
	OpenRetryDelay time.Duration
	// Public (true) announces each operator's miners at a public address of
	// its own (in 203.0.113.0/24, reached over loopback), and the
	// validator groups hotkeys by address as on a public grid; false
	// serves them on 127.0.0.1 with private axons allowed.
	Public bool
	// ChallengePath is how the validator's challenges reach the miners:
	// validator.ChallengeQueue (the default: jobs pinned to their miners,
	// sent by the users' gateways like users' jobs) or
	// validator.ChallengeDirect (sent by the validator itself).
	ChallengePath string
}

// AllCheats lists every cheating strategy in report order, the cheats
// that hide (HiddenCheats) last.
func AllCheats() []string {
	return append([]string{NameLazy, NameFakeFrames, NameReplay, NameSkipHalf, NameSkipFourth, NameLowSteps, NameWrongModel, NameSybil, NameSybilUnlinked, NameSlow, NameFlaky}, HiddenCheats()...)
}

// VerificationCheats are the strategies that deliver work that is not the
// model's; the others deliver true results slowly, rarely or from fewer GPUs.
func VerificationCheats() []string {
	return []string{NameLazy, NameFakeFrames, NameReplay, NameSkipHalf, NameSkipFourth, NameLowSteps, NameWrongModel}
}

// DefaultConfig is a small grid: four honest miners, every cheat, three
// Sybil hotkeys, tiny videos on a device that takes about 270 ms for one.
// Each round lasts the challenge timeout, which the slow miner runs into.
func DefaultConfig(dir string) Config {
	return Config{
		Challenges:       20,
		Honest:           4,
		Sybils:           3,
		Shape:            validator.Shape{Width: 64, Height: 64, Frames: 2, FPS: 8, Steps: 8},
		Policy:           verify.DefaultPolicy(),
		StepShare:        0.5,
		DevicePerCost:    50 * time.Second,
		ChallengeTimeout: 2 * time.Second,
		SharedProb:       0.1,
		FlakyRate:        0.05,
		CorpusSize:       validator.DefaultConfig().CorpusSize,
		Dir:              dir,

		HonestPerOperator: 1,
		UnlinkedSizes:     []int{3},
		UsersLoad:         0.5,
		OrganicSample:     validator.DefaultConfig().OrganicSample,
		OpenRetryDelay:    250 * time.Millisecond,
		Public:            true,
		ChallengePath:     validator.ChallengeQueue,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Challenges < 1:
		return fractal.Errorf("challenges", "must be at least 1, got %d", c.Challenges)
	case c.Honest < 1:
		return fractal.Errorf("honest", "need at least one honest miner, got %d", c.Honest)
	case c.HonestPerOperator < 1:
		return fractal.Errorf("honest-per-operator", "must be at least 1, got %d", c.HonestPerOperator)
	case c.StepShare <= 0 || c.StepShare > 1:
		return fractal.Errorf("step-share", "must be in (0, 1], got %g", c.StepShare)
	case c.CorpusSize < 1:
		return fractal.Errorf("corpus", "must hold at least one prompt, got %d", c.CorpusSize)
	case c.UsersLoad < 0 || c.UsersLoad >= 1:
		return fractal.Errorf("users-load", "must be in [0, 1), got %g", c.UsersLoad)
	case slices.ContainsFunc(c.UnlinkedSizes, func(n int) bool { return n < 1 }):
		return fractal.Errorf("unlinked", "each unlinkable Sybil needs at least one hotkey, got %v", c.UnlinkedSizes)
	case c.OpenRetryDelay < 0:
		return fractal.Errorf("open-retry-delay", "must not be negative, got %s", c.OpenRetryDelay)
	case c.ChallengePath != validator.ChallengeQueue && c.ChallengePath != validator.ChallengeDirect:
		return fractal.Errorf("challenge-path", "must be %s or %s, got %q", validator.ChallengeQueue, validator.ChallengeDirect, c.ChallengePath)
	case c.Dir == "":
		return fractal.Errorf("dir", "the store needs a directory")
	}
	for _, s := range c.Strategies {
		if !slices.Contains(AllCheats(), s) {
			return fractal.Errorf("strategies", "unknown strategy %q", s)
		}
	}
	return c.Policy.Validate()
}
