package refengine

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
)

// Run with: go test -bench . -run '^$' -cpu 1,2 ./refengine/

const benchPrompt = "a red ball bouncing over the ocean at night"

func benchSetup(b *testing.B) (*Engine, fractal.Spec, *fractal.Result) {
	b.Helper()
	e := New()
	spec := fractal.DefaultSpec(benchPrompt, 1)
	return e, spec, MustGenerate(b, e, spec, fractal.GenerateOptions{KeepStates: true})
}

func BenchmarkGenerate(b *testing.B) {
	e := New()
	spec := fractal.DefaultSpec(benchPrompt, 1)
	for b.Loop() {
		MustGenerate(b, e, spec, fractal.GenerateOptions{})
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/video")
}

func BenchmarkStep(b *testing.B) {
	e, spec, res := benchSetup(b)
	t := spec.Steps / 2
	for b.Loop() {
		if _, err := e.Step(context.Background(), spec, t, res.States[t-1]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	e, spec, res := benchSetup(b)
	for b.Loop() {
		if _, err := e.Decode(context.Background(), spec, res.States[spec.Steps]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	e, spec, res := benchSetup(b)
	for b.Loop() {
		if _, err := e.DecodeFrame(context.Background(), spec, res.States[spec.Steps], spec.Frames/2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStateDigest(b *testing.B) {
	_, spec, res := benchSetup(b)
	s := res.States[spec.Steps]
	b.SetBytes(int64(4 * len(s.Data)))
	for b.Loop() {
		s.Digest()
	}
}

// BenchmarkCostShape reports the ratios that matter to verification, each
// measured in the same iteration: the GOMAXPROCS=2 ÷ 1 speed-up of Generate,
// one Step ÷ Generate, one DecodeFrame ÷ Generate, and a spot check (two
// steps with their digests and one frame) ÷ Generate.
func BenchmarkCostShape(b *testing.B) {
	ctx := context.Background()
	e, spec, res := benchSetup(b)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	timeIt := func(fn func()) time.Duration {
		start := time.Now()
		fn()
		return time.Since(start)
	}
	var gen1, gen2, step, frame time.Duration
	var digest time.Duration
	for b.Loop() {
		runtime.GOMAXPROCS(1)
		gen1 += timeIt(func() { MustGenerate(b, e, spec, fractal.GenerateOptions{}) })
		runtime.GOMAXPROCS(2)
		gen2 += timeIt(func() { MustGenerate(b, e, spec, fractal.GenerateOptions{}) })
		step += timeIt(func() {
			if _, err := e.Step(ctx, spec, 7, res.States[6]); err != nil {
				b.Fatal(err)
			}
		})
		digest += timeIt(func() { res.States[7].Digest() })
		frame += timeIt(func() {
			if _, err := e.DecodeFrame(ctx, spec, res.States[spec.Steps], 3); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.ReportMetric(gen1.Seconds()/float64(b.N), "s/video@1")
	b.ReportMetric(gen2.Seconds()/float64(b.N), "s/video@2")
	b.ReportMetric(float64(gen1)/float64(gen2), "speedup-2/1")
	b.ReportMetric(float64(step)/float64(gen2)*float64(spec.Steps), "step/gen×steps")
	b.ReportMetric(float64(frame)/float64(gen2), "frame/gen")
	b.ReportMetric(float64(2*(step+digest)+frame)/float64(gen2), "spotcheck/gen")
}
