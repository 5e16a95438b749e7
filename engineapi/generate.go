package engineapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// stream writes the records of a generate reply. The 200 status is committed
// with the first record, so an error before any progress still gets its own
// status; after that an error ends the stream as an error record.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
	err     error // first write error: the client is gone
	cancel  context.CancelFunc
}

func (st *stream) write(v any, payload []byte, flush bool) {
	if st.err != nil {
		return
	}
	if !st.started {
		st.w.Header().Set("Content-Type", ContentType)
		st.w.Header().Set("X-Content-Type-Options", "nosniff")
		st.w.WriteHeader(http.StatusOK)
		st.started = true
	}
	err := WriteRecord(st.w, v, payload)
	if err == nil && flush {
		err = st.rc.Flush()
	}
	if err != nil {
		st.err = fmt.Errorf("write %T: %w", v, err)
		st.cancel() // stop the engine: nobody reads its output
	}
}

func (s *Server) handleGenerate(w http.ResponseWriter, r *http.Request, release func()) {
	var req GenerateRequest
	if _, err := s.readOne(r, TypeGenerate, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	st := &stream{w: w, rc: http.NewResponseController(w), cancel: cancel}
	start := time.Now()
	res, err := s.engine.Generate(ctx, req.Spec, fractal.GenerateOptions{
		KeepStates: req.KeepStates,
		Progress: func(p fractal.Progress) {
			st.write(ProgressEvent{Type: TypeProgress, Progress: p}, nil, true)
		},
	})
	release()
	if err == nil && st.err != nil {
		err = st.err
	}
	if err != nil {
		s.failStream(w, r, st, fmt.Errorf("generate: %w", err))
		return
	}
	if err := checkResult(res, req); err != nil {
		s.failStream(w, r, st, err)
		return
	}
	s.log.Info("generated", logSpec, req.Spec.Hash().String(), logSteps, req.Spec.Steps, logDur, time.Since(start))
	states := 0
	if req.KeepStates {
		states = len(res.States)
	}
	frames := framesRecord(res.Frames)
	st.write(ResultEvent{Type: TypeResult, Profile: res.Profile, Spec: res.Spec, StateDigests: res.StateDigests,
		FramesDigest: frames.Digest, States: states}, nil, false)
	st.write(frames, res.Frames.Pix, false)
	for t := 0; t < states; t++ {
		payload := res.States[t].Bytes()
		// The engine's committed digest goes out as is: the client checks it
		// against the bytes, so hashing here too would only cost time.
		h := StateHeader{Shape: res.States[t].Shape, DType: DTypeFloat32, Digest: res.StateDigests[t]}
		st.write(StateRecord{Type: TypeState, T: t, StateHeader: h, Bytes: int64(len(payload))}, payload, false)
	}
	st.write(EndRecord{Type: TypeEnd}, nil, true)
	if st.err != nil {
		s.log.Debug("generate reply not delivered", logErr, st.err)
	}
}

// checkResult catches an engine that breaks its own contract before its
// output reaches a caller.
func checkResult(res *fractal.Result, req GenerateRequest) error {
	switch {
	case res == nil || res.Frames == nil:
		return fmt.Errorf("engine returned no frames")
	case len(res.StateDigests) != req.Spec.Steps+1:
		return fmt.Errorf("engine returned %d state digests, want %d", len(res.StateDigests), req.Spec.Steps+1)
	case req.KeepStates && len(res.States) != req.Spec.Steps+1:
		return fmt.Errorf("engine returned %d states, want %d", len(res.States), req.Spec.Steps+1)
	}
	return res.Frames.Validate()
}

// failStream reports err: as an error reply when nothing was sent yet,
// otherwise as the error record that ends the stream.
func (s *Server) failStream(w http.ResponseWriter, r *http.Request, st *stream, err error) {
	if !st.started {
		s.writeError(w, r, err)
		return
	}
	switch status, code := apierr.Engine.Status(err); code {
	case apierr.CodeCanceled:
		s.log.Debug("generate stopped", logPath, r.URL.Path, logErr, err)
	case apierr.CodeInternal:
		// apierr.Engine.Body logs it with the request id.
	default:
		s.log.Error("generate failed mid-stream", logPath, r.URL.Path, logStatus, status, logErr, err)
	}
	st.write(ErrorReply{Type: TypeError, Error: apierr.Engine.Body(w, err)}, nil, true)
}
