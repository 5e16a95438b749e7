package localgrid_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
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
// machine. Validator rounds are paused so only the job uses the CPU.
func BenchmarkDefaultJob(b *testing.B) {
	cfg := testConfig(b.TempDir(), 1)
	cfg.Round = time.Hour
	g := startGrid(b, cfg)
	eng := refengine.New()
	// A key that polling every few milliseconds does not rate-limit.
	_, key, err := g.Gateway().Keys().Create(context.Background(), "bench", 10_000, 10_000, 16)
	if err != nil {
		b.Fatal(err)
	}
	var engine, completed, downloaded time.Duration
	for i := 0; b.Loop(); i++ {
		spec := fractal.DefaultSpec("a red ball bouncing over the ocean at night", uint64(1000+i))
		start := time.Now()
		if _, err := eng.Generate(context.Background(), spec, fractal.GenerateOptions{KeepStates: true}); err != nil {
			b.Fatal(err)
		}
		engineTime := time.Since(start)
		engine += engineTime

		start = time.Now()
		var v video
		call(b, "POST", g.URL()+"v1/videos", key, map[string]any{"prompt": spec.Prompt, "seed": spec.Seed}, http.StatusAccepted, &v)
		for v.Status != "completed" {
			if v.Status == "failed" {
				b.Fatalf("job failed: %s", v.Error)
			}
			time.Sleep(5 * time.Millisecond)
			call(b, "GET", g.URL()+"v1/videos/"+v.ID, key, nil, http.StatusOK, &v)
		}
		completed += time.Since(start)
		if v.Timings != nil {
			b.Logf("job %d: engine %s, generate %dms, total %dms, seen %s", i, engineTime, v.Timings.Generate, v.Timings.Total, time.Since(start))
		}
		call(b, "GET", g.URL()+"v1/videos/"+v.ID+"/content?variant=mp4", key, nil, http.StatusOK, nil)
		downloaded += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(engine.Seconds()/n, "engine-s")
	b.ReportMetric(completed.Seconds()/n, "completed-s")
	b.ReportMetric(completed.Seconds()/engine.Seconds(), "completed/engine")
	b.ReportMetric(downloaded.Seconds()/engine.Seconds(), "mp4/engine")
}
