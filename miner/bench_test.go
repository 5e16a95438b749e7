package miner_test

import (
	"context"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// BenchmarkEndToEnd measures a default-spec job through a real miner over
// loopback HTTP (signed request, stream, frames transfer and digest check)
// against the engine called directly, side by side in one run, and reports
// the ratio. Run with -benchtime=5x or more.
func BenchmarkEndToEnd(b *testing.B) {
	eng := refengine.New()
	g := newGrid(b, eng, nil)
	cl := client(g.validator)
	ctx := context.Background()
	// Where the miner's time goes, from the caller's clock: the engine's
	// own generation (as the miner reports it), the commitment and frames
	// file after it until the result arrives, and the caller's check of
	// the frames after they arrive.
	var direct, viaMiner, engine, finish, check time.Duration
	for i := 0; i < b.N; i++ {
		spec := fractal.DefaultSpec("a red ball bouncing over the ocean at night", uint64(i))
		start := time.Now()
		if _, err := eng.Generate(ctx, spec, fractal.GenerateOptions{}); err != nil {
			b.Fatal(err)
		}
		direct += time.Since(start)
		start = time.Now()
		var started, result time.Duration
		out, err := cl.Generate(ctx, g.target, minerapi.GenerateRequest{RequestID: minerapi.NewRequestID(), Spec: spec}, func(e minerapi.Event) {
			switch e.Type {
			case minerapi.EventStarted:
				started = time.Since(start)
			case minerapi.EventResult:
				result = time.Since(start)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		viaMiner += took
		done := started + time.Duration(out.Result.GenerateMillis)*time.Millisecond
		engine += done
		finish += result - done
		check += took - out.Total
	}
	n := float64(b.N)
	b.ReportMetric(direct.Seconds()/n, "direct-s/video")
	b.ReportMetric(viaMiner.Seconds()/n, "miner-s/video")
	b.ReportMetric(viaMiner.Seconds()/direct.Seconds(), "miner/direct")
	b.ReportMetric(engine.Seconds()/n, "engine-done-s")
	b.ReportMetric(finish.Seconds()/n, "commit+file-s")
	b.ReportMetric(check.Seconds()/n, "caller-check-s")
}

// BenchmarkOpen measures opening two committed steps of a retained default
// job (states recomputed from the nearest checkpoint) and reports the
// memory the miner holds per retained job.
func BenchmarkOpen(b *testing.B) {
	g := newGrid(b, refengine.New(), nil)
	cl := client(g.validator)
	ctx := context.Background()
	spec := fractal.DefaultSpec("two yellow stars spinning in a purple sky", 3)
	id := minerapi.NewRequestID()
	if _, err := cl.Generate(ctx, g.target, minerapi.GenerateRequest{RequestID: id, Spec: spec}, nil); err != nil {
		b.Fatal(err)
	}
	jobs, bytes := g.miner.Retained()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := 1 + i%(spec.Steps-1)
		if _, err := cl.Open(ctx, g.target, minerapi.OpenRequest{RequestID: id, Steps: []int{k, k + 1}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(bytes)/float64(jobs)/(1<<20), "MiB/retained-job")
}
