package epistula

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// Log keys of refused requests.
const (
	logStatus = "status"
	logPath   = "path"
	logError  = "err"
)

// Config sets what an Authenticator accepts.
type Config struct {
	// Self is the receiver's own hotkey address. Requests must be signed
	// for it: Epistula-Signed-For equal to Self.
	Self string
	// AllowUnaddressed also accepts requests with an empty Signed-For, as
	// some subnets' clients send. Such a signature does not name this
	// receiver, so a request captured on its way to another receiver could
	// be replayed here within the window. A receiver without a hotkey
	// (Self == "") must set it and then accepts only unaddressed requests.
	AllowUnaddressed bool
	// Window is how far Epistula-Timestamp may be from the receiver's
	// clock, either way.
	Window time.Duration
	// MaxBody is the largest request body read; larger ones get 413.
	MaxBody int64
	// ReplayEntries bounds the replay cache: at most this many requests are
	// remembered, each for up to two windows. When full, new requests get
	// 503 with Retry-After until old entries expire.
	ReplayEntries int
	// ReplayPerSigner bounds one signer's share of the replay cache.
	ReplayPerSigner int
}

// DefaultConfig returns the defaults for a receiver with hotkey self: an 8 s
// window, 1 MiB bodies, and room for 100,000 requests per window (10,000
// per signer).
func DefaultConfig(self string) Config {
	return Config{
		Self:            self,
		Window:          DefaultWindow,
		MaxBody:         1 << 20,
		ReplayEntries:   100_000,
		ReplayPerSigner: 10_000,
	}
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.Self == "" && !c.AllowUnaddressed:
		return fractal.Errorf("self", "the receiver's hotkey address is required (or set AllowUnaddressed)")
	case c.Window <= 0:
		return fractal.Errorf("window", "must be positive, got %v", c.Window)
	case c.MaxBody <= 0:
		return fractal.Errorf("max_body", "must be positive, got %d", c.MaxBody)
	case c.ReplayEntries <= 0:
		return fractal.Errorf("replay_entries", "must be positive, got %d", c.ReplayEntries)
	case c.ReplayPerSigner <= 0 || c.ReplayPerSigner > c.ReplayEntries:
		return fractal.Errorf("replay_per_signer", "must be between 1 and replay_entries (%d), got %d", c.ReplayEntries, c.ReplayPerSigner)
	}
	if c.Self != "" {
		if _, err := sr25519.ParseSS58(c.Self); err != nil {
			return fractal.Errorf("self", "%v", err)
		}
	}
	return nil
}

// Authenticator checks Epistula v2 requests on the server side. Set the optional
// fields before serving.
type Authenticator struct {
	cfg    Config
	keys   sr25519.Verifier
	replay *replayCache

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Admit, when set, decides whether a verified signer may be served
	// before its request enters the replay cache, so that refused signers
	// never take a share of it. Its error picks the status: wrapping
	// fractal.ErrForbidden gives 403, ErrOverloaded or ErrUnavailable 503,
	// ErrUnauthorized 401, anything else 403.
	Admit func(ctx context.Context, signer string) error
	// WriteError, when set, answers refused requests in place of the
	// default JSON body, for servers with an error format of their own.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives one debug line per refused request; nil discards.
	Logger *slog.Logger
}

// NewAuthenticator returns an Authenticator for cfg.
func NewAuthenticator(cfg Config) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("epistula: %w", err)
	}
	return &Authenticator{cfg: cfg, replay: newReplayCache(cfg.ReplayEntries, cfg.ReplayPerSigner)}, nil
}

// Config returns the verifier's settings.
func (v *Authenticator) Config() Config { return v.cfg }

func (v *Authenticator) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Authenticator) receiverOK(signedFor string) bool {
	return signedFor == v.cfg.Self || (signedFor == "" && v.cfg.AllowUnaddressed)
}

// Check verifies a request's headers and body, and records its UUID so the
// same request is refused next time. It returns the signer's address.
func (v *Authenticator) Check(h http.Header, body []byte) (string, error) {
	p, err := v.check(h, body)
	if err != nil {
		return "", err
	}
	if err := v.remember(p); err != nil {
		return "", err
	}
	return p.signer, nil
}

func (v *Authenticator) check(h http.Header, body []byte) (parsed, error) {
	return check(h, body, v.now(), v.cfg.Window, v.receiverOK, &v.keys)
}

func (v *Authenticator) remember(p parsed) error {
	return v.replay.add(p.signer, p.id, p.ts+v.cfg.Window.Milliseconds(), v.now().UnixMilli())
}

type signerKey struct{}

// SignerFrom returns the verified signer's address that the middleware put
// in a request's context.
func SignerFrom(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(signerKey{}).(string)
	return s, ok && s != ""
}

// Middleware verifies each request with Authenticate before next sees it.
// Refusals go to WriteError, or are written as JSON {"error": "..."} with
// the status of their kind: 401 for a bad, stale or replayed signature,
// 403 when Admit refuses, 413 for a body over MaxBody, 503 with
// Retry-After when the replay cache is full.
func (v *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := v.Authenticate(w, r)
		if err != nil {
			if v.Logger != nil {
				v.Logger.LogAttrs(r.Context(), slog.LevelDebug, "epistula: request refused",
					slog.Int(logStatus, statusOf(err)), slog.String(logPath, r.URL.Path), slog.String(logError, err.Error()))
			}
			if v.WriteError != nil {
				v.WriteError(w, r, err)
				return
			}
			v.refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Authenticate verifies r: it checks the headers, reads the body (at most
// MaxBody), checks the signature, asks Admit, and records the UUID against
// replays. On success it returns r with the body restored and the signer in
// the context (SignerFrom). Errors wrap fractal.ErrUnauthorized (and one of
// this package's reasons), ErrForbidden, ErrTooLarge or ErrOverloaded, for
// a caller that maps errors to responses itself.
func (v *Authenticator) Authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	signer, body, err := v.verifyRequest(w, r)
	if err != nil {
		return r, err
	}
	r = r.WithContext(context.WithValue(r.Context(), signerKey{}, signer))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return r, nil
}

func (v *Authenticator) verifyRequest(w http.ResponseWriter, r *http.Request) (string, []byte, error) {
	p, err := parseHeaders(r.Header, v.now(), v.cfg.Window, v.receiverOK)
	if err != nil {
		return "", nil, err
	}
	body, err := v.readBody(w, r)
	if err != nil {
		return "", nil, err
	}
	if err := verifySignature(p, body, &v.keys); err != nil {
		return "", nil, err
	}
	if err := v.admit(r.Context(), p.signer); err != nil {
		return "", nil, err
	}
	if err := v.remember(p); err != nil {
		return "", nil, err
	}
	return p.signer, body, nil
}

func (v *Authenticator) admit(ctx context.Context, signer string) error {
	if v.Admit == nil {
		return nil
	}
	if err := v.Admit(ctx, signer); err != nil {
		if !errors.Is(err, fractal.ErrForbidden) && !errors.Is(err, fractal.ErrOverloaded) &&
			!errors.Is(err, fractal.ErrUnavailable) && !errors.Is(err, fractal.ErrUnauthorized) {
			err = fmt.Errorf("%w: %w", fractal.ErrForbidden, err)
		}
		return err
	}
	return nil
}

func (v *Authenticator) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > v.cfg.MaxBody {
		return nil, fmt.Errorf("epistula: body of %d bytes is over the limit of %d: %w", r.ContentLength, v.cfg.MaxBody, fractal.ErrTooLarge)
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, v.cfg.MaxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, fmt.Errorf("epistula: body is over the limit of %d bytes: %w", v.cfg.MaxBody, fractal.ErrTooLarge)
		}
		return nil, fmt.Errorf("epistula: read body: %v: %w", err, fractal.ErrInvalid)
	}
	return body, nil
}

// statusOf maps a refusal to its HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, fractal.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, fractal.ErrOverloaded), errors.Is(err, fractal.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, fractal.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, fractal.ErrUnauthorized):
		return http.StatusUnauthorized
	}
	return http.StatusBadRequest
}

func (v *Authenticator) refuse(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	w.Header().Set("Content-Type", "application/json")
	switch status {
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(int(v.cfg.Window.Seconds()+0.999)))
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Epistula version=2")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{err.Error()})
}
