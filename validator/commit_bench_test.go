package validator_test

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/jetstream"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// BenchmarkWeightsToChain measures, per path, the time from the validator
// deciding its weights (the first SetWeights of a started validator) to the
// weights being in force on a devchain with 100 ms blocks and a tempo of 10,
// in blocks and seconds, averaged over starts at several places in the
// epoch (run with -benchtime 10x to cover all ten). With commit-reveal the weights come in at the
// first block of the next epoch (timelocked: the chain reveals them before
// that block's consensus) or one block after it (hash: the validator sees
// the epoch and reveals), so the wait is up to a tempo and half one on
// average.
func BenchmarkWeightsToChain(b *testing.B) {
	for _, tc := range []struct {
		name string
		cr   bool
		path string
	}{
		{"set_weights", false, fractal.WeightsPathTimelock},
		{"timelock", true, fractal.WeightsPathTimelock},
		{"hash", true, fractal.WeightsPathHash},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var blocks, secs float64
			for i := range b.N {
				bl, s := weightsToChain(b, tc.cr, tc.path, 1+3*i%10)
				blocks, secs = blocks+bl, secs+s
			}
			b.ReportMetric(blocks/float64(b.N), "blocks")
			b.ReportMetric(secs/float64(b.N), "s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// weightsToChain starts a validator at block start (its place in the epoch
// sets the wait) and returns blocks and seconds to its weights in force.
func weightsToChain(b *testing.B, commitReveal bool, path string, start int) (float64, float64) {
	b.Helper()
	g := gridtest.New(b)
	g.AddMiner(b, refengine.New(), nil)
	subnets, err := g.Chain.Subnets(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	p := subnets[0].Params
	p.CommitReveal = commitReveal
	if err := g.Chain.SetSubnetParams(b.Context(), g.Sudo, gridtest.NetUID, p); err != nil {
		b.Fatal(err)
	}
	st, err := jetstream.Open(b.Context(), jetstream.DefaultConfig(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	kv, err := st.KV(b.Context(), "validator", 0)
	if err != nil {
		b.Fatal(err)
	}
	v := validator.New()
	v.Config.NetUID, v.Config.CommitReveal = gridtest.NetUID, path
	v.Config.AllowPrivateAxons, v.Config.SharedProb, v.Config.Round = true, 0, time.Hour
	v.Config.Shapes = []validator.Shape{{Width: 64, Height: 64, Frames: 4, FPS: 8, Steps: 8}}
	v.Engine, v.Hotkey, v.Chain, v.KV, v.Audit = refengine.New(), g.Validator, g.Chain, kv, st.Audit()
	v.Words, v.Logger, v.Registry = refengine.Words(), gridtest.Logger(b), prometheus.NewRegistry()
	if err := v.Open(b.Context()); err != nil {
		b.Fatal(err)
	}
	v.Round(b.Context())
	if _, err := g.Chain.Advance(start); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				g.Chain.Advance(1)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	v.Start()
	defer v.Close()
	var decided time.Time
	var from uint64
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if n, at := v.WeightsSet(); n > 0 && decided.IsZero() {
			decided, from = time.Now(), at
		}
		if !decided.IsZero() {
			w, err := g.Chain.SubnetWeights(b.Context(), gridtest.NetUID)
			if err != nil {
				b.Fatal(err)
			}
			if i := slices.IndexFunc(w.Rows, func(r fractal.WeightsRow) bool { return r.Hotkey == g.Validator.SS58() }); i >= 0 {
				return float64(w.Rows[i].Block - from), time.Since(decided).Seconds()
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("%s: weights not on chain within 30 s", path)
	return 0, 0
}
