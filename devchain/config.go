// Package devchain is an embedded stand-in for a Bittensor chain, for local
// grids and tests: subnets, burned registration with pruning, stake,
// validator permits, axons, rate-limited weights, blocks on a timer and a
// simplified Yuma consensus each tempo. It implements fractal.Chain in
// process (Chain) and over HTTP+JSON (Server and Client), so separate
// processes can share one devchain.
package devchain

import (
	"fmt"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// MinBlockTime is the shortest block interval a devchain produces blocks at.
const MinBlockTime = 100 * time.Millisecond

// AliceSS58 is the address of the Substrate development key //Alice, the
// default sudo key of a devchain.
const AliceSS58 = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"

// Config configures a Chain.
type Config struct {
	// DataDir holds the state snapshot; empty keeps state in memory only.
	DataDir string
	// BlockTime is the interval between blocks; 0 produces blocks only on
	// Advance (tests). Otherwise at least MinBlockTime.
	BlockTime time.Duration
	// Sudo is the SS58 address allowed to call the admin functions (stake,
	// subnet parameters, advancing blocks).
	Sudo string
	// GenesisSubnet creates subnet 1, owned by Sudo, on a fresh chain.
	GenesisSubnet bool
	// Subnet holds the parameters new subnets start with.
	Subnet SubnetParams
	// TaoWeight is the part of a hotkey's root TAO (stake added on netuid 0)
	// that counts, with its alpha on a subnet, as its stake there for
	// permits, consensus and StakeThreshold: stake = alpha + TaoWeight ×
	// root, as on dynamic-TAO Bittensor. Between 0 and 1; a fresh chain
	// stores it, a restarted one keeps what it stored.
	TaoWeight float64
	// InclusionEpoch counts a call in the epoch of the block a Bittensor
	// runtime would include it in (the one after the head, whose epoch, if
	// due, runs before its transactions) rather than in the head's epoch. A
	// commit made just before an epoch then reveals an epoch later, as on a
	// runtime, and the stored epoch counter and last epoch block time reveals
	// the way tlock.DynamicSchedule models runtimes since spec 404.
	InclusionEpoch bool
}

// DefaultConfig returns a config with 12 s blocks, //Alice as sudo and a
// genesis subnet.
func DefaultConfig() Config {
	return Config{
		BlockTime:     12 * time.Second,
		Sudo:          AliceSS58,
		GenesisSubnet: true,
		Subnet:        DefaultSubnetParams(),
		TaoWeight:     DefaultTaoWeight,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.BlockTime != 0 && c.BlockTime < MinBlockTime {
		return fractal.Errorf("block_time", "%v is below the minimum %v (0 means manual blocks only)", c.BlockTime, MinBlockTime)
	}
	if !(c.TaoWeight >= 0 && c.TaoWeight <= 1) {
		return fractal.Errorf("tao_weight", "%v is outside 0-1", c.TaoWeight)
	}
	if _, err := sr25519.ParseSS58(c.Sudo); err != nil {
		return fractal.Errorf("sudo", "%v", err)
	}
	return c.Subnet.Validate()
}

// SubnetParams are the hyperparameters of one subnet.
type SubnetParams struct {
	// Tempo is the number of blocks between consensus epochs.
	Tempo uint16 `json:"tempo"`
	// MaxUIDs caps the neurons of the subnet (at most 256 as on Bittensor).
	MaxUIDs uint16 `json:"max_uids"`
	// MaxValidators is k: the top-k staked neurons get a validator permit.
	MaxValidators uint16 `json:"max_validators"`
	// ImmunityPeriod is the number of blocks after registration during which
	// a neuron is not pruned.
	ImmunityPeriod uint64 `json:"immunity_period"`
	// WeightsRateLimit is the number of blocks a validator waits between two
	// set_weights calls; 0 allows one every block.
	WeightsRateLimit uint64 `json:"weights_rate_limit"`
	// WeightsVersionKey is the lowest version key set_weights accepts.
	WeightsVersionKey uint64 `json:"weights_version_key"`
	// ActivityCutoff is the number of blocks after its last update a neuron
	// counts as active.
	ActivityCutoff uint64 `json:"activity_cutoff"`
	// Burn is the registration cost in rao (recorded; the devchain keeps no
	// balances).
	Burn uint64 `json:"burn"`
	// EmissionPerBlock is the rao the subnet emits per block, paid out each
	// tempo by consensus.
	EmissionPerBlock uint64 `json:"emission_per_block"`
	// CommitReveal is CommitRevealWeightsEnabled: set_weights is refused
	// and validators commit weights, hashed or timelocked to the devchain's
	// stand-in beacon, as on a new Bittensor subnet.
	CommitReveal bool `json:"commit_reveal"`
	// RevealPeriodEpochs is the epochs between a commit and its reveal.
	RevealPeriodEpochs uint64 `json:"reveal_period_epochs"`
	// CommitRevealVersion is what timelocked commits must name; 4 and later
	// carry the hotkey in the payload.
	CommitRevealVersion uint16 `json:"commit_reveal_version"`
	// StakeThreshold is the stake (rao) a validator needs to set weights.
	StakeThreshold uint64 `json:"stake_threshold"`
}

// maxRevealPeriod bounds a subnet's reveal period, in epochs.
const maxRevealPeriod = 100

// MaxUIDsLimit is the largest subnet Bittensor allows.
const MaxUIDsLimit = 256

// DefaultSubnetParams mirrors common Bittensor defaults, with a tempo short
// enough to watch the incentive loop locally.
func DefaultSubnetParams() SubnetParams {
	return SubnetParams{
		Tempo:            100,
		MaxUIDs:          MaxUIDsLimit,
		MaxValidators:    64,
		ImmunityPeriod:   4096,
		WeightsRateLimit: 100,
		ActivityCutoff:   5000,
		Burn:             fractal.RaoPerTAO,
		EmissionPerBlock: fractal.RaoPerTAO,
		// New Bittensor subnets start with commit-reveal on.
		CommitReveal:        true,
		RevealPeriodEpochs:  1,
		CommitRevealVersion: 4,
	}
}

// Validate reports the first invalid parameter.
func (p SubnetParams) Validate() error {
	switch {
	case p.Tempo == 0:
		return fractal.Errorf("tempo", "must be at least 1 block")
	case p.MaxUIDs == 0 || p.MaxUIDs > MaxUIDsLimit:
		return fractal.Errorf("max_uids", "%d is outside 1-%d", p.MaxUIDs, MaxUIDsLimit)
	case p.MaxValidators == 0 || p.MaxValidators > p.MaxUIDs:
		return fractal.Errorf("max_validators", "%d is outside 1-max_uids (%d)", p.MaxValidators, p.MaxUIDs)
	case p.ActivityCutoff == 0:
		return fractal.Errorf("activity_cutoff", "must be at least 1 block")
	case p.RevealPeriodEpochs > maxRevealPeriod:
		return fractal.Errorf("reveal_period_epochs", "%d is over %d epochs", p.RevealPeriodEpochs, maxRevealPeriod)
	}
	return nil
}

func (p SubnetParams) String() string {
	return fmt.Sprintf("tempo=%d max_uids=%d max_validators=%d immunity=%d weights_rate_limit=%d commit_reveal=%t reveal_period=%d",
		p.Tempo, p.MaxUIDs, p.MaxValidators, p.ImmunityPeriod, p.WeightsRateLimit, p.CommitReveal, p.revealPeriod())
}
