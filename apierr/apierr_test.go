package apierr_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
)

// sentinels are every kind some protocol names.
var sentinels = []error{
	fractal.ErrInvalid, fractal.ErrUnauthorized, fractal.ErrForbidden, fractal.ErrNotFound,
	fractal.ErrConflict, fractal.ErrTooLarge, fractal.ErrMismatch, fractal.ErrOverloaded,
	fractal.ErrUnavailable, apierr.ErrMethodNotAllowed, apierr.ErrGone, context.Canceled, context.DeadlineExceeded,
}

// row is one documented mapping: err is answered with status and code.
type row struct {
	err    error
	status int
	code   string
}

// httpRows are docs/protocol.md's table.
var httpRows = []row{
	{fractal.ErrInvalid, 400, "invalid"},
	{fractal.ErrUnauthorized, 401, "unauthorized"},
	{fractal.ErrForbidden, 403, "forbidden"},
	{fractal.ErrNotFound, 404, "not_found"},
	{fractal.ErrConflict, 409, "conflict"},
	{fractal.ErrTooLarge, 413, "too_large"},
	{fractal.ErrMismatch, 422, "mismatch"},
	{fractal.ErrOverloaded, 429, "overloaded"},
	{fractal.ErrUnavailable, 503, "unavailable"},
	{apierr.ErrMethodNotAllowed, 500, "internal"},
	{apierr.ErrGone, 500, "internal"},
	{context.Canceled, 500, "internal"},
}

// apiRows are docs/api.md's table: the miner protocol's, with 405 and 410.
var apiRows = []row{
	{fractal.ErrInvalid, 400, "invalid"},
	{fractal.ErrUnauthorized, 401, "unauthorized"},
	{fractal.ErrForbidden, 403, "forbidden"},
	{fractal.ErrNotFound, 404, "not_found"},
	{apierr.ErrMethodNotAllowed, 405, "method_not_allowed"},
	{fractal.ErrConflict, 409, "conflict"},
	{apierr.ErrGone, 410, "gone"},
	{fractal.ErrTooLarge, 413, "too_large"},
	{fractal.ErrMismatch, 422, "mismatch"},
	{fractal.ErrOverloaded, 429, "overloaded"},
	{fractal.ErrUnavailable, 503, "unavailable"},
	{context.Canceled, 500, "internal"},
}

// documented holds each protocol's table as its document states it.
var documented = []struct {
	name string
	p    *apierr.Protocol
	rows []row
}{
	{"api", apierr.API, apiRows},
	{"miner", apierr.Miner, httpRows},
	{"engine", apierr.Engine, []row{ // docs/engine-protocol.md
		{fractal.ErrInvalid, 400, "invalid"},
		{fractal.ErrNotFound, 404, "not_found"},
		{apierr.ErrMethodNotAllowed, 405, "method_not_allowed"},
		{fractal.ErrTooLarge, 413, "too_large"},
		{&http.MaxBytesError{Limit: 1}, 413, "too_large"},
		{fractal.ErrOverloaded, 503, "overloaded"},
		{fractal.ErrUnavailable, 503, "unavailable"},
		{context.Canceled, 499, "canceled"},
		{context.DeadlineExceeded, 503, "canceled"},
		{fractal.ErrUnauthorized, 500, "internal"},
		{fractal.ErrConflict, 500, "internal"},
	}},
	{"devchain", apierr.Devchain, []row{ // docs/devchain.md
		{fractal.ErrInvalid, 400, "invalid"},
		{fractal.ErrUnauthorized, 401, "unauthorized"},
		{fractal.ErrForbidden, 403, "forbidden"},
		{fractal.ErrNotFound, 404, "not_found"},
		{fractal.ErrConflict, 409, "conflict"},
		{fractal.ErrTooLarge, 413, "too_large"},
		{fractal.ErrOverloaded, 429, "overloaded"},
		{fractal.ErrUnavailable, 503, "unavailable"},
		{fractal.ErrMismatch, 500, "internal"},
	}},
}

func TestStatus(t *testing.T) {
	for _, proto := range documented {
		for _, r := range proto.rows {
			t.Run(proto.name+"/"+r.code+"/"+r.err.Error(), func(t *testing.T) {
				status, code := proto.p.Status(fmt.Errorf("context: %w", r.err))
				if status != r.status || code != r.code {
					t.Errorf("got %d %s, want %d %s", status, code, r.status, r.code)
				}
			})
		}
	}
}

// TestRoundTrip writes every kind a protocol names and reads it back: the
// error read wraps the same kinds as the one written.
func TestRoundTrip(t *testing.T) {
	for _, proto := range documented {
		for _, r := range proto.rows {
			if r.code == apierr.CodeInternal {
				continue
			}
			t.Run(proto.name+"/"+r.code+"/"+r.err.Error(), func(t *testing.T) {
				err := fmt.Errorf("context: %w", r.err)
				rec := httptest.NewRecorder()
				proto.p.Write(rec, err)
				if rec.Code != r.status {
					t.Fatalf("got status %d, want %d", rec.Code, r.status)
				}
				back := proto.p.Read(rec.Result())
				want := r.err
				if _, ok := r.err.(*http.MaxBytesError); ok {
					want = fractal.ErrTooLarge
				}
				if r.err == context.DeadlineExceeded {
					want = context.Canceled // its code is "canceled"
				}
				if !errors.Is(back, want) {
					t.Errorf("read back %v, want it to wrap %v", back, want)
				}
				for _, s := range sentinels {
					if s != want && errors.Is(back, s) {
						t.Errorf("read back %v: wraps %v too", back, s)
					}
				}
				// An error record inside a stream has no status.
				if fb := proto.p.Err(proto.p.Body(nil, err), 0, 0); !errors.Is(fb, want) {
					t.Errorf("from body: got %v, want it to wrap %v", fb, want)
				}
			})
		}
	}
}

func TestFieldError(t *testing.T) {
	for _, tc := range []struct {
		p       *apierr.Protocol
		message string
	}{
		{apierr.API, "width: too wide"},
		{apierr.Miner, "width: too wide"},
		{apierr.Engine, "too wide"},
	} {
		err := fractal.Errorf("width", "too wide")
		b := tc.p.Body(nil, err)
		if b.Field != "width" || b.Message != tc.message {
			t.Errorf("body %+v, want field width and message %q", b, tc.message)
		}
		var fe *fractal.FieldError
		back := tc.p.Err(b, http.StatusBadRequest, 0)
		if !errors.As(back, &fe) || fe.Field != "width" || fe.Reason != "too wide" || !errors.Is(back, fractal.ErrInvalid) {
			t.Errorf("read back %v, want FieldError{width, too wide}", back)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for _, proto := range documented {
		t.Run(proto.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			proto.p.Write(rec, &apierr.RetryAfterError{Err: fmt.Errorf("busy: %w", fractal.ErrOverloaded), After: 1500 * time.Millisecond})
			if got := rec.Header().Get("Retry-After"); got != "2" {
				t.Errorf("Retry-After %q, want 2", got)
			}
			back := proto.p.Read(rec.Result())
			var ra *apierr.RetryAfterError
			if !errors.As(back, &ra) || ra.After != 2*time.Second || !errors.Is(back, fractal.ErrOverloaded) {
				t.Errorf("read back %v, want overloaded retrying after 2s", back)
			}
		})
	}
}

// TestReadFallbacks covers replies of servers other than ours: without a
// code (or with one unknown) the status decides.
func TestReadFallbacks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      *apierr.Protocol
		status int
		body   string
		want   error
	}{
		{"engine 429 without code", apierr.Engine, 429, `{"error":{"message":"busy"}}`, fractal.ErrOverloaded},
		{"engine 503 without code", apierr.Engine, 503, `{"error":{"message":"busy"}}`, fractal.ErrOverloaded},
		{"engine 503 overloaded", apierr.Engine, 503, `{"error":{"code":"overloaded","message":"busy"}}`, fractal.ErrOverloaded},
		{"engine 503 unavailable", apierr.Engine, 503, `{"error":{"code":"unavailable","message":"loading"}}`, fractal.ErrUnavailable},
		{"engine unknown code", apierr.Engine, 404, `{"error":{"code":"gone","message":"x"}}`, fractal.ErrNotFound},
		{"engine bad gateway", apierr.Engine, 502, `<html>bad gateway</html>`, nil},
		{"api plain text", apierr.API, 429, "slow down", fractal.ErrOverloaded},
		{"api bad gateway", apierr.API, 502, "bad gateway", nil},
		{"devchain flat", apierr.Devchain, 404, `{"error":"subnet 3: not found","code":"not_found"}`, fractal.ErrNotFound},
		{"devchain other 5xx", apierr.Devchain, 502, "bad gateway", fractal.ErrUnavailable},
		{"devchain internal", apierr.Devchain, 500, `{"error":"internal error","code":"internal"}`, fractal.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Parse(tc.status, 0, []byte(tc.body))
			if err == nil {
				t.Fatal("got nil, want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v, want it to wrap %v", err, tc.want)
			}
			for _, s := range sentinels {
				if tc.want == nil && errors.Is(err, s) {
					t.Errorf("got %v, want no kind, not %v", err, s)
				}
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	err := apierr.Devchain.Parse(404, 0, []byte(`{"error":"subnet 3: not found","code":"not_found"}`))
	if got, want := err.Error(), "subnet 3: not found"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	err = apierr.Engine.Err(apierr.Body{Code: "unavailable", Message: "weights loading"}, 503, 0)
	if got, want := err.Error(), "engine: weights loading: unavailable"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
