// Package apierr is the one mapping between error kinds and HTTP statuses
// for every Fractal HTTP protocol: the video API, the miner protocol, the
// engine protocol and the devchain, each a Protocol with its own table (see
// table.go). A server answers an error with Protocol.Write; a client turns
// the answer back into an error wrapping the same sentinel with
// Protocol.Read.
//
// An unexpected error (one of no kind in the table) never reaches the wire:
// the reply says "internal error" with a request id, and the cause is logged
// with that id on the logger that Middleware put on the ResponseWriter.
package apierr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fractal-grid/fractal"
)

// internalMessage is all an internal error's reply says about it.
const internalMessage = "internal error"

// Protocol is one HTTP protocol's error table and body format.
type Protocol struct {
	name       string // prefixes the errors read back ("" for none)
	kinds      []Kind
	fieldOnly  bool  // a field error's message is its reason alone
	flat       bool  // the body is {"error": message, "code": code}
	openai     bool  // the body is OpenAI's: {"error": {message, type, param, code}}
	unknown5xx error // what a 5xx of no known code or status reads as
}

// Body is the error object of a reply. Type and Param are those of the
// OpenAI shape (see TypeOf); Param is the field, "" when none.
type Body struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Type      string `json:"type,omitempty"`
	Param     string `json:"param,omitempty"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// openaiBody is Body as the OpenAI API writes it: message, type, param
// (null when no field is named) and code, then Fractal's own.
type openaiBody struct {
	Message   string  `json:"message"`
	Type      string  `json:"type"`
	Param     *string `json:"param"`
	Code      string  `json:"code"`
	Field     string  `json:"field,omitempty"`
	RequestID string  `json:"request_id,omitempty"`
}

// Reply is the JSON of an error reply: {"error": {...}}.
type Reply struct {
	Error Body `json:"error"`
}

// flatReply is the JSON of an error reply of a flat protocol.
type flatReply struct {
	Error     string `json:"error"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

// Status returns the HTTP status and wire code of err: those of the first
// row whose kind err wraps, else 500 internal. An *http.MaxBytesError is a
// too_large.
func (p *Protocol) Status(err error) (int, string) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = fractal.ErrTooLarge
	}
	for _, k := range p.kinds {
		if errors.Is(err, k.Err) {
			return k.Status, k.Code
		}
	}
	return http.StatusInternalServerError, CodeInternal
}

// Sentinel returns the kind a reply stands for: by its code, else (the code
// missing or unknown) by its status; nil when neither is known.
func (p *Protocol) Sentinel(code string, status int) error {
	for _, k := range p.kinds {
		if code != "" && k.Code == code {
			return k.Err
		}
	}
	for _, k := range p.kinds {
		if status != 0 && k.Status == status {
			return k.Err
		}
	}
	if status >= 500 {
		return p.unknown5xx
	}
	return nil
}

// Body returns the error object p answers err with. An internal error's
// text stays out of it: it says "internal error" with a request id, and the
// cause is logged with that id when w went through Middleware (w may be nil).
func (p *Protocol) Body(w http.ResponseWriter, err error) Body {
	_, code := p.Status(err)
	if code == CodeInternal {
		b := Body{Code: code, Message: internalMessage, RequestID: logInternal(w, err)}
		if p.openai {
			b.Type = TypeOf(http.StatusInternalServerError)
		}
		return b
	}
	b := Body{Code: code, Message: err.Error()}
	var fe *fractal.FieldError
	if errors.As(err, &fe) {
		b.Field = fe.Field
		if p.openai {
			b.Param = fe.Field
		}
		if p.fieldOnly {
			b.Message = fe.Reason
		}
	}
	if p.openai {
		status, _ := p.Status(err)
		b.Type = TypeOf(status)
	}
	return b
}

// Write answers err as JSON with its status, and with Retry-After when err
// is a *RetryAfterError.
func (p *Protocol) Write(w http.ResponseWriter, err error) {
	status, _ := p.Status(err)
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		secs := int((ra.After + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	b := p.Body(w, err)
	if b.RequestID != "" && w.Header().Get(HeaderRequestID) == "" {
		w.Header().Set(HeaderRequestID, b.RequestID)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var v any = Reply{Error: b}
	switch {
	case p.flat:
		v = flatReply{Error: b.Message, Code: b.Code, RequestID: b.RequestID}
	case p.openai:
		ob := openaiBody{Message: b.Message, Type: b.Type, Code: b.Code, Field: b.Field, RequestID: b.RequestID}
		if b.Param != "" {
			ob.Param = &b.Param
		}
		v = struct {
			Error openaiBody `json:"error"`
		}{ob}
	}
	_ = json.NewEncoder(w).Encode(v)
}

// TypeOf is the OpenAI error type of an HTTP status, as the OpenAI SDKs
// tell errors apart: invalid_request_error (400, 405, 410, 413, 422),
// authentication_error (401), permission_error (403), not_found_error
// (404), conflict_error (409), rate_limit_error (429), server_error (5xx).
func TypeOf(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusConflict:
		return "conflict_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

// Write answers err on the video API.
func Write(w http.ResponseWriter, err error) { API.Write(w, err) }

// RetryAfterError is an error reply that says when to retry (an overloaded
// one, mostly). Every protocol writes it as a Retry-After header and reads
// that header back into it.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string { return fmt.Sprintf("%v (retry after %s)", e.Err, e.After) }

// Unwrap returns the error that says what went wrong.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// ParseRetryAfter reads a Retry-After header given in seconds (0 when absent
// or not a number of seconds).
func ParseRetryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
