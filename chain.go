package fractal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// Balances are in rao: 1 TAO = 1e9 rao (u64 on subtensor).
const RaoPerTAO = 1_000_000_000

// Axon is the address a neuron publishes with serve_axon.
type Axon struct {
	IP       netip.Addr `json:"ip"`
	Port     uint16     `json:"port"`
	Protocol uint8      `json:"protocol"` // 4 = TCP/HTTP as bittensor uses it
	Version  uint32     `json:"version"`
}

// Served reports whether the axon has been published (a non-zero address).
func (a Axon) Served() bool { return a.IP.IsValid() && !a.IP.IsUnspecified() && a.Port != 0 }

// AddrPort returns the axon's address.
func (a Axon) AddrPort() netip.AddrPort { return netip.AddrPortFrom(a.IP, a.Port) }

// Validate checks what every chain requires of a published axon: a valid,
// specified, non-broadcast IP address and a non-zero port. (Subtensor also
// refuses exactly 127.0.0.1 and ::1; 127.0.0.2 routes to loopback too.)
func (a Axon) Validate() error {
	switch {
	case !a.IP.IsValid():
		return Errorf("axon.ip", "missing or malformed IP address")
	case a.IP.IsUnspecified():
		return Errorf("axon.ip", "%s is unspecified; publish the address others reach you on", a.IP)
	case a.IP.Unmap() == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || a.IP.IsMulticast():
		return Errorf("axon.ip", "%s is not a unicast address", a.IP)
	case a.Port == 0:
		return Errorf("axon.port", "port 0 is not a port others can reach; use 1-65535")
	}
	return nil
}

// CheckWeights validates a u16 weight vector before it is submitted: uids
// and weights of equal, non-zero length and no uid twice.
func CheckWeights(uids, weights []uint16) error {
	if len(uids) != len(weights) {
		return Errorf("weights", "%d uids but %d weights; they must have the same length", len(uids), len(weights))
	}
	if len(uids) == 0 {
		return Errorf("weights", "empty weight vector")
	}
	seen := make(map[uint16]bool, len(uids))
	for _, u := range uids {
		if seen[u] {
			return Errorf("uids", "uid %d appears twice", u)
		}
		seen[u] = true
	}
	return nil
}

// Neuron is one UID of a subnet's metagraph.
type Neuron struct {
	UID     uint16 `json:"uid"`
	Hotkey  string `json:"hotkey"`  // SS58
	Coldkey string `json:"coldkey"` // SS58
	Stake   uint64 `json:"stake"`   // rao, as the chain counts it for permits and thresholds
	// On dynamic-TAO runtimes Stake is AlphaStake + TaoWeight × RootStake:
	// the hotkey's alpha on the subnet and its TAO staked on the root
	// network (both in rao). Zero on chains without them.
	AlphaStake      uint64 `json:"alpha_stake,omitempty"`
	RootStake       uint64 `json:"root_stake,omitempty"`
	ValidatorPermit bool   `json:"validator_permit"`
	Active          bool   `json:"active"`
	LastUpdate      uint64 `json:"last_update"`
	Incentive       uint16 `json:"incentive"` // u16-normalised as on chain
	Emission        uint64 `json:"emission"`  // rao per tempo
	Axon            Axon   `json:"axon"`
}

// Metagraph is a snapshot of a subnet at a block.
type Metagraph struct {
	NetUID  uint16   `json:"netuid"`
	Block   uint64   `json:"block"`
	Tempo   uint16   `json:"tempo"`
	Neurons []Neuron `json:"neurons"`
}

// ByHotkey returns the neuron registered with hotkey.
func (m *Metagraph) ByHotkey(hotkey string) (Neuron, bool) {
	for _, n := range m.Neurons {
		if n.Hotkey == hotkey {
			return n, true
		}
	}
	return Neuron{}, false
}

// ChainReader reads a subnet's state.
type ChainReader interface {
	Metagraph(ctx context.Context, netuid uint16) (*Metagraph, error)
	// Block returns the current (best) block number.
	Block(ctx context.Context) (uint64, error)
	// WatchBlocks sends each new block number until ctx is done; the channel
	// is closed then. Implementations reconnect on their own.
	WatchBlocks(ctx context.Context) (<-chan uint64, error)
}

// ChainWriter submits extrinsics, each signed by the key that the chain
// requires (the hotkey for serve_axon and set_weights, the coldkey for a
// burned registration). They return once the extrinsic is included.
type ChainWriter interface {
	ServeAxon(ctx context.Context, hotkey Signer, netuid uint16, axon Axon) error
	SetWeights(ctx context.Context, hotkey Signer, netuid uint16, uids []uint16, weights []uint16, versionKey uint64) error
	BurnedRegister(ctx context.Context, coldkey Signer, netuid uint16, hotkey string) error
}

// Chain is a whole chain client.
type Chain interface {
	ChainReader
	ChainWriter
}

// NormalizeWeights turns non-negative float weights into the u16 vector that
// bittensor submits: scaled so the largest weight is 65535 (max-upscaled),
// rounded to nearest, zero entries dropped. uids and weights must be the same
// length.
func NormalizeWeights(uids []uint16, weights []float64) ([]uint16, []uint16, error) {
	if len(uids) != len(weights) {
		return nil, nil, fmt.Errorf("weights: %d uids but %d weights: %w", len(uids), len(weights), ErrInvalid)
	}
	var maxW float64
	for i, w := range weights {
		if w < 0 || w != w {
			return nil, nil, fmt.Errorf("weights: uid %d has weight %v: %w", uids[i], w, ErrInvalid)
		}
		maxW = max(maxW, w)
	}
	if maxW == 0 {
		return nil, nil, fmt.Errorf("weights: all weights are zero: %w", ErrInvalid)
	}
	var outU, outW []uint16
	for i, w := range weights {
		v := uint16(w/maxW*65535 + 0.5)
		if v > 0 {
			outU = append(outU, uids[i])
			outW = append(outW, v)
		}
	}
	return outU, outW, nil
}

// IsPublicIP reports whether ip is a globally reachable unicast address:
// not private, loopback, link-local, unspecified or multicast. Validators
// and gateways refuse other axons unless they run a local grid.
func IsPublicIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !(ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast())
}

// Weights paths: how a validator's weights reach the chain.
const (
	WeightsPathSet      = "set_weights" // plain set_weights
	WeightsPathTimelock = "timelock"    // a drand-timelocked commit the chain reveals
	WeightsPathHash     = "hash"        // commit_weights, then reveal_weights in the reveal epoch
)

// Runtime error names a validator meets when it sets weights; chains name
// their refusals with them (subtensor's own names).
const (
	ErrNameCommitRevealEnabled  = "CommitRevealEnabled"
	ErrNameCommitRevealDisabled = "CommitRevealDisabled"
	ErrNameRevealTooEarly       = "RevealTooEarly"
	ErrNameExpiredWeightCommit  = "ExpiredWeightCommit"
	ErrNameHashNotMatch         = "InvalidRevealCommitHashNotMatch"
	ErrNameNoCommitFound        = "NoWeightsCommitFound"
	ErrNameTooManyUnrevealed    = "TooManyUnrevealedCommits"
	ErrNameTooFast              = "SettingWeightsTooFast"
	ErrNameRevealRoundTooLow    = "InvalidRevealRound"
	ErrNameIncorrectVersion     = "IncorrectCommitRevealVersion"
	ErrNameNotEnoughStake       = "NotEnoughStakeToSetWeights"
)

// ChainErrorName returns the runtime's name for the refusal err carries (an
// error in its chain with a ChainErrorName method, or one of the names
// above in its message), or "" when it names none.
func ChainErrorName(err error) string {
	if err == nil {
		return ""
	}
	var named interface{ ChainErrorName() string }
	if errors.As(err, &named) {
		return named.ChainErrorName()
	}
	msg := err.Error()
	for _, n := range []string{ErrNameCommitRevealEnabled, ErrNameCommitRevealDisabled, ErrNameRevealTooEarly,
		ErrNameExpiredWeightCommit, ErrNameHashNotMatch, ErrNameNoCommitFound, ErrNameTooManyUnrevealed,
		ErrNameTooFast, ErrNameRevealRoundTooLow, ErrNameIncorrectVersion, ErrNameNotEnoughStake} {
		if strings.Contains(msg, n) {
			return n
		}
	}
	return ""
}

// Beacon describes the randomness beacon a chain decrypts timelocked
// weights with: drand quicknet on Bittensor, a stand-in on a devchain.
type Beacon struct {
	// PublicKey is the beacon's compressed G2 public key.
	PublicKey []byte `json:"public_key"`
	// LastRound is the latest round whose pulse the chain holds.
	LastRound uint64 `json:"last_round"`
}

// WeightsPolicy is what a subnet asks of a validator that sets weights,
// read from the chain at Block.
type WeightsPolicy struct {
	NetUID uint16 `json:"netuid"`
	Block  uint64 `json:"block"`
	// CommitReveal is CommitRevealWeightsEnabled: set_weights is refused and
	// weights go through a commit.
	CommitReveal bool `json:"commit_reveal"`
	// CommitRevealVersion is CommitRevealWeightsVersion, which a timelocked
	// commit must name; 4 and later carry the hotkey in the payload.
	CommitRevealVersion uint16 `json:"commit_reveal_version"`
	// RevealPeriodEpochs is how many epochs after its commit a commit is
	// revealed (hash commits must be revealed in exactly that epoch).
	RevealPeriodEpochs uint64 `json:"reveal_period_epochs"`
	// VersionKey is WeightsVersionKey, the lowest version key accepted.
	VersionKey uint64 `json:"version_key"`
	// RateLimit is WeightsSetRateLimit: blocks between two weight calls.
	RateLimit uint64 `json:"rate_limit"`
	// StakeThreshold is the stake (rao) a hotkey needs to set weights.
	StakeThreshold uint64 `json:"stake_threshold"`
	// The epoch schedule: blocks per epoch, the current epoch index and the
	// first block of the next epoch.
	Tempo          uint16 `json:"tempo"`
	Epoch          uint64 `json:"epoch"`
	NextEpochBlock uint64 `json:"next_epoch_block"`
	// RevealRound is the beacon round a timelocked commit included in the
	// next block must be sealed for, so the chain reveals it on time.
	RevealRound uint64 `json:"reveal_round"`
	Beacon      Beacon `json:"beacon"`
}

// PendingCommit is a weights commit the chain holds unrevealed.
type PendingCommit struct {
	Hotkey string `json:"hotkey"`
	Path   string `json:"path"` // WeightsPathHash or WeightsPathTimelock
	Block  uint64 `json:"block"`
	Epoch  uint64 `json:"epoch"`
	// RevealEpoch is the epoch the commit is revealed in.
	RevealEpoch uint64 `json:"reveal_epoch"`
	// RevealRound is the beacon round of a timelocked commit.
	RevealRound uint64 `json:"reveal_round,omitempty"`
	Hash        string `json:"hash,omitempty"` // hex, of a hash commit
}

// WeightsRow is the weights one validator has set (or the chain revealed).
type WeightsRow struct {
	UID     uint16   `json:"uid"`
	Hotkey  string   `json:"hotkey"`
	Block   uint64   `json:"block"`
	UIDs    []uint16 `json:"uids"`
	Weights []uint16 `json:"weights"`
}

// SubnetWeights is a subnet's weights state: the commits waiting for their
// reveal and the weights in force.
type SubnetWeights struct {
	NetUID  uint16          `json:"netuid"`
	Block   uint64          `json:"block"`
	Epoch   uint64          `json:"epoch"`
	Pending []PendingCommit `json:"pending"`
	Rows    []WeightsRow    `json:"weights"`
}

// Row returns hotkey's weights row, the zero row when it holds none.
func (w *SubnetWeights) Row(hotkey string) WeightsRow {
	for _, r := range w.Rows {
		if r.Hotkey == hotkey {
			return r
		}
	}
	return WeightsRow{}
}

// WeightsPolicyReader is a chain that reports a subnet's weights policy.
type WeightsPolicyReader interface {
	WeightsPolicy(ctx context.Context, netuid uint16) (*WeightsPolicy, error)
}

// HashCommitter is a chain with hash commit-reveal: commit_weights with
// CommitHash of the weights, then reveal_weights in the reveal epoch.
type HashCommitter interface {
	CommitWeights(ctx context.Context, hotkey Signer, netuid uint16, hash [32]byte) error
	RevealWeights(ctx context.Context, hotkey Signer, netuid uint16, uids, weights, salt []uint16, versionKey uint64) error
}

// TimelockCommitter is a chain that takes timelocked weights commits
// (a tle ciphertext of the weights payload sealed for revealRound) and
// reveals them itself.
type TimelockCommitter interface {
	CommitTimelockedWeights(ctx context.Context, hotkey Signer, netuid uint16, ciphertext []byte, revealRound uint64, version uint16) error
}

// WeightsStateReader is a chain that lists a subnet's pending commits and
// weights in force.
type WeightsStateReader interface {
	SubnetWeights(ctx context.Context, netuid uint16) (*SubnetWeights, error)
}

// CommitHash is the hash a hash commit-reveal commits to: blake2b-256 of
// the SCALE tuple (hotkey AccountId32, netuid u16, uids Vec<u16>, weights
// Vec<u16>, salt Vec<u16>, version_key u64), as subtensor computes it.
func CommitHash(hotkey [32]byte, netuid uint16, uids, weights, salt []uint16, versionKey uint64) [32]byte {
	b := append([]byte(nil), hotkey[:]...)
	b = binary.LittleEndian.AppendUint16(b, netuid)
	for _, v := range [][]uint16{uids, weights, salt} {
		b = appendCompactLen(b, len(v))
		for _, x := range v {
			b = binary.LittleEndian.AppendUint16(b, x)
		}
	}
	b = binary.LittleEndian.AppendUint64(b, versionKey)
	return blake2b.Sum256(b)
}

// appendCompactLen appends n in SCALE's compact encoding.
func appendCompactLen(b []byte, n int) []byte {
	switch u := uint32(n); {
	case u < 1<<6:
		return append(b, byte(u<<2))
	case u < 1<<14:
		return binary.LittleEndian.AppendUint16(b, uint16(u<<2|1))
	case u < 1<<30:
		return binary.LittleEndian.AppendUint32(b, u<<2|2)
	default:
		return binary.LittleEndian.AppendUint32(append(b, 3), u)
	}
}
