package sr25519

import (
	"crypto/sha512"
	"fmt"
	"strings"

	bip39 "github.com/cosmos/go-bip39"
)

// MnemonicWords is the length of the phrases NewMnemonic creates, as btcli
// creates them by default.
const MnemonicWords = 12

// NewMnemonic returns a fresh 12-word BIP39 phrase from crypto/rand.
func NewMnemonic() (string, error) {
	entropy, err := bip39.NewEntropy(MnemonicWords / 3 * 32)
	if err != nil {
		return "", fmt.Errorf("sr25519: mnemonic entropy: %w", err)
	}
	phrase, err := bip39.NewMnemonic(entropy)
	if err != nil {
		return "", fmt.Errorf("sr25519: mnemonic: %w", err)
	}
	return phrase, nil
}

// ValidMnemonic reports whether phrase is a BIP39 phrase with a correct
// checksum (words separated by single spaces).
func ValidMnemonic(phrase string) bool {
	if phrase != strings.Join(strings.Fields(phrase), " ") {
		return false
	}
	_, err := bip39.MnemonicToByteArray(phrase)
	return err == nil
}

// MiniSecret returns the 32-byte mini secret the key was made from, and false
// when the key was loaded from a 64-byte secret key or soft-derived, which
// keep no mini secret.
func (k *Keypair) MiniSecret() ([]byte, bool) {
	seed := k.kp.Seed()
	if len(seed) != 32 {
		return nil, false
	}
	return append([]byte(nil), seed...), true
}

// SecretKey returns the 64-byte schnorrkel secret key: the secret scalar
// (ed25519-style expansion, divided by the cofactor) followed by the 32-byte
// nonce. This is what btcli stores as privateKey and what FromSeed accepts
// back. It returns false for a soft-derived key, whose secret go-subkey does
// not expose.
func (k *Keypair) SecretKey() ([]byte, bool) {
	seed := k.kp.Seed()
	switch len(seed) {
	case 64:
		return append([]byte(nil), seed...), true
	case 32:
		return expandEd25519(seed), true
	}
	return nil, false
}

// expandEd25519 expands a mini secret the way schnorrkel's
// MiniSecretKey::expand(ExpansionMode::Ed25519) does and returns
// SecretKey::to_bytes(): the clamped scalar divided by 8, then the nonce.
func expandEd25519(mini []byte) []byte {
	h := sha512.Sum512(mini)
	key := h[:32]
	key[0] &= 248
	key[31] &= 63
	key[31] |= 64
	// Divide the little-endian scalar by the cofactor 8 (a 3-bit right
	// shift across the 32 bytes).
	var carry byte
	for i := 31; i >= 0; i-- {
		b := key[i]
		key[i] = b>>3 | carry
		carry = b << 5
	}
	return h[:]
}
