package subtensor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// errShort is returned when SCALE input ends early.
var errShort = errors.New("unexpected end of SCALE input")

// reader decodes SCALE values from a byte slice. The first error sticks:
// later reads return zero values, so a decoder checks err once at the end.
type reader struct {
	b   []byte
	off int
	err error
}

func newReader(b []byte) *reader { return &reader{b: b} }

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: %w", r.off, err)
	}
}

// remaining returns how many bytes are left.
func (r *reader) remaining() int { return len(r.b) - r.off }

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.remaining() {
		r.fail(errShort)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8() uint8 {
	p := r.bytes(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) bool() bool {
	switch v := r.u8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail(fmt.Errorf("invalid bool byte 0x%02x", v))
		return false
	}
}

func (r *reader) u16() uint16 {
	p := r.bytes(2)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(p)
}

func (r *reader) u32() uint32 {
	p := r.bytes(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

func (r *reader) u64() uint64 {
	p := r.bytes(8)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}

func (r *reader) array32() (a [32]byte) {
	copy(a[:], r.bytes(32))
	return a
}

// compact decodes a SCALE compact integer that fits in 64 bits.
func (r *reader) compact() uint64 {
	if r.err != nil {
		return 0
	}
	first := r.u8()
	switch first & 3 {
	case 0:
		return uint64(first >> 2)
	case 1:
		second := r.u8()
		return uint64(first)>>2 | uint64(second)<<6
	case 2:
		rest := r.bytes(3)
		if rest == nil {
			return 0
		}
		return uint64(first)>>2 | uint64(rest[0])<<6 | uint64(rest[1])<<14 | uint64(rest[2])<<22
	}
	n := int(first>>2) + 4
	p := r.bytes(n)
	if p == nil {
		return 0
	}
	for _, b := range p[min(n, 8):] {
		if b != 0 {
			r.fail(fmt.Errorf("compact integer of %d bytes overflows 64 bits", n))
			return 0
		}
	}
	var v uint64
	for i := min(n, 8) - 1; i >= 0; i-- {
		v = v<<8 | uint64(p[i])
	}
	return v
}

// compactU16 decodes a Compact<u16>.
func (r *reader) compactU16() uint16 {
	v := r.compact()
	if v > 0xffff {
		r.fail(fmt.Errorf("compact value %d overflows u16", v))
		return 0
	}
	return uint16(v)
}

// maxZeroSizedLen bounds the length of a vector whose elements may take no
// bytes, where the input size gives no bound.
const maxZeroSizedLen = 1 << 16

// length decodes a compact length prefix, refusing one that cannot fit in the
// rest of the input when each element takes at least minSize bytes.
func (r *reader) length(minSize int) int {
	n := r.compact()
	if r.err != nil {
		return 0
	}
	limit := uint64(maxZeroSizedLen)
	if minSize > 0 {
		limit = uint64(r.remaining() / minSize)
	}
	if n > limit {
		r.fail(fmt.Errorf("length %d exceeds what the %d bytes left can hold", n, r.remaining()))
		return 0
	}
	return int(n)
}

// appendCompact appends v as a SCALE compact integer.
func appendCompact(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v)<<2)
	case v < 1<<14:
		return binary.LittleEndian.AppendUint16(b, uint16(v)<<2|1)
	case v < 1<<30:
		return binary.LittleEndian.AppendUint32(b, uint32(v)<<2|2)
	}
	n := (bits.Len64(v) + 7) / 8
	b = append(b, byte(n-4)<<2|3)
	for i := 0; i < n; i++ {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func appendU16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}
