package e2e

import (
	"context"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engines/diffusers/diffuserstest"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/minerapi"
)

// BenchmarkMinerOverEngine measures the Go miner in front of the Python
// engine (tiny Wan, its default spec): a validator's signed request to the
// miner until its frames and receipt arrive (the engine's generation with
// every state streamed back, the miner's hashing, commitment and reply),
// against the same generation asked of the engine directly with every state,
// side by side, the order alternating. The ratio is the median of the
// per-pair ratios.
func BenchmarkMinerOverEngine(b *testing.B) {
	url := diffuserstest.MustStartEngine(b)
	eng := diffuserstest.MustOpen(b, url)
	grid := gridtest.New(b)
	m := grid.AddMiner(b, eng, nil)
	cl := &minerapi.Client{HTTP: &http.Client{Transport: &epistula.Transport{Signer: grid.Validator}}}
	base := eng.Profile().DefaultSpec("a red ball bouncing over the ocean at night", 0)

	shapes := []struct {
		name string
		spec fractal.Spec
	}{
		{"default", base},
		{"128x128x9x8", withShape(base, 128, 128, 9, 8)},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) { benchMinerOverEngine(b, eng, cl, gridtest.Target(m), sh.spec) })
	}
}

func withShape(s fractal.Spec, width, height, frames, steps int) fractal.Spec {
	s.Width, s.Height, s.Frames, s.Steps = width, height, frames, steps
	return s
}

func benchMinerOverEngine(b *testing.B, eng fractal.Engine, cl *minerapi.Client, target minerapi.Target, base fractal.Spec) {
	ctx := context.Background()
	direct := func(spec fractal.Spec) time.Duration {
		start := time.Now()
		if _, err := eng.Generate(ctx, spec, fractal.GenerateOptions{KeepStates: true}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	viaMiner := func(spec fractal.Spec) time.Duration {
		start := time.Now()
		req := minerapi.GenerateRequest{RequestID: minerapi.NewRequestID(), Spec: spec}
		if _, err := cl.Generate(ctx, target, req, nil); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	direct(base) // the prompt's embedding is cached from here on, for both paths
	var engineS, minerS, ratios []float64
	for i := 0; b.Loop(); i++ {
		// Two seeds: the engine keeps its last decode, which the second
		// of two equal specs would find.
		one, two := base, base
		one.Seed, two.Seed = uint64(2*i+1), uint64(2*i+2)
		var d, v time.Duration
		if i%2 == 0 {
			d, v = direct(one), viaMiner(two)
		} else {
			v, d = viaMiner(one), direct(two)
		}
		engineS, minerS = append(engineS, d.Seconds()), append(minerS, v.Seconds())
		ratios = append(ratios, v.Seconds()/d.Seconds())
	}
	b.ReportMetric(median(engineS), "engine-s/video")
	b.ReportMetric(median(minerS), "miner-s/video")
	b.ReportMetric(median(ratios), "miner/engine")
	b.Logf("%s: %d videos of %dx%d, %d frames, %d steps: engine %.3fs, miner %.3fs, miner/engine %.3f (medians)",
		eng.Profile(), len(ratios), base.Width, base.Height, base.Frames, base.Steps, median(engineS), median(minerS), median(ratios))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
