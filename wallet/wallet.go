// Package wallet reads and writes Bittensor wallets on disk exactly as btcli
// (bittensor-wallet v4) lays them out, so operators use the keys they have:
//
//	ROOT/NAME/coldkey              keyfile, normally "$NACL"-encrypted
//	ROOT/NAME/coldkeypub.txt       public part of the coldkey
//	ROOT/NAME/hotkeys/HOTKEY       keyfile, normally unencrypted
//	ROOT/NAME/hotkeys/HOTKEYpub.txt public part of the hotkey
//
// ROOT is normally ~/.bittensor/wallets (DefaultRoot). Files are written
// 0600 in 0700 directories, through a temporary file, and never overwrite an
// existing key.
package wallet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
)

// Names btcli uses when none is given.
const (
	DefaultName   = "default"
	DefaultHotkey = "default"
)

// DefaultRoot returns ~/.bittensor/wallets, where btcli keeps wallets.
func DefaultRoot() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("wallet root: %w", err)
	}
	return filepath.Join(home, ".bittensor", "wallets"), nil
}

// Wallet is one wallet directory: a coldkey and its hotkeys.
type Wallet struct {
	Root string // directory holding the wallets
	Name string // wallet name, the directory under Root

	kdf kdfParams // Argon2i cost; zero means btcli's
}

// ValidName checks a wallet or hotkey name: one path element, not hidden,
// not ending in "pub.txt" (the public files' suffix).
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("name is empty: %w", fractal.ErrInvalid)
	case strings.ContainsAny(name, `/\`+"\x00"), strings.HasPrefix(name, "."):
		return fmt.Errorf("name %q must be a plain file name (no slashes, not starting with a dot): %w", name, fractal.ErrInvalid)
	case strings.HasSuffix(name, "pub.txt"):
		return fmt.Errorf("name %q must not end in pub.txt: %w", name, fractal.ErrInvalid)
	}
	return nil
}

// Open returns the wallet NAME under root, which must exist.
func Open(root, name string) (*Wallet, error) {
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	w := &Wallet{Root: root, Name: name}
	st, err := os.Stat(w.Path())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("wallet %q not found: no directory %s (create it with 'fractal wallet new' or btcli, or point --wallet-path at the right root): %w", name, w.Path(), fractal.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("wallet %q: %w", name, err)
	case !st.IsDir():
		return nil, fmt.Errorf("wallet %q: %s is not a directory: %w", name, w.Path(), fractal.ErrInvalid)
	}
	return w, nil
}

// List returns the names of the wallets under root, sorted; none when root
// does not exist.
func List(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list wallets: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && ValidName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Path returns the wallet's directory.
func (w *Wallet) Path() string { return filepath.Join(w.Root, w.Name) }

// ColdkeyPath returns the coldkey keyfile's path.
func (w *Wallet) ColdkeyPath() string { return filepath.Join(w.Path(), "coldkey") }

// ColdkeyPubPath returns coldkeypub.txt's path.
func (w *Wallet) ColdkeyPubPath() string { return filepath.Join(w.Path(), "coldkeypub.txt") }

// HotkeyPath returns the keyfile path of hotkey name.
func (w *Wallet) HotkeyPath(name string) string { return filepath.Join(w.Path(), "hotkeys", name) }

// HotkeyPubPath returns the public file path of hotkey name.
func (w *Wallet) HotkeyPubPath(name string) string {
	return filepath.Join(w.Path(), "hotkeys", name+"pub.txt")
}

// Hotkeys returns the names of the wallet's hotkeys, sorted.
func (w *Wallet) Hotkeys() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(w.Path(), "hotkeys"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wallet %q: list hotkeys: %w", w.Name, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && ValidName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Hotkey loads hotkey name with its secret, ready to sign. An encrypted
// hotkey needs HotkeyKey with a password.
func (w *Wallet) Hotkey(name string) (*sr25519.Keypair, error) {
	k, err := w.HotkeyKey(name, nil)
	if err != nil {
		return nil, err
	}
	return w.pair(k, "hotkey "+name, w.HotkeyPath(name))
}

// HotkeyKey loads hotkey name, decrypting it with password when it is
// encrypted.
func (w *Wallet) HotkeyKey(name string, password []byte) (*Key, error) {
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("hotkey: %w", err)
	}
	return w.readKey("hotkey "+name, w.HotkeyPath(name), password)
}

// Coldkey loads the coldkey with its secret, decrypting it with password
// when it is encrypted (btcli encrypts coldkeys by default).
func (w *Wallet) Coldkey(password []byte) (*sr25519.Keypair, error) {
	k, err := w.readKey("coldkey", w.ColdkeyPath(), password)
	if err != nil {
		return nil, err
	}
	return w.pair(k, "coldkey", w.ColdkeyPath())
}

func (w *Wallet) pair(k *Key, what, path string) (*sr25519.Keypair, error) {
	if k.Pair == nil {
		return nil, fmt.Errorf("wallet %q: %s in %s holds only a public key, no secret to sign with: %w", w.Name, what, path, fractal.ErrInvalid)
	}
	return k.Pair, nil
}

// ColdkeyPub returns the coldkey's address from coldkeypub.txt, or from an
// unencrypted coldkey when that file is missing.
func (w *Wallet) ColdkeyPub() (string, error) {
	return w.address("coldkey", w.ColdkeyPubPath(), w.ColdkeyPath())
}

// HotkeyPub returns the address of hotkey name from its public file or its
// keyfile. It never needs a password for an unencrypted hotkey.
func (w *Wallet) HotkeyPub(name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", fmt.Errorf("hotkey: %w", err)
	}
	return w.address("hotkey "+name, w.HotkeyPubPath(name), w.HotkeyPath(name))
}

func (w *Wallet) address(what, pubPath, keyPath string) (string, error) {
	k, err := w.readKey(what, pubPath, nil)
	if errors.Is(err, fractal.ErrNotFound) {
		k, err = w.readKey(what, keyPath, nil)
	}
	if err != nil {
		return "", err
	}
	return k.SS58(), nil
}

func (w *Wallet) readKey(what, path string, password []byte) (*Key, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("wallet %q has no %s: %s does not exist: %w", w.Name, what, path, fractal.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet %q: read %s: %w", w.Name, what, err)
	}
	if Encryption(data) != "" {
		if data, err = decrypt(data, password, w.kdfParams()); err != nil {
			return nil, fmt.Errorf("wallet %q: %s in %s: %w", w.Name, what, path, err)
		}
	}
	k, err := ParseKeyfile(data)
	if err != nil {
		return nil, fmt.Errorf("wallet %q: %s in %s: %w", w.Name, what, path, err)
	}
	return k, nil
}

func (w *Wallet) kdfParams() kdfParams {
	if w.kdf == (kdfParams{}) {
		return btcliKDF
	}
	return w.kdf
}
