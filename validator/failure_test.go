package validator_test

import (
	"context"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/gridtest"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/minerapi"
	"github.com/fractal-grid/fractal/refengine"
	"github.com/fractal-grid/fractal/validator"
)

// TestUsersFailuresCountAgainstTheMiner: failures of users' jobs that
// gateways shared through the store lower the failing miner's success and
// weight, as failed challenges that are no cheat would, so the honest
// miner's share rises. A failure is counted once, however often it
// arrives; a stale one, or one naming a stranger, not at all.
func TestUsersFailuresCountAgainstTheMiner(t *testing.T) {
	ctx := context.Background()
	g := gridtest.New(t)
	honest := g.AddMiner(t, refengine.New(), nil)
	flaky := g.AddMiner(t, refengine.New(), nil)
	st := openStore(t, t.TempDir())
	defer st.Close()
	v := newValidator(t, g, st)
	if n := v.Round(ctx); n != 2 {
		t.Fatalf("round sent %d challenges, want one to each miner", n)
	}
	for _, s := range v.Stats() {
		if s.Passed != 1 {
			t.Fatalf("stats %+v, want both miners passed once", v.Stats())
		}
	}
	mg, _ := g.Chain.Metagraph(ctx, gridtest.NetUID)
	h, _ := mg.ByHotkey(honest.Hotkey.SS58())
	f, _ := mg.ByHotkey(flaky.Hotkey.SS58())
	before := v.Weights()

	now := time.Now()
	failure := func(n fractal.Neuron, at time.Time) *fractal.AttemptFailure {
		return &fractal.AttemptFailure{Miner: n, RequestID: minerapi.NewRequestID(), Reason: fractal.FailureJobFailed,
			Detail: "job failed: out of GPU memory", Cost: 1, Failed: at}
	}
	stranger := fractal.Neuron{UID: 99, Hotkey: testenv.Key(t, "//Alice//stranger").SS58()}
	first := failure(f, now)
	shared := []*fractal.AttemptFailure{
		first, failure(f, now), failure(f, now),
		failure(f, now.Add(-fractal.SampleMaxAge-time.Minute)), // stale
		failure(stranger, now),
		failure(f, now), // the last: once it is counted, all before it were read
	}
	for _, x := range shared {
		if err := st.Queue().PublishFailure(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	v.Samples, v.Blobs = st.Queue(), st.Blobs()
	go func() { defer close(done); v.ConsumeSamples(cctx) }() // and the failures beside the samples
	defer func() { cancel(); <-done }()
	stats := func(hotkey string) validator.Stats {
		for _, s := range v.Stats() {
			if s.Hotkey == hotkey {
				return s
			}
		}
		return validator.Stats{}
	}
	waitFor(t, "the shared failures counted", time.Minute, func() bool { return stats(f.Hotkey).Failed >= 4 })
	v.SampleFailure(ctx, first) // handed over again, in the process: counted already

	got, hs := stats(f.Hotkey), stats(h.Hotkey)
	if got.Failed != 4 || got.Challenges != 5 || got.Cheats != 0 || !got.CooldownUntil.IsZero() || got.LastReason != string(fractal.FailureJobFailed) {
		t.Errorf("flaky miner: %d failed of %d, %d cheats, cooldown until %v, last reason %q; want 4 job failures of 5, no cheat, no cooldown",
			got.Failed, got.Challenges, got.Cheats, got.CooldownUntil, got.LastReason)
	}
	if hs.Failed != 0 || got.Success >= hs.Success {
		t.Errorf("success %g (flaky) and %g (honest, %d failed); want the flaky miner's lower and the honest one untouched", got.Success, hs.Success, hs.Failed)
	}
	after := v.Weights()
	share := func(w map[uint16]float64) float64 { return w[h.UID] / (w[h.UID] + w[f.UID]) }
	if share(after) <= share(before) || after[f.UID] >= before[f.UID] {
		t.Errorf("honest share %.3f → %.3f, flaky weight %.3f → %.3f; want the honest share up and the flaky weight down",
			share(before), share(after), before[f.UID], after[f.UID])
	}
	t.Logf("honest share %.3f → %.3f; flaky success %.3f", share(before), share(after), got.Success)
}
