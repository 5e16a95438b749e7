package epistula_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/internal/testenv"
)

// vectorCase is one case of ../shared/vectors/epistula-v2.json.
type vectorCase struct {
	Name        string            `json:"name"`
	Why         string            `json:"why"`
	BodyBase64  string            `json:"body_base64"`
	Headers     map[string]string `json:"headers"`
	SignedFor   string            `json:"signed_for"`
	Self        string            `json:"verifier_self_ss58"`
	Message     string            `json:"message"`
	TimestampMs int64             `json:"timestamp_ms"`
	VerifyAtMs  int64             `json:"verify_at_ms"`
}

type vectorFile struct {
	AllowedDeltaMs int64 `json:"allowed_delta_ms"`
	Signer         struct{ SS58 string }
	Valid          []vectorCase `json:"valid"`
	Invalid        []vectorCase `json:"invalid"`
}

func loadVectors(tb testing.TB) vectorFile {
	tb.Helper()
	raw, err := os.ReadFile(testenv.Shared(tb, "vectors", "epistula-v2.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(raw, &f); err != nil {
		tb.Fatal(err)
	}
	if len(f.Valid) == 0 || len(f.Invalid) == 0 {
		tb.Fatalf("got %d valid and %d invalid vectors, want some of each", len(f.Valid), len(f.Invalid))
	}
	return f
}

func (c vectorCase) header() http.Header {
	h := make(http.Header)
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	return h
}

func (c vectorCase) body(tb testing.TB) []byte {
	tb.Helper()
	b, err := base64.StdEncoding.DecodeString(c.BodyBase64)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestValidVectors(t *testing.T) {
	f := loadVectors(t)
	if got := epistula.DefaultWindow.Milliseconds(); got != f.AllowedDeltaMs {
		t.Errorf("DefaultWindow = %d ms, want the vectors' %d ms", got, f.AllowedDeltaMs)
	}
	for _, c := range f.Valid {
		t.Run(c.Name, func(t *testing.T) {
			body := c.body(t)
			if got := string(epistula.Message(body, c.Headers[epistula.HeaderUUID], c.TimestampMs, c.SignedFor)); got != c.Message {
				t.Errorf("Message = %q, want %q", got, c.Message)
			}
			signer, err := epistula.Verify(c.header(), body, time.UnixMilli(c.VerifyAtMs), c.Self)
			if err != nil {
				t.Fatalf("valid vector refused: %v", err)
			}
			if signer != f.Signer.SS58 {
				t.Errorf("signer = %s, want %s", signer, f.Signer.SS58)
			}
			// The same request through an Authenticator: accepted once, then a replay.
			cfg := epistula.DefaultConfig(c.Self)
			cfg.AllowUnaddressed = c.Self == ""
			v, err := epistula.NewAuthenticator(cfg)
			if err != nil {
				t.Fatal(err)
			}
			v.Now = func() time.Time { return time.UnixMilli(c.VerifyAtMs) }
			if _, err := v.Check(c.header(), body); err != nil {
				t.Fatalf("Authenticator refused a valid vector: %v", err)
			}
			if _, err := v.Check(c.header(), body); !errors.Is(err, epistula.ErrReplay) {
				t.Errorf("second Check: got %v, want ErrReplay", err)
			}
		})
	}
}

// wantInvalid names the reason each invalid vector must be refused for; a
// vector missing here fails the test, so new vectors get a reason.
var wantInvalid = map[string]error{
	"tampered_body":                         epistula.ErrSignature,
	"tampered_uuid":                         epistula.ErrSignature,
	"tampered_timestamp":                    epistula.ErrSignature,
	"wrong_signed_by":                       epistula.ErrSignature,
	"signature_from_other_key":              epistula.ErrSignature,
	"signed_for_other_receiver":             epistula.ErrReceiver,
	"malformed_hex_no_prefix":               epistula.ErrMalformed,
	"malformed_hex_non_hex_chars":           epistula.ErrMalformed,
	"malformed_hex_odd_length":              epistula.ErrMalformed,
	"signature_63_bytes":                    epistula.ErrMalformed,
	"secret_signature_as_request_signature": epistula.ErrSignature,
	"stale_timestamp":                       epistula.ErrStale,
}

func TestInvalidVectors(t *testing.T) {
	f := loadVectors(t)
	seen := map[string]bool{}
	for _, c := range f.Invalid {
		t.Run(c.Name, func(t *testing.T) {
			seen[c.Name] = true
			want, ok := wantInvalid[c.Name]
			if !ok {
				t.Fatalf("no expected reason for invalid vector %q (%s)", c.Name, c.Why)
			}
			signer, err := epistula.Verify(c.header(), c.body(t), time.UnixMilli(c.VerifyAtMs), c.Self)
			if !errors.Is(err, want) || !errors.Is(err, fractal.ErrUnauthorized) {
				t.Errorf("got %q, %v; want %v wrapping ErrUnauthorized", signer, err, want)
			}
		})
	}
	for name := range wantInvalid {
		if !seen[name] {
			t.Errorf("invalid vector %q is no longer in the file", name)
		}
	}
}

// An addressed receiver refuses unaddressed vectors, and an unaddressed
// receiver refuses addressed ones: Signed-For must equal self.
func TestVectorsReceiverMismatch(t *testing.T) {
	f := loadVectors(t)
	const charlie = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y"
	for _, c := range f.Valid {
		t.Run(c.Name, func(t *testing.T) {
			other := ""
			if c.Self == "" {
				other = charlie
			}
			_, err := epistula.Verify(c.header(), c.body(t), time.UnixMilli(c.VerifyAtMs), other)
			if !errors.Is(err, epistula.ErrReceiver) {
				t.Errorf("self %q: got %v, want ErrReceiver", other, err)
			}
		})
	}
}
