package fractal_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// wholeDecoder hides the engine's own DecodeFrame: only Decode is left.
type wholeDecoder struct{ fractal.Engine }

// TestDecodeFrame: one frame comes from the engine's own DecodeFrame, or
// from a whole Decode when it has none, the same bytes either way; a frame
// past the video's is an invalid request, not a panic.
func TestDecodeFrame(t *testing.T) {
	ctx := context.Background()
	eng := refengine.New()
	spec := fractal.Spec{Prompt: "a kite", Seed: 1, Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 4, Profile: eng.Profile().String()}
	res, err := eng.Generate(ctx, spec, fractal.GenerateOptions{KeepStates: true})
	if err != nil {
		t.Fatal(err)
	}
	final := res.States[len(res.States)-1]
	for i := range spec.Frames {
		own, err := fractal.DecodeFrame(ctx, eng, spec, final, i)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := fractal.DecodeFrame(ctx, wholeDecoder{eng}, spec, final, i)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(own, whole) || !bytes.Equal(whole, res.Frames.Frame(i)) {
			t.Errorf("frame %d: the engine's own decode, a whole decode and the generated frame differ", i)
		}
	}
	if _, err := fractal.DecodeFrame(ctx, wholeDecoder{eng}, spec, final, spec.Frames); !errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("frame past the video: %v, want an invalid request", err)
	}
}
