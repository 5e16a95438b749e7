package epistula_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/epistula"
)

// Verify never panics and accepts nothing but a correctly signed request,
// whatever the header values. The seeds are the vectors' headers.
func FuzzVerify(f *testing.F) {
	vf := loadVectors(f)
	for _, c := range append(vf.Valid, vf.Invalid...) {
		f.Add(c.Headers[epistula.HeaderSignature], c.Headers[epistula.HeaderTimestamp], c.Headers[epistula.HeaderUUID], c.Headers[epistula.HeaderSignedBy], c.Headers[epistula.HeaderSignedFor], c.body(f), c.VerifyAtMs)
	}
	f.Add("0x", "", "", "", "", []byte(nil), int64(0))
	f.Add("0x00", "-1", "x", "5", "5", []byte{0}, int64(-1))
	f.Fuzz(func(t *testing.T, sig, ts, id, by, forr string, body []byte, now int64) {
		h := http.Header{}
		h.Set(epistula.HeaderVersion, epistula.Version)
		h.Set(epistula.HeaderSignature, sig)
		h.Set(epistula.HeaderTimestamp, ts)
		h.Set(epistula.HeaderUUID, id)
		h.Set(epistula.HeaderSignedBy, by)
		h.Set(epistula.HeaderSignedFor, forr)
		signer, err := epistula.Verify(h, body, time.UnixMilli(now), forr)
		if err == nil && signer != by {
			t.Errorf("accepted with signer %q, want %q", signer, by)
		}
	})
}
