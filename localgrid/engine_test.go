package localgrid_test

import (
	"context"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/localgrid"
	"github.com/fractal-grid/fractal/refengine"
)

// TestPacedEngineIsSlowerAndExact checks that a paced engine takes about
// Factor times as long as the reference engine and returns the same bits,
// so an uneven grid's slow miners still pass verification.
func TestPacedEngineIsSlowerAndExact(t *testing.T) {
	spec := fractal.Spec{Prompt: "a yellow bird flying over a forest", Seed: 5, Frames: 4, Width: 64, Height: 64, FPS: 8, Steps: 10}
	ctx := context.Background()
	run := func(e fractal.Engine) (fractal.Digest, time.Duration) {
		start := time.Now()
		res, err := e.Generate(ctx, spec, fractal.GenerateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Frames.Digest(), time.Since(start)
	}
	// The fastest of several interleaved runs of each: a run slowed by
	// other work on a shared CPU does not decide it. The paced engine waits
	// 3× whatever each step took, so even its fastest run takes about 4×
	// the reference engine's fastest.
	var ref, paced fractal.Digest
	refTime, pacedTime := time.Duration(1<<62), time.Duration(1<<62)
	run(refengine.New()) // warm up
	for range 5 {
		d, took := run(refengine.New())
		ref, refTime = d, min(refTime, took)
		d, took = run(&localgrid.PacedEngine{Engine: refengine.New(), Factor: 4})
		paced, pacedTime = d, min(pacedTime, took)
		if paced != ref {
			t.Fatalf("paced digest %s, want the reference engine's %s", paced, ref)
		}
	}
	if pacedTime < 2*refTime {
		t.Errorf("paced engine took %s at best, want about 4× the reference engine's best %s", pacedTime, refTime)
	}
}
