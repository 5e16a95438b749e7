package refengine

import (
	"testing"

	"github.com/fractal-grid/fractal"
)

// FuzzPrompt checks that any valid prompt generates, twice the same.
func FuzzPrompt(f *testing.F) {
	for _, p := range []string{
		"a red ball bouncing over the ocean at night",
		"two yellow stars spinning in a purple sky",
		"ten tiny giant stars stars stars moving left right up down still",
		"日本の夜 🌊 ñandú",
		"99 balls 0 cubes",
		"es s ses",
	} {
		f.Add(p, uint64(1))
	}
	e := New()
	f.Fuzz(func(t *testing.T, prompt string, seed uint64) {
		spec := fractal.Spec{Prompt: prompt, Seed: seed, Frames: 2, Width: 64, Height: 64, FPS: 8, Steps: 2}
		if e.Profile().Check(spec) != nil {
			return
		}
		a := MustGenerate(t, e, spec, fractal.GenerateOptions{})
		b := MustGenerate(t, e, spec, fractal.GenerateOptions{})
		if a.Commit() != b.Commit() {
			t.Fatalf("prompt %q: two runs differ", prompt)
		}
	})
}
