package sr25519_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// Well-known Substrate development keys (see ../shared/vectors/README.md).
func TestDevKeys(t *testing.T) {
	for _, tc := range []struct{ uri, ss58, pub string }{
		{"//Alice", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"},
		{"//Bob", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48"},
		{"bottom drive obey lake curtain smoke basket hold race lonely fit walk", "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV", "46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			k, err := sr25519.FromURI(tc.uri)
			if err != nil {
				t.Fatal(err)
			}
			if got := k.SS58(); got != tc.ss58 {
				t.Errorf("ss58 = %s, want %s", got, tc.ss58)
			}
			pub := k.PublicKey()
			if got := hex.EncodeToString(pub[:]); got != tc.pub {
				t.Errorf("public key = %s, want %s", got, tc.pub)
			}
			if got, err := sr25519.ParseSS58(tc.ss58); err != nil || got != pub {
				t.Errorf("ParseSS58 = %x, %v; want %x", got, err, pub)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	k, err := sr25519.Generate()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := sr25519.FromURI("//Bob")
	msg := []byte("hello grid")
	sig, err := k.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	var v sr25519.Verifier
	if err := v.Verify(k.SS58(), msg, sig); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	bad := append([]byte(nil), sig...)
	bad[10] ^= 1
	for name, tc := range map[string]struct {
		ss58 string
		msg  []byte
		sig  []byte
	}{
		"tampered message":   {k.SS58(), []byte("hello grix"), sig},
		"tampered signature": {k.SS58(), msg, bad},
		"other signer":       {other.SS58(), msg, sig},
		"short signature":    {k.SS58(), msg, sig[:63]},
		"bad address":        {"5notanaddress", msg, sig},
	} {
		t.Run(name, func(t *testing.T) {
			if err := v.Verify(tc.ss58, tc.msg, tc.sig); !errors.Is(err, fractal.ErrUnauthorized) {
				t.Errorf("got %v, want ErrUnauthorized", err)
			}
		})
	}
}

func TestParseSS58Rejects(t *testing.T) {
	// Same key, Polkadot prefix 0.
	for _, addr := range []string{"", "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"} {
		if _, err := sr25519.ParseSS58(addr); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("ParseSS58(%q) = %v, want ErrInvalid", addr, err)
		}
	}
}
