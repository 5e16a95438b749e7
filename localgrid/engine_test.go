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
	run(refengine.New()) // warm up
	ref, refTime := run(refengine.New())
	paced, pacedTime := run(&localgrid.PacedEngine{Engine: refengine.New(), Factor: 4})
	if paced != ref {
		t.Errorf("paced digest %s, want the reference engine's %s", paced, ref)
	}
	if pacedTime < 3*refTime/2 { // loose: the CPU is shared
		t.Errorf("paced engine took %s, want about 4× the reference engine's %s", pacedTime, refTime)
	}
}
