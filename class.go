package fractal

import (
	"fmt"
	"math"
	"slices"
)

// ExecutionClasser is an optional Engine capability: the name of the
// execution class the engine computes in (GPU model, driver, CUDA and library
// versions: docs/engines.md). Two engines of one class compute bit-identical
// states; across classes a checker compares within the profile's
// CrossClassTolerance. An engine that computes the same bits everywhere (the
// reference engine) has no class and does not implement it.
type ExecutionClasser interface {
	ExecutionClass() string
}

// ClassOf returns e's execution class, "" when it has none.
func ClassOf(e Engine) string {
	if c, ok := e.(ExecutionClasser); ok {
		return c.ExecutionClass()
	}
	return ""
}

// MaxClassBytes bounds an execution class name.
const MaxClassBytes = 128

// ValidateClass checks an execution class name: printable ASCII without
// spaces or the receipt's separator, at most MaxClassBytes.
func ValidateClass(class string) error {
	if len(class) > MaxClassBytes {
		return Errorf("class", "at most %d bytes, got %d", MaxClassBytes, len(class))
	}
	for _, r := range class {
		if r <= ' ' || r > '~' || r == '|' {
			return Errorf("class", "must be printable ASCII without spaces or '|', got %q", class)
		}
	}
	return nil
}

// CrossClass reports whether a claim computed in class miner must be compared
// across classes by a verifier whose engine is of class own: both name a
// class and the classes differ. A side without a class computes the same bits
// everywhere, so it is compared exactly.
func CrossClass(miner, own string) bool {
	return miner != "" && own != "" && miner != own
}

// CrossClassTolerance is how far a step recomputed in another execution class
// may lie from the miner's, measured in velocity space so that it does not
// depend on the step's size: with x the opened state t−1, y the miner's state
// t and ŷ the verifier's,
//
//	error  = ‖ŷ − y‖₂ / ‖ŷ − x‖₂
//	cosine = cos(ŷ − x, y − x)
//
// (the step's Δσ cancels from both, so no schedule is needed). It is data of
// the profile, calibrated by measuring honest backends against cheap cheats
// (docs/engines.md).
type CrossClassTolerance struct {
	MaxError  float64 `json:"max_error"`  // largest error that passes, in (0, 1)
	MinCosine float64 `json:"min_cosine"` // smallest cosine that passes, in (0, 1)
	// FrameLevels is how many levels (of 255) a decoded pixel channel may
	// differ across classes; 0 means decoded frames cannot be compared across
	// classes.
	FrameLevels int `json:"frame_levels,omitempty"`
}

// Validate checks the thresholds.
func (c CrossClassTolerance) Validate() error {
	switch {
	case !(c.MaxError > 0 && c.MaxError < 1):
		return Errorf("cross_class_tolerance", "max_error must be in (0, 1), got %g", c.MaxError)
	case !(c.MinCosine > 0 && c.MinCosine < 1):
		return Errorf("cross_class_tolerance", "min_cosine must be in (0, 1), got %g", c.MinCosine)
	case c.FrameLevels < 0 || c.FrameLevels > 64:
		return Errorf("cross_class_tolerance", "frame_levels must be between 0 and 64, got %d", c.FrameLevels)
	}
	return nil
}

// StepDeviation is how a step computed in one class lies from another's.
type StepDeviation struct {
	Error  float64 // ‖ŷ − y‖₂ / ‖ŷ − x‖₂
	Cosine float64 // cos(ŷ − x, y − x)
}

func (d StepDeviation) String() string {
	return fmt.Sprintf("velocity error %.4g, cosine %.6f", d.Error, d.Cosine)
}

// Deviation measures the miner's state t (got) against the verifier's (want),
// both computed from prev. The states must have one shape and finite values;
// a step that did not move (want equal to prev) has error 0 when got equals
// want and +Inf otherwise, with cosine 1 and 0 likewise.
func Deviation(prev, got, want State) (StepDeviation, error) {
	if !slices.Equal(got.Shape, want.Shape) || !slices.Equal(prev.Shape, want.Shape) ||
		len(got.Data) != len(want.Data) || len(prev.Data) != len(want.Data) {
		return StepDeviation{}, fmt.Errorf("state shapes %v → %v, want %v: %w", prev.Shape, got.Shape, want.Shape, ErrMismatch)
	}
	var diff, vWant, vGot, dot float64
	for i := range want.Data {
		x, y, w := float64(prev.Data[i]), float64(got.Data[i]), float64(want.Data[i])
		if !finite(x) || !finite(y) || !finite(w) {
			return StepDeviation{}, fmt.Errorf("state element %d is not finite: %w", i, ErrMismatch)
		}
		d, a, b := w-y, w-x, y-x
		diff += d * d
		vWant += a * a
		vGot += b * b
		dot += a * b
	}
	if vWant == 0 {
		if diff == 0 {
			return StepDeviation{Cosine: 1}, nil
		}
		return StepDeviation{Error: math.Inf(1)}, nil
	}
	dev := StepDeviation{Error: math.Sqrt(diff / vWant)}
	if vGot > 0 {
		dev.Cosine = dot / math.Sqrt(vWant*vGot)
	}
	return dev, nil
}

// CompareAcross checks the miner's state t (got) against the verifier's
// (want), both from prev, within tol. Mismatches wrap ErrMismatch.
func CompareAcross(prev, got, want State, tol CrossClassTolerance) error {
	dev, err := Deviation(prev, got, want)
	if err != nil {
		return err
	}
	if dev.Error > tol.MaxError || dev.Cosine < tol.MinCosine {
		return fmt.Errorf("%s across execution classes, allowed error ≤ %g and cosine ≥ %g: %w", dev, tol.MaxError, tol.MinCosine, ErrMismatch)
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
