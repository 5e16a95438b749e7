package wallet

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// cheapKDF keeps round-trip tests fast; files written with it only open with
// it. The real parameters are exercised against btcli's example coldkey.
var cheapKDF = kdfParams{time: 1, memoryKiB: 64}

func TestEncryptedColdkeyRoundTrip(t *testing.T) {
	w, err := Create(t.TempDir(), "enc")
	if err != nil {
		t.Fatal(err)
	}
	w.kdf = cheapKDF
	pw := []byte("correct horse")
	k, err := w.NewColdkey(pw)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(w.ColdkeyPath())
	if err != nil {
		t.Fatal(err)
	}
	if Encryption(data) != EncNaCl || bytes.Contains(data, []byte(k.Phrase)) {
		t.Fatalf("coldkey file is not NaCl-encrypted: %q", data[:16])
	}
	got, err := w.Coldkey(pw)
	if err != nil {
		t.Fatal(err)
	}
	if got.SS58() != k.SS58() {
		t.Errorf("coldkey = %s, want %s", got.SS58(), k.SS58())
	}
	if _, err := w.Coldkey([]byte("wrong")); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: got %v, want ErrWrongPassword", err)
	}
	if _, err := w.Coldkey(nil); !errors.Is(err, ErrPasswordRequired) {
		t.Errorf("no password: got %v, want ErrPasswordRequired", err)
	}
	if pub, err := w.ColdkeyPub(); err != nil || pub != k.SS58() {
		t.Errorf("ColdkeyPub = %s, %v; want %s without a password", pub, err, k.SS58())
	}
}

func TestEncryptLayout(t *testing.T) {
	plain := []byte(`{"ss58Address":"x"}`)
	a, err := encrypt(plain, []byte("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	b, err := encrypt(plain, []byte("pw"), cheapKDF)
	if err != nil {
		t.Fatal(err)
	}
	if want := len("$NACL") + 24 + 16 + len(plain); len(a) != want {
		t.Errorf("ciphertext is %d bytes, want %d", len(a), want)
	}
	if bytes.Equal(a[5:29], b[5:29]) {
		t.Error("two encryptions reused a nonce")
	}
	back, err := decrypt(a, []byte("pw"), cheapKDF)
	if err != nil || !bytes.Equal(back, plain) {
		t.Errorf("decrypt = %q, %v; want %q", back, err, plain)
	}
	if _, err := encrypt(plain, nil, cheapKDF); err == nil {
		t.Error("encrypt with an empty password succeeded")
	}
}
