package fractal

import "context"

// Sampler takes users' finished jobs from a gateway so that a validator
// verifies a sample of them like its own challenges: a miner cannot tell a
// challenge from a user's job and answer only the first honestly. Sample is
// called soon after the job finished, while the miner still holds its
// states, and may block while it verifies; a gateway calls it off the
// path that answers the user.
type Sampler interface {
	Sample(ctx context.Context, miner Neuron, claim Claim)
}

// SamplerFunc is a Sampler made of a function.
type SamplerFunc func(ctx context.Context, miner Neuron, claim Claim)

// Sample calls f.
func (f SamplerFunc) Sample(ctx context.Context, miner Neuron, claim Claim) { f(ctx, miner, claim) }

var _ Sampler = SamplerFunc(nil)

// FailureSampler is a Sampler capability: it takes the attempts of users'
// jobs that failed by the miner's doing (never a refusal for load), which
// a validator counts against the miner. A gateway calls it off the path
// that retries the job.
type FailureSampler interface {
	SampleFailure(ctx context.Context, f *AttemptFailure)
}
