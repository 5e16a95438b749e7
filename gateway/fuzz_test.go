package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/refengine"
)

// FuzzDecodeCreate feeds arbitrary bodies to the create request decoder.
// Properties: it never panics; every refusal is a 400 naming a field or a
// 413; a body that is not valid UTF-8 or is over the limit is refused; an
// accepted request yields, under each of two profiles with different
// limits, a spec that profile serves (and names) or a field error; and an
// accepted request encoded again decodes to the same spec.
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
	profiles := fuzzProfiles(f)
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
		for _, p := range profiles {
			checkSpec(t, req, p)
		}
	})
}

// fuzzProfiles are the reference profile and one whose frames and sides
// are stepped sets, as a real model's are.
func fuzzProfiles(t testing.TB) []fractal.Profile {
	stepped := refengine.New().Profile()
	stepped.Version = "stepped"
	stepped.Limits = fractal.Limits{
		Frames: fractal.Range{Min: 5, Max: 81, Step: 4}, Width: fractal.Range{Values: []int{480, 832}},
		Height: fractal.Range{Values: []int{480, 832}}, FPS: fractal.Range{Values: []int{16}},
		Steps: fractal.Range{Min: 10, Max: 50}, PromptBytes: 500,
		Default: fractal.Shape{Frames: 81, Width: 832, Height: 480, FPS: 16, Steps: 30},
	}
	if err := stepped.Validate(); err != nil {
		t.Fatal(err)
	}
	return []fractal.Profile{refengine.New().Profile(), stepped}
}

// checkSpec asserts that req gives a spec p serves, naming p, or a field
// error; and that the request encoded again gives the same spec.
func checkSpec(t *testing.T, req CreateRequest, p fractal.Profile) {
	t.Helper()
	spec, err := req.Spec(p, 7)
	if err != nil {
		if !errors.As(err, new(*fractal.FieldError)) {
			t.Fatalf("Spec under %s: got %v, want a field error", p, err)
		}
		return
	}
	if err := p.Check(spec); err != nil || spec.Profile != p.String() {
		t.Fatalf("Spec under %s returned %+v (%v), want a spec it serves naming it", p, spec, err)
	}
	again, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	req2, err := decodeCreate(httptest.NewRequest("POST", "/v1/videos", bytes.NewReader(again)), 1<<20)
	if err != nil {
		t.Fatalf("re-encoded request %s refused: %v", again, err)
	}
	spec2, err := req2.Spec(p, 7)
	if err != nil || spec2 != spec {
		t.Fatalf("round trip under %s: got %+v (%v), want %+v", p, spec2, err, spec)
	}
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
