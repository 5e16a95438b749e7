package validator

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// Shape is a challenge's spec shape, drawn from the shapes users ask for so
// that a challenge looks like any other job.
type Shape struct {
	Width, Height, Frames, FPS, Steps int
}

// DefaultShapes are the shapes challenges draw from: small and common ones,
// the default among them.
func DefaultShapes() []Shape {
	return []Shape{
		{256, 256, 16, 8, 20},
		{256, 256, 8, 8, 20},
		{192, 192, 16, 8, 16},
		{128, 128, 16, 8, 20},
		{256, 144, 12, 12, 20},
		{144, 256, 12, 12, 20},
		{128, 128, 8, 8, 12},
	}
}

// validateShapes checks every shape lies within the hard caps; each profile
// challenges with the shapes within its own limits (shapesFor).
func validateShapes(shapes []Shape) error {
	if len(shapes) == 0 {
		return fractal.Errorf("shapes", "need at least one challenge shape")
	}
	for _, s := range shapes {
		if err := s.spec("x", fractal.Profile{}).CheckBounds(); err != nil {
			return fmt.Errorf("challenge shape %+v: %w", s, err)
		}
	}
	return nil
}

// spec returns the shape as a spec for prompt on profile p.
func (s Shape) spec(prompt string, p fractal.Profile) fractal.Spec {
	ref := ""
	if p.ID != "" {
		ref = p.String()
	}
	return fractal.Spec{Profile: ref, Prompt: prompt, Width: s.Width, Height: s.Height, Frames: s.Frames, FPS: s.FPS, Steps: s.Steps}
}

// Challenge is one generation request sent to a miner to be verified.
type Challenge struct {
	Request minerapi.GenerateRequest
	Shared  bool // also sent to other miners, for a cross-check
}

// challenger makes challenges: prompts from the corpus, seeds from
// crypto/rand, shapes from users' recent mix and the configured set.
type challenger struct {
	corpus *Corpus
	shapes []Shape
	mix    *mix // users' recent shapes
	rand   *mrand.Rand
}

// shape draws a challenge shape that profile p serves: mostly one of
// users' recent jobs, otherwise (and until enough were seen) one of the
// configured shapes.
func (c *challenger) shape(p fractal.Profile) Shape {
	if c.mix != nil && c.rand.IntN(10) != 0 {
		if s, ok := c.mix.draw(c.rand, p); ok {
			return s
		}
	}
	shapes := shapesFor(p, c.shapes)
	return shapes[c.rand.IntN(len(shapes))]
}

// nextShaped returns a fresh challenge request of shape s on profile p.
func (c *challenger) nextShaped(s Shape, p fractal.Profile) minerapi.GenerateRequest {
	spec := s.spec(c.corpus.Draw(c.rand), p)
	spec.Seed = cryptoSeed()
	return minerapi.GenerateRequest{RequestID: minerapi.NewRequestID(), Spec: spec}
}

func cryptoSeed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return binary.LittleEndian.Uint64(b[:])
}
