package minerapi

import (
	"context"
	"fmt"
	"time"

	"github.com/fractal-grid/fractal"
)

// Claim returns the outcome of req, sent to the miner whose hotkey is miner,
// as the claim a verifier checks.
func (o *Outcome) Claim(miner string, req GenerateRequest) fractal.Claim {
	c := fractal.Claim{
		RequestID: req.RequestID, Miner: miner, Spec: req.Spec, Frames: o.Frames,
		Accepted: o.Accepted, FirstProgress: o.FirstProgress, Total: o.Total,
	}
	if o.Result != nil {
		c.Profile, c.Receipt = o.Result.Profile, o.Result.Receipt
	}
	return c
}

// Decode decodes the opened states, each of at most maxElems elements. A
// state that does not decode is the miner's fault: the error wraps
// fractal.ErrBadOpening.
func (r *OpenResponse) Decode(maxElems int) (*fractal.Openings, error) {
	out := &fractal.Openings{TrajectoryRoot: r.TrajectoryRoot, Openings: make([]fractal.Opening, len(r.Openings))}
	for i, o := range r.Openings {
		prev, err := o.Prev.State(maxElems)
		if err != nil {
			return nil, fmt.Errorf("step %d: previous state: %w: %w", o.Step, fractal.ErrBadOpening, err)
		}
		cur, err := o.State.State(maxElems)
		if err != nil {
			return nil, fmt.Errorf("step %d: state: %w: %w", o.Step, fractal.ErrBadOpening, err)
		}
		out.Openings[i] = fractal.Opening{Step: o.Step, Prev: prev, PrevProof: o.PrevProof, State: cur, Proof: o.Proof}
	}
	return out, nil
}

// OpenResponseOf encodes openings of the job requestID for the wire.
func OpenResponseOf(requestID string, o *fractal.Openings) OpenResponse {
	out := OpenResponse{RequestID: requestID, TrajectoryRoot: o.TrajectoryRoot, Openings: make([]Opening, len(o.Openings))}
	for i, op := range o.Openings {
		out.Openings[i] = Opening{Step: op.Step, Prev: Blob(op.Prev), PrevProof: op.PrevProof, State: Blob(op.State), Proof: op.Proof}
	}
	return out
}

// Opener opens committed steps of one job at one miner: the fractal.Opener a
// verifier calls.
type Opener struct {
	Client        *Client
	Target        Target
	RequestID     string
	MaxStateElems int           // the largest state accepted; the profile's Limits.MaxStateElems
	Timeout       time.Duration // for each opening; 0: the caller's context alone
}

var _ fractal.Opener = (*Opener)(nil)

// Open asks the miner for steps and decodes its answer.
func (o *Opener) Open(ctx context.Context, steps []int) (*fractal.Openings, error) {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	resp, err := o.Client.open(ctx, o.Target, OpenRequest{RequestID: o.RequestID, Steps: steps}, o.MaxStateElems)
	if err != nil {
		return nil, err
	}
	return resp.Decode(o.MaxStateElems)
}
