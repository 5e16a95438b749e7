package fractal

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pin says the subnet serves a profile from block From (inclusive) until block
// Until (exclusive; 0 for no end). During an upgrade two pins overlap: the old
// model's Until is after the new one's From, and miners move across in the window.
type Pin struct {
	Profile Profile `json:"profile"`
	From    uint64  `json:"from"`
	Until   uint64  `json:"until,omitempty"`
}

// ActiveAt reports whether the pin is in force at block.
func (p Pin) ActiveAt(block uint64) bool {
	return block >= p.From && (p.Until == 0 || block < p.Until)
}

// Pins are the profiles a subnet serves over time.
type Pins []Pin

// PinsOf pins each profile from block 0 with no end: a grid that serves a
// fixed set of models.
func PinsOf(profiles ...Profile) Pins {
	out := make(Pins, len(profiles))
	for i, p := range profiles {
		out[i] = Pin{Profile: p}
	}
	return out
}

// Validate checks every pin and that no two pins name the same id@version.
func (ps Pins) Validate() error {
	if len(ps) == 0 {
		return Errorf("pins", "must pin at least one profile")
	}
	seen := map[string]bool{}
	for i, p := range ps {
		if err := p.Profile.Validate(); err != nil {
			return fmt.Errorf("pins[%d]: %w", i, err)
		}
		if p.Until != 0 && p.Until <= p.From {
			return Errorf(fmt.Sprintf("pins[%d].until", i), "must be after from (%d), got %d", p.From, p.Until)
		}
		if seen[p.Profile.String()] {
			return Errorf(fmt.Sprintf("pins[%d]", i), "%s is pinned twice", p.Profile)
		}
		seen[p.Profile.String()] = true
	}
	return nil
}

// Active returns the profiles in force at block, the newest pin (latest From) first.
func (ps Pins) Active(block uint64) []Profile {
	var act Pins
	for _, p := range ps {
		if p.ActiveAt(block) {
			act = append(act, p)
		}
	}
	slices.SortStableFunc(act, func(a, b Pin) int { return cmp.Compare(b.From, a.From) })
	out := make([]Profile, len(act))
	for i, p := range act {
		out[i] = p.Profile
	}
	return out
}

// Default returns the profile a request that names no model gets at block:
// the active pin that began first. During an upgrade window most miners still
// serve the old model, so unnamed requests stay on it until its pin ends; apps
// that want the new model name it. ok is false when nothing is pinned at block.
func (ps Pins) Default(block uint64) (Profile, bool) {
	act := ps.Active(block)
	if len(act) == 0 {
		return Profile{}, false
	}
	return act[len(act)-1], true
}

// Resolve finds the active profile that ref ("id", "id@version" or "" for the
// default) names at block. A bare id picks the newest active version of that id. The
// error is a *FieldError on "model" that lists the allowed values.
func (ps Pins) Resolve(ref string, block uint64) (Profile, error) {
	act := ps.Active(block)
	if ref == "" && len(act) > 0 {
		return act[len(act)-1], nil
	}
	for _, p := range act {
		if p.Matches(ref) {
			return p, nil
		}
	}
	names := make([]string, 0, 2*len(act))
	for _, p := range act {
		names = append(names, p.ID, p.String())
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) == 0 {
		return Profile{}, fmt.Errorf("no model is pinned at block %d: %w", block, ErrUnavailable)
	}
	return Profile{}, Errorf("model", "must be one of %s, got %q", strings.Join(names, ", "), ref)
}

// Lookup finds the pinned profile that ref ("id@version") names, whatever its
// window: the rules of a job accepted under a pin that has since ended still apply.
func (ps Pins) Lookup(ref string) (Profile, bool) {
	for _, p := range ps {
		if p.Profile.String() == ref {
			return p.Profile, true
		}
	}
	return Profile{}, false
}
