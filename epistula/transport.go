package epistula

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/fractal-grid/fractal"
)

// Transport is an http.RoundTripper that signs every request with Epistula
// v2 headers before passing it to Base. It reads the request body into
// memory to hash it, so it suits API requests, not uploads of unbounded
// size.
type Transport struct {
	// Base sends the signed request; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Signer is the hotkey that signs.
	Signer fractal.Signer
	// SignedFor names the receiver of a request (its hotkey address). Nil
	// means the receiver set with WithReceiver on the request's context,
	// or none (an empty Signed-For) when there is none.
	SignedFor func(*http.Request) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ http.RoundTripper = (*Transport)(nil)

type receiverKey struct{}

// WithReceiver returns a context that makes Transport sign requests for the
// receiver with address ss58.
func WithReceiver(ctx context.Context, ss58 string) context.Context {
	return context.WithValue(ctx, receiverKey{}, ss58)
}

// ReceiverFrom returns the receiver set with WithReceiver, or "".
func ReceiverFrom(ctx context.Context) string {
	s, _ := ctx.Value(receiverKey{}).(string)
	return s
}

// RoundTrip signs a copy of req and sends it. It never modifies req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readAndClose(req.Body)
	if err != nil {
		return nil, fmt.Errorf("epistula: read request body: %w", err)
	}
	if t.Signer == nil {
		return nil, fmt.Errorf("epistula: transport has no signer: %w", fractal.ErrInvalid)
	}
	signedFor := ""
	if t.SignedFor != nil {
		signedFor = t.SignedFor(req)
	} else {
		signedFor = ReceiverFrom(req.Context())
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	h, err := Sign(t.Signer, body, signedFor, now())
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	for name, vs := range h {
		out.Header[name] = vs
	}
	out.ContentLength = int64(len(body))
	out.Body = http.NoBody
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if len(body) > 0 {
		out.Body, _ = out.GetBody()
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}

func readAndClose(rc io.ReadCloser) ([]byte, error) {
	if rc == nil || rc == http.NoBody {
		return nil, nil
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
