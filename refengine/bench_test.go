package refengine

import (
	"context"
	"runtime"
	"syscall"
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

func BenchmarkStepFrame(b *testing.B) {
	e, spec, res := benchSetup(b)
	t := spec.Steps / 2
	for b.Loop() {
		if _, err := e.StepFrame(context.Background(), spec, t, res.States[t-1], spec.Frames/2); err != nil {
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

// BenchmarkCostShape reports the figures that matter to verification. With
// GOMAXPROCS=1 it measures the process CPU time of Generate, one Step, one
// state digest and one DecodeFrame, and reports one Step ÷ Generate (times
// steps, so the goal is ≤ 1.2), DecodeFrame ÷ Generate, a spot check (two
// steps with their digests and one frame) ÷ Generate, and the same check
// recomputing one frame of each step with StepFrame. CPU time keeps these
// ratios steady on a busy machine. It also reports the wall-clock speed-up of
// Generate from GOMAXPROCS=1 to 2, from the fastest of each (contention only
// ever slows a run down).
func BenchmarkCostShape(b *testing.B) {
	ctx := context.Background()
	e, spec, res := benchSetup(b)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var gen, step, stepFrame, digest, frame time.Duration
	wall := [3]time.Duration{}
	for b.Loop() {
		runtime.GOMAXPROCS(1)
		gen += cpuTime(func() { MustGenerate(b, e, spec, fractal.GenerateOptions{}) })
		step += cpuTime(func() {
			if _, err := e.Step(ctx, spec, 7, res.States[6]); err != nil {
				b.Fatal(err)
			}
		})
		stepFrame += cpuTime(func() {
			if _, err := e.StepFrame(ctx, spec, 7, res.States[6], 3); err != nil {
				b.Fatal(err)
			}
		})
		digest += cpuTime(func() { res.States[7].Digest() })
		frame += cpuTime(func() {
			if _, err := e.DecodeFrame(ctx, spec, res.States[spec.Steps], 3); err != nil {
				b.Fatal(err)
			}
		})
		for procs := 1; procs <= 2; procs++ {
			runtime.GOMAXPROCS(procs)
			start := time.Now()
			MustGenerate(b, e, spec, fractal.GenerateOptions{})
			if d := time.Since(start); wall[procs] == 0 || d < wall[procs] {
				wall[procs] = d
			}
		}
	}
	b.ReportMetric(gen.Seconds()/float64(b.N), "cpu-s/video")
	b.ReportMetric(float64(step)/float64(gen)*float64(spec.Steps), "step/gen×steps")
	b.ReportMetric(float64(frame)/float64(gen), "frame/gen")
	b.ReportMetric(float64(2*(step+digest)+frame)/float64(gen), "spotcheck/gen")
	b.ReportMetric(float64(2*(stepFrame+digest)+frame)/float64(gen), "framecheck/gen")
	b.ReportMetric(wall[1].Seconds(), "best-s/video@1")
	b.ReportMetric(wall[2].Seconds(), "best-s/video@2")
	b.ReportMetric(float64(wall[1])/float64(wall[2]), "speedup-2/1")
}

// cpuTime returns the user and system CPU time the process spent in fn.
func cpuTime(fn func()) time.Duration {
	before := rusage()
	fn()
	return rusage() - before
}

func rusage() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
