package devchain

import (
	"errors"
	"net/http"

	"github.com/fractal-grid/fractal"
)

// errorBody is the JSON of every error response.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// errorKinds maps the domain's sentinels to wire codes and HTTP statuses,
// in both directions; it is the one place that does.
var errorKinds = []struct {
	err    error
	code   string
	status int
}{
	{fractal.ErrInvalid, "invalid", http.StatusBadRequest},
	{fractal.ErrUnauthorized, "unauthorized", http.StatusUnauthorized},
	{fractal.ErrForbidden, "forbidden", http.StatusForbidden},
	{fractal.ErrNotFound, "not_found", http.StatusNotFound},
	{fractal.ErrConflict, "conflict", http.StatusConflict},
	{fractal.ErrTooLarge, "too_large", http.StatusRequestEntityTooLarge},
	{fractal.ErrOverloaded, "overloaded", http.StatusTooManyRequests},
	{fractal.ErrUnavailable, "unavailable", http.StatusServiceUnavailable},
}

// errorKind returns the wire code and status of err.
func errorKind(err error) (string, int) {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.code, k.status
		}
	}
	return "internal", http.StatusInternalServerError
}

// sentinelOf returns the sentinel for a wire code or, failing that, an
// HTTP status; nil when neither is known.
func sentinelOf(code string, status int) error {
	for _, k := range errorKinds {
		if k.code == code {
			return k.err
		}
	}
	for _, k := range errorKinds {
		if k.status == status {
			return k.err
		}
	}
	if status >= 500 {
		return fractal.ErrUnavailable
	}
	return nil
}
