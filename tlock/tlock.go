// Package tlock is drand timelock encryption in the format of the tle crate
// (ideal-lab5/timelock), the format Bittensor runtimes decrypt for
// commit-reveal v3/v4 weights.
//
// A ciphertext can be opened by anyone once the drand beacon has published
// the signature of its round, and by nobody before. The scheme is
// Boneh–Franklin FullIdent over BLS12-381 with drand quicknet's roles
// (signatures and identities in G1, the beacon public key in G2), the
// identity of round n being sha256(u64 big-endian n), hashed to G1 with the
// RFC 9380 suite BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_. The IBE layer
// carries a 32-byte AES-256-GCM key; the payload itself is sealed with that
// key.
//
// The serialized ciphertext is ark-serialize "compressed" of the crate's
// TLECiphertext<TinyBLS381>, every Vec<u8> prefixed by its length as a u64
// little-endian:
//
//	U            96 bytes  compressed G2 point, U = r·G2
//	v            u64 len (32) ++ sigma XOR sha256(ser(e(Q_id, P_pub)^r))
//	w            u64 len (32) ++ key XOR sha256(sigma)
//	body         u64 len ++ ( u64 len ++ AES-GCM ciphertext||tag , u64 len (12) ++ nonce )
//	cipher_suite u64 len (8) ++ "AES_GCM_"
//
// with r = sha256(sigma ++ key) read big-endian and reduced mod the group
// order. Points use the zcash flag bits (ark-bls12-381 0.4 writes those too,
// not arkworks' generic little-endian flags); the pairing value is hashed in
// arkworks' layout of Fp12, little-endian coefficients. This is a different
// format from github.com/drand/tlock, which wraps ciphertexts in age and which
// the chain rejects.
package tlock

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// Sentinel errors. Every error the package returns wraps one of them.
var (
	// ErrMalformed: the ciphertext, public key or signature bytes cannot be
	// parsed.
	ErrMalformed = errors.New("malformed timelock data")
	// ErrWrongSignature: the signature is a valid point but not the beacon
	// signature of the ciphertext's round.
	ErrWrongSignature = errors.New("signature does not open the ciphertext")
	// ErrAuthentication: the IBE layer opened but the AES-GCM body failed its
	// authentication tag.
	ErrAuthentication = errors.New("ciphertext body failed authentication")
)

// cipherSuite names the data encapsulation, as the tle crate writes it.
const cipherSuite = "AES_GCM_"

const (
	keySize   = 32 // AES-256 key, the IBE message
	nonceSize = 12 // AES-GCM standard nonce
)

// Encrypt seals plaintext so that the beacon signature of round opens it.
// pk is the beacon's compressed G2 public key (QuicknetPublicKey decoded);
// rng supplies the AES key, the IBE randomness and the nonce, and may be nil
// for crypto/rand. The result is the tle serialized ciphertext.
func Encrypt(pk []byte, round uint64, plaintext []byte, rng io.Reader) ([]byte, error) {
	if rng == nil {
		rng = rand.Reader
	}
	pub, err := decodeG2(pk)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	var key, sigma [keySize]byte
	var nonce [nonceSize]byte
	if _, err := io.ReadFull(rng, key[:]); err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if sigma, err = randomSigma(rng); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rng, nonce[:]); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	qid, err := identityPoint(round)
	if err != nil {
		return nil, err
	}
	return seal(pub, qid, key, sigma, nonce, plaintext)
}

// seal is Encrypt with all randomness fixed: it is deterministic, which lets
// tests rebuild a ciphertext made elsewhere byte for byte.
func seal(pub g2, qid g1, key, sigma [keySize]byte, nonce [nonceSize]byte, plaintext []byte) ([]byte, error) {
	h, err := ibeEncrypt(pub, qid, key, sigma)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	c := ciphertext{
		header: h,
		body:   gcm.Seal(nil, nonce[:], plaintext, nil),
		nonce:  nonce[:],
		suite:  []byte(cipherSuite),
	}
	return c.marshal(), nil
}

// Decrypt opens a tle ciphertext with the beacon signature (compressed G1,
// 48 bytes) of the round it was sealed for.
func Decrypt(ciphertext, roundSignature []byte) ([]byte, error) {
	c, err := unmarshalCiphertext(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("ciphertext: %w", err)
	}
	sig, err := decodeG1(roundSignature)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	key, err := ibeDecrypt(c.header, sig)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	plaintext, err := gcm.Open(nil, c.nonce, c.body, nil)
	if err != nil {
		return nil, fmt.Errorf("open body: %w", ErrAuthentication)
	}
	return plaintext, nil
}
