package fractal

import (
	"context"
	"fmt"
	"net/netip"
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
	UID             uint16 `json:"uid"`
	Hotkey          string `json:"hotkey"`  // SS58
	Coldkey         string `json:"coldkey"` // SS58
	Stake           uint64 `json:"stake"`   // rao
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
