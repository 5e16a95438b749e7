package validator_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// TestOperatorBurst: the grid's miners share the coldkey that registered
// them, so each round challenges them as one operator, in one burst of one
// shape, and times every pass by the burst's makespan.
func TestOperatorBurst(t *testing.T) {
	g := gridtest.New(t)
	for range 3 {
		g.AddMiner(t, refengine.New(), nil)
	}
	st := openStore(t, t.TempDir())
	defer st.Close()
	v := newValidator(t, g, st)
	v.Config.SharedProb = 0.5 // a cross-check keeps the burst's shape too
	v.Config.Shapes = []validator.Shape{
		{Width: 64, Height: 64, Frames: 2, FPS: 8, Steps: 4},
		{Width: 64, Height: 64, Frames: 2, FPS: 8, Steps: 6},
		{Width: 64, Height: 64, Frames: 2, FPS: 8, Steps: 8},
	}
	ctx := context.Background()
	const rounds = 4
	for range rounds {
		if n := v.Round(ctx); n != 3 {
			t.Fatalf("round sent %d challenges, want 3", n)
		}
	}
	raw, err := st.Audit().Read(ctx, "", 1, 100)
	if err != nil || len(raw) != 3*rounds {
		t.Fatalf("audit holds %d records (%v), want %d", len(raw), err, 3*rounds)
	}
	for r := range rounds {
		var recs []validator.Record
		var makespan int64
		for _, x := range raw[3*r : 3*r+3] {
			var rec validator.Record
			if err := json.Unmarshal(x.Data, &rec); err != nil {
				t.Fatal(err)
			}
			if !rec.OK {
				t.Fatalf("round %d: %s failed (%s: %s), want a pass", r, rec.Miner, rec.Reason, rec.Detail)
			}
			recs = append(recs, rec)
			makespan = max(makespan, rec.TotalMs)
		}
		for _, rec := range recs {
			if rec.Steps != recs[0].Steps {
				t.Errorf("round %d: steps %d and %d in one burst, want one shape", r, rec.Steps, recs[0].Steps)
			}
			if got := max(rec.TotalMs, rec.BurstMs); got != makespan {
				t.Errorf("round %d: %s timed at %d ms (own %d), want the burst's %d ms", r, rec.Miner, got, rec.TotalMs, makespan)
			}
		}
	}
}
