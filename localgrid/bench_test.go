package localgrid_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/localgrid"
)

// BenchmarkUp measures the time from starting a grid of four miners to its
// API answering, on a fresh data directory and on one resumed.
func BenchmarkUp(b *testing.B) {
	for _, resume := range []bool{false, true} {
		b.Run(fmt.Sprintf("resume=%v", resume), func(b *testing.B) {
			dir := b.TempDir()
			if resume {
				g := localgrid.New()
				g.Config = testConfig(dir, 4)
				if err := g.Open(context.Background()); err != nil {
					b.Fatal(err)
				}
				g.Close()
			}
			var total time.Duration
			for i := 0; b.Loop(); i++ {
				d := dir
				if !resume {
					d = b.TempDir()
				}
				g := localgrid.New()
				g.Config = testConfig(d, 4)
				start := time.Now()
				if err := g.Open(context.Background()); err != nil {
					b.Fatal(err)
				}
				call(b, "GET", g.URL()+"healthz", "", nil, http.StatusOK, nil)
				total += time.Since(start)
				b.StopTimer()
				g.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-ready")
		})
	}
}

// BenchmarkDefaultJob compares what a user waits for a default job through
// the gateway (submit until completed, and until the MP4 is downloaded)
// with the engine's own generation time for the same spec, on the same
// machine (see localgrid.Bench); b.N is the number of jobs.
func BenchmarkDefaultJob(b *testing.B) {
	spec := fractal.DefaultSpec("a red ball bouncing over the ocean at night", 1000)
	res, err := localgrid.Bench(context.Background(), testConfig(b.TempDir(), 1), spec, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.EngineS, "engine-s")
	b.ReportMetric(res.JobS, "completed-s")
	b.ReportMetric(res.Ratio, "completed/engine")
	b.ReportMetric(res.MP4, "mp4/engine")
}

func TestBenchReportsEveryFigure(t *testing.T) {
	spec := fractal.Spec{Prompt: "a white horse running on a beach", Seed: 9, Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 6}
	res, err := localgrid.Bench(context.Background(), testConfig(t.TempDir(), 1), spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	figures := map[string]float64{"ready": res.ReadyS, "engine": res.EngineS, "job": res.JobS, "mp4": res.MP4S, "ratio": res.Ratio, "mp4 ratio": res.MP4}
	for name, v := range figures {
		if !(v > 0) {
			t.Errorf("%s: got %g, want a positive figure", name, v)
		}
	}
	if res.MP4S < res.JobS {
		t.Errorf("the MP4 arrived after %gs, before the job completed (%gs)", res.MP4S, res.JobS)
	}
}
