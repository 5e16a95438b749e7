package fractal

import (
	"fmt"
	"strings"
)

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
	// FrameTolerance is how many levels (of 255) a decoded pixel channel may
	// differ from the miner's for a tolerant profile; 0 for an exact one.
	FrameTolerance int       `json:"frame_tolerance,omitempty"`
	Limits         Limits    `json:"limits"`
	Cost           CostModel `json:"cost"`
	// CrossClass bounds how far a step recomputed in another execution class
	// may lie from the miner's; nil when not measured, and then claims
	// computed in another class than the verifier's cannot be checked.
	CrossClass *CrossClassTolerance `json:"cross_class_tolerance,omitempty"`
}

// LegacyFrameTolerance is the frame tolerance of a tolerant version 1 profile.
const LegacyFrameTolerance = 4

// WithDefaults fills what a version 1 profile (one from before profiles carried
// their own rules) leaves out: the legacy limits and cost model, and for a
// tolerant profile the legacy frame tolerance.
func (p Profile) WithDefaults() Profile {
	if p.Limits.Zero() {
		p.Limits = LegacyLimits()
	}
	if p.Cost.Zero() {
		p.Cost = LegacyCost()
	}
	if p.Determinism == Tolerant && p.FrameTolerance == 0 {
		p.FrameTolerance = LegacyFrameTolerance
	}
	return p
}

// Check returns the first problem of spec under this profile's limits, as a
// *FieldError that names the field and its allowed values; nil when the spec
// is one this profile serves. A spec naming another profile is refused.
func (p Profile) Check(s Spec) error {
	if errs := p.Problems(s); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Problems returns every problem of spec under this profile, one per field.
func (p Profile) Problems(s Spec) []error {
	var errs []error
	if s.Profile != "" && s.Profile != p.String() {
		errs = append(errs, Errorf("profile", "this engine serves %s, got %s", p, s.Profile))
	}
	return append(errs, p.Limits.problems(s)...)
}

// CostOf returns the work of spec in cost units (see CostModel).
func (p Profile) CostOf(s Spec) float64 { return p.Cost.Of(s) }

// DefaultSpec returns the profile's default shape for prompt and seed, naming the profile.
func (p Profile) DefaultSpec(prompt string, seed uint64) Spec {
	d := p.Limits.Default
	return Spec{Profile: p.String(), Prompt: prompt, Seed: seed,
		Frames: d.Frames, Width: d.Width, Height: d.Height, FPS: d.FPS, Steps: d.Steps}
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
	case p.Determinism == Exact && p.FrameTolerance != 0:
		return Errorf("frame_tolerance", "must be 0 for an exact profile, got %d", p.FrameTolerance)
	case p.FrameTolerance < 0 || p.FrameTolerance > 64:
		return Errorf("frame_tolerance", "must be between 0 and 64 levels, got %d", p.FrameTolerance)
	case strings.ContainsAny(p.ID+p.Version, "@ \t\n"):
		return Errorf("id", "id and version must not contain '@' or whitespace, got %q", p.String())
	}
	if err := p.Limits.Validate(); err != nil {
		return err
	}
	if p.CrossClass != nil {
		if err := p.CrossClass.Validate(); err != nil {
			return err
		}
	}
	return p.Cost.Validate()
}

// ParseProfileRef splits "id@version" (or a bare "id", version "").
func ParseProfileRef(ref string) (id, version string) {
	id, version, _ = strings.Cut(ref, "@")
	return id, version
}

// Matches reports whether ref ("id" or "id@version") names this profile.
func (p Profile) Matches(ref string) bool {
	id, version := ParseProfileRef(ref)
	return id == p.ID && (version == "" || version == p.Version)
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
