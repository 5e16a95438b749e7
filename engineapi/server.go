package engineapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// Log keys.
const (
	logPath   = "path"
	logStatus = "status"
	logErr    = "err"
	logSpec   = "spec"
	logDur    = "duration"
	logSteps  = "steps"
)

// Config bounds what a Server accepts.
type Config struct {
	// Concurrency is how many engine calls (generate, step, decode) run at
	// once; more are refused with 503 and Retry-After.
	Concurrency int
	// MaxBodyBytes bounds a request body (JSON line and payload).
	MaxBodyBytes int64
	// RetryAfter is what a refused caller is told to wait (whole seconds).
	RetryAfter time.Duration
}

// DefaultConfig returns 2 concurrent calls, 256 MiB bodies and a 1 s Retry-After.
func DefaultConfig() Config {
	return Config{Concurrency: 2, MaxBodyBytes: 256 << 20, RetryAfter: time.Second}
}

// Validate checks the config.
func (c Config) Validate() error {
	switch {
	case c.Concurrency < 1:
		return fractal.Errorf("concurrency", "must be at least 1, got %d", c.Concurrency)
	case c.MaxBodyBytes < MaxLineBytes:
		return fractal.Errorf("max_body_bytes", "must be at least %d, got %d", MaxLineBytes, c.MaxBodyBytes)
	case c.RetryAfter < time.Second:
		return fractal.Errorf("retry_after", "must be at least 1s, got %s", c.RetryAfter)
	}
	return nil
}

// Server serves one engine over the engine protocol.
type Server struct {
	engine  fractal.Engine
	cfg     Config
	log     *slog.Logger
	slots   chan struct{}
	mux     *http.ServeMux
	routes  map[string]string // path → method
	handler http.Handler      // route, behind apierr.Middleware
}

var _ http.Handler = (*Server)(nil)

// NewServer returns a handler serving engine. A nil logger discards logs.
func NewServer(engine fractal.Engine, cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("engine server config: %w", err)
	}
	if err := engine.Profile().Validate(); err != nil {
		return nil, fmt.Errorf("engine profile: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{engine: engine, cfg: cfg, log: logger, slots: make(chan struct{}, cfg.Concurrency), mux: http.NewServeMux(), routes: map[string]string{}}
	s.handler = apierr.Middleware(logger, http.HandlerFunc(s.route))
	s.handle(http.MethodGet, "/v1/profile", s.handleProfile)
	s.handle(http.MethodPost, "/v1/generate", s.limited(s.handleGenerate))
	s.handle(http.MethodPost, "/v1/step", s.limited(s.handleStep))
	s.handle(http.MethodPost, "/v1/decode", s.limited(s.handleDecode))
	if _, ok := engine.(fractal.FrameDecoder); ok {
		s.handle(http.MethodPost, "/v1/decode_frame", s.limited(s.handleDecodeFrame))
	}
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// route serves r from the mux, answering unknown paths and methods.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		err := fmt.Errorf("no route %s %s: %w", r.Method, r.URL.Path, fractal.ErrNotFound)
		if method, ok := s.routes[r.URL.Path]; ok {
			w.Header().Set("Allow", method)
			err = fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, apierr.ErrMethodNotAllowed)
		}
		s.writeError(w, r, err)
		return
	}
	h.ServeHTTP(w, r)
}

func (s *Server) handle(method, path string, h http.HandlerFunc) {
	s.mux.HandleFunc(method+" "+path, h)
	s.routes[path] = method
}

// slotted is an engine call that holds a concurrency slot. It calls release
// as soon as the engine returns, before writing the reply, so a caller that
// has read a reply can always be served again.
type slotted func(w http.ResponseWriter, r *http.Request, release func())

// limited runs h in one of the concurrency slots, refusing when none is free.
func (s *Server) limited(h slotted) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			s.writeError(w, r, fmt.Errorf("body of %d bytes exceeds the limit of %d: %w", r.ContentLength, s.cfg.MaxBodyBytes, fractal.ErrTooLarge))
			return
		}
		select {
		case s.slots <- struct{}{}:
		default:
			s.writeError(w, r, &apierr.RetryAfterError{
				Err:   fmt.Errorf("all %d engine slots are busy: %w", s.cfg.Concurrency, fractal.ErrOverloaded),
				After: s.cfg.RetryAfter,
			})
			return
		}
		var once sync.Once
		release := func() { once.Do(func() { <-s.slots }) }
		defer release()
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		h(w, r, release)
	}
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	reply := ProfileReply{Profile: s.engine.Profile(), Protocol: Protocol}
	if _, ok := s.engine.(fractal.FrameDecoder); ok {
		reply.Capabilities = append(reply.Capabilities, CapDecodeFrame)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(reply)
}

// readOne reads the single request record of type typ into v.
func (s *Server) readOne(r *http.Request, typ string, v any) (*Record, error) {
	rd := NewReader(r.Body, s.cfg.MaxBodyBytes)
	rec, err := rd.Next()
	if errors.Is(err, ErrNoRecord) {
		return nil, fmt.Errorf("empty body, want a %s record: %w", typ, fractal.ErrInvalid)
	}
	if err != nil {
		return nil, err
	}
	if rec.Type != typ && rec.Type != "" {
		return nil, fmt.Errorf("record type %q, want %q: %w", rec.Type, typ, fractal.ErrInvalid)
	}
	if rd.Rest() {
		return nil, fmt.Errorf("data after the %s record: %w", typ, fractal.ErrInvalid)
	}
	return rec, rec.Decode(v)
}

func (s *Server) handleStep(w http.ResponseWriter, r *http.Request, release func()) {
	var req StepRequest
	rec, err := s.readOne(r, TypeStep, &req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var prev fractal.State
	if req.T != 0 || req.State != nil || len(rec.Payload) > 0 {
		if req.State == nil {
			s.writeError(w, r, fractal.Errorf("state", "missing for step %d", req.T))
			return
		}
		if prev, err = requestState(*req.State, rec.Payload); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	next, err := s.engine.Step(r.Context(), req.Spec, req.T, prev)
	release()
	if err != nil {
		s.writeError(w, r, fmt.Errorf("step %d: %w", req.T, err))
		return
	}
	payload := next.Bytes()
	s.writeSingle(w, StateRecord{Type: TypeState, T: req.T, StateHeader: Header(next), Bytes: int64(len(payload))}, payload)
}

func (s *Server) readDecode(w http.ResponseWriter, r *http.Request, typ string) (DecodeRequest, fractal.State, bool) {
	var req DecodeRequest
	rec, err := s.readOne(r, typ, &req)
	if err != nil {
		s.writeError(w, r, err)
		return req, fractal.State{}, false
	}
	final, err := requestState(req.State, rec.Payload)
	if err != nil {
		s.writeError(w, r, err)
		return req, final, false
	}
	return req, final, true
}

// requestState decodes a state a caller sent, checking its digest when given.
func requestState(h StateHeader, payload []byte) (fractal.State, error) {
	st, err := StatePayload(h, payload)
	if err != nil {
		return st, err
	}
	if !h.Digest.IsZero() {
		if d := st.Digest(); d != h.Digest {
			return st, fractal.Errorf("state", "digest %s does not match its bytes (%s)", h.Digest, d)
		}
	}
	return st, nil
}

func (s *Server) handleDecode(w http.ResponseWriter, r *http.Request, release func()) {
	req, final, ok := s.readDecode(w, r, TypeDecode)
	if !ok {
		return
	}
	frames, err := s.engine.Decode(r.Context(), req.Spec, final)
	release()
	if err != nil {
		s.writeError(w, r, fmt.Errorf("decode: %w", err))
		return
	}
	s.writeSingle(w, framesRecord(frames), frames.Pix)
}

func (s *Server) handleDecodeFrame(w http.ResponseWriter, r *http.Request, release func()) {
	req, final, ok := s.readDecode(w, r, TypeDecodeFrame)
	if !ok {
		return
	}
	pix, err := s.engine.(fractal.FrameDecoder).DecodeFrame(r.Context(), req.Spec, final, req.Index)
	release()
	if err != nil {
		s.writeError(w, r, fmt.Errorf("decode frame %d: %w", req.Index, err))
		return
	}
	s.writeSingle(w, FrameRecord{Type: TypeFrame, Index: req.Index, Height: req.Spec.Height, Width: req.Spec.Width,
		Channels: 3, Encoding: EncodingRaw, Bytes: int64(len(pix))}, pix)
}

func framesRecord(f *fractal.Frames) FramesRecord {
	return FramesRecord{Type: TypeFrames, Frames: f.Count, Height: f.Height, Width: f.Width, Channels: 3, FPS: f.FPS,
		Encoding: EncodingRaw, Digest: f.Digest(), Bytes: int64(len(f.Pix))}
}

// writeSingle writes a one-record reply with its Content-Length.
func (s *Server) writeSingle(w http.ResponseWriter, v any, payload []byte) {
	n, err := RecordSize(v, len(payload))
	if err != nil {
		s.writeError(w, nil, err)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(n))
	if err := WriteRecord(w, v, payload); err != nil {
		s.log.Debug("engine reply not delivered", logErr, err)
	}
}

// writeError writes the one JSON error reply for err, with its mapped status.
// An internal error is logged by apierr, with the request id its reply shows.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := apierr.Engine.Status(err)
	if code != apierr.CodeInternal {
		s.log.Debug("engine call refused", logPath, path(r), logStatus, status, logErr, err)
	}
	if code == apierr.CodeCanceled && r != nil && r.Context().Err() != nil {
		return // nobody is listening
	}
	apierr.Engine.Write(w, err)
}

func path(r *http.Request) string {
	if r == nil {
		return ""
	}
	return r.URL.Path
}
