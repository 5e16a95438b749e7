package tlock

import (
	"crypto/sha256"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Beacon is a stand-in for drand: a BLS12-381 key pair that signs rounds the
// way quicknet does (signatures on G1, identities sha256(u64_be(round))), so
// ciphertexts sealed to its public key open with its round signatures. A
// development chain uses one to reveal timelocked commits without drand.
type Beacon struct {
	secret *big.Int
	pk     [96]byte
}

// NewBeacon derives a beacon from a 32-byte seed; the same seed gives the
// same beacon.
func NewBeacon(seed [32]byte) *Beacon {
	d := sha256.Sum256(append([]byte("fractal stand-in beacon\x00"), seed[:]...))
	var s fr.Element
	s.SetBytes(d[:])
	if s.IsZero() {
		s.SetOne()
	}
	secret := s.BigInt(new(big.Int))
	var p g2
	p.ScalarMultiplicationBase(secret)
	return &Beacon{secret: secret, pk: p.Bytes()}
}

// PublicKey is the beacon's compressed G2 public key.
func (b *Beacon) PublicKey() []byte { return append([]byte(nil), b.pk[:]...) }

// Sign returns the compressed G1 signature of round, which opens every
// ciphertext sealed for it.
func (b *Beacon) Sign(round uint64) ([]byte, error) {
	q, err := identityPoint(round)
	if err != nil {
		return nil, fmt.Errorf("beacon round %d: %w", round, err)
	}
	var s g1
	s.ScalarMultiplication(&q, b.secret)
	out := s.Bytes()
	return out[:], nil
}
