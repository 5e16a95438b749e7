package remote_test

import (
	"testing"
	"time"

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

// BenchmarkRemoteOverhead alternates direct and remote generations so both
// see the same machine load, and reports remote ÷ direct.
func BenchmarkRemoteOverhead(b *testing.B) {
	es := engines(b)
	var direct, remote time.Duration
	for b.Loop() {
		for _, name := range []string{"direct", "remote"} {
			start := time.Now()
			if _, err := es[name].Generate(b.Context(), benchSpec, fractal.GenerateOptions{}); err != nil {
				b.Fatal(err)
			}
			if name == "direct" {
				direct += time.Since(start)
			} else {
				remote += time.Since(start)
			}
		}
	}
	b.ReportMetric(float64(direct.Milliseconds())/float64(b.N), "direct-ms/op")
	b.ReportMetric(float64(remote.Milliseconds())/float64(b.N), "remote-ms/op")
	b.ReportMetric(float64(remote)/float64(direct), "remote/direct")
}
