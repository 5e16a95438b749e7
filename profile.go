package fractal

import "fmt"

// Determinism classes of an engine profile.
const (
	Exact    = "exact"    // recomputed states are bit-identical
	Tolerant = "tolerant" // recomputed states agree within Profile.Tolerance
)

// Profile names the model a miner serves. Every miner on a subnet serves the
// same profile; validators refuse results from any other.
type Profile struct {
	ID          string  `json:"id"`          // e.g. "fractal-ref"
	Version     string  `json:"version"`     // bumped on any change to the model's output
	Digest      Digest  `json:"digest"`      // digest of the weights/parameters and code
	Determinism string  `json:"determinism"` // Exact or Tolerant
	Tolerance   float64 `json:"tolerance,omitempty"`
}

// String returns "id@version".
func (p Profile) String() string { return p.ID + "@" + p.Version }

// Validate checks the profile fields.
func (p Profile) Validate() error {
	switch {
	case p.ID == "":
		return Errorf("id", "must not be empty")
	case p.Version == "":
		return Errorf("version", "must not be empty")
	case p.Determinism == Exact && p.Tolerance != 0:
		return Errorf("tolerance", "must be 0 for an exact profile, got %g", p.Tolerance)
	case p.Determinism == Tolerant && (p.Tolerance <= 0 || p.Tolerance >= 1):
		return Errorf("tolerance", "must be in (0, 1) for a tolerant profile, got %g", p.Tolerance)
	case p.Determinism != Exact && p.Determinism != Tolerant:
		return Errorf("determinism", "must be %q or %q, got %q", Exact, Tolerant, p.Determinism)
	}
	return nil
}

// Same reports whether q is the same model as p (id, version and digest).
func (p Profile) Same(q Profile) error {
	if p.ID != q.ID || p.Version != q.Version || p.Digest != q.Digest {
		return fmt.Errorf("profile %s (%s), want %s (%s): %w", q, q.Digest, p, p.Digest, ErrMismatch)
	}
	return nil
}

// StepTolerance is the tolerance to use when comparing recomputed states.
func (p Profile) StepTolerance() float64 {
	if p.Determinism == Tolerant {
		return p.Tolerance
	}
	return 0
}
