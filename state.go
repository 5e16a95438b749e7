package fractal

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
)

// State is one point of a sampling trajectory: a float32 tensor in row-major
// order. State 0 is the seeded initial noise; state t is Step t applied to
// state t-1; the final state decodes to the frames.
type State struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"-"`
}

// Len returns the number of elements the shape holds.
func (s State) Len() int {
	if len(s.Shape) == 0 {
		return 0
	}
	n := 1
	for _, d := range s.Shape {
		n *= d
	}
	return n
}

// Validate checks that Data matches Shape.
func (s State) Validate() error {
	for _, d := range s.Shape {
		if d <= 0 {
			return Errorf("state", "shape %v has a non-positive dimension", s.Shape)
		}
	}
	if len(s.Shape) == 0 || s.Len() != len(s.Data) {
		return Errorf("state", "shape %v holds %d elements, data has %d", s.Shape, s.Len(), len(s.Data))
	}
	return nil
}

// Bytes returns the canonical encoding: little-endian IEEE-754 bits.
func (s State) Bytes() []byte {
	b := make([]byte, 4*len(s.Data))
	for i, v := range s.Data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// StateFromBytes decodes the canonical encoding for a shape.
func StateFromBytes(shape []int, b []byte) (State, error) {
	s := State{Shape: append([]int(nil), shape...)}
	if len(b)%4 != 0 {
		return s, Errorf("state", "%d bytes is not a whole number of float32", len(b))
	}
	s.Data = make([]float32, len(b)/4)
	for i := range s.Data {
		s.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return s, s.Validate()
}

// Digest returns SHA-256 over the shape and the canonical encoding.
func (s State) Digest() Digest {
	h := sha256.New()
	hdr := []byte("fractal/state/v1")
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(s.Shape)))
	for _, d := range s.Shape {
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	h.Write(hdr)
	var buf [4096]byte
	for i := 0; i < len(s.Data); {
		n := 0
		for ; n+4 <= len(buf) && i < len(s.Data); i++ {
			binary.LittleEndian.PutUint32(buf[n:], math.Float32bits(s.Data[i]))
			n += 4
		}
		h.Write(buf[:n])
	}
	var d Digest
	h.Sum(d[:0])
	return d
}

// Clone returns a deep copy.
func (s State) Clone() State {
	return State{Shape: append([]int(nil), s.Shape...), Data: append([]float32(nil), s.Data...)}
}

// CompareStates checks got against want. With tolerance 0 they must be
// bit-identical; otherwise the relative error ‖got−want‖∞ / max(‖want‖∞, 1)
// must not exceed tolerance. Mismatches wrap ErrMismatch.
func CompareStates(got, want State, tolerance float64) error {
	if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) || len(got.Data) != len(want.Data) {
		return fmt.Errorf("state shape %v, want %v: %w", got.Shape, want.Shape, ErrMismatch)
	}
	if tolerance == 0 {
		for i := range got.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
				return fmt.Errorf("state differs at element %d: got %v, want %v: %w", i, got.Data[i], want.Data[i], ErrMismatch)
			}
		}
		return nil
	}
	var maxDiff, maxAbs float64
	for i := range got.Data {
		g, w := float64(got.Data[i]), float64(want.Data[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return fmt.Errorf("state element %d is %v: %w", i, g, ErrMismatch)
		}
		maxDiff = math.Max(maxDiff, math.Abs(g-w))
		maxAbs = math.Max(maxAbs, math.Abs(w))
	}
	if rel := maxDiff / math.Max(maxAbs, 1); rel > tolerance {
		return fmt.Errorf("state relative error %.3g exceeds tolerance %.3g: %w", rel, tolerance, ErrMismatch)
	}
	return nil
}
