package apierr_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{fractal.Errorf("width", "too wide"), 400},
		{fmt.Errorf("x: %w", fractal.ErrUnauthorized), 401},
		{fmt.Errorf("x: %w", fractal.ErrForbidden), 403},
		{fmt.Errorf("x: %w", fractal.ErrNotFound), 404},
		{fmt.Errorf("x: %w", fractal.ErrConflict), 409},
		{fmt.Errorf("x: %w", fractal.ErrTooLarge), 413},
		{&apierr.RetryAfterError{Err: fmt.Errorf("x: %w", fractal.ErrOverloaded), After: 1500 * time.Millisecond}, 429},
		{fmt.Errorf("x: %w", fractal.ErrUnavailable), 503},
		{errors.New("boom"), 500},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			rec := httptest.NewRecorder()
			apierr.Write(rec, tc.err)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			back := apierr.Read(rec.Result())
			for _, s := range []error{fractal.ErrInvalid, fractal.ErrUnauthorized, fractal.ErrOverloaded, fractal.ErrNotFound} {
				if errors.Is(tc.err, s) != errors.Is(back, s) {
					t.Errorf("read back %v: errors.Is(%v) differs from the original", back, s)
				}
			}
			var ra *apierr.RetryAfterError
			if tc.status == http.StatusTooManyRequests && (!errors.As(back, &ra) || ra.After != 2*time.Second) {
				t.Errorf("read back %v: want Retry-After of 2s", back)
			}
			if tc.status == 400 && apierr.BodyOf(tc.err).Field != "width" {
				t.Errorf("body %+v does not name the field", apierr.BodyOf(tc.err))
			}
		})
	}
}
