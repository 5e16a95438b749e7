package engineapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/fractal-grid/fractal"
)

// Error codes on the wire.
const (
	CodeInvalid     = "invalid"
	CodeNotFound    = "not_found"
	CodeMethod      = "method_not_allowed"
	CodeTooLarge    = "too_large"
	CodeOverloaded  = "overloaded"
	CodeUnavailable = "unavailable"
	CodeCanceled    = "canceled"
	CodeInternal    = "internal"
)

// errorKinds is the one table mapping error kinds, wire codes and HTTP
// statuses, in both directions. The first matching row wins.
var errorKinds = []struct {
	err    error
	code   string
	status int
}{
	{fractal.ErrInvalid, CodeInvalid, http.StatusBadRequest},
	{fractal.ErrNotFound, CodeNotFound, http.StatusNotFound},
	{errMethod, CodeMethod, http.StatusMethodNotAllowed},
	{fractal.ErrTooLarge, CodeTooLarge, http.StatusRequestEntityTooLarge},
	{fractal.ErrOverloaded, CodeOverloaded, http.StatusServiceUnavailable},
	{fractal.ErrUnavailable, CodeUnavailable, http.StatusServiceUnavailable},
	{context.Canceled, CodeCanceled, 499}, // the client went away; nobody reads it
	{context.DeadlineExceeded, CodeCanceled, http.StatusServiceUnavailable},
}

var errMethod = errors.New("method not allowed")

// Status returns the wire code and HTTP status for err (internal/500 for
// kinds the table does not name).
func Status(err error) (code string, status int) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return CodeTooLarge, http.StatusRequestEntityTooLarge
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.code, k.status
		}
	}
	return CodeInternal, http.StatusInternalServerError
}

// Body returns the wire error object for err. A *fractal.FieldError keeps its
// field and reason.
func Body(err error) ErrorBody {
	code, _ := Status(err)
	b := ErrorBody{Code: code, Message: err.Error()}
	var fe *fractal.FieldError
	if errors.As(err, &fe) {
		b.Field, b.Message = fe.Field, fe.Reason
	}
	return b
}

// Err turns a wire error back into a Go error: a *fractal.FieldError when the
// body names a field, otherwise an error wrapping the code's sentinel (falling
// back to the HTTP status when the code is unknown or missing; 429 counts as
// overloaded). retryAfter is the reply's Retry-After, if any.
func Err(b ErrorBody, status int, retryAfter time.Duration) error {
	kind := kindOf(b.Code, status)
	if errors.Is(kind, fractal.ErrInvalid) && b.Field != "" {
		return &fractal.FieldError{Field: b.Field, Reason: b.Message}
	}
	msg := b.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	if kind == nil {
		return fmt.Errorf("engine: %s (status %d)", msg, status)
	}
	if errors.Is(kind, fractal.ErrOverloaded) && retryAfter > 0 {
		return &OverloadedError{Message: msg, RetryAfter: retryAfter}
	}
	return fmt.Errorf("engine: %s: %w", msg, kind)
}

func kindOf(code string, status int) error {
	for _, k := range errorKinds {
		if code != "" && k.code == code {
			return k.err
		}
	}
	if status == http.StatusTooManyRequests {
		return fractal.ErrOverloaded
	}
	for _, k := range errorKinds {
		if code == "" && k.status == status {
			return k.err
		}
	}
	return nil
}

// OverloadedError is an overloaded reply that said when to retry. It unwraps
// to fractal.ErrOverloaded.
type OverloadedError struct {
	Message    string
	RetryAfter time.Duration
}

func (e *OverloadedError) Error() string {
	return fmt.Sprintf("engine: %s (retry after %s)", e.Message, e.RetryAfter)
}

// Unwrap makes errors.Is(err, fractal.ErrOverloaded) true.
func (e *OverloadedError) Unwrap() error { return fractal.ErrOverloaded }

// ParseRetryAfter reads a Retry-After header given in seconds (0 when absent
// or not a number of seconds).
func ParseRetryAfter(h string) time.Duration {
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
