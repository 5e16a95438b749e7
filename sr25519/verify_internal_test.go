package sr25519

import (
	"math/rand/v2"
	"testing"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
)

// libraryVerify is go-schnorrkel's own verification, the reference the fast
// path must agree with.
func libraryVerify(pub [32]byte, msg []byte, sig [64]byte) bool {
	pk, err := schnorrkel.NewPublicKey(pub)
	if err != nil {
		return false
	}
	var s schnorrkel.Signature
	if err := s.Decode(sig); err != nil {
		return false
	}
	ok, err := pk.Verify(&s, schnorrkel.NewSigningContext([]byte("substrate"), msg))
	return err == nil && ok
}

// The fast verification accepts exactly what go-schnorrkel accepts, for
// valid signatures and for signatures, messages and keys changed in every
// way that matters: flipped bits in R and s, a cleared marker, a
// non-canonical s, a non-canonical or invalid R, another message, another key.
func TestFastVerifyAgreesWithSchnorrkel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// l, the group order, little-endian: s = l is the smallest non-canonical scalar.
	order := [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	mutations := map[string]func(msg []byte, sig *[64]byte) []byte{
		"valid":         func(msg []byte, _ *[64]byte) []byte { return msg },
		"other message": func(msg []byte, _ *[64]byte) []byte { return append(append([]byte(nil), msg...), 'x') },
		"flip R bit": func(msg []byte, sig *[64]byte) []byte {
			sig[rng.IntN(32)] ^= 1 << rng.IntN(8)
			return msg
		},
		"flip s bit": func(msg []byte, sig *[64]byte) []byte {
			sig[32+rng.IntN(31)] ^= 1 << rng.IntN(8)
			return msg
		},
		"no marker": func(msg []byte, sig *[64]byte) []byte { sig[63] &= 127; return msg },
		"s = l": func(msg []byte, sig *[64]byte) []byte {
			copy(sig[32:], order[:])
			sig[63] |= 128
			return msg
		},
		"s + l": func(msg []byte, sig *[64]byte) []byte {
			// s + l < 2^253 still fits; it is the same scalar, non-canonically.
			var carry uint16
			for i := 0; i < 32; i++ {
				b := sig[32+i]
				if i == 31 {
					b &= 127
				}
				v := uint16(b) + uint16(order[i]) + carry
				sig[32+i], carry = byte(v), v>>8
			}
			sig[63] |= 128
			return msg
		},
		"R negative": func(msg []byte, sig *[64]byte) []byte { sig[0] |= 1; return msg },
		"R high bit": func(msg []byte, sig *[64]byte) []byte { sig[31] |= 128; return msg },
		"R random": func(msg []byte, sig *[64]byte) []byte {
			for i := 0; i < 32; i++ {
				sig[i] = byte(rng.Uint32())
			}
			return msg
		},
	}
	accepted, refused := 0, 0
	for i := 0; i < 40; i++ {
		var seed [32]byte
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		k, err := FromSeed(seed[:])
		if err != nil {
			t.Fatal(err)
		}
		vk, err := newVerifyKey(k.PublicKey(), k.SS58())
		if err != nil {
			t.Fatal(err)
		}
		msg := make([]byte, rng.IntN(300))
		for j := range msg {
			msg[j] = byte(rng.Uint32())
		}
		raw, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		for name, mutate := range mutations {
			sig := [64]byte(raw)
			m := mutate(msg, &sig)
			want := libraryVerify(k.PublicKey(), m, sig)
			got := vk.verify(m, &sig) == nil
			if got != want {
				t.Fatalf("key %d, %s: fast verify %v, go-schnorrkel %v", i, name, got, want)
			}
			if name == "valid" && !got {
				t.Fatalf("key %d: valid signature refused", i)
			}
			if got {
				accepted++
			} else {
				refused++
			}
		}
	}
	if accepted < 40 || refused < 40*(len(mutations)-2) {
		t.Errorf("accepted %d, refused %d: the mutations did not exercise both outcomes", accepted, refused)
	}
}

func TestVerifyKeyRejectsIdentity(t *testing.T) {
	if _, err := newVerifyKey([32]byte{}, "identity"); err == nil {
		t.Error("identity public key accepted")
	}
}
