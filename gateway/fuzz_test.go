package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"github.com/fractal-grid/fractal"
)

// FuzzDecodeCreate feeds arbitrary bodies to the create request decoder.
// Properties: it never panics; every refusal is a 400 naming a field or a
// 413; a body that is not valid UTF-8 or is over the limit is refused; an
// accepted request yields a valid spec or a field error; and an accepted
// request encoded again decodes to the same spec.
func FuzzDecodeCreate(f *testing.F) {
	for _, s := range []string{
		`{"prompt": "a red ball bouncing over the ocean at night"}`,
		`{"prompt": "x", "seed": 42, "size": "64x64", "frames": 4, "steps": 6}`,
		`{"prompt": "x", "seconds": 1.5, "fps": 12}`,
		`{"prompt": "x", "frames": 4, "seconds": 2}`,
		`{"prompt": "x", "webhook_url": "https://example.com/hook"}`,
		`{"prompt": "x", "colour": "red"}`,
		`{"prompt": "x", "frames": "four"}`,
		`{"prompt": "x"} {"prompt": "y"}`,
		"{\"prompt\": \"ball \xff\"}",
		`{"prompt": "x", "size": "99999999999999999999x1"}`,
		`{"prompt": "x", "seconds": 1e308, "fps": 60}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	const limit = 4 << 10
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeCreate(httptest.NewRequest("POST", "/v1/videos", bytes.NewReader(body)), limit)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		if len(body) > limit {
			t.Fatalf("accepted a body of %d bytes over the %d-byte limit", len(body), limit)
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted a body that is not valid UTF-8: %q", body)
		}
		spec, err := req.Spec(7)
		if err != nil {
			if !errors.As(err, new(*fractal.FieldError)) {
				t.Fatalf("Spec: got %v, want a field error", err)
			}
			return
		}
		if err := spec.Validate(); err != nil {
			t.Fatalf("Spec returned an invalid spec %+v: %v", spec, err)
		}
		// Round trip: the request as JSON again gives the same spec.
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		req2, err := decodeCreate(httptest.NewRequest("POST", "/v1/videos", bytes.NewReader(again)), 1<<20)
		if err != nil {
			t.Fatalf("re-encoded request %s refused: %v", again, err)
		}
		spec2, err := req2.Spec(7)
		if err != nil || spec2 != spec {
			t.Fatalf("round trip: got %+v (%v), want %+v", spec2, err, spec)
		}
	})
}

// checkRefusal asserts that a decoding error maps to 400 with a field, or
// to 413.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, fractal.ErrTooLarge) {
		return
	}
	var fe *fractal.FieldError
	if !errors.As(err, &fe) || fe.Field == "" {
		t.Fatalf("refusal %v: want a field error or too large", err)
	}
}
