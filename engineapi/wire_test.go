package engineapi_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/apierr"
	"github.com/fractal-grid/fractal/engineapi"
)

func TestReaderRecords(t *testing.T) {
	var buf bytes.Buffer
	if err := engineapi.WriteRecord(&buf, engineapi.FramesRecord{Type: engineapi.TypeFrames, Bytes: 3}, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := engineapi.WriteRecord(&buf, engineapi.EndRecord{Type: engineapi.TypeEnd}, nil); err != nil {
		t.Fatal(err)
	}
	rd := engineapi.NewReader(&buf, 3)
	rec, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Type != engineapi.TypeFrames || !bytes.Equal(rec.Payload, []byte{1, 2, 3}) {
		t.Errorf("got record %q with payload %v, want frames with [1 2 3]", rec.Type, rec.Payload)
	}
	if rec, err = rd.Next(); err != nil || rec.Type != engineapi.TypeEnd {
		t.Errorf("got record %v, %v, want end", rec, err)
	}
	if _, err := rd.Next(); !errors.Is(err, engineapi.ErrNoRecord) {
		t.Errorf("after the last record got %v, want %v", err, engineapi.ErrNoRecord)
	}
}

func TestReaderRefuses(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"NotJSON", "hello\n", fractal.ErrInvalid},
		{"NegativeBytes", `{"type":"x","bytes":-1}` + "\n", fractal.ErrInvalid},
		{"PayloadOverLimit", `{"type":"x","bytes":17}` + "\n" + strings.Repeat("a", 17), fractal.ErrTooLarge},
		{"PayloadTruncated", `{"type":"x","bytes":10}` + "\nabc", fractal.ErrInvalid},
		{"LineTooLong", `{"type":"` + strings.Repeat("a", engineapi.MaxLineBytes) + `"}` + "\n", fractal.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := engineapi.NewReader(strings.NewReader(tc.body), 16).Next()
			if !errors.Is(err, tc.want) {
				t.Errorf("got error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReaderAcceptsLastLineWithoutNewline(t *testing.T) {
	rec, err := engineapi.NewReader(strings.NewReader("{\"type\":\"generate\"}\r"), 0).Next()
	if err != nil || rec.Type != engineapi.TypeGenerate {
		t.Errorf("got %v, %v, want a generate record", rec, err)
	}
}

func TestStatePayload(t *testing.T) {
	good := fractal.State{Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}
	tests := []struct {
		name    string
		h       engineapi.StateHeader
		payload []byte
		want    error
	}{
		{"Good", engineapi.Header(good), good.Bytes(), nil},
		{"DType", engineapi.StateHeader{Shape: []int{2, 3}, DType: "float64"}, good.Bytes(), fractal.ErrInvalid},
		{"ShortPayload", engineapi.StateHeader{Shape: []int{2, 3}, DType: "float32"}, good.Bytes()[:20], fractal.ErrInvalid},
		{"NoShape", engineapi.StateHeader{DType: "float32"}, nil, fractal.ErrInvalid},
		{"ZeroDim", engineapi.StateHeader{Shape: []int{2, 0}, DType: "float32"}, nil, fractal.ErrInvalid},
		{"RankNine", engineapi.StateHeader{Shape: []int{1, 1, 1, 1, 1, 1, 1, 1, 1}, DType: "float32"}, make([]byte, 4), fractal.ErrInvalid},
		{"Overflow", engineapi.StateHeader{Shape: []int{1 << 40, 1 << 40}, DType: "float32"}, nil, fractal.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := engineapi.StatePayload(tc.h, tc.payload)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			if tc.want == nil && s.Digest() != good.Digest() {
				t.Errorf("got digest %s, want %s", s.Digest(), good.Digest())
			}
		})
	}
}

// TestErrFieldAndFallbacks checks what remote clients read through Err; the
// table itself is tested in apierr.
func TestErrFieldAndFallbacks(t *testing.T) {
	var fe *fractal.FieldError
	err := engineapi.Err(engineapi.ErrorBody{Code: "invalid", Message: "too wide", Field: "width"}, 400, 0)
	if !errors.As(err, &fe) || fe.Field != "width" || fe.Reason != "too wide" {
		t.Errorf("got %#v, want FieldError{width, too wide}", err)
	}
	if err := engineapi.Err(engineapi.ErrorBody{}, http.StatusTooManyRequests, 0); !errors.Is(err, fractal.ErrOverloaded) {
		t.Errorf("429 without a code: got %v, want %v", err, fractal.ErrOverloaded)
	}
	err = engineapi.Err(engineapi.ErrorBody{Code: "overloaded"}, 503, 3*time.Second)
	var ra *apierr.RetryAfterError
	if !errors.As(err, &ra) || ra.After != 3*time.Second || !errors.Is(err, fractal.ErrOverloaded) {
		t.Errorf("got %#v, want a RetryAfterError retrying after 3s", err)
	}
	if err := engineapi.Err(engineapi.ErrorBody{Code: "weird"}, http.StatusBadGateway, 0); err == nil || errors.Is(err, fractal.ErrInvalid) {
		t.Errorf("unknown code and status: got %v, want a plain error", err)
	}
}
