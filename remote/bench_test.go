package remote_test

import (
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
	"github.com/fractal-grid/fractal/refengine"
)

var benchSpec = fractal.DefaultSpec("a red ball bouncing over the ocean at night", 42)

// engines returns the reference engine called directly and over loopback.
func engines(b *testing.B) map[string]fractal.Engine {
	direct := refengine.New()
	return map[string]fractal.Engine{"direct": direct, "remote": open(b, serve(b, direct, engineapi.DefaultConfig(), nil))}
}

// BenchmarkGenerate compares a default generation called directly and
// through the engine protocol (remote ÷ direct is the protocol's overhead).
func BenchmarkGenerate(b *testing.B) {
	es := engines(b)
	for _, name := range []string{"direct", "remote"} {
		for _, keep := range []bool{false, true} {
			sub := name
			if keep {
				sub += "/keep_states"
			}
			b.Run(sub, func(b *testing.B) {
				for b.Loop() {
					if _, err := es[name].Generate(b.Context(), benchSpec, fractal.GenerateOptions{KeepStates: keep}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkStep measures one sampling step of the default spec, as a
// verifier's spot-check runs it.
func BenchmarkStep(b *testing.B) {
	es := engines(b)
	s0, err := es["direct"].Step(b.Context(), benchSpec, 0, fractal.State{})
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"direct", "remote"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(2 * 4 * len(s0.Data)))
			for b.Loop() {
				if _, err := es[name].Step(b.Context(), benchSpec, 1, s0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
