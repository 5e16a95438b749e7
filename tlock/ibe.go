package tlock

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

type (
	g1 = bls.G1Affine
	g2 = bls.G2Affine
)

// header is the Boneh–Franklin FullIdent ciphertext <U, V, W> that carries
// the AES key.
type header struct {
	u g2
	v [keySize]byte // sigma XOR H2(e(Q_id, P_pub)^r)
	w [keySize]byte // key XOR H4(sigma)
}

// randomSigma draws sigma as tle does: a uniform scalar t, then
// sigma = sha256(t as 32 little-endian bytes). 64 random bytes reduced mod
// the group order are uniform to within 2^-130.
func randomSigma(rng io.Reader) ([keySize]byte, error) {
	var wide [64]byte
	if _, err := io.ReadFull(rng, wide[:]); err != nil {
		return [keySize]byte{}, fmt.Errorf("read ibe randomness: %w", err)
	}
	var t fr.Element
	t.SetBytes(wide[:])
	be := t.Bytes()
	return sha256.Sum256(reversed(be[:])), nil
}

// ibeEncrypt computes the FullIdent header of key for identity point qid
// under the master public key pub, with sigma as the encryption randomness.
func ibeEncrypt(pub g2, qid g1, key, sigma [keySize]byte) (header, error) {
	r := h3(sigma, key)
	var h header
	h.u.ScalarMultiplicationBase(r)
	// e(Q_id, P_pub)^r = e(r·Q_id, P_pub): the multiplication is cheaper in G1.
	var rq g1
	rq.ScalarMultiplication(&qid, r)
	gid, err := bls.Pair([]g1{rq}, []g2{pub})
	if err != nil {
		return header{}, fmt.Errorf("pairing: %w", err)
	}
	h.v = xor32(sigma, h2(&gid))
	h.w = xor32(key, sha256.Sum256(sigma[:]))
	return h, nil
}

// ibeDecrypt recovers the key from h with the identity's private key sig (the
// beacon signature), and checks U = r·G2 as FullIdent requires, which fails
// for any signature but the right one.
func ibeDecrypt(h header, sig g1) ([keySize]byte, error) {
	gid, err := bls.Pair([]g1{sig}, []g2{h.u})
	if err != nil {
		return [keySize]byte{}, fmt.Errorf("pairing: %w", err)
	}
	sigma := xor32(h.v, h2(&gid))
	key := xor32(h.w, sha256.Sum256(sigma[:]))
	var u g2
	u.ScalarMultiplicationBase(h3(sigma, key))
	if !u.Equal(&h.u) {
		return [keySize]byte{}, fmt.Errorf("ibe check: %w", ErrWrongSignature)
	}
	return key, nil
}

// h2 hashes a pairing value: sha256 of its arkworks serialization.
func h2(gt *bls.GT) [32]byte {
	b := marshalGT(gt)
	return sha256.Sum256(b[:])
}

// h3 maps sigma ++ key to a scalar: sha256, read big-endian, reduced mod the
// group order.
func h3(sigma, key [keySize]byte) *big.Int {
	d := sha256.New()
	d.Write(sigma[:])
	d.Write(key[:])
	var r fr.Element
	r.SetBytes(d.Sum(nil))
	return r.BigInt(new(big.Int))
}

func xor32(a, b [32]byte) (out [32]byte) {
	for i := range out {
		out[i] = a[i] ^ b[i]
	}
	return out
}

// reversed returns b's bytes in the opposite order, in a new slice.
func reversed(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}
