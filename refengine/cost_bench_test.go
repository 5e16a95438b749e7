package refengine

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/fractal-grid/fractal"
)

// BenchmarkCostModel checks the profile's cost model against the engine: for
// shapes that double the frames, the area and the steps, it measures the CPU
// time of whole generations (GOMAXPROCS=1) in units of the default video's and
// reports each shape's measured ÷ modelled cost (goal: near 1). Run with
//
//	go test -bench CostModel -run '^$' ./refengine/
func BenchmarkCostModel(b *testing.B) {
	e := New()
	p := e.Profile()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	base := p.DefaultSpec(benchPrompt, 1)
	shapes := []struct {
		name string
		edit func(*fractal.Spec)
	}{
		{"frames×2", func(s *fractal.Spec) { s.Frames *= 2 }},
		{"area×4", func(s *fractal.Spec) { s.Width, s.Height = 2*s.Width, 2*s.Height }},
		{"steps×3", func(s *fractal.Spec) { s.Steps *= 3 }},
		{"steps÷4", func(s *fractal.Spec) { s.Steps /= 4 }},
	}
	var unit float64
	got := make([]float64, len(shapes))
	for b.Loop() {
		unit += cpuTime(func() { MustGenerate(b, e, base, fractal.GenerateOptions{}) }).Seconds()
		for i, sh := range shapes {
			s := base
			sh.edit(&s)
			got[i] += cpuTime(func() { MustGenerate(b, e, s, fractal.GenerateOptions{}) }).Seconds()
		}
	}
	b.ReportMetric(unit/float64(b.N), "cpu-s/unit")
	for i, sh := range shapes {
		s := base
		sh.edit(&s)
		b.ReportMetric(got[i]/unit/p.CostOf(s), fmt.Sprintf("measured/model_%s", sh.name))
	}
}
