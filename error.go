package fractal

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test for them with errors.Is; the HTTP layers map
// them to status codes in one place each.
var (
	ErrInvalid      = errors.New("invalid input")
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrOverloaded   = errors.New("overloaded")
	ErrUnavailable  = errors.New("unavailable")
	ErrTooLarge     = errors.New("too large")
	ErrMismatch     = errors.New("verification mismatch")
)

// FieldError reports one invalid field of an input, naming the field and the
// allowed range. It unwraps to ErrInvalid.
type FieldError struct {
	Field  string // JSON name of the field, e.g. "width"
	Reason string // what is wrong and what is allowed
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Errorf returns a FieldError for field with a formatted reason.
func Errorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
