package epistula_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/fractal-grid/fractal/epistula"
	"github.com/fractal-grid/fractal/internal/testenv"
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

// FuzzSignVerify signs arbitrary bodies for arbitrary receivers: the
// signature verifies for that receiver and body, and fails for a changed
// body, another receiver or a time outside the window.
func FuzzSignVerify(f *testing.F) {
	f.Add([]byte(`{"request_id":"j","spec":{}}`), "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", uint16(0), int64(1_700_000_000_000))
	f.Add([]byte{}, "", uint16(3), int64(0))
	f.Add([]byte{0xff, 0, '\n'}, "x.y", uint16(1), int64(-5))
	key := testenv.Key(f, "//Alice//fuzz")
	f.Fuzz(func(t *testing.T, body []byte, signedFor string, flip uint16, nowMs int64) {
		now := time.UnixMilli(nowMs & (1<<45 - 1)) // a time after 1970, before year 3084
		h, err := epistula.Sign(key, body, signedFor, now)
		if err != nil {
			return // a receiver that cannot go in a header is refused at signing
		}
		signer, err := epistula.Verify(h, body, now, signedFor)
		if err != nil || signer != key.SS58() {
			t.Fatalf("own signature: got %q, %v; want %s", signer, err, key.SS58())
		}
		if len(body) > 0 {
			tampered := append([]byte(nil), body...)
			tampered[int(flip)%len(tampered)] ^= 1 << (flip % 8)
			if _, err := epistula.Verify(h, tampered, now, signedFor); err == nil {
				t.Fatal("a changed body verified")
			}
		}
		if _, err := epistula.Verify(h, body, now, signedFor+"x"); err == nil {
			t.Fatal("verified for another receiver")
		}
		if _, err := epistula.Verify(h, body, now.Add(time.Hour), signedFor); err == nil {
			t.Fatal("a signature an hour old verified")
		}
	})
}
