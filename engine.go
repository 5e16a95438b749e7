package fractal

import "context"

// Engine is the homogeneous model: the built-in reference engine, or a GPU
// engine behind the engine protocol.
//
// A trajectory has Steps+1 states: state 0 is the seeded initial noise
// (Step with t == 0; prev is ignored) and state t (1 ≤ t ≤ Steps) is
// Step(spec, t, state t-1). Decode renders the final state into Frames.
type Engine interface {
	Profile() Profile
	Generate(ctx context.Context, spec Spec, opts GenerateOptions) (*Result, error)
	Step(ctx context.Context, spec Spec, t int, prev State) (State, error)
	Decode(ctx context.Context, spec Spec, final State) (*Frames, error)
}

// FrameDecoder is an optional Engine capability: render one frame of the
// final state, so a verifier can check a single frame against its Merkle
// proof at a fraction of the cost of a full Decode.
type FrameDecoder interface {
	DecodeFrame(ctx context.Context, spec Spec, final State, i int) ([]byte, error)
}

// DecodeFrame renders frame i of the final state with eng's own
// DecodeFrame when it has one, and by a whole Decode otherwise.
func DecodeFrame(ctx context.Context, eng Engine, spec Spec, final State, i int) ([]byte, error) {
	if fd, ok := eng.(FrameDecoder); ok {
		return fd.DecodeFrame(ctx, spec, final, i)
	}
	f, err := eng.Decode(ctx, spec, final)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= f.Count {
		return nil, Errorf("frame", "must be between 0 and %d, got %d", f.Count-1, i)
	}
	return f.Frame(i), nil
}

// Progress reports generation progress. Step counts completed sampling steps.
type Progress struct {
	Step  int `json:"step"`
	Steps int `json:"steps"`
}

// GenerateOptions controls a Generate call.
type GenerateOptions struct {
	// Progress, when set, is called after each sampling step, from the
	// generating goroutine.
	Progress func(Progress)
	// KeepStates asks for every state (Steps+1 of them) in Result.States.
	KeepStates bool
}

// Result is one finished generation.
type Result struct {
	Profile      Profile  `json:"profile"`
	Spec         Spec     `json:"spec"`
	Frames       *Frames  `json:"-"`
	StateDigests []Digest `json:"state_digests"` // Steps+1 digests, state 0 first
	States       []State  `json:"-"`             // only with KeepStates
}

// Commitment is what a prover commits to for one generation.
type Commitment struct {
	FramesDigest   Digest `json:"frames_digest"`   // Frames.Digest()
	FramesRoot     Digest `json:"frames_root"`     // Merkle root over per-frame hashes
	TrajectoryRoot Digest `json:"trajectory_root"` // Merkle root over state digests
}

// Commit computes the commitment of a result. The frames digest (one
// sequential pass) runs beside the per-frame hashes.
func (r *Result) Commit() Commitment {
	digest := make(chan Digest, 1)
	go func() { digest <- r.Frames.Digest() }()
	root := r.Frames.FrameTree().Root()
	return Commitment{
		FramesDigest:   <-digest,
		FramesRoot:     root,
		TrajectoryRoot: MerkleRoot(r.StateDigests),
	}
}
