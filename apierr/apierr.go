// Package apierr is the one mapping between error kinds and HTTP statuses
// for every Fractal HTTP API (miners, gateway): answering an error as JSON
// {"error": {"code", "message", "field"}} and reading such an answer back
// into an error that wraps the same sentinel.
package apierr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/fractal-grid/fractal"
)

// statusOf maps each sentinel to its status and code.
var statusOf = []struct {
	err    error
	status int
	code   string
}{
	{fractal.ErrInvalid, http.StatusBadRequest, "invalid"},
	{fractal.ErrUnauthorized, http.StatusUnauthorized, "unauthorized"},
	{fractal.ErrForbidden, http.StatusForbidden, "forbidden"},
	{fractal.ErrNotFound, http.StatusNotFound, "not_found"},
	{fractal.ErrConflict, http.StatusConflict, "conflict"},
	{fractal.ErrTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{fractal.ErrOverloaded, http.StatusTooManyRequests, "overloaded"},
	{fractal.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
	{fractal.ErrMismatch, http.StatusUnprocessableEntity, "mismatch"},
}

// RetryAfterError is an overload error that tells the caller when to retry.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string { return fmt.Sprintf("%v (retry after %s)", e.Err, e.After) }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// Status returns the HTTP status and error code for err.
func Status(err error) (int, string) {
	for _, s := range statusOf {
		if errors.Is(err, s.err) {
			return s.status, s.code
		}
	}
	return http.StatusInternalServerError, "internal"
}

// BodyOf returns the error body for err.
func BodyOf(err error) *Body {
	_, code := Status(err)
	b := &Body{Code: code, Message: err.Error()}
	var fe *fractal.FieldError
	if errors.As(err, &fe) {
		b.Field = fe.Field
	}
	return b
}

// Write answers err as JSON with its status (and Retry-After for
// overload errors that carry one).
func Write(w http.ResponseWriter, err error) {
	status, _ := Status(err)
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		secs := int((ra.After + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error *Body `json:"error"`
	}{BodyOf(err)})
}

// Read turns a non-2xx response into an error wrapping the sentinel its
// status stands for; a Retry-After header becomes a *RetryAfterError.
func Read(resp *http.Response) error {
	var body struct {
		Error *Body `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := http.StatusText(resp.StatusCode)
	if json.Unmarshal(raw, &body) == nil && body.Error != nil {
		msg = body.Error.Message
	}
	return statusError(resp.StatusCode, msg, resp.Header.Get("Retry-After"))
}

// Body is the JSON error every endpoint returns.
type Body struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// FromBody turns an error body back into an error.
func FromBody(b *Body) error {
	for _, s := range statusOf {
		if s.code == b.Code {
			return statusError(s.status, b.Message, "")
		}
	}
	return errors.New(b.Message)
}

func statusError(status int, msg, retryAfter string) error {
	sentinel := error(nil)
	for _, s := range statusOf {
		if s.status == status {
			sentinel = s.err
		}
	}
	if sentinel == nil {
		return fmt.Errorf("answered %d: %s", status, msg)
	}
	err := fmt.Errorf("answered %d: %s: %w", status, msg, sentinel)
	if secs, perr := strconv.Atoi(retryAfter); perr == nil && secs >= 0 {
		return &RetryAfterError{Err: err, After: time.Duration(secs) * time.Second}
	}
	return err
}
