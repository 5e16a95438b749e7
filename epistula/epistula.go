// Package epistula signs and verifies HTTP requests with Epistula v2 headers,
// the signed-request scheme of Bittensor subnets:
//
//	Epistula-Version:           2
//	Epistula-Timestamp:         unix milliseconds
//	Epistula-Uuid:              a fresh UUID per request
//	Epistula-Signed-By:         the signer's ss58 address (prefix 42)
//	Epistula-Signed-For:        the receiver's ss58 address, or empty
//	Epistula-Request-Signature: 0x + hex of the sr25519 signature (context
//	                            "substrate") over
//	                            sha256hex(body).uuid.timestamp.signed_for
//
// Transport signs on the client side; Authenticator checks on the server side
// with a staleness window, a receiver check and a bounded replay cache.
// The older per-interval Epistula-Secret-Signature-k headers are neither
// sent nor checked.
package epistula

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// Header names and the protocol version.
const (
	HeaderVersion   = "Epistula-Version"
	HeaderTimestamp = "Epistula-Timestamp"
	HeaderUUID      = "Epistula-Uuid"
	HeaderSignedBy  = "Epistula-Signed-By"
	HeaderSignedFor = "Epistula-Signed-For"
	HeaderSignature = "Epistula-Request-Signature"

	Version = "2"
)

// DefaultWindow is how far a request's timestamp may be from the
// verifier's clock, either way.
const DefaultWindow = 8 * time.Second

// Reasons a request is refused. Each error Verify returns wraps one of them
// and fractal.ErrUnauthorized.
var (
	ErrMissingHeader = errors.New("missing header")
	ErrMalformed     = errors.New("malformed header")
	ErrVersion       = errors.New("unsupported Epistula version")
	ErrStale         = errors.New("timestamp outside the window")
	ErrReceiver      = errors.New("signed for another receiver")
	ErrSignature     = errors.New("bad signature")
	ErrReplay        = errors.New("replayed request")
)

// Message returns the signed string: sha256hex(body).uuid.timestamp.signedFor.
func Message(body []byte, id string, timestampMs int64, signedFor string) []byte {
	sum := sha256.Sum256(body)
	msg := make([]byte, 0, 2*len(sum)+len(id)+len(signedFor)+24)
	msg = hex.AppendEncode(msg, sum[:])
	msg = append(msg, '.')
	msg = append(msg, id...)
	msg = append(msg, '.')
	msg = strconv.AppendInt(msg, timestampMs, 10)
	msg = append(msg, '.')
	return append(msg, signedFor...)
}

// Sign returns the Epistula headers for a request with body, signed by s for
// the receiver signedFor (an ss58 address, or "" for any receiver that
// accepts unaddressed requests), at time now with a fresh UUID.
func Sign(s fractal.Signer, body []byte, signedFor string, now time.Time) (http.Header, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("epistula: uuid: %w", err)
	}
	ts := now.UnixMilli()
	sig, err := s.Sign(Message(body, id.String(), ts, signedFor))
	if err != nil {
		return nil, fmt.Errorf("epistula: sign: %w", err)
	}
	h := make(http.Header, 6)
	h.Set(HeaderVersion, Version)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderUUID, id.String())
	h.Set(HeaderSignedBy, s.SS58())
	h.Set(HeaderSignedFor, signedFor)
	h.Set(HeaderSignature, "0x"+hex.EncodeToString(sig))
	return h, nil
}

// Verify checks the Epistula headers of a request with body at time now for
// the receiver self, with DefaultWindow and no replay cache, and returns the
// signer's address. Epistula-Signed-For must equal self exactly: a receiver
// with an address accepts only requests signed for it, and self == ""
// accepts only unaddressed requests (empty Signed-For). Use an Authenticator to
// also refuse replays.
func Verify(h http.Header, body []byte, now time.Time, self string) (string, error) {
	var keys sr25519.Verifier
	p, err := check(h, body, now, DefaultWindow, func(signedFor string) bool { return signedFor == self }, &keys)
	if err != nil {
		return "", err
	}
	return p.signer, nil
}

// parsed holds the header fields of a request.
type parsed struct {
	signer, id, signedFor string
	ts                    int64 // unix ms
	sig                   []byte
}

func refuse(reason error, format string, args ...any) error {
	return fmt.Errorf("epistula: %w: %s: %w", reason, fmt.Sprintf(format, args...), fractal.ErrUnauthorized)
}

// header returns the single value of a required header.
func header(h http.Header, name string) (string, error) {
	vs, ok := h[name]
	if !ok || len(vs) == 0 {
		return "", refuse(ErrMissingHeader, "%s is required", name)
	}
	if len(vs) > 1 {
		return "", refuse(ErrMalformed, "%s is given %d times", name, len(vs))
	}
	return vs[0], nil
}

// check verifies everything except replay.
func check(h http.Header, body []byte, now time.Time, window time.Duration, receiverOK func(string) bool, keys *sr25519.Verifier) (parsed, error) {
	p, err := parseHeaders(h, now, window, receiverOK)
	if err != nil {
		return p, err
	}
	return p, verifySignature(p, body, keys)
}

// parseHeaders checks everything that does not need the body or the
// signature arithmetic, cheapest first, so that most bad requests are
// refused before their bodies are read.
func parseHeaders(h http.Header, now time.Time, window time.Duration, receiverOK func(string) bool) (parsed, error) {
	var p parsed
	var vals [6]string
	for i, name := range [...]string{HeaderVersion, HeaderTimestamp, HeaderUUID, HeaderSignedBy, HeaderSignedFor, HeaderSignature} {
		v, err := header(h, name)
		if err != nil {
			return p, err
		}
		vals[i] = v
	}
	version, tsText, id, signer, signedFor, sigText := vals[0], vals[1], vals[2], vals[3], vals[4], vals[5]
	if version != Version {
		return p, refuse(ErrVersion, "%s is %.16q, want %q", HeaderVersion, version, Version)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || ts < 0 || len(tsText) > 16 {
		return p, refuse(ErrMalformed, "%s %.24q is not unix milliseconds", HeaderTimestamp, tsText)
	}
	age := now.UnixMilli() - ts
	if win := window.Milliseconds(); age > win || -age > win {
		return p, refuse(ErrStale, "%s is %d ms from the receiver's clock, allowed %d ms", HeaderTimestamp, age, win)
	}
	if len(id) != 36 || uuid.Validate(id) != nil {
		return p, refuse(ErrMalformed, "%s %.40q is not a UUID", HeaderUUID, id)
	}
	if !receiverOK(signedFor) {
		return p, refuse(ErrReceiver, "%s is %.64q", HeaderSignedFor, signedFor)
	}
	sig, err := decodeSignature(sigText)
	if err != nil {
		return p, err
	}
	return parsed{signer: signer, id: id, signedFor: signedFor, ts: ts, sig: sig}, nil
}

// verifySignature checks the request signature over the body.
func verifySignature(p parsed, body []byte, keys *sr25519.Verifier) error {
	if err := keys.Verify(p.signer, Message(body, p.id, p.ts, p.signedFor), p.sig); err != nil {
		if errors.Is(err, fractal.ErrInvalid) {
			return refuse(ErrMalformed, "%s: %v", HeaderSignedBy, err)
		}
		return refuse(ErrSignature, "signature does not verify for %.64s", p.signer)
	}
	return nil
}

// decodeSignature decodes "0x" + 128 hex digits.
func decodeSignature(s string) ([]byte, error) {
	const want = 2 + 2*64
	if len(s) < 2 || s[:2] != "0x" {
		return nil, refuse(ErrMalformed, "%s must start with 0x", HeaderSignature)
	}
	if len(s) != want {
		return nil, refuse(ErrMalformed, "%s has %d hex digits, want 128 (64 bytes)", HeaderSignature, len(s)-2)
	}
	sig, err := hex.DecodeString(s[2:])
	if err != nil {
		return nil, refuse(ErrMalformed, "%s is not hex", HeaderSignature)
	}
	return sig, nil
}
