package apierr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
)

// Bounds on what a client reads of an error reply.
const (
	maxReplyBytes = 64 << 10
	maxRawMessage = 200 // of a reply that is not the protocol's JSON
)

// Error is an error reply read back. It wraps the kind its code (or status)
// stands for, or a *fractal.FieldError when it names an invalid field.
type Error struct {
	Body
	Status int // 0 for an error record inside a stream

	protocol string
	kind     error
	field    *fractal.FieldError
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.protocol != "" {
		b.WriteString(e.protocol + ": ")
	}
	msg := e.Message
	if e.field != nil {
		msg = e.field.Error()
	}
	b.WriteString(msg)
	if e.kind == nil && e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request %s)", e.RequestID)
	}
	if e.kind != nil && !strings.HasSuffix(msg, e.kind.Error()) {
		b.WriteString(": " + e.kind.Error())
	}
	return b.String()
}

// Unwrap returns the reply's kind (nil when unknown).
func (e *Error) Unwrap() error {
	if e.field != nil {
		return e.field
	}
	return e.kind
}

// Err turns an error object back into an error: an *Error, inside a
// *RetryAfterError when retryAfter is positive. status is the reply's HTTP
// status, 0 for an error record inside a stream.
func (p *Protocol) Err(b Body, status int, retryAfter time.Duration) error {
	if b.Message == "" {
		b.Message = http.StatusText(status)
	}
	if b.Message == "" {
		b.Message = "error without a message"
	}
	e := &Error{Body: b, Status: status, protocol: p.name, kind: p.Sentinel(b.Code, status)}
	if b.Field != "" && errors.Is(e.kind, fractal.ErrInvalid) {
		e.field = &fractal.FieldError{Field: b.Field, Reason: strings.TrimPrefix(b.Message, b.Field+": ")}
	}
	if retryAfter > 0 {
		return &RetryAfterError{Err: e, After: retryAfter}
	}
	return e
}

// Parse turns the status, Retry-After and body of an error reply into an
// error, as Err does. A body that is not the protocol's JSON is its own
// message.
func (p *Protocol) Parse(status int, retryAfter time.Duration, body []byte) error {
	b, ok := p.decode(body)
	if !ok {
		raw := strings.ToValidUTF8(string(body[:min(len(body), maxRawMessage)]), "")
		b = Body{Message: strings.TrimSpace(raw)}
	}
	return p.Err(b, status, retryAfter)
}

// Read turns a non-2xx response into an error, as Parse does. It reads at
// most 64 KiB of the body and leaves closing it to the caller.
func (p *Protocol) Read(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	return p.Parse(resp.StatusCode, ParseRetryAfter(resp.Header.Get("Retry-After")), body)
}

// Read turns a non-2xx response of the video API (or of a miner) into an
// error.
func Read(resp *http.Response) error { return API.Read(resp) }

func (p *Protocol) decode(body []byte) (Body, bool) {
	if p.flat {
		var r flatReply
		if json.Unmarshal(body, &r) != nil || r.Error == "" && r.Code == "" {
			return Body{}, false
		}
		return Body{Code: r.Code, Message: r.Error, RequestID: r.RequestID}, true
	}
	var r struct {
		Error *Body `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil || r.Error == nil {
		return Body{}, false
	}
	return *r.Error, true
}
