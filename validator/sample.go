package validator

import (
	"context"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/minerapi"
)

var _ fractal.Sampler = (*Validator)(nil)

// Sample takes a user's job that miner finished, from a gateway: a share
// of them (Config.OrganicSample) is verified like a challenge and scored
// (Organic).
func (v *Validator) Sample(ctx context.Context, miner fractal.Neuron, claim fractal.Claim) {
	req := minerapi.GenerateRequest{RequestID: claim.RequestID, Spec: claim.Spec}
	out := &minerapi.Outcome{
		Result: &minerapi.ResultEvent{Profile: claim.Profile, Receipt: claim.Receipt}, Frames: claim.Frames,
		Accepted: claim.Accepted, FirstProgress: claim.FirstProgress, Total: claim.Total,
	}
	v.Organic(ctx, miner, req, out)
}
