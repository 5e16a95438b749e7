package fractal

import (
	"crypto/sha256"
	"encoding/binary"
	"unicode"
	"unicode/utf8"
)

// Limits of a Spec. Every engine profile serves shapes within these.
const (
	MaxPromptBytes = 1000
	MinFrames      = 1
	MaxFrames      = 64
	MinSide        = 64
	MaxSide        = 1024
	SideMultiple   = 8
	MinFPS         = 1
	MaxFPS         = 60
	MinSteps       = 1
	MaxSteps       = 100
)

// Spec fixes one generation. The same Spec on the same model gives the same video.
type Spec struct {
	// Profile names the model as "id@version"; the spec hash binds it, so a
	// receipt for one model cannot stand for another.
	Profile string `json:"profile,omitempty"`
	Prompt  string `json:"prompt"`
	Seed    uint64 `json:"seed"`
	Frames  int    `json:"frames"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	FPS     int    `json:"fps"`
	Steps   int    `json:"steps"`
}

// DefaultSpec returns the default shape (256×256, 16 frames at 8 fps, 20 steps)
// for prompt and seed.
func DefaultSpec(prompt string, seed uint64) Spec {
	return Spec{Prompt: prompt, Seed: seed, Frames: 16, Width: 256, Height: 256, FPS: 8, Steps: 20}
}

// Validate returns the first problem found, as a *FieldError naming the field
// and its allowed range; nil when the spec is valid.
func (s Spec) Validate() error {
	if errs := s.Problems(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Problems returns every problem of the spec, one *FieldError per field.
func (s Spec) Problems() []error {
	var errs []error
	if err := ValidatePrompt(s.Prompt); err != nil {
		errs = append(errs, err)
	}
	if s.Frames < MinFrames || s.Frames > MaxFrames {
		errs = append(errs, Errorf("frames", "must be between %d and %d, got %d", MinFrames, MaxFrames, s.Frames))
	}
	if err := validateSide("width", s.Width); err != nil {
		errs = append(errs, err)
	}
	if err := validateSide("height", s.Height); err != nil {
		errs = append(errs, err)
	}
	if s.FPS < MinFPS || s.FPS > MaxFPS {
		errs = append(errs, Errorf("fps", "must be between %d and %d, got %d", MinFPS, MaxFPS, s.FPS))
	}
	if s.Steps < MinSteps || s.Steps > MaxSteps {
		errs = append(errs, Errorf("steps", "must be between %d and %d, got %d", MinSteps, MaxSteps, s.Steps))
	}
	return errs
}

// ValidatePrompt checks a prompt: 1–1000 bytes of valid UTF-8 with no control
// characters (space is the only whitespace allowed).
func ValidatePrompt(p string) error { return validatePrompt(p, MaxPromptBytes) }

func validatePrompt(p string, maxBytes int) error {
	switch {
	case len(p) == 0:
		return Errorf("prompt", "must not be empty (1–%d bytes of UTF-8)", maxBytes)
	case len(p) > maxBytes:
		return Errorf("prompt", "must be at most %d bytes, got %d", maxBytes, len(p))
	case !utf8.ValidString(p):
		return Errorf("prompt", "must be valid UTF-8")
	}
	for i, r := range p {
		if r != ' ' && (unicode.IsControl(r) || unicode.IsSpace(r)) {
			return Errorf("prompt", "must not contain control characters or whitespace other than space (found %U at byte %d)", r, i)
		}
	}
	return nil
}

func validateSide(field string, v int) error {
	if v < MinSide || v > MaxSide || v%SideMultiple != 0 {
		return Errorf(field, "must be a multiple of %d between %d and %d, got %d", SideMultiple, MinSide, MaxSide, v)
	}
	return nil
}

// Hash returns a digest that identifies the spec: SHA-256 over a fixed binary
// encoding of every field. Receipts sign it.
func (s Spec) Hash() Digest {
	h := sha256.New()
	var b [8]byte
	h.Write([]byte("fractal/spec/v2\x00"))
	for _, str := range []string{s.Profile, s.Prompt} {
		binary.BigEndian.PutUint64(b[:], uint64(len(str)))
		h.Write(b[:])
		h.Write([]byte(str))
	}
	for _, v := range []uint64{s.Seed, uint64(s.Frames), uint64(s.Width), uint64(s.Height), uint64(s.FPS), uint64(s.Steps)} {
		binary.BigEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	var d Digest
	h.Sum(d[:0])
	return d
}

// Cost is the work of a spec in units of one default video (256×256, 16
// frames, 20 steps). Latency figures are normalised by it.
func (s Spec) Cost() float64 {
	return float64(s.Frames) * float64(s.Width) * float64(s.Height) * float64(s.Steps+20) / (16 * 256 * 256 * 40)
}
