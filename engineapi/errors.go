package engineapi

import (
	"time"

	"github.com/fractal-grid/fractal/apierr"
)

// The engine protocol's error kinds, codes and statuses are apierr.Engine's
// table; this file only keeps the names clients of the protocol use.

// Err turns a wire error back into a Go error (see apierr.Protocol.Err):
// a *fractal.FieldError inside when the body names a field, the code's (or
// else the status's) sentinel otherwise. retryAfter is the reply's
// Retry-After, if any.
func Err(b ErrorBody, status int, retryAfter time.Duration) error {
	return apierr.Engine.Err(b, status, retryAfter)
}

// OverloadedError is the error of a reply that said when to retry.
//
// Deprecated: use apierr.RetryAfterError.
type OverloadedError = apierr.RetryAfterError

// ParseRetryAfter reads a Retry-After header given in seconds (0 when absent
// or not a number of seconds).
func ParseRetryAfter(h string) time.Duration { return apierr.ParseRetryAfter(h) }
