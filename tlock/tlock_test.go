package tlock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
)

// testBeacon is a drand-like beacon with a known master key, so tests can
// sign any round.
type testBeacon struct {
	secret *big.Int
	pk     []byte
}

func newTestBeacon(seed uint64) testBeacon {
	s := new(big.Int).SetUint64(seed*0x9e3779b97f4a7c15 + 12345)
	var p g2
	p.ScalarMultiplicationBase(s)
	b := p.Bytes()
	return testBeacon{secret: s, pk: b[:]}
}

// MustSign is the beacon signature of round.
func (b testBeacon) MustSign(tb testing.TB, round uint64) []byte {
	tb.Helper()
	q, err := identityPoint(round)
	if err != nil {
		tb.Fatal(err)
	}
	var s g1
	s.ScalarMultiplication(&q, b.secret)
	out := s.Bytes()
	return out[:]
}

func TestRoundTrip(t *testing.T) {
	beacon := newTestBeacon(1)
	rng := rand.NewChaCha8([32]byte{1})
	tests := []struct {
		name      string
		round     uint64
		plaintext []byte
	}{
		{"empty", 1, nil},
		{"one byte", 2, []byte{0}},
		{"commit", 1 << 40, bytes.Repeat([]byte{0xab}, 51)},
		{"64 KiB", 999, bytes.Repeat([]byte{1, 2, 3, 4}, 1<<14)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := Encrypt(beacon.pk, tt.round, tt.plaintext, rng)
			if err != nil {
				t.Fatalf("encrypt: %v", err)
			}
			if want := g2Size + 8 + 32 + 8 + 32 + 8 + 8 + len(tt.plaintext) + 16 + 8 + 12 + 8 + len(cipherSuite); len(ct) != want {
				t.Errorf("ciphertext length: got %d, want %d", len(ct), want)
			}
			got, err := Decrypt(ct, beacon.MustSign(t, tt.round))
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("plaintext: got %x, want %x", got, tt.plaintext)
			}
			if err := VerifyBeacon(beacon.pk, tt.round, beacon.MustSign(t, tt.round)); err != nil {
				t.Fatalf("verify beacon: %v", err)
			}
		})
	}
}

func TestEncryptIsRandomized(t *testing.T) {
	beacon := newTestBeacon(2)
	rng := rand.NewChaCha8([32]byte{2})
	a, err := Encrypt(beacon.pk, 5, []byte("same"), rng)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encrypt(beacon.pk, 5, []byte("same"), rng)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions of one plaintext are equal, want fresh randomness each time")
	}
	c, err := Encrypt(beacon.pk, 5, []byte("same"), nil)
	if err != nil {
		t.Fatalf("encrypt with nil rng: %v", err)
	}
	if _, err := Decrypt(c, beacon.MustSign(t, 5)); err != nil {
		t.Fatalf("decrypt: %v", err)
	}
}

func TestEncryptErrors(t *testing.T) {
	beacon := newTestBeacon(3)
	short := bytes.NewReader(make([]byte, 40))
	tests := []struct {
		name string
		pk   []byte
		rng  *bytes.Reader
		want error
	}{
		{"short public key", beacon.pk[:95], nil, ErrMalformed},
		{"g1 point as public key", newTestBeacon(3).MustSign(t, 1), nil, ErrMalformed},
		{"uncompressed flag", append([]byte{beacon.pk[0] &^ flagCompressed}, beacon.pk[1:]...), nil, ErrMalformed},
		{"exhausted rng", beacon.pk, short, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.rng != nil {
				_, err = Encrypt(tt.pk, 1, []byte("x"), tt.rng)
			} else {
				_, err = Encrypt(tt.pk, 1, []byte("x"), rand.NewChaCha8([32]byte{}))
			}
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// corrupt returns a copy of b changed by f.
func corrupt(b []byte, f func([]byte) []byte) []byte {
	return f(bytes.Clone(b))
}

// Offsets into a serialized ciphertext.
const (
	offV       = g2Size             // v's length
	offW       = offV + 8 + keySize // w's length
	offBody    = offW + 8 + keySize // body's length
	offAESLen  = offBody + 8        // aes ciphertext's length, inside body
	offAESData = offAESLen + 8      // aes ciphertext
	offVData   = offV + 8           // v
	offWData   = offW + 8           // w
)

func TestDecryptRejects(t *testing.T) {
	v := MustVector(t)
	ct := MustHex(t, v.CiphertextHex)
	sig := MustHex(t, v.Signature)
	n := len(ct)
	nonceAt := n - 8 - len(cipherSuite) - nonceSize
	other := newTestBeacon(4).MustSign(t, v.Round)
	infinity := make([]byte, g1Size)
	infinity[0] = flagCompressed | flagInfinity
	notOnCurve := bytes.Clone(sig)
	notOnCurve[47] ^= 1

	setLen := func(at int, l uint64) func([]byte) []byte {
		return func(b []byte) []byte { binary.LittleEndian.PutUint64(b[at:], l); return b }
	}
	flip := func(at int) func([]byte) []byte {
		return func(b []byte) []byte { b[at] ^= 0x01; return b }
	}
	tests := []struct {
		name string
		ct   []byte
		sig  []byte
		want error
	}{
		{"empty", nil, sig, ErrMalformed},
		{"U only", ct[:g2Size], sig, ErrMalformed},
		{"U not compressed", corrupt(ct, func(b []byte) []byte { b[0] &^= flagCompressed; return b }), sig, ErrMalformed},
		{"U not on curve", corrupt(ct, flip(g2Size-1)), sig, ErrMalformed},
		{"U sort flag flipped", corrupt(ct, func(b []byte) []byte { b[0] ^= flagLargest; return b }), sig, ErrWrongSignature},
		{"v length 31", corrupt(ct, setLen(offV, 31)), sig, ErrMalformed},
		{"v length huge", corrupt(ct, setLen(offV, 1<<63)), sig, ErrMalformed},
		{"w length max", corrupt(ct, setLen(offW, ^uint64(0))), sig, ErrMalformed},
		{"body length past end", corrupt(ct, setLen(offBody, uint64(n))), sig, ErrMalformed},
		{"aes length past body", corrupt(ct, setLen(offAESLen, 1000)), sig, ErrMalformed},
		{"nonce length 11", corrupt(ct, setLen(nonceAt-8, 11)), sig, ErrMalformed},
		{"cipher suite", corrupt(ct, func(b []byte) []byte { b[n-1] = 'X'; return b }), sig, ErrMalformed},
		{"trailing byte", append(bytes.Clone(ct), 0), sig, ErrMalformed},
		{"v flipped", corrupt(ct, flip(offVData)), sig, ErrWrongSignature},
		{"w flipped", corrupt(ct, flip(offWData+31)), sig, ErrWrongSignature},
		{"aes ciphertext flipped", corrupt(ct, flip(offAESData)), sig, ErrAuthentication},
		{"tag flipped", corrupt(ct, flip(nonceAt-9)), sig, ErrAuthentication},
		{"nonce flipped", corrupt(ct, flip(nonceAt)), sig, ErrAuthentication},
		{"signature of another beacon", ct, other, ErrWrongSignature},
		{"signature at infinity", ct, infinity, ErrWrongSignature},
		{"signature not on curve", ct, notOnCurve, ErrMalformed},
		{"signature short", ct, sig[:47], ErrMalformed},
		{"signature uncompressed flag", ct, corrupt(sig, func(b []byte) []byte { b[0] &^= flagCompressed; return b }), ErrMalformed},
		{"signature empty", ct, nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decrypt(tt.ct, tt.sig)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %x, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

// TestDecryptTruncated cuts the vector at every length: each prefix must be
// rejected as malformed, never panic.
func TestDecryptTruncated(t *testing.T) {
	v := MustVector(t)
	ct := MustHex(t, v.CiphertextHex)
	sig := MustHex(t, v.Signature)
	for i := range len(ct) {
		if _, err := Decrypt(ct[:i], sig); !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix of %d bytes: got %v, want %v", i, err, ErrMalformed)
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	v := MustVector(f)
	ct := MustHex(f, v.CiphertextHex)
	sig := MustHex(f, v.Signature)
	f.Add(ct, sig)
	f.Add(ct[:g2Size+8], sig)
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, ct, sig []byte) {
		pt, err := Decrypt(ct, sig)
		if err != nil {
			for _, want := range []error{ErrMalformed, ErrWrongSignature, ErrAuthentication} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		if pt == nil {
			t.Fatal("got nil plaintext and nil error")
		}
	})
}

// TestPointFlags pins the compressed encoding that ark-bls12-381 writes:
// zcash flag bits in the first byte, x big-endian, and for G2 the c1
// coefficient first.
func TestPointFlags(t *testing.T) {
	_, _, gen1, gen2 := bls.Generators()
	var neg1 g1
	neg1.Neg(&gen1)
	var neg2 g2
	neg2.Neg(&gen2)
	var inf1 g1
	var inf2 g2
	encode := func(p any) []byte {
		switch p := p.(type) {
		case *g1:
			b := p.Bytes()
			return b[:]
		case *g2:
			b := p.Bytes()
			return b[:]
		}
		return nil
	}
	tests := []struct {
		name  string
		point any
		first byte // the whole first byte
		flags byte
	}{
		// G1 generator x = 0x17f1d3a7…, y the smaller root.
		{"g1 generator", &gen1, 0x97, flagCompressed},
		{"g1 -generator", &neg1, 0xb7, flagCompressed | flagLargest},
		{"g1 infinity", &inf1, 0xc0, flagCompressed | flagInfinity},
		// G2 generator x.c1 = 0x13e02b60…, written before x.c0.
		{"g2 generator", &gen2, 0x93, flagCompressed},
		{"g2 -generator", &neg2, 0xb3, flagCompressed | flagLargest},
		{"g2 infinity", &inf2, 0xc0, flagCompressed | flagInfinity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encode(tt.point)
			if b[0] != tt.first || b[0]&flagMask != tt.flags {
				t.Fatalf("first byte: got %#02x, want %#02x (flags %#02x)", b[0], tt.first, tt.flags)
			}
			var err error
			switch p := tt.point.(type) {
			case *g1:
				var back g1
				back, err = decodeG1(b)
				if err == nil && !back.Equal(p) {
					t.Fatalf("decode: got %v, want %v", back, p)
				}
			case *g2:
				var back g2
				back, err = decodeG2(b)
				if err == nil && !back.Equal(p) {
					t.Fatalf("decode: got %v, want %v", back, p)
				}
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
		})
	}
}

func TestPointFlagsRejected(t *testing.T) {
	_, _, gen1, _ := bls.Generators()
	good := gen1.Bytes()
	raw := gen1.RawBytes()
	infSort := make([]byte, g1Size)
	infSort[0] = flagCompressed | flagInfinity | flagLargest
	infDirty := make([]byte, g1Size)
	infDirty[0] = flagCompressed | flagInfinity
	infDirty[47] = 1
	tests := []struct {
		name string
		b    []byte
	}{
		{"uncompressed 96 bytes", raw[:]},
		{"compressed bit clear", append([]byte{good[0] &^ flagCompressed}, good[1:]...)},
		{"infinity with sort flag", infSort},
		{"infinity with nonzero x", infDirty},
		{"x not below p", append([]byte{0x80 | 0x1f}, bytes.Repeat([]byte{0xff}, 47)...)},
		{"long", append(good[:], 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeG1(tt.b); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want %v", err, ErrMalformed)
			}
		})
	}
}

// commitPayload is a commit-sized plaintext: a hotkey and 256 weights.
func commitPayload(tb testing.TB) []byte {
	tb.Helper()
	p := WeightsPayload{Hotkey: bytes.Repeat([]byte{7}, 32), VersionKey: 1}
	for i := range 256 {
		p.UIDs = append(p.UIDs, uint16(i))
		p.Values = append(p.Values, uint16(i*251))
	}
	b, err := p.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func BenchmarkEncrypt(b *testing.B) {
	pk := MustHex(b, QuicknetPublicKey)
	pt := commitPayload(b)
	rng := rand.NewChaCha8([32]byte{})
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := Encrypt(pk, 1000, pt, rng); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	v := MustVector(b)
	pt := commitPayload(b)
	ct, err := Encrypt(MustHex(b, QuicknetPublicKey), v.Round, pt, rand.NewChaCha8([32]byte{}))
	if err != nil {
		b.Fatal(err)
	}
	sig := MustHex(b, v.Signature)
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := Decrypt(ct, sig); err != nil {
			b.Fatal(err)
		}
	}
}
