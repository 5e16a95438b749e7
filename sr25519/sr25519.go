// Package sr25519 provides the sr25519 keys and SS58 addresses that Bittensor
// uses, as fractal.Signer and fractal.Verifier, on top of go-subkey and
// go-schnorrkel.
package sr25519

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	subkey "github.com/vedhavyas/go-subkey/v2"
	subsr "github.com/vedhavyas/go-subkey/v2/sr25519"

	"github.com/fractal-grid/fractal"
)

// Network is the SS58 address prefix of Bittensor (the generic Substrate one).
const Network = 42

// Keypair is an sr25519 key pair. It implements fractal.Signer.
type Keypair struct {
	kp   subkey.KeyPair
	pub  [32]byte
	ss58 string
}

var _ fractal.Signer = (*Keypair)(nil)

func wrap(kp subkey.KeyPair) *Keypair {
	k := &Keypair{kp: kp, ss58: kp.SS58Address(Network)}
	copy(k.pub[:], kp.Public())
	return k
}

// FromURI derives a key from a secret URI: a mnemonic, a 0x-hex seed, or
// either followed by a derivation path ("//Alice" alone uses the Substrate
// development phrase).
func FromURI(uri string) (*Keypair, error) {
	kp, err := subkey.DeriveKeyPair(subsr.Scheme{}, uri)
	if err != nil {
		return nil, fmt.Errorf("sr25519: derive key from URI: %w", err)
	}
	return wrap(kp), nil
}

// FromSeed loads a key from a 32-byte mini secret or a 64-byte schnorrkel
// secret key (scalar ++ nonce, as btcli's privateKey field holds).
func FromSeed(seed []byte) (*Keypair, error) {
	if len(seed) != 32 && len(seed) != 64 {
		return nil, fmt.Errorf("sr25519: seed must be 32 or 64 bytes, got %d", len(seed))
	}
	kp, err := subsr.Scheme{}.FromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("sr25519: load seed: %w", err)
	}
	return wrap(kp), nil
}

// FromMnemonic derives the key of a BIP39 mnemonic (no password, no path),
// as btcli does.
func FromMnemonic(phrase string) (*Keypair, error) {
	kp, err := subsr.Scheme{}.FromPhrase(phrase, "")
	if err != nil {
		return nil, fmt.Errorf("sr25519: load mnemonic: %w", err)
	}
	return wrap(kp), nil
}

// Generate creates a fresh random key from crypto/rand.
func Generate() (*Keypair, error) {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, err
	}
	return FromSeed(seed[:])
}

// SS58 returns the address with prefix 42.
func (k *Keypair) SS58() string { return k.ss58 }

// PublicKey returns the 32-byte public key.
func (k *Keypair) PublicKey() [32]byte { return k.pub }

// Seed returns the secret the key was loaded from (32 or 64 bytes).
func (k *Keypair) Seed() []byte { return k.kp.Seed() }

// Sign signs msg under the "substrate" context.
func (k *Keypair) Sign(msg []byte) ([]byte, error) { return k.kp.Sign(msg) }

// String returns the address only, so a key never prints a secret.
func (k *Keypair) String() string { return k.ss58 }

// ParseSS58 decodes an address, requiring prefix 42 and a 32-byte key.
func ParseSS58(addr string) ([32]byte, error) {
	var pub [32]byte
	network, data, err := subkey.SS58Decode(addr)
	if err != nil {
		return pub, fmt.Errorf("ss58 address %q: %v: %w", addr, err, fractal.ErrInvalid)
	}
	if network != Network {
		return pub, fmt.Errorf("ss58 address %q has network prefix %d, want %d: %w", addr, network, Network, fractal.ErrInvalid)
	}
	if len(data) != 32 {
		return pub, fmt.Errorf("ss58 address %q holds %d bytes, want 32: %w", addr, len(data), fractal.ErrInvalid)
	}
	copy(pub[:], data)
	return pub, nil
}

// SS58 encodes a public key with prefix 42.
func SS58(pub [32]byte) string { return subkey.SS58Encode(pub[:], Network) }

// Verifier checks sr25519 signatures. It caches decoded public keys, so it
// is cheap to call often with the same signers. The zero value is ready.
type Verifier struct {
	mu   sync.Mutex
	keys map[string]*verifyKey
}

var _ fractal.SignatureVerifier = (*Verifier)(nil)

const maxCachedKeys = 4096

// ErrBadSignature is returned for a signature that does not verify.
var ErrBadSignature = errors.New("bad signature")

// Verify checks sig by ss58 over msg with the "substrate" context. Errors
// wrap fractal.ErrUnauthorized.
func (v *Verifier) Verify(ss58 string, msg, sig []byte) error {
	pub, err := v.publicKey(ss58)
	if err != nil {
		return fmt.Errorf("%w: %w", fractal.ErrUnauthorized, err)
	}
	if len(sig) != 64 {
		return fmt.Errorf("signature is %d bytes, want 64: %w", len(sig), fractal.ErrUnauthorized)
	}
	if err := pub.verify(msg, (*[64]byte)(sig)); err != nil {
		if errors.Is(err, ErrBadSignature) {
			return fmt.Errorf("%w by %s: %w", ErrBadSignature, ss58, fractal.ErrUnauthorized)
		}
		return fmt.Errorf("signature: %v: %w", err, fractal.ErrUnauthorized)
	}
	return nil
}

func (v *Verifier) publicKey(ss58 string) (*verifyKey, error) {
	v.mu.Lock()
	pk, ok := v.keys[ss58]
	v.mu.Unlock()
	if ok {
		return pk, nil
	}
	raw, err := ParseSS58(ss58)
	if err != nil {
		return nil, err
	}
	if pk, err = newVerifyKey(raw, ss58); err != nil {
		return nil, err
	}
	v.mu.Lock()
	if v.keys == nil || len(v.keys) >= maxCachedKeys {
		v.keys = make(map[string]*verifyKey)
	}
	v.keys[ss58] = pk
	v.mu.Unlock()
	return pk, nil
}
