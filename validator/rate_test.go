package validator

import (
	"math"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
)

// TestSampleRateRisesUnderLoadAndWhenNewlyFast: a loaded miner's jobs, and
// jobs much faster than the miner's record, are sampled more.
func TestSampleRateRisesUnderLoadAndWhenNewlyFast(t *testing.T) {
	v := New()
	v.Engine = refengine.New()
	v.Config.OrganicSample = 0.1
	spec := fractal.Spec{Prompt: "a cat", Width: 256, Height: 256, Frames: 16, FPS: 8, Steps: 20}
	cost := v.costOf(spec)
	v.stats = map[string]*Stats{"known": {Hotkey: "known", SecsPerCost: 2}}
	took := func(secsPerCost float64) time.Duration {
		return time.Duration(secsPerCost * cost * float64(time.Second))
	}
	for _, tc := range []struct {
		name   string
		hotkey string
		load   int
		total  time.Duration
		want   float64
	}{
		{"idle, as fast as its record", "known", 0, took(2), 0.1},
		{"a new miner", "new", 0, took(1), 0.1},
		{"loaded", "known", 2, took(2), 0.3},
		{"newly fast", "known", 0, took(1), 0.3},
		{"loaded and newly fast", "known", 1, took(1), 0.9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := v.sampleRate(tc.hotkey, spec, &minerapi.Outcome{QueuePosition: tc.load, Total: tc.total})
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("got %g, want %g", got, tc.want)
			}
		})
	}
	v.Config.OrganicSample = 0.5
	if got := v.sampleRate("known", spec, &minerapi.Outcome{QueuePosition: 1, Total: took(1)}); got != 1 {
		t.Errorf("got %g, want the rate capped at 1", got)
	}
}
