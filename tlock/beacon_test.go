package tlock

import (
	"bytes"
	"errors"
	"testing"
)

func TestBeaconSignsRoundsThatOpenCiphertexts(t *testing.T) {
	b := NewBeacon([32]byte{7})
	if !bytes.Equal(NewBeacon([32]byte{7}).PublicKey(), b.PublicKey()) {
		t.Fatal("the same seed gave two public keys")
	}
	if bytes.Equal(NewBeacon([32]byte{8}).PublicKey(), b.PublicKey()) {
		t.Fatal("two seeds gave one public key")
	}
	ct, err := Encrypt(b.PublicKey(), 42, []byte("weights"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := b.Sign(42)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyBeacon(b.PublicKey(), 42, sig); err != nil {
		t.Fatalf("VerifyBeacon: %v", err)
	}
	got, err := Decrypt(ct, sig)
	if err != nil || string(got) != "weights" {
		t.Fatalf("Decrypt = %q, %v; want %q", got, err, "weights")
	}
	other, err := b.Sign(43)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(ct, other); !errors.Is(err, ErrWrongSignature) {
		t.Fatalf("Decrypt with round 43's signature: got %v, want ErrWrongSignature", err)
	}
}
