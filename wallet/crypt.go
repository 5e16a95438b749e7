package wallet

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/nacl/secretbox"

	"github.com/fractal-grid/fractal"
)

// Errors of encrypted keyfiles.
var (
	// ErrPasswordRequired: the keyfile is encrypted and no password was given.
	ErrPasswordRequired = errors.New("password required")
	// ErrWrongPassword: the password does not open the keyfile.
	ErrWrongPassword = errors.New("wrong password")
	// ErrUnsupportedEncryption: an older btcli encryption this program does
	// not decrypt (Ansible Vault, legacy Fernet).
	ErrUnsupportedEncryption = errors.New("unsupported keyfile encryption")
)

// Encryption names of keyfile data, as Encryption returns them.
const (
	EncNaCl    = "NaCl"          // "$NACL": argon2i + XSalsa20-Poly1305, btcli's current format
	EncAnsible = "Ansible Vault" // "$ANSIBLE_VAULT": btcli before 6.0
	EncFernet  = "legacy Fernet" // "gAAAAA": btcli's oldest format
)

var (
	naclPrefix    = []byte("$NACL")
	ansiblePrefix = []byte("$ANSIBLE_VAULT")
	fernetPrefix  = []byte("gAAAAA")
	// naclSalt is the fixed salt every btcli wallet uses.
	naclSalt = []byte{0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc, 0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1}
)

// kdfParams are Argon2i's cost parameters.
type kdfParams struct {
	time, memoryKiB uint32
}

// btcliKDF is libsodium's crypto_pwhash_argon2i with OPSLIMIT_SENSITIVE (8)
// and MEMLIMIT_SENSITIVE (512 MiB), as btcli derives keyfile keys. It takes
// seconds and 512 MiB of memory by design.
var btcliKDF = kdfParams{time: 8, memoryKiB: 512 * 1024}

// Encryption reports how keyfile data is encrypted: "" for plain data, or
// one of EncNaCl, EncAnsible, EncFernet.
func Encryption(data []byte) string {
	switch {
	case bytes.HasPrefix(data, naclPrefix):
		return EncNaCl
	case bytes.HasPrefix(data, ansiblePrefix):
		return EncAnsible
	case bytes.HasPrefix(data, fernetPrefix):
		return EncFernet
	}
	return ""
}

func deriveKey(password []byte, p kdfParams) *[32]byte {
	var key [32]byte
	copy(key[:], argon2.Key(password, naclSalt, p.time, p.memoryKiB, 1, 32))
	return &key
}

// Encrypt encrypts a keyfile as btcli does: "$NACL" ++ 24-byte random nonce
// ++ secretbox(plaintext) under an Argon2i key of the password.
func Encrypt(plaintext, password []byte) ([]byte, error) {
	return encrypt(plaintext, password, btcliKDF)
}

func encrypt(plaintext, password []byte, p kdfParams) ([]byte, error) {
	if len(password) == 0 {
		return nil, fmt.Errorf("encrypt keyfile: empty password: %w", fractal.ErrInvalid)
	}
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("encrypt keyfile: nonce: %w", err)
	}
	out := append(append([]byte(nil), naclPrefix...), nonce[:]...)
	return secretbox.Seal(out, plaintext, &nonce, deriveKey(password, p)), nil
}

// Decrypt opens a "$NACL" keyfile with password. Plain data comes back
// unchanged; Ansible Vault and Fernet files are refused with
// ErrUnsupportedEncryption.
func Decrypt(data, password []byte) ([]byte, error) {
	return decrypt(data, password, btcliKDF)
}

func decrypt(data, password []byte, p kdfParams) ([]byte, error) {
	switch enc := Encryption(data); enc {
	case "":
		return data, nil
	case EncAnsible, EncFernet:
		return nil, fmt.Errorf("keyfile uses %s encryption, which fractal does not read; re-encrypt it with a current btcli (btcli wallet regen-coldkey): %w", enc, ErrUnsupportedEncryption)
	}
	if len(password) == 0 {
		return nil, fmt.Errorf("keyfile is encrypted: %w", ErrPasswordRequired)
	}
	body := data[len(naclPrefix):]
	if len(body) < 24+secretbox.Overhead {
		return nil, fmt.Errorf("encrypted keyfile is truncated (%d bytes): %w", len(data), fractal.ErrInvalid)
	}
	var nonce [24]byte
	copy(nonce[:], body[:24])
	plain, ok := secretbox.Open(nil, body[24:], &nonce, deriveKey(password, p))
	if !ok {
		return nil, fmt.Errorf("keyfile does not open with this password: %w", ErrWrongPassword)
	}
	return plain, nil
}
