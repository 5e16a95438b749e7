package fractal

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Range is a set of allowed integers: Values when given, otherwise Min, Min+Step,
// Min+2·Step, … up to Max (Step 0 means 1). Frames of the form 4k+1 up to 81 are
// {Min: 5, Max: 81, Step: 4}; sides that are multiples of 16 are {Min: 256, Max: 1280, Step: 16}.
type Range struct {
	Min    int   `json:"min"`
	Max    int   `json:"max"`
	Step   int   `json:"step,omitempty"`
	Values []int `json:"values,omitempty"`
}

func (r Range) step() int { return max(r.Step, 1) }

// Contains reports whether v is allowed.
func (r Range) Contains(v int) bool {
	if len(r.Values) > 0 {
		return slices.Contains(r.Values, v)
	}
	return v >= r.Min && v <= r.Max && (v-r.Min)%r.step() == 0
}

// Largest returns the largest allowed value.
func (r Range) Largest() int {
	if len(r.Values) > 0 {
		return slices.Max(r.Values)
	}
	return r.Min + (r.Max-r.Min)/r.step()*r.step()
}

// Count returns how many values are allowed.
func (r Range) Count() int {
	if len(r.Values) > 0 {
		return len(r.Values)
	}
	if r.Max < r.Min {
		return 0
	}
	return (r.Max-r.Min)/r.step() + 1
}

// String says what is allowed, in the words error messages use: "one of 480, 832",
// "between 1 and 100", "a multiple of 16 between 256 and 1280", "one of 5, 9,
// 13, … up to 81 (every 4 from 5)".
func (r Range) String() string {
	switch {
	case len(r.Values) > 0:
		s := make([]string, len(r.Values))
		for i, v := range r.Values {
			s[i] = strconv.Itoa(v)
		}
		return "one of " + strings.Join(s, ", ")
	case r.step() == 1:
		return fmt.Sprintf("between %d and %d", r.Min, r.Max)
	case r.Min%r.step() == 0:
		return fmt.Sprintf("a multiple of %d between %d and %d", r.step(), r.Min, r.Largest())
	case r.Count() <= 6:
		var s []string
		for v := r.Min; v <= r.Max; v += r.step() {
			s = append(s, strconv.Itoa(v))
		}
		return "one of " + strings.Join(s, ", ")
	default:
		return fmt.Sprintf("one of %d, %d, %d, … up to %d (every %d from %d)",
			r.Min, r.Min+r.step(), r.Min+2*r.step(), r.Largest(), r.step(), r.Min)
	}
}

// Validate checks that the range allows at least one value.
func (r Range) Validate(field string) error {
	switch {
	case len(r.Values) > 0 && slices.Min(r.Values) < 1:
		return Errorf(field, "allowed values must be positive, got %v", r.Values)
	case len(r.Values) > 0:
		return nil
	case r.Min < 1 || r.Max < r.Min:
		return Errorf(field, "range must have 1 ≤ min ≤ max, got min %d max %d", r.Min, r.Max)
	case r.Step < 0:
		return Errorf(field, "step must not be negative, got %d", r.Step)
	}
	return nil
}

// within checks that every value r allows, hard allows too.
func (r Range) within(hard Range) error {
	vals := r.Values
	if len(vals) == 0 {
		if r.Min < hard.Min || r.Largest() > hard.Max || r.step()%hard.step() != 0 || !hard.Contains(r.Min) {
			return fmt.Errorf("%s is not within the hard caps (%s)", r, hard)
		}
		return nil
	}
	for _, v := range vals {
		if !hard.Contains(v) {
			return fmt.Errorf("%d is not within the hard caps (%s)", v, hard)
		}
	}
	return nil
}

// Shape is a spec without its prompt, seed and profile: the default a profile
// fills in for fields a request leaves out.
type Shape struct {
	Frames int `json:"frames"`
	Width  int `json:"width"`
	Height int `json:"height"`
	FPS    int `json:"fps"`
	Steps  int `json:"steps"`
}

// Limits are the shapes a model serves. Each profile has its own.
type Limits struct {
	Frames      Range `json:"frames"`
	Width       Range `json:"width"`
	Height      Range `json:"height"`
	FPS         Range `json:"fps"`
	Steps       Range `json:"steps"`
	PromptBytes int   `json:"prompt_bytes"`
	Default     Shape `json:"default"`
}

// LegacyLimits are the limits every engine had before profiles carried their
// own: the reference engine's, and what a version 1 engine server is taken to
// serve.
func LegacyLimits() Limits {
	return Limits{
		Frames:      Range{Min: 1, Max: 64},
		Width:       Range{Min: 64, Max: 1024, Step: 8},
		Height:      Range{Min: 64, Max: 1024, Step: 8},
		FPS:         Range{Min: 1, Max: 60},
		Steps:       Range{Min: 1, Max: 100},
		PromptBytes: 1000,
		Default:     Shape{Frames: 16, Width: 256, Height: 256, FPS: 8, Steps: 20},
	}
}

// Zero reports limits that were never set (a version 1 profile).
func (l Limits) Zero() bool {
	return l.PromptBytes == 0 && l.Frames.Max == 0 && len(l.Frames.Values) == 0
}

// Validate checks the limits themselves: every range allows something and lies
// within the hard caps, and the default shape is allowed.
func (l Limits) Validate() error {
	hard := HardLimits()
	for _, f := range []struct {
		name    string
		r, hard Range
	}{{"frames", l.Frames, hard.Frames}, {"width", l.Width, hard.Width}, {"height", l.Height, hard.Height},
		{"fps", l.FPS, hard.FPS}, {"steps", l.Steps, hard.Steps}} {
		if err := f.r.Validate("limits." + f.name); err != nil {
			return err
		}
		if err := f.r.within(f.hard); err != nil {
			return Errorf("limits."+f.name, "%v", err)
		}
	}
	if l.PromptBytes < 1 || l.PromptBytes > MaxPromptBytes {
		return Errorf("limits.prompt_bytes", "must be between 1 and %d, got %d", MaxPromptBytes, l.PromptBytes)
	}
	if errs := l.problems(Spec{Prompt: "x", Frames: l.Default.Frames, Width: l.Default.Width, Height: l.Default.Height,
		FPS: l.Default.FPS, Steps: l.Default.Steps}); len(errs) > 0 {
		return fmt.Errorf("limits.default: %w", errs[0])
	}
	return nil
}

// MaxStateElems bounds the elements of any state of a spec within the limits
// (a latent never has more elements than the frames have pixels).
func (l Limits) MaxStateElems() int {
	return l.Frames.Largest() * l.Width.Largest() * l.Height.Largest()
}

func (l Limits) problems(s Spec) []error {
	var errs []error
	if err := validatePrompt(s.Prompt, l.PromptBytes); err != nil {
		errs = append(errs, err)
	}
	for _, f := range []struct {
		name string
		v    int
		r    Range
	}{{"frames", s.Frames, l.Frames}, {"width", s.Width, l.Width}, {"height", s.Height, l.Height},
		{"fps", s.FPS, l.FPS}, {"steps", s.Steps, l.Steps}} {
		if !f.r.Contains(f.v) {
			errs = append(errs, Errorf(f.name, "must be %s, got %d", f.r, f.v))
		}
	}
	return errs
}

// CostModel estimates the work of a spec in cost units: one unit is the
// reference engine's default video (16 frames of 256×256, 20 steps). With m the
// spec's pixels over all frames in units of 2^20,
//
//	cost = Fixed + Steps·(PerStep·m + Attention·m²) + Decode·m
//
// Attention carries the part of a step that grows with the square of the
// latent tokens (self-attention over every token of every frame).
type CostModel struct {
	Fixed     float64 `json:"fixed"`
	PerStep   float64 `json:"per_step"`
	Attention float64 `json:"attention,omitempty"`
	Decode    float64 `json:"decode"`
}

// LegacyCost is the reference engine's cost model (its step time and decode
// time are both linear in the pixels), and what a version 1 server is taken to cost.
func LegacyCost() CostModel { return CostModel{PerStep: 1.0 / 40, Decode: 0.5} }

// Zero reports a cost model that was never set.
func (c CostModel) Zero() bool { return c == CostModel{} }

// Validate checks the coefficients: none negative, and some work per step.
func (c CostModel) Validate() error {
	if c.Fixed < 0 || c.PerStep < 0 || c.Attention < 0 || c.Decode < 0 || c.PerStep+c.Attention == 0 {
		return Errorf("cost", "coefficients must be non-negative with per_step or attention positive, got %+v", c)
	}
	return nil
}

// Of returns the cost of a spec. Every product is rounded on its own (an
// explicit conversion forbids fused multiply-add), so a cost is the same on
// every architecture: gateways and validators on different machines book the
// same units.
func (c CostModel) Of(s Spec) float64 {
	steps, m := c.steps(s)
	return c.Fixed + steps + float64(c.Decode*m)
}

// steps returns the cost of a spec's steps, and its pixels over all frames
// in units of 2^20.
func (c CostModel) steps(s Spec) (cost, m float64) {
	m = float64(s.Frames) * float64(s.Width) * float64(s.Height) / (1 << 20)
	perStep := float64(c.PerStep*m) + float64(float64(c.Attention*m)*m)
	return float64(float64(s.Steps) * perStep), m
}

// StepsShare returns the part of a spec's cost its steps take, from 0 to
// 1: the rest, the fixed part and decoding the video, comes after the
// engine's last step. A spec of no cost is all steps.
func (c CostModel) StepsShare(s Spec) float64 {
	steps, _ := c.steps(s)
	total := c.Of(s)
	if total <= 0 {
		return 1
	}
	return min(max(steps/total, 0), 1)
}
