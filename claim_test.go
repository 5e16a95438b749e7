package fractal_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/fractal-grid/fractal"
)

func TestOpeningsAt(t *testing.T) {
	o := &fractal.Openings{Openings: []fractal.Opening{{Step: 3}, {Step: 1}, {Step: 8}}}
	for _, step := range []int{1, 3, 8} {
		if got := o.At(step); got == nil || got.Step != step {
			t.Errorf("At(%d) = %+v, want the opening of step %d", step, got, step)
		}
	}
	for _, step := range []int{0, 2, 9} {
		if got := o.At(step); got != nil {
			t.Errorf("At(%d) = %+v, want nil: step %d was not opened", step, got, step)
		}
	}
	o.At(8).Step = 9
	if o.At(9) == nil {
		t.Error("At returned a copy; want the opening itself")
	}
}

func TestOpenerFunc(t *testing.T) {
	var asked []int
	var open fractal.Opener = fractal.OpenerFunc(func(ctx context.Context, steps []int) (*fractal.Openings, error) {
		asked = steps
		return nil, fractal.ErrBadOpening
	})
	if _, err := open.Open(context.Background(), []int{2, 5}); !errors.Is(err, fractal.ErrBadOpening) {
		t.Errorf("got %v, want the function's error", err)
	}
	if !slices.Equal(asked, []int{2, 5}) {
		t.Errorf("function got steps %v, want [2 5]", asked)
	}
}
