package validator

import (
	"context"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// Organic hands over a finished user job: a sample of them (sampleRate)
// is verified like a challenge and scored. It reports whether the job was
// sampled and, if so, the verification record. It must be called soon after
// the job finished, while the miner still retains its states.
func (v *Validator) Organic(ctx context.Context, miner fractal.Neuron, req minerapi.GenerateRequest, out *minerapi.Outcome) (Record, bool) {
	rate, ok := v.sampled(miner, req.Spec, out)
	if !ok {
		return Record{}, false
	}
	return v.verifyOrganic(ctx, miner, req, out, rate), true
}

// sampled records the job's shape in users' mix and draws whether to
// verify it; it returns the chance the draw had.
func (v *Validator) sampled(miner fractal.Neuron, spec fractal.Spec, out *minerapi.Outcome) (float64, bool) {
	if v.challenger != nil {
		v.challenger.mix.add(spec)
	}
	rate := v.sampleRate(miner.Hotkey, spec, out)
	v.randMu.Lock()
	defer v.randMu.Unlock()
	return rate, v.rand.Float64() < rate
}

// sampleRate is the chance a user's job is verified: Config.OrganicSample,
// times SampleBoost when the miner had other work queued or running as it
// took the job (a cheat that fakes steps only under load is checked most
// when it is loaded), and times SampleBoost again when the job went much
// faster than the miner's record (a miner newly fast has either a new GPU
// or a new shortcut).
func (v *Validator) sampleRate(hotkey string, spec fractal.Spec, out *minerapi.Outcome) float64 {
	v.mu.Lock()
	s, ok := v.stats[hotkey]
	var record float64
	if ok {
		record = s.SecsPerCost
	}
	v.mu.Unlock()
	var speed float64
	if cost := v.costOf(spec); record > 0 && cost > 0 && out.Total > 0 {
		speed = out.Total.Seconds() / cost / record
	}
	return OrganicRate(v.Config.OrganicSample, out.QueuePosition > 0, speed)
}

// OrganicRate is the chance a user's job is verified at the base rate:
// times SampleBoost when the miner was loaded as it took the job, and again
// when the job took less than newlyFast of the miner's record (speed: its
// seconds per cost ÷ the record's; 0 when either is unknown).
func OrganicRate(base float64, loaded bool, speed float64) float64 {
	rate := base
	if loaded {
		rate *= SampleBoost
	}
	if speed > 0 && speed < newlyFast {
		rate *= SampleBoost
	}
	return min(rate, 1)
}

// SampleBoost multiplies the organic sample rate for a loaded or newly fast
// miner; newlyFast is the share of its recorded seconds per cost under
// which a job counts as newly fast.
const (
	SampleBoost = 3
	newlyFast   = 0.7
)

// verifyOrganic verifies a user's job, drawn with chance rate, and records
// the verdict: a pass credits the miner with the users' work it stands
// for, the job's cost ÷ rate.
func (v *Validator) verifyOrganic(ctx context.Context, miner fractal.Neuron, req minerapi.GenerateRequest, out *minerapi.Outcome, rate float64) Record {
	target := minerapi.Target{URL: "http://" + miner.Axon.AddrPort().String(), Hotkey: miner.Hotkey}
	a := attempt{miner: miner, req: req, drawn: rate}
	a.rec = Record{RequestID: req.RequestID, Miner: miner.Hotkey, UID: miner.UID, Organic: true, Prompt: req.Spec.Prompt, Seed: req.Spec.Seed, Steps: req.Spec.Steps}
	if a = v.verify(ctx, target, a, out); a.scored {
		v.record(ctx, a, 0)
	}
	return a.rec
}
