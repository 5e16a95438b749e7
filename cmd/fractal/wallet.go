package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/sr25519"
	"github.com/fractal-grid/fractal/wallet"
)

// walletFlags are the flags that pick a wallet and hotkey, shared by every
// command that signs with a hotkey.
type walletFlags struct {
	Root, Name, Hotkey string
}

// addWalletFlags registers --wallet-path, --name and --hotkey on fs. The root
// defaults to $FRACTAL_WALLET_PATH, else btcli's ~/.bittensor/wallets.
func addWalletFlags(fs *flag.FlagSet) *walletFlags {
	f := &walletFlags{}
	fs.StringVar(&f.Root, "wallet-path", defaultWalletRoot(), "wallets root `DIR` ($FRACTAL_WALLET_PATH, else ~/.bittensor/wallets)")
	fs.StringVar(&f.Name, "name", wallet.DefaultName, "wallet `NAME`")
	fs.StringVar(&f.Hotkey, "hotkey", wallet.DefaultHotkey, "hotkey `NAME` in the wallet")
	return f
}

func defaultWalletRoot() string {
	if v := os.Getenv("FRACTAL_WALLET_PATH"); v != "" {
		return v
	}
	root, err := wallet.DefaultRoot()
	if err != nil {
		return ""
	}
	return root
}

func (f *walletFlags) root() (string, error) {
	if f.Root == "" {
		return "", usageErrorf("--wallet-path is empty and the home directory is unknown: give --wallet-path DIR")
	}
	return f.Root, nil
}

// open returns the chosen wallet.
func (f *walletFlags) open() (*wallet.Wallet, error) {
	root, err := f.root()
	if err != nil {
		return nil, err
	}
	return wallet.Open(root, f.Name)
}

// hotkey loads the chosen hotkey, ready to sign.
func (f *walletFlags) hotkey() (*sr25519.Keypair, error) {
	w, err := f.open()
	if err != nil {
		return nil, err
	}
	return w.Hotkey(f.Hotkey)
}

func runWallet(rio IO, args []string) error {
	if len(args) == 0 {
		printWalletUsage(rio.Stderr)
		return usageErrorf("wallet: a subcommand is required: new, list or show")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "new":
		return runWalletNew(rio, rest)
	case "list":
		return runWalletList(rio, rest)
	case "show":
		return runWalletShow(rio, rest)
	case "help", "-h", "--help":
		printWalletUsage(rio.Stdout)
		return nil
	default:
		return usageErrorf("wallet: unknown subcommand %q (new, list, show)", sub)
	}
}

func printWalletUsage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  fractal wallet new  [--name N] [--hotkey H] [--wallet-path DIR] (--password-file FILE | --no-password)
  fractal wallet list [--wallet-path DIR]
  fractal wallet show [--name N] [--hotkey H] [--wallet-path DIR]

Wallets are stored as btcli stores them: DIR/NAME/coldkey, coldkeypub.txt,
hotkeys/H and hotkeys/Hpub.txt, with DIR = $FRACTAL_WALLET_PATH or
~/.bittensor/wallets. 'show' and 'list' print addresses only, never secrets.
`)
}

func newWalletFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("wallet "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fractal wallet %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// readPassword reads the first line of path ("-" for stdin) as a password.
func readPassword(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("--password-file: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return nil, fmt.Errorf("--password-file %s holds an empty password: %w", path, fractal.ErrInvalid)
	}
	return []byte(line), nil
}

func runWalletNew(rio IO, args []string) error {
	fs := newWalletFlagSet("new", "new [--name N] [--hotkey H] [--wallet-path DIR] (--password-file FILE | --no-password)\n\n"+
		"Creates hotkey H in wallet N, and the wallet's coldkey first when it has none, each from a\n"+
		"fresh 12-word mnemonic that is printed once. The coldkey is encrypted with the password in\n"+
		"FILE ('-' reads it from stdin), or stored unencrypted with --no-password. Existing keys are\n"+
		"never overwritten.")
	f := addWalletFlags(fs)
	passwordFile := fs.String("password-file", "", "encrypt a new coldkey with the password on the first line of `FILE` ('-': stdin)")
	noPassword := fs.Bool("no-password", false, "store a new coldkey unencrypted (anyone who can read the file controls it)")
	if err := parseFlags(fs, args, rio.Stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("wallet new: unexpected argument %q", fs.Arg(0))
	}
	root, err := f.root()
	if err != nil {
		return err
	}
	if err := wallet.ValidName(f.Name); err != nil {
		return fmt.Errorf("wallet new: --name: %w", err)
	}
	if err := wallet.ValidName(f.Hotkey); err != nil {
		return fmt.Errorf("wallet new: --hotkey: %w", err)
	}
	// Decide everything before writing anything, so a refusal changes nothing.
	w := &wallet.Wallet{Root: root, Name: f.Name}
	if w.HasHotkey(f.Hotkey) {
		return fmt.Errorf("wallet new: wallet %q already has hotkey %q (%s); refusing to overwrite it: %w", f.Name, f.Hotkey, w.HotkeyPath(f.Hotkey), fractal.ErrConflict)
	}
	newCold := !w.HasColdkey()
	var password []byte
	switch {
	case *passwordFile != "" && *noPassword:
		return usageErrorf("wallet new: give either --password-file or --no-password, not both")
	case newCold && *passwordFile == "" && !*noPassword:
		return usageErrorf("wallet new: wallet %q needs a coldkey: give --password-file FILE to encrypt it, or --no-password to store it unencrypted", f.Name)
	case newCold && *passwordFile != "":
		if password, err = readPassword(*passwordFile, rio.Stdin); err != nil {
			return fmt.Errorf("wallet new: %w", err)
		}
	}
	if w, err = wallet.Create(root, f.Name); err != nil {
		return fmt.Errorf("wallet new: %w", err)
	}
	out := &strings.Builder{}
	fmt.Fprintf(out, "wallet %q in %s\n", f.Name, w.Path())
	if newCold {
		k, err := w.NewColdkey(password)
		if err != nil {
			return fmt.Errorf("wallet new: %w", err)
		}
		how := "encrypted with the password from " + *passwordFile
		if len(password) == 0 {
			how = "UNENCRYPTED: anyone who can read the file controls the key"
		}
		printNewKey(out, "coldkey", k, w.ColdkeyPath(), how)
	} else {
		fmt.Fprintf(out, "coldkey: keeping the existing one (%s)\n", w.ColdkeyPath())
	}
	k, err := w.NewHotkey(f.Hotkey)
	if err != nil {
		return fmt.Errorf("wallet new: %w", err)
	}
	printNewKey(out, fmt.Sprintf("hotkey %q", f.Hotkey), k, w.HotkeyPath(f.Hotkey), "unencrypted, as btcli keeps hotkeys")
	out.WriteString("\nWrite the mnemonics down and keep them secret. They are shown only this once;\n" +
		"anyone who has one controls its key, and without it a lost file cannot be restored.\n")
	_, err = io.WriteString(rio.Stdout, out.String())
	return err
}

func printNewKey(w io.Writer, what string, k *wallet.Key, path, how string) {
	fmt.Fprintf(w, "%s %s\n  file:     %s (%s)\n  mnemonic: %s\n", what, k.SS58(), path, how, k.Phrase)
}

func runWalletList(rio IO, args []string) error {
	fs := newWalletFlagSet("list", "list [--wallet-path DIR]\n\nLists the wallets under DIR with their coldkey and hotkey addresses.")
	f := &walletFlags{}
	fs.StringVar(&f.Root, "wallet-path", defaultWalletRoot(), "wallets root `DIR` ($FRACTAL_WALLET_PATH, else ~/.bittensor/wallets)")
	if err := parseFlags(fs, args, rio.Stderr); err != nil {
		return err
	}
	root, err := f.root()
	if err != nil {
		return err
	}
	names, err := wallet.List(root)
	if err != nil {
		return err
	}
	out := &strings.Builder{}
	if len(names) == 0 {
		fmt.Fprintf(out, "no wallets in %s (create one with 'fractal wallet new')\n", root)
	} else {
		fmt.Fprintf(out, "wallets in %s\n", root)
	}
	for _, name := range names {
		w, err := wallet.Open(root, name)
		if err != nil {
			return err
		}
		if err := describeWallet(out, w, ""); err != nil {
			return err
		}
	}
	_, err = io.WriteString(rio.Stdout, out.String())
	return err
}

func runWalletShow(rio IO, args []string) error {
	fs := newWalletFlagSet("show", "show [--name N] [--hotkey H] [--wallet-path DIR]\n\n"+
		"Prints the ss58 addresses of wallet N's coldkey and hotkey H (every hotkey with --hotkey '').\n"+
		"It never prints or needs a secret.")
	f := addWalletFlags(fs)
	if err := parseFlags(fs, args, rio.Stderr); err != nil {
		return err
	}
	w, err := f.open()
	if err != nil {
		return fmt.Errorf("wallet show: %w", err)
	}
	if f.Hotkey != "" {
		if _, err := w.HotkeyPub(f.Hotkey); err != nil {
			return fmt.Errorf("wallet show: %w", err)
		}
	}
	out := &strings.Builder{}
	if err := describeWallet(out, w, f.Hotkey); err != nil {
		return fmt.Errorf("wallet show: %w", err)
	}
	_, err = io.WriteString(rio.Stdout, out.String())
	return err
}

// describeWallet writes a wallet's addresses: the coldkey and one hotkey, or
// all of them when hotkey is "". Keys that cannot be read are reported in
// place, so one bad file does not hide the others.
func describeWallet(out io.Writer, w *wallet.Wallet, hotkey string) error {
	fmt.Fprintf(out, "%s (%s)\n", w.Name, w.Path())
	fmt.Fprintf(out, "  coldkey         %s\n", addressOrProblem(w.ColdkeyPub()))
	hotkeys := []string{hotkey}
	if hotkey == "" {
		var err error
		if hotkeys, err = w.Hotkeys(); err != nil {
			return err
		}
		if len(hotkeys) == 0 {
			fmt.Fprintln(out, "  (no hotkeys)")
		}
	}
	for _, h := range hotkeys {
		fmt.Fprintf(out, "  hotkey %-8s %s\n", h, addressOrProblem(w.HotkeyPub(h)))
	}
	return nil
}

func addressOrProblem(addr string, err error) string {
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return addr
}
