package miner_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// variant is the reference model's next version, with Wan-like frames (4k+1).
func variant(t testing.TB) *refengine.Engine {
	t.Helper()
	lim := fractal.LegacyLimits()
	lim.Frames = fractal.Range{Min: 5, Max: 33, Step: 4}
	lim.Default.Frames = 17
	e, err := refengine.NewVariant(refengine.Variant{Version: "5", Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestMinerServesSeveralProfiles(t *testing.T) {
	ctx := context.Background()
	a, b := refengine.New(), variant(t)
	g := newGrid(t, a, nil)
	if err := g.miner.SetEngines(a, b); err != nil {
		t.Fatal(err)
	}
	c := client(g.validator)
	h, err := c.Health(ctx, g.target)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Serves(), []string{a.Profile().String(), b.Profile().String()}; !slices.Equal(got, want) {
		t.Errorf("health serves %v, want %v", got, want)
	}
	for i, eng := range []*refengine.Engine{a, b} {
		spec := eng.Profile().DefaultSpec("a red ball bouncing over the ocean at night", 9)
		spec.Width, spec.Height, spec.Steps = 64, 64, 4
		out, err := c.Generate(ctx, g.target, minerapi.GenerateRequest{RequestID: minerapi.NewRequestID(), Spec: spec}, nil)
		if err != nil {
			t.Fatalf("%s: %v", spec.Profile, err)
		}
		local, err := eng.Generate(ctx, spec, fractal.GenerateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if out.Result.Receipt.Profile != spec.Profile || out.Result.Receipt.Commitment != local.Commit() {
			t.Errorf("engine %d: receipt %+v, want %s's commitment %+v", i, out.Result.Receipt, spec.Profile, local.Commit())
		}
	}
	// The variant's output differs from the reference's for the same spec shape.
	spec := a.Profile().DefaultSpec("x", 1)
	spec.Frames, spec.Width, spec.Height, spec.Steps = 5, 64, 64, 2
	ra, _ := a.Generate(ctx, spec, fractal.GenerateOptions{})
	spec.Profile = b.Profile().String()
	rb, _ := b.Generate(ctx, spec, fractal.GenerateOptions{})
	if ra.Frames.Digest() == rb.Frames.Digest() {
		t.Error("two versions of the model made the same video")
	}
}

func TestMinerRefusesAProfileItDoesNotServe(t *testing.T) {
	ctx := context.Background()
	a, b := refengine.New(), variant(t)
	g := newGrid(t, a, nil)
	c := client(g.validator)
	spec := b.Profile().DefaultSpec("a kite", 1)
	spec.Width, spec.Height, spec.Steps = 64, 64, 4
	_, err := c.Generate(ctx, g.target, minerapi.GenerateRequest{RequestID: minerapi.NewRequestID(), Spec: spec}, nil)
	if !errors.Is(err, fractal.ErrInvalid) || !strings.Contains(err.Error(), a.Profile().String()) {
		t.Errorf("unserved profile: got %v, want invalid naming %s", err, a.Profile())
	}
	// Within a served profile its own limits apply: 80 frames is beyond the reference's 64.
	spec = a.Profile().DefaultSpec("a kite", 1)
	spec.Frames = 80
	if _, err := c.Generate(ctx, g.target, minerapi.GenerateRequest{RequestID: minerapi.NewRequestID(), Spec: spec}, nil); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("80 frames: got %v, want invalid", err)
	}
	// After the switch the miner serves only the new model.
	if err := g.miner.SetEngines(b); err != nil {
		t.Fatal(err)
	}
	h, err := c.Health(ctx, g.target)
	if err != nil || !slices.Equal(h.Serves(), []string{b.Profile().String()}) {
		t.Errorf("after the switch: health %v, %v", h, err)
	}
	if err := g.miner.SetEngines(b, variant(t)); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("two engines of one profile: got %v, want invalid", err)
	}
}
