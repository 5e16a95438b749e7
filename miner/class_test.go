package miner_test

import (
	"context"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/miner"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/sr25519"
)

// inClass is the reference engine reporting an execution class; with drift
// its steps land a little off the reference's, as another GPU's would.
type inClass struct {
	*refengine.Engine
	class string
	drift float32
}

func (e *inClass) ExecutionClass() string { return e.class }

func (e *inClass) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	s, err := e.Engine.Step(ctx, spec, t, prev)
	if err == nil && t > 0 {
		for i := range s.Data {
			s.Data[i] += e.drift
		}
	}
	return s, err
}

// TestReceiptNamesTheClassAndOpeningsKeepTheirEngine: the receipt signs the
// class of the engine that generated the job, and a job generated before the
// miner changed engines is opened with the engine that generated it (the new
// one would recompute other states between checkpoints, and a miner whose
// openings do not match its commitment is failed as a cheat).
func TestReceiptNamesTheClassAndOpeningsKeepTheirEngine(t *testing.T) {
	before := &inClass{Engine: refengine.New(), class: "sha256:aaaa"}
	g := newGrid(t, before, func(c *miner.Config) { c.Checkpoint = 4 })
	spec := smallSpec("a paper boat on a rainy street", 3)
	out, err := client(g.validator).Generate(context.Background(), g.target, minerapi.GenerateRequest{RequestID: "job-1", Spec: spec}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := out.Result.Receipt
	if r.Class != before.class {
		t.Errorf("receipt class %q, want %q", r.Class, before.class)
	}
	if err := r.Verify(&sr25519.Verifier{}); err != nil {
		t.Errorf("receipt with a class: %v", err)
	}

	after := &inClass{Engine: refengine.New(), class: "sha256:bbbb", drift: 1e-3}
	if err := g.miner.SetEngines(after); err != nil {
		t.Fatal(err)
	}
	// Steps 2 and 3 lie between checkpoints 0 and 4: the miner recomputes them.
	resp, err := client(g.validator).Open(context.Background(), g.target, minerapi.OpenRequest{RequestID: "job-1", Steps: []int{2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range resp.Openings {
		cur, err := o.State.State(1 << 24)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Proof.Verify(r.Commitment.TrajectoryRoot, cur.Digest()); err != nil {
			t.Errorf("step %d after the engine changed: %v", o.Step, err)
		}
	}
	out, err = client(g.validator).Generate(context.Background(), g.target, minerapi.GenerateRequest{RequestID: "job-2", Spec: spec}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Result.Receipt.Class != after.class {
		t.Errorf("a job of the new engine: receipt class %q, want %q", out.Result.Receipt.Class, after.class)
	}
}
