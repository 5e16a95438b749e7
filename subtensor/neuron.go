package subtensor

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// AxonInfo is the axon a neuron published with serve_axon, as the runtime
// stores it. IP is the u128 address in little-endian byte order.
type AxonInfo struct {
	Block        uint64
	Version      uint32
	IP           [16]byte
	Port         uint16
	IPType       uint8
	Protocol     uint8
	Placeholder1 uint8
	Placeholder2 uint8
}

// PrometheusInfo is the metrics endpoint a neuron published.
type PrometheusInfo struct {
	Block   uint64
	Version uint32
	IP      [16]byte
	Port    uint16
	IPType  uint8
}

// StakeEntry is one coldkey's stake on a hotkey, in rao.
type StakeEntry struct {
	Coldkey [32]byte
	Amount  uint64
}

// NeuronInfoLite is one element of NeuronInfoRuntimeApi_get_neurons_lite, in
// the runtime's field order.
type NeuronInfoLite struct {
	Hotkey          [32]byte
	Coldkey         [32]byte
	UID             uint16
	NetUID          uint16
	Active          bool
	Axon            AxonInfo
	Prometheus      PrometheusInfo
	Stake           []StakeEntry
	Rank            uint16
	Emission        uint64
	Incentive       uint16
	Consensus       uint16
	Trust           uint16
	ValidatorTrust  uint16
	Dividends       uint16
	LastUpdate      uint64
	ValidatorPermit bool
	PruningScore    uint16
}

// minNeuronSize is the fewest bytes one encoded NeuronInfoLite takes: two
// account ids, uid, netuid, active, the fixed-size axon (34) and prometheus
// (31) records, the stake length, eight compact fields, the permit and the
// pruning score.
const minNeuronSize = 32 + 32 + 1 + 1 + 1 + 34 + 31 + 1 + 8 + 1 + 1

// DecodeNeuronsLite decodes the result of get_neurons_lite. It accepts both
// encodings runtimes use: the typed Vec<NeuronInfoLite> (current runtimes)
// and the same bytes wrapped in a SCALE Vec<u8> (spec 218 and older). A
// result is wrapped exactly when its outer compact length equals the number
// of bytes that follow it: a typed vector of n > 0 neurons takes far more
// than n bytes.
func DecodeNeuronsLite(b []byte) ([]NeuronInfoLite, error) {
	r := newReader(b)
	n := r.compact()
	if r.err != nil {
		return nil, fmt.Errorf("neurons_lite: %w", r.err)
	}
	if n == uint64(r.remaining()) && n > 0 {
		return decodeNeuronsLiteTyped(r.bytes(int(n)))
	}
	return decodeNeuronsLiteTyped(b)
}

// decodeNeuronsLiteTyped decodes a typed Vec<NeuronInfoLite> in the field
// order of the runtimes this client knows.
func decodeNeuronsLiteTyped(b []byte) ([]NeuronInfoLite, error) {
	r := newReader(b)
	n := r.compact()
	if r.err != nil {
		return nil, fmt.Errorf("neurons_lite: %w", r.err)
	}
	if n > uint64(r.remaining()/minNeuronSize) {
		return nil, fmt.Errorf("neurons_lite: %d neurons cannot fit in %d bytes", n, r.remaining())
	}
	out := make([]NeuronInfoLite, n)
	for i := range out {
		out[i].decode(r)
		if r.err != nil {
			return nil, fmt.Errorf("neurons_lite: neuron %d: %w", i, r.err)
		}
	}
	if r.remaining() != 0 {
		return nil, fmt.Errorf("neurons_lite: %d trailing bytes after %d neurons", r.remaining(), n)
	}
	return out, nil
}

func (n *NeuronInfoLite) decode(r *reader) {
	n.Hotkey = r.array32()
	n.Coldkey = r.array32()
	n.UID = r.compactU16()
	n.NetUID = r.compactU16()
	n.Active = r.bool()
	n.Axon = AxonInfo{Block: r.u64(), Version: r.u32()}
	copy(n.Axon.IP[:], r.bytes(16))
	n.Axon.Port = r.u16()
	n.Axon.IPType = r.u8()
	n.Axon.Protocol = r.u8()
	n.Axon.Placeholder1 = r.u8()
	n.Axon.Placeholder2 = r.u8()
	n.Prometheus = PrometheusInfo{Block: r.u64(), Version: r.u32()}
	copy(n.Prometheus.IP[:], r.bytes(16))
	n.Prometheus.Port = r.u16()
	n.Prometheus.IPType = r.u8()
	if k := r.length(33); k > 0 {
		n.Stake = make([]StakeEntry, k)
		for i := range n.Stake {
			n.Stake[i] = StakeEntry{Coldkey: r.array32(), Amount: r.compact()}
		}
	}
	n.Rank = r.compactU16()
	n.Emission = r.compact()
	n.Incentive = r.compactU16()
	n.Consensus = r.compactU16()
	n.Trust = r.compactU16()
	n.ValidatorTrust = r.compactU16()
	n.Dividends = r.compactU16()
	n.LastUpdate = r.compact()
	n.ValidatorPermit = r.bool()
	n.PruningScore = r.compactU16()
}

// appendTo encodes n the way the runtime does (the typed form).
func (n *NeuronInfoLite) appendTo(b []byte) []byte {
	b = append(b, n.Hotkey[:]...)
	b = append(b, n.Coldkey[:]...)
	b = appendCompact(b, uint64(n.UID))
	b = appendCompact(b, uint64(n.NetUID))
	b = appendBool(b, n.Active)
	a := n.Axon
	b = appendU32(appendU64(b, a.Block), a.Version)
	b = append(b, a.IP[:]...)
	b = append(appendU16(b, a.Port), a.IPType, a.Protocol, a.Placeholder1, a.Placeholder2)
	p := n.Prometheus
	b = appendU32(appendU64(b, p.Block), p.Version)
	b = append(b, p.IP[:]...)
	b = append(appendU16(b, p.Port), p.IPType)
	b = appendCompact(b, uint64(len(n.Stake)))
	for _, s := range n.Stake {
		b = appendCompact(append(b, s.Coldkey[:]...), s.Amount)
	}
	for _, v := range []uint64{uint64(n.Rank), n.Emission, uint64(n.Incentive), uint64(n.Consensus),
		uint64(n.Trust), uint64(n.ValidatorTrust), uint64(n.Dividends), n.LastUpdate} {
		b = appendCompact(b, v)
	}
	b = appendBool(b, n.ValidatorPermit)
	return appendCompact(b, uint64(n.PruningScore))
}

// EncodeNeuronsLite encodes neurons as a typed Vec<NeuronInfoLite>.
func EncodeNeuronsLite(neurons []NeuronInfoLite) []byte {
	b := appendCompact(make([]byte, 0, len(neurons)*200+4), uint64(len(neurons)))
	for i := range neurons {
		b = neurons[i].appendTo(b)
	}
	return b
}

// TotalStake sums the stake entries, saturating at the u64 maximum.
func (n *NeuronInfoLite) TotalStake() uint64 {
	var sum uint64
	for _, s := range n.Stake {
		if sum > math.MaxUint64-s.Amount {
			return math.MaxUint64
		}
		sum += s.Amount
	}
	return sum
}

// Addr returns the axon's IP address; the zero Addr when none is served.
func (a AxonInfo) Addr() netip.Addr { return ipFromU128(a.IP, a.IPType) }

func ipFromU128(ip [16]byte, ipType uint8) netip.Addr {
	lo := binary.LittleEndian.Uint64(ip[:8])
	hi := binary.LittleEndian.Uint64(ip[8:])
	if ipType == 6 || (ipType != 4 && (hi != 0 || lo > math.MaxUint32)) {
		var be [16]byte
		binary.BigEndian.PutUint64(be[:8], hi)
		binary.BigEndian.PutUint64(be[8:], lo)
		return netip.AddrFrom16(be)
	}
	if lo == 0 && ipType == 0 {
		return netip.Addr{}
	}
	var v4 [4]byte
	binary.BigEndian.PutUint32(v4[:], uint32(lo))
	return netip.AddrFrom4(v4)
}

// ipToU128 encodes addr as bittensor does (int(ip_address(...)) as a u128)
// and returns the ip_type, 4 or 6.
func ipToU128(addr netip.Addr) (ip [16]byte, ipType uint8) {
	addr = addr.Unmap()
	if addr.Is4() {
		v4 := addr.As4()
		binary.LittleEndian.PutUint32(ip[:4], binary.BigEndian.Uint32(v4[:]))
		return ip, 4
	}
	be := addr.As16()
	binary.LittleEndian.PutUint64(ip[:8], binary.BigEndian.Uint64(be[8:]))
	binary.LittleEndian.PutUint64(ip[8:], binary.BigEndian.Uint64(be[:8]))
	return ip, 6
}

// Neuron converts n to the domain type.
func (n *NeuronInfoLite) Neuron() fractal.Neuron {
	out := fractal.Neuron{
		UID:             n.UID,
		Hotkey:          sr25519.SS58(n.Hotkey),
		Coldkey:         sr25519.SS58(n.Coldkey),
		Stake:           n.TotalStake(),
		ValidatorPermit: n.ValidatorPermit,
		Active:          n.Active,
		LastUpdate:      n.LastUpdate,
		Incentive:       n.Incentive,
		Emission:        n.Emission,
	}
	if addr := n.Axon.Addr(); addr.IsValid() {
		out.Axon = fractal.Axon{IP: addr, Port: n.Axon.Port, Protocol: n.Axon.Protocol, Version: n.Axon.Version}
	}
	return out
}
