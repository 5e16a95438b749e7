package validator

import (
	"context"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

// Organic hands over a finished user job: a sample of them (OrganicSample)
// is verified like a challenge and scored. It reports whether the job was
// sampled and, if so, the verification record. It must be called soon after
// the job finished, while the miner still retains its states.
func (v *Validator) Organic(ctx context.Context, miner fractal.Neuron, req minerapi.GenerateRequest, out *minerapi.Outcome) (Record, bool) {
	if v.challenger != nil {
		v.challenger.mix.add(req.Spec)
	}
	v.randMu.Lock()
	sampled := v.rand.Float64() < v.Config.OrganicSample
	v.randMu.Unlock()
	if !sampled {
		return Record{}, false
	}
	target := minerapi.Target{URL: "http://" + miner.Axon.AddrPort().String(), Hotkey: miner.Hotkey}
	a := attempt{miner: miner, req: req}
	a.rec = Record{RequestID: req.RequestID, Miner: miner.Hotkey, UID: miner.UID, Organic: true, Prompt: req.Spec.Prompt, Seed: req.Spec.Seed, Steps: req.Spec.Steps}
	if a = v.verify(ctx, target, a, out); a.scored {
		v.record(ctx, a, 0)
	}
	return a.rec, true
}
