package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fractal-grid/fractal/internal/testenv"
	"github.com/fractal-grid/fractal/wallet"
)

var mnemonicLine = regexp.MustCompile(`(?m)^  mnemonic: ((?:[a-z]+ ){11}[a-z]+)$`)

// snapshot returns every file under dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = string(b)
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return files
}

func TestWalletNewListShow(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "wallets")
	code, out, errOut := runCLI(ctx, "wallet", "new", "--wallet-path", root, "--name", "w", "--hotkey", "h", "--no-password")
	if code != 0 {
		t.Fatalf("wallet new: exit %d: %s", code, errOut)
	}
	phrases := mnemonicLine.FindAllStringSubmatch(out, -1)
	if len(phrases) != 2 || !strings.Contains(out, "UNENCRYPTED") {
		t.Fatalf("wallet new printed %d mnemonics, want 2 and an UNENCRYPTED warning:\n%s", len(phrases), out)
	}
	w, err := wallet.Open(root, "w")
	if err != nil {
		t.Fatal(err)
	}
	cold, err := wallet.KeyFromMnemonic(phrases[0][1])
	if err != nil {
		t.Fatal(err)
	}
	hot, err := wallet.KeyFromMnemonic(phrases[1][1])
	if err != nil {
		t.Fatal(err)
	}
	if got, err := w.ColdkeyPub(); err != nil || got != cold.SS58() {
		t.Errorf("coldkey = %s, %v; want %s from the printed mnemonic", got, err, cold.SS58())
	}
	if kp, err := w.Hotkey("h"); err != nil || kp.SS58() != hot.SS58() {
		t.Errorf("hotkey = %v, %v; want %s from the printed mnemonic", kp, err, hot.SS58())
	}

	before := snapshot(t, root)
	code, _, errOut = runCLI(ctx, "wallet", "new", "--wallet-path", root, "--name", "w", "--hotkey", "h", "--no-password")
	if code != 1 || !strings.Contains(errOut, "refusing to overwrite") {
		t.Errorf("second wallet new: exit %d %q, want 1 refusing to overwrite", code, errOut)
	}

	// A second hotkey reuses the coldkey and needs no password flag.
	code, out, errOut = runCLI(ctx, "wallet", "new", "--wallet-path", root, "--name", "w", "--hotkey", "h2")
	if code != 0 {
		t.Fatalf("wallet new h2: exit %d: %s", code, errOut)
	}
	if n := len(mnemonicLine.FindAllString(out, -1)); n != 1 || !strings.Contains(out, "keeping the existing one") {
		t.Errorf("wallet new h2 printed %d mnemonics, want 1 and the kept coldkey:\n%s", n, out)
	}
	for p, content := range before {
		if got, _ := os.ReadFile(p); string(got) != content {
			t.Errorf("%s changed", p)
		}
	}

	code, out, errOut = runCLI(ctx, "wallet", "list", "--wallet-path", root)
	if code != 0 {
		t.Fatalf("wallet list: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"w (", cold.SS58(), hot.SS58(), "hotkey h2"} {
		if !strings.Contains(out, want) {
			t.Errorf("wallet list lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = runCLI(ctx, "wallet", "show", "--wallet-path", root, "--name", "w", "--hotkey", "h")
	if code != 0 {
		t.Fatalf("wallet show: exit %d: %s", code, errOut)
	}
	// "hotkey h2", not "h2": a random SS58 address may hold those two letters.
	if !strings.Contains(out, cold.SS58()) || !strings.Contains(out, hot.SS58()) || strings.Contains(out, "hotkey h2") {
		t.Errorf("wallet show --hotkey h:\n%s\nwant the coldkey %s and hotkey %s only", out, cold.SS58(), hot.SS58())
	}
	for _, phrase := range phrases {
		if strings.Contains(out, strings.Fields(phrase[1])[0]+" "+strings.Fields(phrase[1])[1]) {
			t.Errorf("wallet show printed part of a mnemonic:\n%s", out)
		}
	}
}

func TestWalletNewRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	root := filepath.Join(dir, "wallets")
	empty := filepath.Join(dir, "empty-password")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		mention string
	}{
		{"no password choice", nil, 2, "--password-file FILE"},
		{"both password flags", []string{"--no-password", "--password-file", empty}, 2, "not both"},
		{"empty password", []string{"--password-file", empty}, 2, "empty password"},
		{"missing password file", []string{"--password-file", filepath.Join(dir, "nope")}, 1, "no such file"},
		{"bad wallet name", []string{"--name", "../x", "--no-password"}, 2, "plain file name"},
		{"bad hotkey name", []string{"--hotkey", "", "--no-password"}, 2, "empty"},
		{"extra argument", []string{"--no-password", "extra"}, 2, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"wallet", "new", "--wallet-path", root}, tc.args...)
			code, out, errOut := runCLI(ctx, args...)
			if code != tc.code || !strings.Contains(errOut, tc.mention) {
				t.Errorf("exit %d, stderr %q; want %d mentioning %q", code, errOut, tc.code, tc.mention)
			}
			if strings.Contains(out, "mnemonic") {
				t.Errorf("a refused command printed a mnemonic:\n%s", out)
			}
			if _, err := os.Stat(root); !os.IsNotExist(err) {
				t.Errorf("a refused command created %s", root)
			}
		})
	}
}

// With a password the coldkey is written encrypted as btcli writes it, and
// show still works without the password. This pays one btcli-strength
// Argon2i derivation (seconds).
func TestWalletNewEncrypted(t *testing.T) {
	t.Parallel() // seconds of Argon2i: overlap it with the other tests
	ctx := context.Background()
	dir := t.TempDir()
	root := filepath.Join(dir, "wallets")
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(ctx, "wallet", "new", "--wallet-path", root, "--name", "enc", "--password-file", pwFile)
	if code != 0 {
		t.Fatalf("wallet new: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "encrypted with the password from "+pwFile) {
		t.Errorf("output does not say the coldkey is encrypted:\n%s", out)
	}
	w, err := wallet.Open(root, "enc")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(w.ColdkeyPath())
	if err != nil {
		t.Fatal(err)
	}
	if got := wallet.Encryption(data); got != wallet.EncNaCl {
		t.Errorf("coldkey encryption = %q, want %q", got, wallet.EncNaCl)
	}
	code, out, errOut = runCLI(ctx, "wallet", "show", "--wallet-path", root, "--name", "enc")
	if code != 0 || !strings.Contains(out, "hotkey default") {
		t.Errorf("wallet show: exit %d %s\n%s", code, errOut, out)
	}
}

// show reads btcli's example wallet, encrypted coldkey included, without a
// password, and a missing wallet names its path.
func TestWalletShowBtcliWallet(t *testing.T) {
	ctx := context.Background()
	root := testenv.Shared(t, "vectors", "wallet", "wallets")
	w, err := wallet.Open(root, "dev")
	if err != nil {
		t.Fatal(err)
	}
	cold, err := w.ColdkeyPub()
	if err != nil {
		t.Fatal(err)
	}
	alice, err := w.HotkeyPub("alice")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(ctx, "wallet", "show", "--wallet-path", root, "--name", "dev", "--hotkey", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, cold) || !strings.Contains(out, alice) {
		t.Errorf("show lacks %s or %s:\n%s", cold, alice, out)
	}
	code, _, errOut = runCLI(ctx, "wallet", "show", "--wallet-path", root, "--name", "nope")
	if code != 1 || !strings.Contains(errOut, filepath.Join(root, "nope")) {
		t.Errorf("missing wallet: exit %d %q, want 1 naming %s", code, errOut, filepath.Join(root, "nope"))
	}
	code, _, errOut = runCLI(ctx, "wallet", "show", "--wallet-path", root, "--name", "dev", "--hotkey", "nope")
	if code != 1 || !strings.Contains(errOut, "no hotkey nope") {
		t.Errorf("missing hotkey: exit %d %q, want 1", code, errOut)
	}
}
