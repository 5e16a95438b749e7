package tlock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// ErrInvalidPayload: a weights payload the runtime cannot apply.
var ErrInvalidPayload = errors.New("invalid weights payload")

// WeightsPayload is the plaintext of a timelocked weights commit, the
// runtime's WeightsTlockPayload. Current runtimes decode
// {hotkey: Vec<u8>, uids: Vec<u16>, values: Vec<u16>, version_key: u64};
// older ones (spec 293, for one) decode the legacy form without hotkey.
type WeightsPayload struct {
	Hotkey     []byte // the committing hotkey's 32-byte public key
	UIDs       []uint16
	Values     []uint16
	VersionKey uint64
}

// Validate checks what the runtime needs to apply the weights.
func (p WeightsPayload) Validate() error {
	if len(p.UIDs) != len(p.Values) {
		return fmt.Errorf("%d uids but %d values: %w", len(p.UIDs), len(p.Values), ErrInvalidPayload)
	}
	return nil
}

// Equal reports whether p and q hold the same fields.
func (p WeightsPayload) Equal(q WeightsPayload) bool {
	return bytes.Equal(p.Hotkey, q.Hotkey) && slices.Equal(p.UIDs, q.UIDs) &&
		slices.Equal(p.Values, q.Values) && p.VersionKey == q.VersionKey
}

// Encode is the SCALE encoding with the hotkey, for current runtimes.
func (p WeightsPayload) Encode() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out := appendCompact(nil, uint64(len(p.Hotkey)))
	out = append(out, p.Hotkey...)
	return p.appendWeights(out), nil
}

// EncodeLegacy is the SCALE encoding without the hotkey, for runtimes whose
// payload has no hotkey field; Hotkey is ignored.
func (p WeightsPayload) EncodeLegacy() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p.appendWeights(nil), nil
}

func (p WeightsPayload) appendWeights(out []byte) []byte {
	for _, vec := range [][]uint16{p.UIDs, p.Values} {
		out = appendCompact(out, uint64(len(vec)))
		for _, x := range vec {
			out = binary.LittleEndian.AppendUint16(out, x)
		}
	}
	return binary.LittleEndian.AppendUint64(out, p.VersionKey)
}

// DecodeWeightsPayload decodes the encoding with the hotkey; the whole input
// must be consumed.
func DecodeWeightsPayload(b []byte) (WeightsPayload, error) {
	r := &scaleReader{b: b}
	var p WeightsPayload
	n, err := r.compact()
	if err != nil {
		return p, fmt.Errorf("hotkey: %w", err)
	}
	if p.Hotkey, err = r.take(n); err != nil {
		return p, fmt.Errorf("hotkey: %w", err)
	}
	p.Hotkey = bytes.Clone(p.Hotkey)
	return p, r.weights(&p)
}

// DecodeLegacyWeightsPayload decodes the encoding without the hotkey.
func DecodeLegacyWeightsPayload(b []byte) (WeightsPayload, error) {
	var p WeightsPayload
	return p, (&scaleReader{b: b}).weights(&p)
}

// appendCompact appends SCALE's compact encoding of n.
func appendCompact(out []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(out, byte(n<<2))
	case n < 1<<14:
		return binary.LittleEndian.AppendUint16(out, uint16(n<<2|1))
	case n < 1<<30:
		return binary.LittleEndian.AppendUint32(out, uint32(n<<2|2))
	}
	var le [8]byte
	binary.LittleEndian.PutUint64(le[:], n)
	size := 8
	for size > 4 && le[size-1] == 0 {
		size--
	}
	out = append(out, byte(size-4)<<2|3)
	return append(out, le[:size]...)
}

type scaleReader struct {
	b   []byte
	off int
}

func (r *scaleReader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)-r.off) {
		return nil, fmt.Errorf("need %d bytes at offset %d, have %d: %w", n, r.off, len(r.b)-r.off, ErrMalformed)
	}
	out := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return out, nil
}

func (r *scaleReader) compact() (uint64, error) {
	b, err := r.take(1)
	if err != nil {
		return 0, err
	}
	var n uint64
	switch b[0] & 3 {
	case 0:
		return uint64(b[0] >> 2), nil
	case 1:
		rest, err := r.take(1)
		if err != nil {
			return 0, err
		}
		n = uint64(binary.LittleEndian.Uint16([]byte{b[0], rest[0]})) >> 2
	case 2:
		rest, err := r.take(3)
		if err != nil {
			return 0, err
		}
		n = uint64(binary.LittleEndian.Uint32(append([]byte{b[0]}, rest...))) >> 2
	default:
		size := uint64(b[0]>>2) + 4
		if size > 8 {
			return 0, fmt.Errorf("compact integer of %d bytes: %w", size, ErrMalformed)
		}
		rest, err := r.take(size)
		if err != nil {
			return 0, err
		}
		var le [8]byte
		copy(le[:], rest)
		n = binary.LittleEndian.Uint64(le[:])
	}
	return n, nil
}

func (r *scaleReader) u16s(what string) ([]uint16, error) {
	n, err := r.compact()
	if err != nil {
		return nil, fmt.Errorf("%s length: %w", what, err)
	}
	if n > uint64(len(r.b)-r.off)/2 {
		return nil, fmt.Errorf("%s: %d entries exceed the input: %w", what, n, ErrMalformed)
	}
	raw, _ := r.take(2 * n)
	out := make([]uint16, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	return out, nil
}

func (r *scaleReader) weights(p *WeightsPayload) error {
	var err error
	if p.UIDs, err = r.u16s("uids"); err != nil {
		return err
	}
	if p.Values, err = r.u16s("values"); err != nil {
		return err
	}
	vk, err := r.take(8)
	if err != nil {
		return fmt.Errorf("version key: %w", err)
	}
	p.VersionKey = binary.LittleEndian.Uint64(vk)
	if r.off != len(r.b) {
		return fmt.Errorf("weights payload: %d trailing bytes: %w", len(r.b)-r.off, ErrMalformed)
	}
	return p.Validate()
}
