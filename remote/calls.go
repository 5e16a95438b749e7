package remote

import (
	"context"
	"fmt"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/engineapi"
)

// maxFramesBytes is the largest frames payload any valid spec needs.
const maxFramesBytes = int64(fractal.MaxFrames) * fractal.MaxSide * fractal.MaxSide * 3

// framesBytes returns the frames payload a spec needs (bounded, so an
// invalid spec the engine will refuse cannot ask for more).
func framesBytes(spec fractal.Spec) int64 {
	n := int64(spec.Frames) * int64(spec.Width) * int64(spec.Height) * 3
	if n < 0 || n > maxFramesBytes || spec.Frames < 0 || spec.Width < 0 || spec.Height < 0 {
		return maxFramesBytes
	}
	return n
}

// Step asks the engine for state t from prev (prev is not sent for t == 0).
func (e *Engine) Step(ctx context.Context, spec fractal.Spec, t int, prev fractal.State) (fractal.State, error) {
	req := engineapi.StepRequest{Type: engineapi.TypeStep, Spec: spec, T: t}
	var payload []byte
	if t != 0 {
		if err := prev.Validate(); err != nil {
			return fractal.State{}, err
		}
		h := requestHeader(prev)
		req.State, payload = &h, prev.Bytes()
		req.Bytes = int64(len(payload))
	}
	resp, err := e.post(ctx, "/v1/step", req, payload)
	if err != nil {
		return fractal.State{}, fmt.Errorf("remote step %d: %w", t, err)
	}
	var rec engineapi.StateRecord
	raw, err := e.single(ctx, resp, engineapi.TypeState, e.Config.MaxStateBytes, &rec)
	if err != nil {
		return fractal.State{}, fmt.Errorf("remote step %d: %w", t, err)
	}
	if rec.T != t {
		return fractal.State{}, fmt.Errorf("remote step %d: reply is state %d: %w", t, rec.T, ErrProtocol)
	}
	next, err := replyState(rec.StateHeader, raw.Payload)
	if err != nil {
		return fractal.State{}, fmt.Errorf("remote step %d: %w", t, err)
	}
	return next, nil
}

// requestHeader describes a state sent to the engine. It leaves the optional
// digest out: TCP already guards the bytes in transit, and hashing on both
// ends would cost more than the transfer. Replies always carry a digest, and
// the client checks it.
func requestHeader(s fractal.State) engineapi.StateHeader {
	return engineapi.StateHeader{Shape: s.Shape, DType: engineapi.DTypeFloat32}
}

// replyState decodes a state the engine sent; it must carry its digest.
func replyState(h engineapi.StateHeader, payload []byte) (fractal.State, error) {
	if h.Digest.IsZero() {
		return fractal.State{}, fmt.Errorf("state without a digest: %w", ErrProtocol)
	}
	s, err := engineapi.StatePayload(h, payload)
	if err != nil {
		return s, fmt.Errorf("%v: %w", err, ErrProtocol)
	}
	if d := s.Digest(); d != h.Digest {
		return s, fmt.Errorf("state digest %s, record says %s: %w", d, h.Digest, fractal.ErrMismatch)
	}
	return s, nil
}

func decodeRequest(typ string, spec fractal.Spec, final fractal.State, index int) (engineapi.DecodeRequest, []byte, error) {
	if err := final.Validate(); err != nil {
		return engineapi.DecodeRequest{}, nil, err
	}
	payload := final.Bytes()
	return engineapi.DecodeRequest{Type: typ, Spec: spec, Index: index, State: requestHeader(final), Bytes: int64(len(payload))}, payload, nil
}

// Decode asks the engine to render the final state.
func (e *Engine) Decode(ctx context.Context, spec fractal.Spec, final fractal.State) (*fractal.Frames, error) {
	req, payload, err := decodeRequest(engineapi.TypeDecode, spec, final, 0)
	if err != nil {
		return nil, fmt.Errorf("remote decode: %w", err)
	}
	resp, err := e.post(ctx, "/v1/decode", req, payload)
	if err != nil {
		return nil, fmt.Errorf("remote decode: %w", err)
	}
	var rec engineapi.FramesRecord
	raw, err := e.single(ctx, resp, engineapi.TypeFrames, framesBytes(spec), &rec)
	if err != nil {
		return nil, fmt.Errorf("remote decode: %w", err)
	}
	f, err := replyFrames(spec, rec, raw.Payload)
	if err != nil {
		return nil, fmt.Errorf("remote decode: %w", err)
	}
	return f, nil
}

// replyFrames checks a frames record against the spec and its own digest.
func replyFrames(spec fractal.Spec, rec engineapi.FramesRecord, pix []byte) (*fractal.Frames, error) {
	if rec.Frames != spec.Frames || rec.Width != spec.Width || rec.Height != spec.Height || rec.FPS != spec.FPS || rec.Channels != 3 {
		return nil, fmt.Errorf("frames %dx%dx%dx%d at %d fps, want %dx%dx%dx3 at %d fps: %w",
			rec.Frames, rec.Height, rec.Width, rec.Channels, rec.FPS, spec.Frames, spec.Height, spec.Width, spec.FPS, ErrProtocol)
	}
	if rec.Encoding != engineapi.EncodingRaw {
		return nil, fmt.Errorf("frames encoding %q, want %q: %w", rec.Encoding, engineapi.EncodingRaw, ErrProtocol)
	}
	f := &fractal.Frames{Count: rec.Frames, Width: rec.Width, Height: rec.Height, FPS: rec.FPS, Pix: pix}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("frames: %v: %w", err, ErrProtocol)
	}
	if d := f.Digest(); d != rec.Digest {
		return nil, fmt.Errorf("frames digest %s, record says %s: %w", d, rec.Digest, fractal.ErrMismatch)
	}
	return f, nil
}

// DecodeFrame renders frame i of the final state: with /v1/decode_frame when
// the engine offers it, otherwise by a full Decode.
func (e *Engine) DecodeFrame(ctx context.Context, spec fractal.Spec, final fractal.State, i int) ([]byte, error) {
	if err := e.Open(ctx); err != nil {
		return nil, fmt.Errorf("remote decode frame %d: %w", i, err)
	}
	e.mu.Lock()
	native := e.decodeFrame
	e.mu.Unlock()
	if !native {
		f, err := e.Decode(ctx, spec, final)
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= f.Count {
			return nil, fractal.Errorf("index", "must be between 0 and %d, got %d", f.Count-1, i)
		}
		return f.Frame(i), nil
	}
	req, payload, err := decodeRequest(engineapi.TypeDecodeFrame, spec, final, i)
	if err != nil {
		return nil, fmt.Errorf("remote decode frame %d: %w", i, err)
	}
	resp, err := e.post(ctx, "/v1/decode_frame", req, payload)
	if err != nil {
		return nil, fmt.Errorf("remote decode frame %d: %w", i, err)
	}
	var rec engineapi.FrameRecord
	size := int64(spec.Width) * int64(spec.Height) * 3
	raw, err := e.single(ctx, resp, engineapi.TypeFrame, min(max(size, 0), maxFramesBytes), &rec)
	if err != nil {
		return nil, fmt.Errorf("remote decode frame %d: %w", i, err)
	}
	if rec.Index != i || rec.Width != spec.Width || rec.Height != spec.Height || rec.Channels != 3 ||
		rec.Encoding != engineapi.EncodingRaw || int64(len(raw.Payload)) != size {
		return nil, fmt.Errorf("remote decode frame %d: reply is frame %d %dx%dx%d %q of %d bytes: %w",
			i, rec.Index, rec.Height, rec.Width, rec.Channels, rec.Encoding, len(raw.Payload), ErrProtocol)
	}
	return raw.Payload, nil
}
