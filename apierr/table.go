package apierr

import (
	"context"
	"errors"
	"net/http"

	"github.com/fractal-grid/fractal"
)

// Wire codes of the error kinds.
const (
	CodeInvalid      = "invalid"
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not_found"
	CodeMethod       = "method_not_allowed"
	CodeConflict     = "conflict"
	CodeGone         = "gone"
	CodeTooLarge     = "too_large"
	CodeMismatch     = "mismatch"
	CodeOverloaded   = "overloaded"
	CodeUnavailable  = "unavailable"
	CodeCanceled     = "canceled"
	CodeInternal     = "internal"
)

// StatusClientClosed answers a client that went away: nobody reads it, but
// it keeps a cancelled call apart from a failed one in logs and metrics.
const StatusClientClosed = 499

// ErrMethodNotAllowed is a request for a known path with the wrong method.
var ErrMethodNotAllowed = errors.New("method not allowed")

// ErrGone is a request for something that existed and was removed for
// good: a video's content past its retention.
var ErrGone = errors.New("gone")

// Kind is one row of a protocol's table: an error kind (a sentinel that
// errors.Is finds), its wire code and its HTTP status.
type Kind struct {
	Err    error
	Code   string
	Status int
}

// httpKinds is the table of the miner protocol (docs/protocol.md), which
// the video API extends.
var httpKinds = []Kind{
	{fractal.ErrInvalid, CodeInvalid, http.StatusBadRequest},
	{fractal.ErrUnauthorized, CodeUnauthorized, http.StatusUnauthorized},
	{fractal.ErrForbidden, CodeForbidden, http.StatusForbidden},
	{fractal.ErrNotFound, CodeNotFound, http.StatusNotFound},
	{fractal.ErrConflict, CodeConflict, http.StatusConflict},
	{fractal.ErrTooLarge, CodeTooLarge, http.StatusRequestEntityTooLarge},
	{fractal.ErrMismatch, CodeMismatch, http.StatusUnprocessableEntity},
	{fractal.ErrOverloaded, CodeOverloaded, http.StatusTooManyRequests},
	{fractal.ErrUnavailable, CodeUnavailable, http.StatusServiceUnavailable},
}

// apiKinds is the video API's table (docs/api.md): the miner protocol's,
// and content past its retention (410) and a path served with other
// methods (405).
var apiKinds = append(httpKinds[:len(httpKinds):len(httpKinds)],
	Kind{ErrGone, CodeGone, http.StatusGone},
	Kind{ErrMethodNotAllowed, CodeMethod, http.StatusMethodNotAllowed},
)

// The protocols. Each maps error kinds to statuses and codes in both
// directions; the first matching row wins either way, so a row placed after
// another with the same kind only serves reading.
var (
	// API is the video API a gateway serves to users. Its body is
	// OpenAI's, {"error": {"message", "type", "param", "code"}}, with the
	// field and request id beside them, so the OpenAI SDKs read it.
	API = &Protocol{kinds: apiKinds, openai: true}

	// Miner is the protocol a miner serves to validators and gateways.
	Miner = &Protocol{kinds: httpKinds}

	// Engine is the engine protocol (docs/engine-protocol.md). It differs
	// on purpose: a busy engine answers 503, a client that went away gets
	// 499, a wrong method has its own code, and a field error's message is
	// its reason alone (the field is named apart).
	Engine = &Protocol{
		name:      "engine",
		fieldOnly: true,
		kinds: []Kind{
			{fractal.ErrInvalid, CodeInvalid, http.StatusBadRequest},
			{fractal.ErrNotFound, CodeNotFound, http.StatusNotFound},
			{ErrMethodNotAllowed, CodeMethod, http.StatusMethodNotAllowed},
			{fractal.ErrTooLarge, CodeTooLarge, http.StatusRequestEntityTooLarge},
			{fractal.ErrOverloaded, CodeOverloaded, http.StatusServiceUnavailable},
			{fractal.ErrUnavailable, CodeUnavailable, http.StatusServiceUnavailable},
			{context.Canceled, CodeCanceled, StatusClientClosed},
			{context.DeadlineExceeded, CodeCanceled, http.StatusServiceUnavailable},
			// Read only: a server may also refuse a busy engine with 429.
			{fractal.ErrOverloaded, CodeOverloaded, http.StatusTooManyRequests},
		},
	}

	// Devchain is the development chain's HTTP API (docs/devchain.md). Its
	// body is flat, {"error": message, "code": code}, and any other 5xx
	// reads as unavailable. It has every kind of the miner protocol but
	// the mismatch, which no chain call reports.
	Devchain = &Protocol{
		flat:       true,
		unknown5xx: fractal.ErrUnavailable,
		kinds:      without(httpKinds, fractal.ErrMismatch),
	}
)

// without returns kinds less the one for err.
func without(kinds []Kind, err error) []Kind {
	var out []Kind
	for _, k := range kinds {
		if k.Err != err {
			out = append(out, k)
		}
	}
	return out
}
