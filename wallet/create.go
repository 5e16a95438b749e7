package wallet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fractal-grid/fractal"
)

// Create makes the directory of wallet NAME under root (0700), creating root
// as needed, and returns the wallet. An existing wallet is returned as is.
func Create(root, name string) (*Wallet, error) {
	if err := ValidName(name); err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	w := &Wallet{Root: root, Name: name}
	if err := os.MkdirAll(w.Path(), 0o700); err != nil {
		return nil, fmt.Errorf("create wallet %q: %w", name, err)
	}
	return w, nil
}

// HasColdkey reports whether the wallet has a coldkey or coldkeypub.txt.
func (w *Wallet) HasColdkey() bool {
	return exists(w.ColdkeyPath()) || exists(w.ColdkeyPubPath())
}

// HasHotkey reports whether hotkey name or its public file exists.
func (w *Wallet) HasHotkey(name string) bool {
	return exists(w.HotkeyPath(name)) || exists(w.HotkeyPubPath(name))
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// AddColdkey writes k as the coldkey and coldkeypub.txt, encrypted with
// password when one is given and unencrypted when password is empty. It
// refuses to replace an existing coldkey.
func (w *Wallet) AddColdkey(k *Key, password []byte) error {
	if w.HasColdkey() {
		return fmt.Errorf("wallet %q already has a coldkey in %s; refusing to overwrite it: %w", w.Name, w.Path(), fractal.ErrConflict)
	}
	data, err := MarshalKeyfile(k)
	if err != nil {
		return fmt.Errorf("wallet %q: coldkey: %w", w.Name, err)
	}
	if len(password) > 0 {
		if data, err = encrypt(data, password, w.kdfParams()); err != nil {
			return fmt.Errorf("wallet %q: coldkey: %w", w.Name, err)
		}
	}
	if err := writeNew(w.ColdkeyPath(), data); err != nil {
		return fmt.Errorf("wallet %q: %w", w.Name, err)
	}
	if err := writeNew(w.ColdkeyPubPath(), MarshalPublic(k.Public)); err != nil {
		return fmt.Errorf("wallet %q: %w", w.Name, err)
	}
	return nil
}

// AddHotkey writes k, unencrypted as btcli keeps hotkeys, as hotkey name with
// its public file. It refuses to replace an existing hotkey.
func (w *Wallet) AddHotkey(name string, k *Key) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("hotkey: %w", err)
	}
	if w.HasHotkey(name) {
		return fmt.Errorf("wallet %q already has hotkey %q in %s; refusing to overwrite it: %w", w.Name, name, w.HotkeyPath(name), fractal.ErrConflict)
	}
	if k.Pair == nil {
		return fmt.Errorf("wallet %q: hotkey %q: key %s has no secret: %w", w.Name, name, k.SS58(), fractal.ErrInvalid)
	}
	data, err := MarshalKeyfile(k)
	if err != nil {
		return fmt.Errorf("wallet %q: hotkey %q: %w", w.Name, name, err)
	}
	if err := os.MkdirAll(filepath.Join(w.Path(), "hotkeys"), 0o700); err != nil {
		return fmt.Errorf("wallet %q: %w", w.Name, err)
	}
	if err := writeNew(w.HotkeyPath(name), data); err != nil {
		return fmt.Errorf("wallet %q: %w", w.Name, err)
	}
	if err := writeNew(w.HotkeyPubPath(name), MarshalPublic(k.Public)); err != nil {
		return fmt.Errorf("wallet %q: %w", w.Name, err)
	}
	return nil
}

// NewColdkey creates a coldkey from a fresh mnemonic (encrypted with
// password, or unencrypted when it is empty) and returns the key; its Phrase
// is the only copy of the mnemonic the caller gets.
func (w *Wallet) NewColdkey(password []byte) (*Key, error) {
	k, err := NewKey()
	if err != nil {
		return nil, err
	}
	if err := w.AddColdkey(k, password); err != nil {
		return nil, err
	}
	return k, nil
}

// NewHotkey creates hotkey name from a fresh mnemonic and returns the key;
// its Phrase is the only copy of the mnemonic the caller gets.
func (w *Wallet) NewHotkey(name string) (*Key, error) {
	k, err := NewKey()
	if err != nil {
		return nil, err
	}
	if err := w.AddHotkey(name, k); err != nil {
		return nil, err
	}
	return k, nil
}

// CreateDev makes sure wallet NAME under root has a coldkey and hotkey
// HOTKEY, creating what is missing from fresh mnemonics, unencrypted and
// without showing them: for local development grids, never for real funds.
// Existing keys are kept, so calling it again is harmless.
func CreateDev(root, name, hotkey string) (*Wallet, error) {
	if err := ValidName(hotkey); err != nil {
		return nil, fmt.Errorf("hotkey: %w", err)
	}
	w, err := Create(root, name)
	if err != nil {
		return nil, err
	}
	if !w.HasColdkey() {
		if _, err := w.NewColdkey(nil); err != nil {
			return nil, err
		}
	}
	if !w.HasHotkey(hotkey) {
		if _, err := w.NewHotkey(hotkey); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// writeNew writes data to path with mode 0600 through a temporary file in the
// same directory, and fails with ErrConflict when path already exists. A
// hard link publishes the file atomically without replacing anything; where
// links are not supported it falls back to a rename after a check.
func writeNew(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		_ = os.Remove(tmp.Name())
	}()
	if err := writeSync(tmp, data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err = os.Link(tmp.Name(), path)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s already exists; refusing to overwrite it: %w", path, fractal.ErrConflict)
	case err != nil:
		if exists(path) {
			return fmt.Errorf("%s already exists; refusing to overwrite it: %w", path, fractal.ErrConflict)
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	syncDir(dir)
	return nil
}

func writeSync(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// syncDir flushes a directory entry; failures only weaken durability.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
