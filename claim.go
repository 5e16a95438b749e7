package fractal

import (
	"context"
	"errors"
	"time"
)

// Claim is a miner's answer to one job as a verifier sees it: what was
// asked, the profile the miner says it ran, its signed receipt, the frames it
// delivered (already checked against the receipt's frames digest) and how
// long each part took, as the verifier measured it.
type Claim struct {
	RequestID string
	Miner     string // hotkey the job was sent to
	Spec      Spec
	Profile   Profile // the miner's statement of the model it ran
	Receipt   Receipt
	Frames    *Frames
	// Latency measured by the verifier from sending the request.
	Accepted      time.Duration // to the accepted answer
	FirstProgress time.Duration // to the first progress report
	Total         time.Duration // to the last frames byte
}

// Opening is committed step k: states k-1 and k with their Merkle proofs
// against the trajectory root.
type Opening struct {
	Step      int
	Prev      State
	PrevProof MerkleProof
	State     State
	Proof     MerkleProof
}

// Openings are a miner's answer to a request to open committed steps.
type Openings struct {
	TrajectoryRoot Digest
	Openings       []Opening
}

// At returns the opening of step k, or nil when it was not opened.
func (o *Openings) At(step int) *Opening {
	for i := range o.Openings {
		if o.Openings[i].Step == step {
			return &o.Openings[i]
		}
	}
	return nil
}

// Opener opens committed steps of one job at the miner that made it.
type Opener interface {
	Open(ctx context.Context, steps []int) (*Openings, error)
}

// OpenerFunc adapts a function to an Opener.
type OpenerFunc func(ctx context.Context, steps []int) (*Openings, error)

// Open calls f.
func (f OpenerFunc) Open(ctx context.Context, steps []int) (*Openings, error) { return f(ctx, steps) }

var _ Opener = OpenerFunc(nil)

// ErrBadOpening marks an opening that is not one: a state that does not
// decode or is larger than its profile allows. Verifiers count it as a broken
// proof, the miner's fault, unlike an opening that never came.
var ErrBadOpening = errors.New("malformed opening")
