package wallet_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/wallet"
)

func devWallet(t *testing.T) *wallet.Wallet {
	t.Helper()
	w, err := wallet.Open(testenv.Shared(t, "vectors", "wallet", "wallets"), "dev")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// The example wallet btcli's format describes reads completely: hotkeys,
// public files and signing keys.
func TestDevWallet(t *testing.T) {
	v := loadVectors(t)
	mn, alice := v.Keys[0], v.Keys[1]
	w := devWallet(t)
	names, err := w.Hotkeys()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alice", "default"}; !slices.Equal(names, want) {
		t.Errorf("hotkeys = %q, want %q", names, want)
	}
	for _, tc := range []struct {
		hotkey string
		want   vectorKey
	}{{"default", mn}, {"alice", alice}} {
		t.Run(tc.hotkey, func(t *testing.T) {
			kp, err := w.Hotkey(tc.hotkey)
			if err != nil {
				t.Fatal(err)
			}
			if got := kp.SS58(); got != tc.want.SS58 {
				t.Errorf("hotkey ss58 = %s, want %s", got, tc.want.SS58)
			}
			var signer fractal.Signer = kp
			sig, err := signer.Sign([]byte("grid"))
			if err != nil {
				t.Fatal(err)
			}
			var ver sr25519.Verifier
			if err := ver.Verify(tc.want.SS58, []byte("grid"), sig); err != nil {
				t.Errorf("hotkey signature does not verify: %v", err)
			}
			if got, err := w.HotkeyPub(tc.hotkey); err != nil || got != tc.want.SS58 {
				t.Errorf("HotkeyPub = %s, %v; want %s", got, err, tc.want.SS58)
			}
		})
	}
	if got, err := w.ColdkeyPub(); err != nil || got != mn.SS58 {
		t.Errorf("ColdkeyPub = %s, %v; want %s", got, err, mn.SS58)
	}
	list, err := wallet.List(w.Root)
	if err != nil || !slices.Equal(list, []string{"dev"}) {
		t.Errorf("List = %q, %v; want [dev]", list, err)
	}
}

// The encrypted coldkey opens with its password and refuses a missing one.
// Each attempt with a password costs a full btcli Argon2i derivation (512
// MiB, seconds), so only the right password is tried here; wrong passwords
// are refused by the same secretbox check in TestEncryptedColdkeyRoundTrip.
func TestEncryptedColdkey(t *testing.T) {
	t.Parallel() // seconds of Argon2i: overlap it with the other tests
	v := loadVectors(t)
	w := devWallet(t)
	data := mustReadFile(t, w.ColdkeyPath())
	if got := wallet.Encryption(data); got != wallet.EncNaCl {
		t.Fatalf("Encryption = %q, want %q", got, wallet.EncNaCl)
	}
	if _, err := w.Coldkey(nil); !errors.Is(err, wallet.ErrPasswordRequired) || !strings.Contains(err.Error(), w.ColdkeyPath()) {
		t.Errorf("no password: got %v, want ErrPasswordRequired naming %s", err, w.ColdkeyPath())
	}
	kp, err := w.Coldkey([]byte(v.Encrypted.Password))
	if err != nil {
		t.Fatal(err)
	}
	if got := kp.SS58(); got != v.Keys[0].SS58 {
		t.Errorf("coldkey ss58 = %s, want %s", got, v.Keys[0].SS58)
	}
}

func TestOpenErrors(t *testing.T) {
	root := t.TempDir()
	_, err := wallet.Open(root, "nope")
	if !errors.Is(err, fractal.ErrNotFound) || !strings.Contains(err.Error(), filepath.Join(root, "nope")) {
		t.Errorf("missing wallet: got %v, want ErrNotFound naming the path", err)
	}
	for _, name := range []string{"", "..", "a/b", ".hidden", "keypub.txt"} {
		if _, err := wallet.Open(root, name); !errors.Is(err, fractal.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", name, err)
		}
	}
	w, err := wallet.Create(root, "w")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Hotkey("missing"); !errors.Is(err, fractal.ErrNotFound) || !strings.Contains(err.Error(), w.HotkeyPath("missing")) {
		t.Errorf("missing hotkey: got %v, want ErrNotFound naming the path", err)
	}
	if _, err := w.ColdkeyPub(); !errors.Is(err, fractal.ErrNotFound) {
		t.Errorf("missing coldkey: got %v, want ErrNotFound", err)
	}
	if err := os.MkdirAll(filepath.Dir(w.HotkeyPath("bad")), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.HotkeyPath("bad"), []byte(`{"ss58Address":"5nope"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Hotkey("bad"); !errors.Is(err, fractal.ErrInvalid) || !strings.Contains(err.Error(), w.HotkeyPath("bad")) {
		t.Errorf("malformed hotkey: got %v, want ErrInvalid naming the path", err)
	}
	pubOnly := filepath.Join(testenv.Shared(t, "vectors", "wallet", "wallets", "dev", "hotkeys", "alicepub.txt"))
	if err := os.WriteFile(w.HotkeyPath("pubonly"), mustReadFile(t, pubOnly), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Hotkey("pubonly"); !errors.Is(err, fractal.ErrInvalid) || !strings.Contains(err.Error(), "only a public key") {
		t.Errorf("public-only hotkey: got %v, want ErrInvalid saying it has only a public key", err)
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// Keys written here read back identically, with btcli's file modes, and are
// never overwritten.
func TestWriteReadRoundTrip(t *testing.T) {
	root := filepath.Join(t.TempDir(), "wallets")
	w, err := wallet.Create(root, "w")
	if err != nil {
		t.Fatal(err)
	}
	cold, err := w.NewColdkey(nil)
	if err != nil {
		t.Fatal(err)
	}
	hot, err := w.NewHotkey("h")
	if err != nil {
		t.Fatal(err)
	}
	if len(strings.Fields(hot.Phrase)) != 12 || hot.Phrase == cold.Phrase {
		t.Errorf("phrases %q and %q: want two distinct 12-word phrases", hot.Phrase, cold.Phrase)
	}
	alice, err := wallet.KeyFromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddHotkey("alice", alice); err != nil {
		t.Fatal(err)
	}

	w2, err := wallet.Open(root, "w")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]*wallet.Key{"h": hot, "alice": alice} {
		k, err := w2.HotkeyKey(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if k.SS58() != want.SS58() || k.Phrase != want.Phrase {
			t.Errorf("hotkey %s = %s %q, want %s %q", name, k.SS58(), k.Phrase, want.SS58(), want.Phrase)
		}
		if pub, err := w2.HotkeyPub(name); err != nil || pub != want.SS58() {
			t.Errorf("HotkeyPub(%s) = %s, %v; want %s", name, pub, err, want.SS58())
		}
		for _, p := range []string{w2.HotkeyPath(name), w2.HotkeyPubPath(name)} {
			if got := mode(t, p); got != 0o600 {
				t.Errorf("mode of %s = %o, want 600", p, got)
			}
		}
	}
	ck, err := w2.Coldkey(nil)
	if err != nil || ck.SS58() != cold.SS58() {
		t.Errorf("Coldkey = %v, %v; want %s", ck, err, cold.SS58())
	}
	for _, p := range []string{w2.Path(), filepath.Dir(w2.HotkeyPath("h"))} {
		if got := mode(t, p); got != 0o700 {
			t.Errorf("mode of %s = %o, want 700", p, got)
		}
	}
	names, err := w2.Hotkeys()
	if err != nil || !slices.Equal(names, []string{"alice", "h"}) {
		t.Errorf("Hotkeys = %q, %v; want [alice h]", names, err)
	}

	before := mustReadFile(t, w.HotkeyPath("h"))
	if err := w.AddHotkey("h", alice); !errors.Is(err, fractal.ErrConflict) {
		t.Errorf("overwrite hotkey: got %v, want ErrConflict", err)
	}
	if _, err := w.NewColdkey(nil); !errors.Is(err, fractal.ErrConflict) {
		t.Errorf("overwrite coldkey: got %v, want ErrConflict", err)
	}
	if after := mustReadFile(t, w.HotkeyPath("h")); string(after) != string(before) {
		t.Error("refused overwrite changed the hotkey file")
	}
	entries, err := os.ReadDir(filepath.Dir(w.HotkeyPath("h")))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Errorf("hotkeys dir holds %d entries, want 4 (no temporary files left)", len(entries))
	}
}

func TestCreateDevIsIdempotent(t *testing.T) {
	root := t.TempDir()
	w, err := wallet.CreateDev(root, "grid", "miner0")
	if err != nil {
		t.Fatal(err)
	}
	first, err := w.Hotkey("miner0")
	if err != nil {
		t.Fatal(err)
	}
	cold, err := w.ColdkeyPub()
	if err != nil {
		t.Fatal(err)
	}
	w, err = wallet.CreateDev(root, "grid", "miner0")
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.Hotkey("miner0")
	if err != nil {
		t.Fatal(err)
	}
	if again.SS58() != first.SS58() {
		t.Errorf("second CreateDev changed the hotkey: %s, want %s", again.SS58(), first.SS58())
	}
	if got, _ := w.ColdkeyPub(); got != cold {
		t.Errorf("second CreateDev changed the coldkey: %s, want %s", got, cold)
	}
	if _, err := wallet.CreateDev(root, "grid", "miner1"); err != nil {
		t.Fatal(err)
	}
	names, _ := w.Hotkeys()
	if !slices.Equal(names, []string{"miner0", "miner1"}) {
		t.Errorf("hotkeys = %q, want [miner0 miner1]", names)
	}
}
