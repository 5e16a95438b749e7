package fractal_test

import (
	"errors"
	"math"
	"testing"

	"github.com/fractal-grid/fractal"
)

func TestStateEncoding(t *testing.T) {
	s := fractal.State{Shape: []int{2, 3}, Data: []float32{0, -1, 1.5, float32(math.Inf(1)), 1e-30, -0}}
	back, err := fractal.StateFromBytes(s.Shape, s.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if back.Digest() != s.Digest() {
		t.Error("round trip changes the digest")
	}
	if _, err := fractal.StateFromBytes([]int{2, 2}, s.Bytes()); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("wrong shape: got %v, want ErrInvalid", err)
	}
	other := s.Clone()
	other.Shape = []int{3, 2}
	if other.Digest() == s.Digest() {
		t.Error("shape is not covered by the digest")
	}
}

func TestCompareStates(t *testing.T) {
	a := fractal.State{Shape: []int{4}, Data: []float32{1, 2, 3, 4}}
	b := a.Clone()
	if err := fractal.CompareStates(b, a, 0); err != nil {
		t.Errorf("identical: %v", err)
	}
	b.Data[2] = math.Nextafter32(3, 4)
	if err := fractal.CompareStates(b, a, 0); !errors.Is(err, fractal.ErrMismatch) {
		t.Errorf("one ulp, exact: got %v, want ErrMismatch", err)
	}
	if err := fractal.CompareStates(b, a, 1e-3); err != nil {
		t.Errorf("one ulp, tolerant: %v", err)
	}
	b.Data[2] = 3.1
	if err := fractal.CompareStates(b, a, 1e-3); !errors.Is(err, fractal.ErrMismatch) {
		t.Errorf("beyond tolerance: got %v, want ErrMismatch", err)
	}
	b.Data[2] = float32(math.NaN())
	if err := fractal.CompareStates(b, a, 1e-3); !errors.Is(err, fractal.ErrMismatch) {
		t.Errorf("NaN: got %v, want ErrMismatch", err)
	}
}
