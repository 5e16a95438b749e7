package fractal

import (
	"crypto/sha256"
	"encoding/binary"
	"unicode"
	"unicode/utf8"
)

// Hard caps on a Spec. Every profile's limits lie within these (see
// Limits.Validate); parsers of frames, states and videos bound their reads by
// them before any profile is known. Wan 2.1 makes up to 81 frames and
// LTX-Video up to 257; both make sides up to 1280.
const (
	MaxPromptBytes = 1000
	MinFrames      = 1
	MaxFrames      = 257
	MinSide        = 16
	MaxSide        = 1280
	SideMultiple   = 8
	MinFPS         = 1
	MaxFPS         = 60
	MinSteps       = 1
	MaxSteps       = 100
)

// HardLimits are the caps as Limits: the widest a profile may serve.
func HardLimits() Limits {
	return Limits{
		Frames:      Range{Min: MinFrames, Max: MaxFrames},
		Width:       Range{Min: MinSide, Max: MaxSide, Step: SideMultiple},
		Height:      Range{Min: MinSide, Max: MaxSide, Step: SideMultiple},
		FPS:         Range{Min: MinFPS, Max: MaxFPS},
		Steps:       Range{Min: MinSteps, Max: MaxSteps},
		PromptBytes: MaxPromptBytes,
	}
}

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

// DefaultSpec returns the reference engine's default shape (256×256, 16
// frames at 8 fps, 20 steps) for prompt and seed, naming no profile. A spec
// for a served model comes from Profile.DefaultSpec.
func DefaultSpec(prompt string, seed uint64) Spec {
	return Spec{Prompt: prompt, Seed: seed, Frames: 16, Width: 256, Height: 256, FPS: 8, Steps: 20}
}

// CheckBounds returns the first way the spec falls outside the hard caps, as
// a *FieldError: a spec no profile serves. Whether a model serves it is
// Profile.Check.
func (s Spec) CheckBounds() error {
	if errs := HardLimits().problems(s); len(errs) > 0 {
		return errs[0]
	}
	return nil
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
