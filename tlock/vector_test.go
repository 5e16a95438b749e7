package tlock

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
)

// vector is ../shared/vectors/tlock/round1000.json, made by the wasm build of
// the tle crate (@ideallabs/timelock_wasm_wrapper 1.0.0) with esk = 32 × 0x02.
type vector struct {
	ChainHash      string `json:"drand_chain_hash"`
	PublicKey      string `json:"drand_public_key_g2"`
	Round          uint64 `json:"round"`
	Signature      string `json:"round_signature_g1"`
	PlaintextHex   string `json:"plaintext_hex"`
	CiphertextHex  string `json:"ciphertext_hex"`
	PlaintextNotes string `json:"plaintext_meaning"`
}

// vectorsDir is $FRACTAL_VECTORS, or the shared vectors beside the
// repository when that is unset.
func vectorsDir() string {
	if d := os.Getenv("FRACTAL_VECTORS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "vectors")
}

// MustVector reads the round-1000 vector; a missing file fails the test.
func MustVector(tb testing.TB) vector {
	tb.Helper()
	path := filepath.Join(vectorsDir(), "tlock", "round1000.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read vector (set FRACTAL_VECTORS to the shared vectors directory): %v", err)
	}
	var v vector
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("parse %s: %v", path, err)
	}
	return v
}

func MustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatalf("hex %q: %v", s, err)
	}
	return b
}

func TestVectorParameters(t *testing.T) {
	v := MustVector(t)
	if v.ChainHash != QuicknetChainHash {
		t.Errorf("chain hash: got %s, want %s", QuicknetChainHash, v.ChainHash)
	}
	if v.PublicKey != QuicknetPublicKey {
		t.Errorf("public key: got %s, want %s", QuicknetPublicKey, v.PublicKey)
	}
	// The public beacon of round 1000 must verify: this checks the hash to
	// G1 (identity) and the point decoding against drand itself.
	if err := VerifyBeacon(MustHex(t, v.PublicKey), v.Round, MustHex(t, v.Signature)); err != nil {
		t.Fatalf("verify beacon: %v", err)
	}
	if err := VerifyBeacon(MustHex(t, v.PublicKey), v.Round+1, MustHex(t, v.Signature)); !errors.Is(err, ErrWrongSignature) {
		t.Fatalf("verify beacon for another round: got %v, want %v", err, ErrWrongSignature)
	}
}

func TestDecryptVector(t *testing.T) {
	v := MustVector(t)
	got, err := Decrypt(MustHex(t, v.CiphertextHex), MustHex(t, v.Signature))
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	want := MustHex(t, v.PlaintextHex)
	if !bytes.Equal(got, want) {
		t.Fatalf("plaintext: got %x, want %x", got, want)
	}
	// plaintext_meaning: hotkey 32 × 0x07, uids [1,2], values [65535,32768], version 28.
	p, err := DecodeWeightsPayload(got)
	if err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	wantP := WeightsPayload{
		Hotkey:     bytes.Repeat([]byte{7}, 32),
		UIDs:       []uint16{1, 2},
		Values:     []uint16{65535, 32768},
		VersionKey: 28,
	}
	if !p.Equal(wantP) {
		t.Fatalf("payload: got %+v, want %+v (%s)", p, wantP, v.PlaintextNotes)
	}
}

// TestRebuildVector rebuilds the vector byte for byte. tle draws the IBE
// randomness sigma and the AES nonce from its rng, so the ciphertext is not a
// function of esk alone; but the signature opens sigma, and with sigma, esk
// and the nonce fixed, sealing is deterministic. Equal bytes pin down the
// whole format: U's encoding, H2 over the pairing, H3, H4, the Vec layout.
func TestRebuildVector(t *testing.T) {
	v := MustVector(t)
	ct := MustHex(t, v.CiphertextHex)
	c, err := unmarshalCiphertext(ct)
	if err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	sig, err := decodeG1(MustHex(t, v.Signature))
	if err != nil {
		t.Fatal(err)
	}
	key, err := ibeDecrypt(c.header, sig)
	if err != nil {
		t.Fatalf("ibe decrypt: %v", err)
	}
	var esk [keySize]byte
	copy(esk[:], bytes.Repeat([]byte{2}, keySize))
	if key != esk {
		t.Fatalf("ibe message: got %x, want esk %x", key, esk)
	}
	gid, err := bls.Pair([]g1{sig}, []g2{c.header.u})
	if err != nil {
		t.Fatal(err)
	}
	sigma := xor32(c.header.v, h2(&gid))

	pub, err := decodeG2(MustHex(t, v.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	qid, err := identityPoint(v.Round)
	if err != nil {
		t.Fatal(err)
	}
	var nonce [nonceSize]byte
	copy(nonce[:], c.nonce)
	got, err := seal(pub, qid, esk, sigma, nonce, MustHex(t, v.PlaintextHex))
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	if !bytes.Equal(got, ct) {
		t.Fatalf("rebuilt ciphertext:\n got %x\nwant %x", got, ct)
	}
}
