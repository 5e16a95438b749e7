package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// Key is the content of one keyfile: a key pair with its secret, or only the
// public half (coldkeypub.txt, hotkeys/NAMEpub.txt, or a keyfile that holds
// nothing but an address).
type Key struct {
	// Pair signs; nil for a public-only key.
	Pair *sr25519.Keypair
	// Public is the 32-byte public key.
	Public [32]byte
	// Phrase is the BIP39 mnemonic the key came from, when known. Keys
	// loaded from a seed, a secret key or a derivation URI have none.
	Phrase string
}

// SS58 returns the key's address (prefix 42).
func (k *Key) SS58() string { return sr25519.SS58(k.Public) }

// String returns the address only, so a key never prints a secret.
func (k *Key) String() string { return k.SS58() }

// NewKey creates a key from a fresh 12-word mnemonic.
func NewKey() (*Key, error) {
	phrase, err := sr25519.NewMnemonic()
	if err != nil {
		return nil, err
	}
	return KeyFromMnemonic(phrase)
}

// KeyFromMnemonic derives the key of a BIP39 phrase, as btcli's
// regen-coldkey and regen-hotkey do.
func KeyFromMnemonic(phrase string) (*Key, error) {
	if !sr25519.ValidMnemonic(phrase) {
		return nil, fmt.Errorf("mnemonic is not a valid BIP39 phrase (12 to 24 words from the English list, with a correct checksum): %w", fractal.ErrInvalid)
	}
	kp, err := sr25519.FromMnemonic(phrase)
	if err != nil {
		return nil, fmt.Errorf("mnemonic: %v: %w", err, fractal.ErrInvalid)
	}
	return &Key{Pair: kp, Public: kp.PublicKey(), Phrase: phrase}, nil
}

// KeyFromURI derives the key of a secret URI such as "//Alice" or
// "PHRASE//hard/soft", as btcli's create_hotkey_from_uri does. Like btcli it
// keeps no phrase.
func KeyFromURI(uri string) (*Key, error) {
	kp, err := sr25519.FromURI(uri)
	if err != nil {
		return nil, fmt.Errorf("key from URI: %v: %w", err, fractal.ErrInvalid)
	}
	return &Key{Pair: kp, Public: kp.PublicKey()}, nil
}

// keyfileJSON is the keyfile object. Pointers let the Python SDK's null
// values through; the field order is the one btcli's example files use.
type keyfileJSON struct {
	AccountID    *string `json:"accountId,omitempty"`
	PublicKey    *string `json:"publicKey,omitempty"`
	PrivateKey   *string `json:"privateKey,omitempty"`
	SecretPhrase *string `json:"secretPhrase,omitempty"`
	SecretSeed   *string `json:"secretSeed,omitempty"`
	SS58Address  *string `json:"ss58Address,omitempty"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ParseKeyfile reads an unencrypted keyfile in either dialect (btwallet's
// compact JSON without absent fields, or the Python SDK's with nulls). Like
// btwallet it takes the secret from the first field present of
// secretPhrase, secretSeed and privateKey, and makes a public-only key from
// ss58Address when none is. Every public field present must agree with the
// secret. Encrypted data gives an error naming the encryption.
func ParseKeyfile(data []byte) (*Key, error) {
	if Encryption(data) != "" {
		// Without a password decrypt only explains what the data is.
		_, err := decrypt(data, nil, kdfParams{})
		return nil, err
	}
	var f keyfileJSON
	if err := json.Unmarshal(bytes.TrimSpace(data), &f); err != nil {
		return nil, fmt.Errorf("keyfile is not the JSON object btcli writes: %v: %w", err, fractal.ErrInvalid)
	}
	k, err := keyFromSecret(&f)
	if err != nil {
		return nil, err
	}
	if k == nil {
		if k, err = keyFromPublic(&f); err != nil {
			return nil, err
		}
	}
	if err := checkPublicFields(&f, k.Public); err != nil {
		return nil, err
	}
	return k, nil
}

// keyFromSecret loads the key from the secret fields, or returns nil when
// the file has none.
func keyFromSecret(f *keyfileJSON) (*Key, error) {
	if phrase := str(f.SecretPhrase); phrase != "" {
		k, err := KeyFromMnemonic(phrase)
		if err != nil {
			return nil, fmt.Errorf("keyfile secretPhrase: %w", err)
		}
		return k, nil
	}
	if seed := str(f.SecretSeed); seed != "" {
		raw, err := decodeSeed(seed)
		if err != nil {
			return nil, err
		}
		return keyFromBytes("secretSeed", raw)
	}
	if priv := str(f.PrivateKey); priv != "" {
		raw, err := decodeHex("privateKey", priv)
		if err != nil {
			return nil, err
		}
		if len(raw) != 64 {
			return nil, fmt.Errorf("keyfile privateKey holds %d bytes, want 64: %w", len(raw), fractal.ErrInvalid)
		}
		return keyFromBytes("privateKey", raw)
	}
	return nil, nil
}

func keyFromBytes(field string, raw []byte) (*Key, error) {
	kp, err := sr25519.FromSeed(raw)
	if err != nil {
		return nil, fmt.Errorf("keyfile %s: %v: %w", field, err, fractal.ErrInvalid)
	}
	return &Key{Pair: kp, Public: kp.PublicKey()}, nil
}

// decodeSeed decodes secretSeed: 0x-hex of 32 or 64 bytes, or, for a quirk
// of btwallet that writes seed bytes forming valid UTF-8 as text after the
// 0x, those 32 bytes verbatim.
func decodeSeed(s string) ([]byte, error) {
	raw, err := decodeHex("secretSeed", s)
	if err == nil && (len(raw) == 32 || len(raw) == 64) {
		return raw, nil
	}
	if text := strings.TrimPrefix(s, "0x"); len(text) == 32 && utf8.ValidString(text) {
		return []byte(text), nil
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("keyfile secretSeed holds %d bytes, want 32 or 64: %w", len(raw), fractal.ErrInvalid)
}

func keyFromPublic(f *keyfileJSON) (*Key, error) {
	if addr := str(f.SS58Address); addr != "" {
		pub, err := sr25519.ParseSS58(addr)
		if err != nil {
			return nil, fmt.Errorf("keyfile ss58Address: %w", err)
		}
		return &Key{Public: pub}, nil
	}
	for _, p := range []struct {
		field string
		value *string
	}{{"publicKey", f.PublicKey}, {"accountId", f.AccountID}} {
		if str(p.value) != "" {
			pub, err := decodePublic(p.field, str(p.value))
			if err != nil {
				return nil, err
			}
			return &Key{Public: pub}, nil
		}
	}
	return nil, fmt.Errorf("keyfile holds no key: none of secretPhrase, secretSeed, privateKey, ss58Address, publicKey is set: %w", fractal.ErrInvalid)
}

// checkPublicFields makes sure every public field present names pub.
func checkPublicFields(f *keyfileJSON, pub [32]byte) error {
	if addr := str(f.SS58Address); addr != "" {
		got, err := sr25519.ParseSS58(addr)
		if err != nil {
			return fmt.Errorf("keyfile ss58Address: %w", err)
		}
		if got != pub {
			return fmt.Errorf("keyfile ss58Address %s does not match its key %s: %w", addr, sr25519.SS58(pub), fractal.ErrInvalid)
		}
	}
	for _, p := range []struct {
		field string
		value *string
	}{{"publicKey", f.PublicKey}, {"accountId", f.AccountID}} {
		if str(p.value) == "" {
			continue
		}
		got, err := decodePublic(p.field, str(p.value))
		if err != nil {
			return err
		}
		if got != pub {
			return fmt.Errorf("keyfile %s 0x%x does not match its key 0x%x: %w", p.field, got, pub, fractal.ErrInvalid)
		}
	}
	return nil
}

func decodePublic(field, s string) ([32]byte, error) {
	var pub [32]byte
	raw, err := decodeHex(field, s)
	if err != nil {
		return pub, err
	}
	if len(raw) != 32 {
		return pub, fmt.Errorf("keyfile %s holds %d bytes, want 32: %w", field, len(raw), fractal.ErrInvalid)
	}
	copy(pub[:], raw)
	return pub, nil
}

func decodeHex(field, s string) ([]byte, error) {
	if !strings.HasPrefix(s, "0x") {
		return nil, fmt.Errorf("keyfile %s must be 0x-prefixed hex: %w", field, fractal.ErrInvalid)
	}
	raw, err := hex.DecodeString(s[2:])
	if err != nil {
		return nil, fmt.Errorf("keyfile %s is not hex: %v: %w", field, err, fractal.ErrInvalid)
	}
	return raw, nil
}

// MarshalKeyfile encodes k as btwallet v4 does: compact JSON that omits
// absent fields. A key pair writes accountId, publicKey, privateKey,
// secretPhrase (when known), secretSeed (when known) and ss58Address; a
// public-only key writes what coldkeypub.txt holds.
func MarshalKeyfile(k *Key) ([]byte, error) {
	if k.Pair == nil {
		return MarshalPublic(k.Public), nil
	}
	if k.Pair.PublicKey() != k.Public {
		return nil, fmt.Errorf("key pair %s does not match public key %s: %w", k.Pair.SS58(), k.SS58(), fractal.ErrInvalid)
	}
	priv, ok := k.Pair.SecretKey()
	if !ok {
		return nil, fmt.Errorf("key %s has no exportable secret (soft-derived): %w", k.SS58(), fractal.ErrInvalid)
	}
	pub := "0x" + hex.EncodeToString(k.Public[:])
	f := keyfileJSON{
		AccountID:    &pub,
		PublicKey:    &pub,
		PrivateKey:   ptr("0x" + hex.EncodeToString(priv)),
		SecretPhrase: ptr(k.Phrase),
		SS58Address:  ptr(k.SS58()),
	}
	if mini, ok := k.Pair.MiniSecret(); ok {
		f.SecretSeed = ptr("0x" + hex.EncodeToString(mini))
	}
	return json.Marshal(&f)
}

// MarshalPublic encodes the public-only file btcli writes as coldkeypub.txt
// and hotkeys/NAMEpub.txt.
func MarshalPublic(pub [32]byte) []byte {
	h := "0x" + hex.EncodeToString(pub[:])
	b, _ := json.Marshal(&keyfileJSON{AccountID: &h, PublicKey: &h, SS58Address: ptr(sr25519.SS58(pub))})
	return b
}
